// Helpers shared by the preset tests: a backfill request with every built-in
// template variable set, and answers as an HTTP client receives them.
#pragma once

#include <string>
#include <string_view>

#include "tests/rules/support.h"
#include "triggers/backfill_request.h"
#include "triggers/http_transport.h"

namespace gapwatch::testing {

// Quotes, a backslash, a newline, shell and template syntax, a slash and a
// query: what a value must be able to hold without changing a request.
inline const std::string kHostile = "a\"b\\c\nd $(id) {x} ../e?f=g&h#i";

// The request for events_hourly's window [start, end), attempt 2.
inline BackfillRequest request_for(std::string_view start, std::string_view end) {
  BackfillRequest request;
  request.rule = "events_hourly";
  request.executor = "orchestrator";
  request.attempt = 2;
  request.incident_id = 7;
  request.window_start = at(start);
  request.window_end = at(end);
  request.id = make_request_id(request.rule, SegmentKey{}, request.window_start, request.window_end,
                               request.attempt);
  request.values = {{"rule", request.rule},
                    {"warehouse", "local"},
                    {"table", "events"},
                    {"check", "row_count"},
                    {"severity", "warning"},
                    {"window_start", format_rfc3339(request.window_start)},
                    {"window_end", format_rfc3339(request.window_end)},
                    {"window_start_date", std::string(start.substr(0, 10))},
                    {"window_end_date", std::string(end.substr(0, 10))},
                    {"request_id", request.id},
                    {"incident_id", "7"},
                    {"attempt", "2"},
                    {"dag", "events_ingest"},
                    {"note", kHostile}};
  return request;
}

inline BackfillRequest three_hours() {
  return request_for("2026-11-24T10:00:00Z", "2026-11-24T13:00:00Z");
}

// three_hours() for the segment (country FR, channel NULL) of a segmented
// rule, with its template variables.
inline BackfillRequest three_hours_of_fr() {
  BackfillRequest request = three_hours();
  request.rule = "orders_by_country";
  request.segment = segment_columns({"country", "channel"}, {"FR", std::nullopt});
  request.id = make_request_id(request.rule, {"FR", std::nullopt}, request.window_start,
                               request.window_end, request.attempt);
  request.values["rule"] = request.rule;
  request.values["request_id"] = request.id;
  request.values["segment"] = "FR, null";
  request.values["segment.country"] = "FR";
  request.values["segment.channel"] = "null";
  return request;
}

inline HttpClientResponse answer(long status, std::string body) {
  return HttpClientResponse{status, std::move(body), ""};
}

inline Template templ(std::string_view text) {
  return value_of(Template::parse(text));
}

}  // namespace gapwatch::testing
