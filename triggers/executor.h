// Executor: sends one backfill request somewhere and reports what happened.
// Implementations: CommandExecutor (a process), WebhookExecutor (HTTP).
// dispatch() blocks until the outcome is known; it returns early, as a
// retryable outcome, when `stop` is requested. Implementations are
// thread-safe: the dispatcher calls dispatch() from several threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "rules/clock.h"
#include "triggers/backfill_request.h"
#include "triggers/dispatch_outcome.h"
#include "triggers/executor_spec.h"

namespace gapwatch {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) = 0;
};

std::unique_ptr<Executor> make_executor(const ExecutorSpec& spec, const Clock& clock);

}  // namespace gapwatch
