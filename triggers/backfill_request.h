// BackfillRequest: one request to reload one window of one rule, as the
// outbox stores it and an executor receives it. Its id is a stable function of
// (rule, window, attempt), so a request sent again is recognisably the same
// one. Plain data; thread-safe functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "rules/rule_spec.h"
#include "rules/time.h"
#include "triggers/template.h"

namespace gapwatch {

struct BackfillRequest {
  std::string id;
  std::int64_t incident_id = 0;
  int attempt = 1;
  std::string rule;
  std::string executor;
  Instant window_start;
  Instant window_end;
  TemplateValues values;  // every template variable's value
};

// 32 hex digits of SHA-256 over (rule, window, attempt).
std::string make_request_id(std::string_view rule, Instant window_start, Instant window_end,
                            int attempt);

// The template variables of a request: rule facts, the window in RFC 3339, as
// dates in the partition zone (UTC without partition) and as epoch seconds,
// the ids and attempt, then every params entry.
TemplateValues request_values(const RuleSpec& spec,
                              const std::map<std::string, std::string>& params,
                              const BackfillRequest& request);

}  // namespace gapwatch
