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
#include "triggers/executor_spec.h"

namespace gapwatch {

struct DispatchOutcome {
  enum class Kind {
    ran,       // a command exited 0: the backfill has run, verify now
    accepted,  // a webhook answered with a success code: verify after verify_after
    retry,     // a transient failure: try the same request again later
    rejected,  // a permanent failure: this request will not succeed as it is
  };
  Kind kind = Kind::retry;
  std::string detail;  // "exit status 3", "HTTP 503", "connection refused", …
  std::string output;  // captured output or response body (bounded)
  std::optional<std::chrono::seconds> retry_after;
};

std::string_view to_string(DispatchOutcome::Kind kind);

class Executor {
 public:
  virtual ~Executor() = default;
  virtual DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) = 0;
};

std::unique_ptr<Executor> make_executor(const ExecutorSpec& spec, const Clock& clock);

// Output beyond this many bytes is cut (keeping the end, where errors are).
constexpr std::size_t kMaxCapturedOutput = std::size_t{16} * 1024;

}  // namespace gapwatch
