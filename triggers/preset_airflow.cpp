#include "triggers/preset_airflow.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

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

bool is_v1(const AirflowDagRunSpec& spec) {
  return spec.api == AirflowDagRunSpec::Api::v1;
}

// {base}/api/v1|v2/dags/{dag_id}/dagRuns[/{run_id}]
std::string dag_runs_url(const AirflowDagRunSpec& spec, std::string_view dag_id,
                         std::optional<std::string_view> run_id = std::nullopt) {
  const std::string_view version = is_v1(spec) ? "v1" : "v2";
  return run_id ? join_url(spec.base_url, {"api", version, "dags", dag_id, "dagRuns", *run_id})
                : join_url(spec.base_url, {"api", version, "dags", dag_id, "dagRuns"});
}

// The UI's page of a run: Airflow 2's grid view selects a run with
// ?dag_run_id=, Airflow 3's UI has a page per run.
std::string dag_run_link(const AirflowDagRunSpec& spec, std::string_view dag_id,
                         std::string_view run_id) {
  if (is_v1(spec)) {
    return join_url(spec.base_url, {"dags", dag_id, "grid"}) +
           "?dag_run_id=" + percent_encode(run_id);
  }
  return join_url(spec.base_url, {"dags", dag_id, "runs", run_id});
}

// The logical date a dag run request sends, as the 409 explanation says it.
std::string logical_date_text(const AirflowDagRunSpec& spec, const BackfillRequest& request) {
  switch (spec.logical_date) {
    case AirflowDagRunSpec::LogicalDate::window_start:
      return format_rfc3339(request.window_start);
    case AirflowDagRunSpec::LogicalDate::window_end:
      return format_rfc3339(request.window_end);
    case AirflowDagRunSpec::LogicalDate::none:
      break;
  }
  return "the time of the call";
}

PresetRequest get_request(std::string url) {
  PresetRequest out;
  out.method = "GET";
  out.url = std::move(url);
  out.body = nullptr;
  return out;
}

// Where a poll or follow-up answer says "ask again later": no answer worth
// reading (5xx, 429, an unreadable body) or a refusal the next call may not
// get (401, 403).
RunPoll unreachable_poll(const HttpClientResponse& response, std::string_view why = {}) {
  std::string detail = "HTTP " + std::to_string(response.status);
  const std::string message = why.empty() ? error_message(response.body) : std::string(why);
  if (!message.empty()) {
    detail += ": " + message;
  }
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued, std::move(detail), std::nullopt};
}

// A poll answer other than 200: the run is gone (404), or ask again later.
std::optional<RunPoll> poll_without_state(const HttpClientResponse& response) {
  if (response.status == 404) {
    return RunPoll{RunPoll::Kind::not_found, RunState::queued,
                   "HTTP 404: " + error_message(response.body), std::nullopt};
  }
  if (response.status != 200) {
    return unreachable_poll(response);
  }
  return std::nullopt;
}

// Airflow's DagRunState (Airflow 2 v1.yaml DagState, Airflow 3 DagRunState):
// queued, running, success, failed.
std::optional<RunState> dag_run_state(std::string_view name) {
  if (name == "queued") {
    return RunState::queued;
  }
  if (name == "running") {
    return RunState::running;
  }
  if (name == "success") {
    return RunState::succeeded;
  }
  if (name == "failed") {
    return RunState::failed;
  }
  return std::nullopt;
}

// The backfill's window as Airflow stores it: from_date and to_date (both
// included; build_airflow_request).
std::pair<Instant, Instant> backfill_dates(const BackfillRequest& request) {
  const Instant last = request.window_end - std::chrono::seconds{1};
  return {request.window_start, std::max(last, request.window_start)};
}

bool same_instant(const nlohmann::json& value, Instant expected) {
  if (!value.is_string()) {
    return false;
  }
  const auto parsed = parse_rfc3339(value.get<std::string>());
  return parsed && *parsed == expected;
}

Expected<nlohmann::json> dag_run_conf(const AirflowDagRunSpec& spec,
                                      const BackfillRequest& request) {
  auto conf = expand_or(spec.conf, request.values, window_description(request));
  if (!conf) {
    return std::unexpected(conf.error());
  }
  if (!conf->is_object()) {
    return fail("conf must be a mapping (Airflow's dag_run.conf is a JSON object)");
  }
  // The window travels in conf whatever else does: Airflow 3 builds no data
  // interval without a logical date, Airflow 2 before 2.9 takes none.
  if (!conf->contains("window_start")) {
    (*conf)["window_start"] = format_rfc3339(request.window_start);
  }
  if (!conf->contains("window_end")) {
    (*conf)["window_end"] = format_rfc3339(request.window_end);
  }
  return conf;
}

