// Executor: sends one backfill request somewhere and reports what happened.
// Implementations: CommandExecutor (a process), WebhookExecutor (HTTP).
// dispatch() blocks until the outcome is known; it returns early, as a
// retryable outcome, when `stop` is requested. Implementations are
// thread-safe: the dispatcher calls dispatch() from several threads at once.
//
// A delivery may outlive the process that started it: a command's run is
// stopped within its grace period after gapwatch dies, and leaves its result
// behind (CommandExecutor). has_earlier_run and await_earlier_run let a
// restarted process wait for such a run and record what it came to, rather
// than start the request again beside it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "rules/clock.h"
#include "rules/error.h"
#include "triggers/backfill_request.h"
#include "triggers/dispatch_outcome.h"
#include "triggers/executor_spec.h"
#include "triggers/run_directory.h"

namespace gapwatch {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) = 0;

  // Whether a delivery of `request` that an earlier gapwatch process started
  // may still be under way, or ended without its outcome being recorded.
  virtual Expected<bool> has_earlier_run(const BackfillRequest& /*request*/) { return false; }
  // Waits for that delivery to end and returns its outcome, as dispatch()
  // would have; nullopt when it was cut short by gapwatch stopping, left no
  // outcome, or `stop` was requested first: then the request is to be sent
  // again.
  virtual std::optional<DispatchOutcome> await_earlier_run(const BackfillRequest& /*request*/,
                                                           std::stop_token /*stop*/) {
    return std::nullopt;
  }

  // Asks the orchestrator for the state of `run`, which a delivery of
  // `request` started (DispatchOutcome::run); nullopt when this executor does
  // not follow runs. Blocks for one HTTP exchange at most.
  virtual std::optional<RunPoll> poll_run(const BackfillRequest& /*request*/,
                                          const RunRef& /*run*/, std::stop_token /*stop*/) {
    return std::nullopt;
  }
};

// `runs` is where command executors keep their runs' locks and results (the
// state database's run directory).
std::unique_ptr<Executor> make_executor(const ExecutorSpec& spec, const Clock& clock,
                                        const RunDirectory& runs);

}  // namespace gapwatch
