// Turning an HTTP answer into a DispatchOutcome. The plain webhook rules are
// here (a success code is accepted; 408, 429 and 5xx are retried; anything
// else is rejected), and the small constructors presets use when they read
// the body as well as the status. The response body always becomes the
// outcome's output. Retry-After is read by the executor, which knows the
// time. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "triggers/dispatch_outcome.h"
#include "triggers/http_transport.h"

namespace gapwatch {

// The plain webhook rules; `success_codes` empty means any 2xx. The detail
// is "HTTP <status>".
DispatchOutcome classify_by_status(const HttpClientResponse& response,
                                   const std::vector<int>& success_codes);

// Whether the status alone says "try again later": 408, 429, 5xx.
bool is_transient_status(long status);

// An outcome of `kind` for `response`, with the detail "HTTP <status>" and,
// when `explanation` is not empty, ": <explanation>".
DispatchOutcome response_outcome(DispatchOutcome::Kind kind, const HttpClientResponse& response,
                                 const std::string& explanation);

// The plain rules (2xx accepted), with the error message found in the body,
// if any, added to the detail of a retry or a rejection.
DispatchOutcome classify_with_message(const HttpClientResponse& response);

}  // namespace gapwatch
