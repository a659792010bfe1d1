#include "triggers/preset_airflow.h"

#include <algorithm>

#include <fmt/format.h>

#include "triggers/response_body.h"
#include "triggers/response_outcome.h"

namespace gapwatch {

namespace {

std::string string_member(const nlohmann::json& document, const char* key) {
  if (document.is_object() && document.contains(key) && document[key].is_string()) {
    return document[key].get<std::string>();
  }
  return {};
}

}  // namespace

Expected<PresetRequest> build_airflow_request(const AirflowDagRunSpec& spec,
                                              const BackfillRequest& request) {
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  if (!dag_id) {
    return std::unexpected(dag_id.error());
  }
  auto run_id = expand_required(spec.dag_run_id, request.values, "dag_run_id");
  if (!run_id) {
    return std::unexpected(run_id.error());
  }
  auto conf = expand_or(spec.conf, request.values, window_description(request));
  if (!conf) {
    return std::unexpected(conf.error());
  }
  if (!conf->is_object()) {
    return fail("conf must be a mapping (Airflow's dag_run.conf is a JSON object)");
  }
  const bool v1 = spec.api == AirflowDagRunSpec::Api::v1;
  nlohmann::json body = nlohmann::json::object();
  body["dag_run_id"] = *run_id;
  switch (spec.logical_date) {
    case AirflowDagRunSpec::LogicalDate::none:
      if (!v1) {
        body["logical_date"] = nullptr;  // Airflow 3 requires the key
      }
      break;
    case AirflowDagRunSpec::LogicalDate::window_start:
      body["logical_date"] = format_rfc3339(request.window_start);
      break;
    case AirflowDagRunSpec::LogicalDate::window_end:
      body["logical_date"] = format_rfc3339(request.window_end);
      break;
  }
  // Both or neither, as both APIs demand.
  body["data_interval_start"] = format_rfc3339(request.window_start);
  body["data_interval_end"] = format_rfc3339(request.window_end);
  body["conf"] = std::move(*conf);
  PresetRequest out;
  out.url = join_url(spec.base_url, {"api", v1 ? "v1" : "v2", "dags", *dag_id, "dagRuns"});
  out.body = std::move(body);
  return out;
}

Expected<PresetRequest> build_airflow_request(const AirflowBackfillSpec& spec,
                                              const BackfillRequest& request) {
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  if (!dag_id) {
    return std::unexpected(dag_id.error());
  }
  auto conf = expand_or(spec.dag_run_conf, request.values, window_description(request));
  if (!conf) {
    return std::unexpected(conf.error());
  }
  if (!conf->is_object()) {
    return fail("dag_run_conf must be a mapping");
  }
  // Airflow creates runs for logical dates from from_date to to_date, both
  // included; the window's end belongs to the next window.
  const Instant last = request.window_end - std::chrono::seconds{1};
  PresetRequest out;
  out.url = join_url(spec.base_url, {"api", "v2", "backfills"});
  out.body = nlohmann::json{{"dag_id", *dag_id},
                            {"from_date", format_rfc3339(request.window_start)},
                            {"to_date", format_rfc3339(std::max(last, request.window_start))},
                            {"reprocess_behavior", spec.reprocess_behavior},
                            {"max_active_runs", spec.max_active_runs},
                            {"dag_run_conf", std::move(*conf)}};
  return out;
}

DispatchOutcome classify_airflow_response(const AirflowDagRunSpec&,
                                          const HttpClientResponse& response) {
  const nlohmann::json document = parse_json_body(response.body);
  if (response.status >= 200 && response.status < 300) {
    const std::string run_id = string_member(document, "dag_run_id");
    return response_outcome(
        DispatchOutcome::Kind::accepted, response,
        run_id.empty() ? "dag run queued" : fmt::format("dag run {} queued", run_id));
  }
  if (response.status == 409) {
    // Airflow 2 looks the run up by dag_run_id or logical date and names the
    // logical date first, so a resend of our own run with a fixed logical
    // date is reported as a logical-date clash too. Either way a run for this
    // window exists: accepted, and verification judges whether the data came.
    const std::string message = error_message(response.body);
    return response_outcome(DispatchOutcome::Kind::accepted, response,
                            message.find("logical date") != std::string::npos
                                ? "already accepted: a run for this logical date exists"
                                : "already accepted: the dag_run_id exists");
  }
  return classify_with_message(response);
}

DispatchOutcome classify_airflow_response(const AirflowBackfillSpec&,
                                          const HttpClientResponse& response) {
  const nlohmann::json document = parse_json_body(response.body);
  if (response.status >= 200 && response.status < 300) {
    const auto id = document.is_object() && document.contains("id") ? document["id"] : nullptr;
    return response_outcome(DispatchOutcome::Kind::accepted, response,
                            id.is_number_integer()
                                ? fmt::format("backfill {} created", id.get<std::int64_t>())
                                : std::string("backfill created"));
  }
  if (response.status == 409) {
    DispatchOutcome outcome = classify_with_message(response);
    outcome.kind = DispatchOutcome::Kind::retry;
    outcome.detail += " (waiting for the running backfill to finish)";
    return outcome;
  }
  return classify_with_message(response);
}


// Following runs: not yet (every accepted request waits verify_after).
std::optional<RunRef> airflow_run(const AirflowDagRunSpec& /*spec*/, const BackfillRequest& /*request*/,
                                 const HttpClientResponse& /*accepted*/) {
  return std::nullopt;
}

Expected<PresetRequest> build_airflow_run_poll(const AirflowDagRunSpec& /*spec*/, const BackfillRequest& /*request*/,
                                       const RunRef& /*run*/) {
  return fail("this preset does not follow runs yet");
}

RunPoll classify_airflow_run_poll(const AirflowDagRunSpec& /*spec*/, const HttpClientResponse& response) {
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued,
                 "HTTP " + std::to_string(response.status), std::nullopt};
}

std::optional<RunRef> airflow_run(const AirflowBackfillSpec& /*spec*/, const BackfillRequest& /*request*/,
                                 const HttpClientResponse& /*accepted*/) {
  return std::nullopt;
}

Expected<PresetRequest> build_airflow_run_poll(const AirflowBackfillSpec& /*spec*/, const BackfillRequest& /*request*/,
                                       const RunRef& /*run*/) {
  return fail("this preset does not follow runs yet");
}

RunPoll classify_airflow_run_poll(const AirflowBackfillSpec& /*spec*/, const HttpClientResponse& response) {
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued,
                 "HTTP " + std::to_string(response.status), std::nullopt};
}

}  // namespace gapwatch