Expected<nlohmann::json> backfill_conf(const AirflowBackfillSpec& spec,
                                       const BackfillRequest& request) {
  auto conf = expand_or(spec.dag_run_conf, request.values, window_description(request));
  if (!conf) {
    return std::unexpected(conf.error());
  }
  if (!conf->is_object()) {
    return fail("dag_run_conf must be a mapping");
  }
  return conf;
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
  auto conf = dag_run_conf(spec, request);
  if (!conf) {
    return std::unexpected(conf.error());
  }
  const bool v1 = is_v1(spec);
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
  // Both or neither, as both APIs demand; Airflow 3 reads them only beside a
  // logical date (TriggerDAGRunPostBody.validate_context), so they are not
  // sent where they would be dropped.
  const bool interval_used = v1 || spec.logical_date != AirflowDagRunSpec::LogicalDate::none;
  if (spec.data_interval == AirflowDagRunSpec::DataInterval::window && interval_used) {
    body["data_interval_start"] = format_rfc3339(request.window_start);
    body["data_interval_end"] = format_rfc3339(request.window_end);
  }
  body["conf"] = std::move(*conf);
  PresetRequest out;
  out.url = dag_runs_url(spec, *dag_id);
  out.body = std::move(body);
  return out;
}

Expected<PresetRequest> build_airflow_request(const AirflowBackfillSpec& spec,
                                              const BackfillRequest& request) {
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  if (!dag_id) {
    return std::unexpected(dag_id.error());
  }
  auto conf = backfill_conf(spec, request);
  if (!conf) {
    return std::unexpected(conf.error());
  }
  // Airflow creates runs for logical dates from from_date to to_date, both
  // included; the window's end belongs to the next window.
  const auto [from, to] = backfill_dates(request);
  PresetRequest out;
  out.url = join_url(spec.base_url, {"api", "v2", "backfills"});
  out.body = nlohmann::json{{"dag_id", *dag_id},
                            {"from_date", format_rfc3339(from)},
                            {"to_date", format_rfc3339(to)},
                            {"reprocess_behavior", spec.reprocess_behavior},
                            {"max_active_runs", spec.max_active_runs},
                            {"dag_run_conf", std::move(*conf)}};
  return out;
}

DispatchOutcome classify_airflow_response(const AirflowDagRunSpec&,
                                          const HttpClientResponse& response) {
  if (response.status >= 200 && response.status < 300) {
    const std::string run_id = string_member(parse_json_body(response.body), "dag_run_id");
    return response_outcome(
        DispatchOutcome::Kind::accepted, response,
        run_id.empty() ? "dag run queued" : fmt::format("dag run {} queued", run_id));
  }
  if (response.status == 409) {
    // Whose run clashed is for the follow-up to find out; without one, try again.
    DispatchOutcome outcome = classify_with_message(response);
    outcome.kind = DispatchOutcome::Kind::retry;
    return outcome;
  }
  return classify_with_message(response);
}

