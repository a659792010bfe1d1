#include "triggers/response_outcome.h"

#include <algorithm>

#include <fmt/format.h>

#include "triggers/response_body.h"

namespace gapwatch {

bool is_transient_status(long status) {
  return status == 408 || status == 429 || status >= 500;
}

DispatchOutcome classify_by_status(const HttpClientResponse& response,
                                   const std::vector<int>& success_codes) {
  const long code = response.status;
  const bool success = success_codes.empty() ? code >= 200 && code < 300
                                             : std::find(success_codes.begin(), success_codes.end(),
                                                         code) != success_codes.end();
  DispatchOutcome::Kind kind = DispatchOutcome::Kind::rejected;
  if (success) {
    kind = DispatchOutcome::Kind::accepted;
  } else if (is_transient_status(code)) {
    kind = DispatchOutcome::Kind::retry;
  }
  return response_outcome(kind, response, "");
}

DispatchOutcome response_outcome(DispatchOutcome::Kind kind, const HttpClientResponse& response,
                                 const std::string& explanation) {
  DispatchOutcome outcome;
  outcome.kind = kind;
  outcome.detail = explanation.empty() ? fmt::format("HTTP {}", response.status)
                                       : fmt::format("HTTP {}: {}", response.status, explanation);
  outcome.output = response.body;
  return outcome;
}

DispatchOutcome classify_with_message(const HttpClientResponse& response) {
  DispatchOutcome outcome = classify_by_status(response, {});
  if (outcome.kind != DispatchOutcome::Kind::accepted) {
    if (const std::string message = error_message(response.body); !message.empty()) {
      outcome.detail += ": " + message;
    }
  }
  return outcome;
}

}  // namespace gapwatch
