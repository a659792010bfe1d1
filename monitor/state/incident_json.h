// JSON views of incidents, requests and events, shared by `gapwatch
// incidents --output json` and the HTTP API. A segment's window (an
// incident's, a request's) has `segment`: the array of its values
// (segment_values.h). Pure.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitor/state/state_store.h"

namespace gapwatch {

nlohmann::json incident_json(const Incident& incident);
nlohmann::json request_json(const RequestRecord& request);
// A request's orchestrator run: {id, link, state (run_state_name), detail,
// answered_at, next_poll_at (null once no longer asked), deadline}; null
// without one.
nlohmann::json run_json(const std::optional<RunRecord>& run);
nlohmann::json event_json(const EventRecord& event);
// When the earliest unsent request of `requests` is due (one waiting out
// attempt_backoff may be hours away); empty when none is pending.
std::optional<Instant> next_attempt_at(const std::vector<RequestRecord>& requests);
// An incident with its requests, history and next_attempt_at.
nlohmann::json incident_detail_json(const Incident& incident,
                                    const std::vector<RequestRecord>& requests,
                                    const std::vector<EventRecord>& events);

}  // namespace gapwatch