DispatchOutcome classify_airflow_response(const AirflowBackfillSpec&,
                                          const HttpClientResponse& response) {
  if (response.status >= 200 && response.status < 300) {
    const nlohmann::json document = parse_json_body(response.body);
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

std::optional<PresetRequest> airflow_follow_up(const AirflowDagRunSpec& spec,
                                               const BackfillRequest& request,
                                               const HttpClientResponse& answer) {
  if (answer.status != 409) {
    return std::nullopt;
  }
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  auto run_id = expand_required(spec.dag_run_id, request.values, "dag_run_id");
  if (!dag_id || !run_id) {
    return std::nullopt;
  }
  return get_request(dag_runs_url(spec, *dag_id, *run_id));
}

DispatchOutcome classify_airflow_follow_up(const AirflowDagRunSpec& spec,
                                           const BackfillRequest& request,
                                           const HttpClientResponse& answer,
                                           const HttpClientResponse& follow_up) {
  const std::string run_id =
      expand_required(spec.dag_run_id, request.values, "dag_run_id").value_or(std::string());
  if (follow_up.status == 200) {
    const std::string state = string_member(parse_json_body(follow_up.body), "state");
    DispatchOutcome outcome =
        response_outcome(DispatchOutcome::Kind::accepted, answer,
                         fmt::format("already accepted: dag run {} exists{}", run_id,
                                     state.empty() ? std::string() : " (" + state + ")"));
    outcome.run = airflow_run(spec, request, follow_up);
    return outcome;
  }
  if (follow_up.status == 404) {
    // Airflow 2 finds a clash on the run id or the logical date (post_dag_run);
    // Airflow 3.0-3.2 on either unique key of dag_run. Our run id is unknown,
    // so another run holds the logical date: nothing of ours will run.
    const std::string message = error_message(answer.body);
    return response_outcome(
        DispatchOutcome::Kind::rejected, answer,
        fmt::format("a run that is not gapwatch's has this logical date ({}), and Airflow keeps "
                    "one run per logical date{}; gapwatch's run {} was not created (clear the "
                    "existing run in Airflow, or use logical_date: none)",
                    logical_date_text(spec, request),
                    message.empty() || message.size() > 160 ? std::string() : ": " + message,
                    run_id));
  }
  DispatchOutcome outcome = response_outcome(
      DispatchOutcome::Kind::retry, answer,
      fmt::format("a run exists, and asking whether it is gapwatch's run {} got HTTP {}", run_id,
                  follow_up.status));
  return outcome;
}

std::optional<PresetRequest> airflow_follow_up(const AirflowBackfillSpec& spec,
                                               const BackfillRequest& request,
                                               const HttpClientResponse& answer) {
  if (answer.status != 409) {
    return std::nullopt;
  }
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  if (!dag_id) {
    return std::nullopt;
  }
  // list_backfills: dag_id is required; newest first, so an earlier delivery's
  // backfill is on the first page.
  return get_request(join_url(spec.base_url, {"api", "v2", "backfills"}) +
                     "?dag_id=" + percent_encode(*dag_id) + "&order_by=-id&limit=100");
}

DispatchOutcome classify_airflow_follow_up(const AirflowBackfillSpec& spec,
                                           const BackfillRequest& request,
                                           const HttpClientResponse& answer,
                                           const HttpClientResponse& follow_up) {
  DispatchOutcome waiting = classify_airflow_response(spec, answer);
  const nlohmann::json document = parse_json_body(follow_up.body);
  if (follow_up.status != 200 || !document.is_object() || !document.contains("backfills") ||
      !document["backfills"].is_array()) {
    waiting.detail += fmt::format(" (listing the DAG's backfills got HTTP {})", follow_up.status);
    return waiting;
  }
  const auto conf = backfill_conf(spec, request);
  const auto [from, to] = backfill_dates(request);
  for (const nlohmann::json& backfill : document["backfills"]) {
    if (!backfill.is_object() || !backfill.contains("completed_at") ||
        !backfill["completed_at"].is_null()) {
      continue;  // only a running backfill makes a 409
    }
    const auto id = backfill.value("id", nlohmann::json());
    if (!id.is_number_integer()) {
      continue;
    }
    const bool ours = same_instant(backfill.value("from_date", nlohmann::json()), from) &&
                      same_instant(backfill.value("to_date", nlohmann::json()), to) && conf &&
                      backfill.value("dag_run_conf", nlohmann::json()) == *conf;
    if (ours) {
      DispatchOutcome outcome =
          response_outcome(DispatchOutcome::Kind::accepted, answer,
                           fmt::format("already accepted: backfill {} of this window is running",
                                       id.get<std::int64_t>()));
      outcome.run = airflow_run(spec, request, HttpClientResponse{200, backfill.dump(), ""});
      return outcome;
    }
    waiting.detail = response_outcome(DispatchOutcome::Kind::retry, answer, "").detail +
                     fmt::format(": backfill {} of {} to {} is running; waiting for it to finish",
                                 id.get<std::int64_t>(), string_member(backfill, "from_date"),
                                 string_member(backfill, "to_date"));
    return waiting;
  }
  return waiting;
}

std::optional<RunRef> airflow_run(const AirflowDagRunSpec& spec, const BackfillRequest& request,
                                  const HttpClientResponse& accepted) {
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  if (!dag_id) {
    return std::nullopt;
  }
  // The answer's dag_run_id is the run's; ours when the answer has none.
  std::string run_id = string_member(parse_json_body(accepted.body), "dag_run_id");
  if (run_id.empty()) {
    auto ours = expand_required(spec.dag_run_id, request.values, "dag_run_id");
    if (!ours) {
      return std::nullopt;
    }
    run_id = std::move(*ours);
  }
  std::string link = dag_run_link(spec, *dag_id, run_id);
  return RunRef{std::move(run_id), std::move(link)};
}

Expected<PresetRequest> build_airflow_run_poll(const AirflowDagRunSpec& spec,
                                               const BackfillRequest& request, const RunRef& run) {
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  if (!dag_id) {
    return std::unexpected(dag_id.error());
  }
  if (run.id.empty()) {
    return fail("the run has no dag_run_id");
  }
  return get_request(dag_runs_url(spec, *dag_id, run.id));
}

RunPoll classify_airflow_run_poll(const AirflowDagRunSpec&, const HttpClientResponse& response) {
  if (auto unanswered = poll_without_state(response)) {
    return std::move(*unanswered);
  }
  const nlohmann::json document = parse_json_body(response.body);
  const std::string name = string_member(document, "state");
  const auto state = dag_run_state(name);
  if (!state) {
    return unreachable_poll(
        response, name.empty() ? "the answer names no state" : "unknown state '" + name + "'");
  }
  // Airflow has no failure reason on a run; its note is what people wrote on it.
  std::string detail = name;
  const std::string note = string_member(document, "note");
  if (!note.empty()) {
    detail += ": " + note;
  }
  return RunPoll{RunPoll::Kind::state, *state, std::move(detail), std::nullopt};
}

std::optional<RunRef> airflow_run(const AirflowBackfillSpec& spec, const BackfillRequest& request,
                                  const HttpClientResponse& accepted) {
  const nlohmann::json document = parse_json_body(accepted.body);
  if (!document.is_object() || !document.contains("id") || !document["id"].is_number_integer()) {
    return std::nullopt;
  }
  std::string dag_id = string_member(document, "dag_id");
  if (dag_id.empty()) {
    dag_id = expand_required(spec.dag_id, request.values, "dag_id").value_or(std::string());
  }
  // Airflow 3's UI lists a DAG's backfills on the DAG's Backfills tab; a
  // backfill has no page of its own.
  return RunRef{
      std::to_string(document["id"].get<std::int64_t>()),
      dag_id.empty() ? std::string() : join_url(spec.base_url, {"dags", dag_id, "backfills"})};
}

Expected<PresetRequest> build_airflow_run_poll(const AirflowBackfillSpec& spec,
                                               const BackfillRequest& request, const RunRef&) {
  auto dag_id = expand_required(spec.dag_id, request.values, "dag_id");
  if (!dag_id) {
    return std::unexpected(dag_id.error());
  }
  // get_dag_runs: run_type and the logical_date range filter; the backfill's
  // runs are the DAG's backfill runs between from_date and to_date (the runs
  // it reprocessed become backfill runs too: _create_backfill_dag_run).
  // Sorted by state (failed < queued < running < success), the first page of
  // a long backfill holds every run that is not a success.
  const auto [from, to] = backfill_dates(request);
  return get_request(join_url(spec.base_url, {"api", "v2", "dags", *dag_id, "dagRuns"}) +
                     "?run_type=backfill&logical_date_gte=" + percent_encode(format_rfc3339(from)) +
                     "&logical_date_lte=" + percent_encode(format_rfc3339(to)) +
                     "&order_by=state&limit=100");
}

RunPoll classify_airflow_run_poll(const AirflowBackfillSpec&, const HttpClientResponse& response) {
  if (auto unanswered = poll_without_state(response)) {
    return std::move(*unanswered);
  }
  const nlohmann::json document = parse_json_body(response.body);
  if (!document.is_object() || !document.contains("dag_runs") || !document["dag_runs"].is_array()) {
    return unreachable_poll(response, "the answer has no dag_runs list");
  }
  std::map<std::string, int> counts;  // Airflow's state name -> runs
  std::vector<std::string> failed;
  for (const nlohmann::json& run : document["dag_runs"]) {
    const std::string name = string_member(run, "state");
    if (!dag_run_state(name)) {
      return unreachable_poll(response, "unknown state '" + name + "'");
    }
    ++counts[name];
    if (name == "failed") {
      failed.push_back(string_member(run, "dag_run_id"));
    }
  }
  const auto count_of = [&](const char* name) {
    const auto found = counts.find(name);
    return found == counts.end() ? 0 : found->second;
  };
  const int listed = static_cast<int>(document["dag_runs"].size());
  const auto& total_entries = document.value("total_entries", nlohmann::json(listed));
  const int total = total_entries.is_number_integer() ? total_entries.get<int>() : listed;
  const int queued = count_of("queued");
  const int running = count_of("running");
  RunState state = RunState::running;
  if (listed == 0 || (queued == listed && total <= listed)) {
    state = RunState::queued;
  } else if (queued == 0 && running == 0) {
    // Sorted by state: runs beyond this page are successes.
    state = failed.empty() ? RunState::succeeded : RunState::failed;
  }
  std::string detail;
  for (const auto& [name, count] : counts) {
    detail += fmt::format("{}{} {}", detail.empty() ? "" : ", ", count, name);
  }
  if (listed == 0) {
    detail = "no backfill runs yet";
  } else if (total > listed) {
    detail += fmt::format(" of the first {} of {} runs", listed, total);
  }
  if (!failed.empty()) {
    detail += fmt::format(" (failed: {})", fmt::join(failed, ", "));
  }
  return RunPoll{RunPoll::Kind::state, state, std::move(detail), std::nullopt};
}

}  // namespace gapwatch
