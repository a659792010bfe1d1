#include "monitor/state/incident_json.h"

#include "monitor/state/segment_values.h"

namespace gapwatch {

namespace {

nlohmann::json optional_time(const std::optional<Instant>& instant) {
  return instant ? nlohmann::json(format_rfc3339(*instant)) : nlohmann::json(nullptr);
}

// A segment's window carries `segment`, its values in segment_by order (JSON
// null for NULL); the whole table's has none.
nlohmann::json window_json(const Window& window) {
  nlohmann::json json{{"start", format_rfc3339(window.start)}, {"end", format_rfc3339(window.end)}};
  if (!window.segment.empty()) {
    json["segment"] = segment_values_json(window.segment);
  }
  return json;
}

}  // namespace

nlohmann::json incident_json(const Incident& incident) {
  nlohmann::json windows = nlohmann::json::array();
  for (const Window& window : incident.windows) {
    windows.push_back(window_json(window));
  }
  return {{"id", incident.id},
          {"rule", incident.rule},
          {"state", to_string(incident.state)},
          {"severity", to_string(incident.severity)},
          {"opened_at", format_rfc3339(incident.opened_at)},
          {"updated_at", format_rfc3339(incident.updated_at)},
          {"resolved_at", optional_time(incident.resolved_at)},
          {"acknowledged_at", optional_time(incident.acknowledged_at)},
          {"retried_at", optional_time(incident.retried_at)},
          {"message", incident.message},
          {"windows", windows},
          {"resolution", incident.resolution ? nlohmann::json(to_string(*incident.resolution))
                                             : nlohmann::json(nullptr)}};
}

nlohmann::json request_json(const RequestRecord& request) {
  return {{"id", request.id},
          {"executor", request.executor},
          {"window", window_json(request.window)},
          {"attempt", request.attempt},
          {"state", to_string(request.state)},
          {"deliveries", request.deliveries},
          {"next_attempt_at", format_rfc3339(request.next_attempt_at)},
          {"verify_by", optional_time(request.verify_by)},
          {"created_at", format_rfc3339(request.created_at)},
          {"updated_at", format_rfc3339(request.updated_at)},
          {"last_error", request.last_error},
          {"output", request.output},
          {"run", run_json(request.run)}};
}

nlohmann::json run_json(const std::optional<RunRecord>& run) {
  if (!run) {
    return nullptr;
  }
  return {{"id", run->ref.id},
          {"link", run->ref.link.empty() ? nlohmann::json(nullptr) : nlohmann::json(run->ref.link)},
          {"state", run_state_name(*run)},
          {"detail", run->detail},
          {"answered_at", optional_time(run->answered_at)},
          {"next_poll_at", run->followed() ? nlohmann::json(format_rfc3339(run->next_poll_at))
                                           : nlohmann::json(nullptr)},
          {"deadline", format_rfc3339(run->deadline)}};
}

nlohmann::json event_json(const EventRecord& event) {
  return {{"at", format_rfc3339(event.at)},
          {"kind", event.kind},
          {"request_id", event.request_id ? nlohmann::json(*event.request_id) : nlohmann::json(nullptr)},
          {"detail", event.detail}};
}

std::optional<Instant> next_attempt_at(const std::vector<RequestRecord>& requests) {
  std::optional<Instant> earliest;
  for (const RequestRecord& request : requests) {
    if (request.state == RequestState::pending &&
        (!earliest || request.next_attempt_at < *earliest)) {
      earliest = request.next_attempt_at;
    }
  }
  return earliest;
}

nlohmann::json incident_detail_json(const Incident& incident,
                                    const std::vector<RequestRecord>& requests,
                                    const std::vector<EventRecord>& events) {
  nlohmann::json document = incident_json(incident);
  document["next_attempt_at"] = optional_time(next_attempt_at(requests));
  document["requests"] = nlohmann::json::array();
  for (const RequestRecord& request : requests) {
    document["requests"].push_back(request_json(request));
  }
  document["events"] = nlohmann::json::array();
  for (const EventRecord& event : events) {
    document["events"].push_back(event_json(event));
  }
  return document;
}

}  // namespace gapwatch
