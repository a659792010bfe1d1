// BackfillRequest: one request to reload one window of one rule (of one
// segment of it, or of the whole table), as the outbox stores it and an
// executor receives it. Its id is a stable function of (rule, segment, window,
// attempt), so a request sent again is recognisably the same one. Plain data;
// thread-safe functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/rule_spec.h"
#include "rules/segment.h"
#include "rules/time.h"
#include "triggers/template.h"

namespace gapwatch {

// One column of a request's segment and its value (empty: SQL NULL).
struct SegmentColumn {
  std::string column;
  SegmentValue value;
  friend bool operator==(const SegmentColumn&, const SegmentColumn&) = default;
};

struct BackfillRequest {
  std::string id;
  std::int64_t incident_id = 0;
  int attempt = 1;
  std::string rule;
  std::string executor;
  Instant window_start;
  Instant window_end;
  // The segment to reload, its segment_by columns in their order; empty for
  // the whole table.
  std::vector<SegmentColumn> segment;
  TemplateValues values;  // every template variable's value
};

// 32 hex digits of SHA-256 over (rule, segment, window, attempt). For the
// whole table (an empty segment) the digest is over what it was before
// segments existed, so ids of earlier releases stay; a segment's values are
// added length-prefixed, NULL apart from any text.
std::string make_request_id(std::string_view rule, const SegmentKey& segment, Instant window_start,
                            Instant window_end, int attempt);

// The segment's values named by `columns` (a rule's segment_by). Empty when
// `segment` is (the whole table), or when the counts differ (the request was
// made before segment_by changed; its template values still say which rows).
std::vector<SegmentColumn> segment_columns(const std::vector<std::string>& columns,
                                           const SegmentKey& segment);

// The segment as a JSON object, {"country": "FR"}, JSON null for NULL: what
// JSON bodies carry as `segment`. Null for the whole table.
nlohmann::json segment_json(const std::vector<SegmentColumn>& segment);

// The template variables of a request: rule facts, the window in RFC 3339, as
// dates in the partition zone (UTC without partition) and as epoch seconds,
// the ids and attempt, then every params entry. A rule with segment_by adds
// {segment} (segment_name: "FR, web") and {segment.<column>} for each column
// (the value, NULL as `null`); both are empty for a whole-table request.
TemplateValues request_values(const RuleSpec& spec,
                              const std::map<std::string, std::string>& params,
                              const BackfillRequest& request);

}  // namespace gapwatch
