// DispatchOutcome: what one delivery of a backfill request came to, as an
// executor reports it to the dispatcher. Plain data; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "triggers/run_tracking.h"

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
  // accepted by an orchestrator preset that follows runs: the run it started
  // (or, for an earlier delivery it recognised, that delivery's run).
  std::optional<RunRef> run;
};

std::string_view to_string(DispatchOutcome::Kind kind);

// Output beyond this many bytes is cut (keeping the end, where errors are).
constexpr std::size_t kMaxCapturedOutput = std::size_t{16} * 1024;

}  // namespace gapwatch
