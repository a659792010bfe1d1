// JSON views of incidents, requests and events, shared by `gapwatch
// incidents --output json` and the HTTP API. Pure.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "monitor/state/state_store.h"

namespace gapwatch {

nlohmann::json incident_json(const Incident& incident);
nlohmann::json request_json(const RequestRecord& request);
nlohmann::json event_json(const EventRecord& event);
// An incident with its requests and history.
nlohmann::json incident_detail_json(const Incident& incident,
                                    const std::vector<RequestRecord>& requests,
                                    const std::vector<EventRecord>& events);

}  // namespace gapwatch
