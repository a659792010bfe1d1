// The Airflow presets: request shapes of the stable REST API (v1 for Airflow
// 2, v2 for Airflow 3) and of Airflow 3 backfills, and how answers are read.
#include "triggers/preset_airflow.h"

#include <cstdint>
#include <initializer_list>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/triggers/preset_support.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using testing::answer;
using testing::error_of;
using testing::kHostile;
using testing::templ;
using testing::three_hours;
using testing::value_of;

AirflowDagRunSpec dag_run(AirflowDagRunSpec::Api api) {
  AirflowDagRunSpec spec;
  spec.api = api;
  spec.base_url = "https://airflow.example.com";
  spec.dag_id = templ("{dag}");
  spec.dag_run_id = templ("gapwatch-{request_id}");
  return spec;
}

TEST_CASE("airflow2: POST /api/v1/dags/{dag_id}/dagRuns with run id, interval and conf") {
  const BackfillRequest request = three_hours();
  const PresetRequest built =
      value_of(build_airflow_request(dag_run(AirflowDagRunSpec::Api::v1), request));
  CHECK(built.method == "POST");
  CHECK(built.url == "https://airflow.example.com/api/v1/dags/events_ingest/dagRuns");
  // No logical_date by default: Airflow 2 uses the time of the request, so the
  // run cannot collide with the scheduled run of the window.
  CHECK(built.body == json{{"dag_run_id", "gapwatch-" + request.id},
                           {"data_interval_start", "2026-11-24T10:00:00Z"},
                           {"data_interval_end", "2026-11-24T13:00:00Z"},
                           {"conf",
                            {{"rule", "events_hourly"},
                             {"table", "events"},
                             {"window_start", "2026-11-24T10:00:00Z"},
                             {"window_end", "2026-11-24T13:00:00Z"},
                             {"request_id", request.id}}}});
}

TEST_CASE("airflow3: the logical_date key is always present, null unless chosen") {
  AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v2);
  const BackfillRequest request = three_hours();
  SUBCASE("none: null") {
    const json body = value_of(build_airflow_request(spec, request)).body;
    REQUIRE(body.contains("logical_date"));
    CHECK(body["logical_date"].is_null());
    CHECK(value_of(build_airflow_request(spec, request)).url ==
          "https://airflow.example.com/api/v2/dags/events_ingest/dagRuns");
  }
  SUBCASE("window_start") {
    spec.logical_date = AirflowDagRunSpec::LogicalDate::window_start;
    CHECK(value_of(build_airflow_request(spec, request)).body["logical_date"] ==
          "2026-11-24T10:00:00Z");
  }
  SUBCASE("window_end") {
    spec.logical_date = AirflowDagRunSpec::LogicalDate::window_end;
    CHECK(value_of(build_airflow_request(spec, request)).body["logical_date"] ==
          "2026-11-24T13:00:00Z");
  }
}

TEST_CASE("airflow3: exactly the fields of TriggerDAGRunPostBody, intervals together") {
  const json body =
      value_of(build_airflow_request(dag_run(AirflowDagRunSpec::Api::v2), three_hours())).body;
  for (const auto& item : body.items()) {
    // Not a structured binding: clang 14 cannot capture one in CHECK_MESSAGE's lambda.
    const std::string& key = item.key();
    const bool known = key == "dag_run_id" || key == "logical_date" ||
                       key == "data_interval_start" || key == "data_interval_end" || key == "conf";
    CHECK_MESSAGE(known, key);
  }
  CHECK(body.contains("data_interval_start") == body.contains("data_interval_end"));
}

TEST_CASE("airflow: conf is a JSON template; values stay data") {
  AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v2);
  spec.conf = JsonTemplate{json{{"note", "{note}"}, {"tables", json::array({"{table}", 3})}}};
  const json body = value_of(build_airflow_request(spec, three_hours())).body;
  CHECK(body["conf"] == json{{"note", kHostile},
                             {"tables", json::array({"events", 3})},
                             {"window_start", "2026-11-24T10:00:00Z"},
                             {"window_end", "2026-11-24T13:00:00Z"}});
  CHECK(json::parse(body.dump()) == body);
}

TEST_CASE("airflow: the dag_id is one percent-encoded path segment") {
  AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v1);
  spec.dag_id = templ("{note}");
  const std::string url = value_of(build_airflow_request(spec, three_hours())).url;
  CHECK(url.starts_with("https://airflow.example.com/api/v1/dags/"));
  CHECK(url.ends_with("/dagRuns"));
  const std::string segment =
      url.substr(std::string("https://airflow.example.com/api/v1/dags/").size());
  CHECK(segment.find('/') == segment.rfind('/'));  // only the one before dagRuns
  CHECK(segment.find_first_of("?#\n ") == std::string::npos);
}

TEST_CASE("airflow: a template that expands to nothing is an error, not an empty segment") {
  AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v2);
  spec.dag_id = templ("{missing_is_empty}");
  BackfillRequest request = three_hours();
  request.values["missing_is_empty"] = "";
  CHECK(error_of(build_airflow_request(spec, request)) ==
        "dag_id '{missing_is_empty}' expanded to an empty value");
}

TEST_CASE("airflow3_backfill: POST /api/v2/backfills with the window as inclusive dates") {
  AirflowBackfillSpec spec;
  spec.base_url = "http://127.0.0.1:8080";
  spec.dag_id = templ("{dag}");
  const BackfillRequest request = three_hours();
  const PresetRequest built = value_of(build_airflow_request(spec, request));
  CHECK(built.url == "http://127.0.0.1:8080/api/v2/backfills");
  CHECK(built.body == json{{"dag_id", "events_ingest"},
                           {"from_date", "2026-11-24T10:00:00Z"},
                           {"to_date", "2026-11-24T12:59:59Z"},
                           {"reprocess_behavior", "completed"},
                           {"max_active_runs", 10},
                           {"dag_run_conf",
                            {{"rule", "events_hourly"},
                             {"table", "events"},
                             {"window_start", "2026-11-24T10:00:00Z"},
                             {"window_end", "2026-11-24T13:00:00Z"},
                             {"request_id", request.id}}}});
}

TEST_CASE("airflow: 200 is accepted with the run id") {
  const auto outcome =
      classify_airflow_response(dag_run(AirflowDagRunSpec::Api::v2),
                                answer(200, R"({"dag_run_id":"gapwatch-abc","state":"queued"})"));
  CHECK(outcome.kind == DispatchOutcome::Kind::accepted);
  CHECK(outcome.detail == "HTTP 200: dag run gapwatch-abc queued");
  CHECK(outcome.output == R"({"dag_run_id":"gapwatch-abc","state":"queued"})");
}

TEST_CASE("airflow: errors carry Airflow's message; 5xx and 429 are retried") {
  const auto spec = dag_run(AirflowDagRunSpec::Api::v2);
  const auto invalid = classify_airflow_response(
      spec, answer(422, R"({"detail":[{"type":"extra_forbidden","loc":["body","dag_run_conf"],)"
                        R"("msg":"Extra inputs are not permitted","input":{}}]})"));
  CHECK(invalid.kind == DispatchOutcome::Kind::rejected);
  CHECK(invalid.detail == "HTTP 422: body.dag_run_conf: Extra inputs are not permitted");
  const auto missing = classify_airflow_response(
      spec, answer(404, R"({"detail":"DAG with dag_id: 'x' not found"})"));
  CHECK(missing.kind == DispatchOutcome::Kind::rejected);
  CHECK(missing.detail == "HTTP 404: DAG with dag_id: 'x' not found");
  CHECK(classify_airflow_response(spec, answer(503, "")).kind == DispatchOutcome::Kind::retry);
  CHECK(classify_airflow_response(spec, answer(429, "")).kind == DispatchOutcome::Kind::retry);
}

TEST_CASE("airflow: a segment's request carries the segment object in conf, beside the window") {
  const BackfillRequest request = testing::three_hours_of_fr();
  const json conf{{"rule", "orders_by_country"},
                  {"table", "events"},
                  {"window_start", "2026-11-24T10:00:00Z"},
                  {"window_end", "2026-11-24T13:00:00Z"},
                  {"request_id", request.id},
                  {"segment", {{"country", "FR"}, {"channel", nullptr}}}};
  CHECK(
      value_of(build_airflow_request(dag_run(AirflowDagRunSpec::Api::v2), request)).body["conf"] ==
      conf);
  AirflowBackfillSpec backfill;
  backfill.base_url = "https://airflow.example.com";
  backfill.dag_id = templ("{dag}");
  CHECK(value_of(build_airflow_request(backfill, request)).body["dag_run_conf"] == conf);
  SUBCASE("a conf of one's own carries what it says, the segment's variables included") {
    AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v2);
    spec.conf = JsonTemplate{json{{"country", "{segment.country}"}, {"segment", "{segment}"}}};
    CHECK(value_of(build_airflow_request(spec, request)).body["conf"] ==
          json{{"country", "FR"},
               {"segment", "FR, null"},
               {"window_start", "2026-11-24T10:00:00Z"},
               {"window_end", "2026-11-24T13:00:00Z"}});
  }
}

TEST_CASE("airflow: a whole-table request's conf has no segment key") {
  CHECK_FALSE(value_of(build_airflow_request(dag_run(AirflowDagRunSpec::Api::v2), three_hours()))
                  .body["conf"]
                  .contains("segment"));
}

AirflowBackfillSpec backfill_spec() {
  AirflowBackfillSpec spec;
  spec.base_url = "https://airflow.example.com";
  spec.dag_id = templ("{dag}");
  return spec;
}

// An Airflow 3 BackfillResponse for three_hours() as gapwatch creates it.
json backfill_of(const BackfillRequest& request, std::int64_t id) {
  return json{{"id", id},
              {"dag_id", "events_ingest"},
              {"from_date", "2026-11-24T10:00:00Z"},
              {"to_date", "2026-11-24T12:59:59Z"},
              {"dag_run_conf",
               {{"rule", "events_hourly"},
                {"table", "events"},
                {"window_start", "2026-11-24T10:00:00Z"},
                {"window_end", "2026-11-24T13:00:00Z"},
                {"request_id", request.id}}},
              {"is_paused", false},
              {"reprocess_behavior", "completed"},
              {"max_active_runs", 10},
              {"created_at", "2026-11-24T14:00:00Z"},
              {"completed_at", nullptr},
              {"updated_at", "2026-11-24T14:00:00Z"},
              {"dag_display_name", "events_ingest"}};
}

TEST_CASE("airflow2: data_interval_* only for Airflow 2.9 and later (airflow_version)") {
  AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v1);
  spec.data_interval = AirflowDagRunSpec::DataInterval::left_out;
  const json body = value_of(build_airflow_request(spec, three_hours())).body;
  CHECK_FALSE(body.contains("data_interval_start"));
  CHECK_FALSE(body.contains("data_interval_end"));
  // The window is in conf whatever the version.
  CHECK(body["conf"]["window_start"] == "2026-11-24T10:00:00Z");
  CHECK(body["conf"]["window_end"] == "2026-11-24T13:00:00Z");
}

TEST_CASE("airflow3: no data interval without a logical date (Airflow would drop it)") {
  AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v2);
  spec.conf = JsonTemplate{json{{"full_refresh", false}}};
  SUBCASE("logical_date: none: conf carries the window") {
    const json body = value_of(build_airflow_request(spec, three_hours())).body;
    CHECK_FALSE(body.contains("data_interval_start"));
    CHECK_FALSE(body.contains("data_interval_end"));
    CHECK(body["conf"] == json{{"full_refresh", false},
                               {"window_start", "2026-11-24T10:00:00Z"},
                               {"window_end", "2026-11-24T13:00:00Z"}});
  }
  SUBCASE("with a logical date the interval is the window") {
    spec.logical_date = AirflowDagRunSpec::LogicalDate::window_end;
    const json body = value_of(build_airflow_request(spec, three_hours())).body;
    CHECK(body["data_interval_start"] == "2026-11-24T10:00:00Z");
    CHECK(body["data_interval_end"] == "2026-11-24T13:00:00Z");
  }
  SUBCASE("a conf that names the window keeps its own values") {
    spec.conf = JsonTemplate{json{{"window_start", "{window_start_date}"}}};
    const json body = value_of(build_airflow_request(spec, three_hours())).body;
    CHECK(body["conf"] ==
          json{{"window_start", "2026-11-24"}, {"window_end", "2026-11-24T13:00:00Z"}});
  }
}

TEST_CASE("airflow: a 409 is judged by looking up our dag_run_id") {
  const BackfillRequest request = three_hours();
  const std::string ours = "gapwatch-" + request.id;
  const auto conflict = answer(
      409, R"({"detail":"DAGRun with DAG ID: 'events_ingest' and DAGRun logical date: )"
           R"('2026-11-24 10:00:00+00:00' already exists","status":409,"title":"Conflict"})");
  AirflowDagRunSpec spec = dag_run(AirflowDagRunSpec::Api::v1);
  spec.logical_date = AirflowDagRunSpec::LogicalDate::window_start;
  SUBCASE("the follow-up is GET dagRuns/{our dag_run_id}; no follow-up for other answers") {
    const auto follow_up = airflow_follow_up(spec, request, conflict);
    REQUIRE(follow_up.has_value());
    CHECK(follow_up->method == "GET");
    CHECK(follow_up->url ==
          "https://airflow.example.com/api/v1/dags/events_ingest/dagRuns/" + ours);
    CHECK(follow_up->body.is_null());
    CHECK_FALSE(airflow_follow_up(spec, request, answer(200, "{}")).has_value());
    CHECK_FALSE(airflow_follow_up(spec, request, answer(400, "{}")).has_value());
    // Alone, a 409 says nothing about whose run it is: try again.
    CHECK(classify_airflow_response(spec, conflict).kind == DispatchOutcome::Kind::retry);
  }
  SUBCASE("our run exists: an earlier delivery got through, and its run is followed") {
    const auto outcome = classify_airflow_follow_up(
        spec, request, conflict,
        answer(
            200,
            json{{"dag_run_id", ours}, {"dag_id", "events_ingest"}, {"state", "running"}}.dump()));
    CHECK(outcome.kind == DispatchOutcome::Kind::accepted);
    CHECK(outcome.detail == "HTTP 409: already accepted: dag run " + ours + " exists (running)");
    REQUIRE(outcome.run.has_value());
    CHECK(outcome.run->id == ours);
    CHECK(outcome.run->link ==
          "https://airflow.example.com/dags/events_ingest/grid?dag_run_id=" + ours);
  }
  SUBCASE("our run does not exist: the scheduler's run holds the logical date: rejected") {
    const auto outcome = classify_airflow_follow_up(
        spec, request, conflict,
        answer(404, R"({"detail":"DAGRun with DAG ID: 'events_ingest' and DAGRun ID: 'x' not )"
                    R"(found","status":404,"title":"DAGRun not found"})"));
    CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
    CHECK(outcome.detail ==
          "HTTP 409: a run that is not gapwatch's has this logical date (2026-11-24T10:00:00Z), "
          "and Airflow keeps one run per logical date: DAGRun with DAG ID: 'events_ingest' and "
          "DAGRun logical date: '2026-11-24 10:00:00+00:00' already exists; gapwatch's run " +
              ours +
              " was not created (clear the existing run in Airflow, or use logical_date: none)");
    CHECK_FALSE(outcome.run.has_value());
  }
  SUBCASE("the lookup fails: ask again later") {
    const auto outcome = classify_airflow_follow_up(spec, request, conflict, answer(503, ""));
    CHECK(outcome.kind == DispatchOutcome::Kind::retry);
    CHECK(outcome.detail == "HTTP 409: a run exists, and asking whether it is gapwatch's run " +
                                ours + " got HTTP 503");
  }
}

TEST_CASE("airflow: the run an accepted answer names, with its page in the UI") {
  const BackfillRequest request = three_hours();
  const auto created = answer(200, R"({"dag_run_id":"gapwatch-abc","state":"queued"})");
  const RunRef v1 = airflow_run(dag_run(AirflowDagRunSpec::Api::v1), request, created).value();
  CHECK(v1.id == "gapwatch-abc");
  CHECK(v1.link == "https://airflow.example.com/dags/events_ingest/grid?dag_run_id=gapwatch-abc");
  const RunRef v2 = airflow_run(dag_run(AirflowDagRunSpec::Api::v2), request, created).value();
  CHECK(v2.id == "gapwatch-abc");
  CHECK(v2.link == "https://airflow.example.com/dags/events_ingest/runs/gapwatch-abc");
  SUBCASE("ids are encoded in the link: manual run ids carry '+' and ':'") {
    const auto manual = answer(200, R"({"dag_run_id":"manual__2026-11-24T10:00:00+00:00"})");
    CHECK(airflow_run(dag_run(AirflowDagRunSpec::Api::v2), request, manual)->link ==
          "https://airflow.example.com/dags/events_ingest/runs/"
          "manual__2026-11-24T10%3A00%3A00%2B00%3A00");
  }
}

TEST_CASE("airflow: a run is polled with GET dagRuns/{dag_run_id}") {
  const BackfillRequest request = three_hours();
  const RunRef run{"gapwatch-abc", ""};
  const PresetRequest v1 =
      value_of(build_airflow_run_poll(dag_run(AirflowDagRunSpec::Api::v1), request, run));
  CHECK(v1.method == "GET");
  CHECK(v1.url == "https://airflow.example.com/api/v1/dags/events_ingest/dagRuns/gapwatch-abc");
  CHECK(v1.body.is_null());
  CHECK(value_of(build_airflow_run_poll(dag_run(AirflowDagRunSpec::Api::v2), request, run)).url ==
        "https://airflow.example.com/api/v2/dags/events_ingest/dagRuns/gapwatch-abc");
}

TEST_CASE("airflow: Airflow's run states, and answers that are not states") {
  const auto spec = dag_run(AirflowDagRunSpec::Api::v2);
  const auto poll = [&](long status, const std::string& body) {
    return classify_airflow_run_poll(spec, answer(status, body));
  };
  const auto state_of = [&](const std::string& name) {
    return poll(200, json{{"dag_run_id", "r"}, {"state", name}, {"note", nullptr}}.dump());
  };
  CHECK(state_of("queued").state == RunState::queued);
  CHECK(state_of("running").state == RunState::running);
  CHECK(state_of("success").state == RunState::succeeded);
  const RunPoll failed = state_of("failed");
  CHECK(failed.kind == RunPoll::Kind::state);
  CHECK(failed.state == RunState::failed);
  CHECK(failed.detail == "failed");
  const RunPoll noted = poll(200, R"({"state":"failed","note":"source bucket missing"})");
  CHECK(noted.detail == "failed: source bucket missing");
  const RunPoll gone =
      poll(404, R"({"detail":"The DagRun with dag_id: `d` and run_id: `r` was not found"})");
  CHECK(gone.kind == RunPoll::Kind::not_found);
  CHECK(gone.detail == "HTTP 404: The DagRun with dag_id: `d` and run_id: `r` was not found");
  for (const long status : {500L, 502L, 503L, 429L, 401L}) {
    CHECK(poll(status, "").kind == RunPoll::Kind::unreachable);
  }
  CHECK(poll(503, "").detail == "HTTP 503");
  const RunPoll unreadable = poll(200, "<html>proxy</html>");
  CHECK(unreadable.kind == RunPoll::Kind::unreachable);
  CHECK(unreadable.detail == "HTTP 200: the answer names no state");
  CHECK(poll(200, R"({"state":"upstream_failed"})").detail ==
        "HTTP 200: unknown state 'upstream_failed'");
}

TEST_CASE("airflow3_backfill: 409 and a lost answer: our running backfill is followed") {
  const BackfillRequest request = three_hours();
  const AirflowBackfillSpec spec = backfill_spec();
  const auto conflict =
      answer(409, R"({"detail":"There is already a running backfill for dag events_ingest"})");
  SUBCASE("the follow-up lists the DAG's backfills, newest first") {
    const auto follow_up = airflow_follow_up(spec, request, conflict);
    REQUIRE(follow_up.has_value());
    CHECK(follow_up->method == "GET");
    CHECK(follow_up->url ==
          "https://airflow.example.com/api/v2/backfills?dag_id=events_ingest"
          "&order_by=-id&limit=100");
    CHECK_FALSE(airflow_follow_up(spec, request, answer(200, "{}")).has_value());
  }
  SUBCASE("ours is running: accepted, and followed instead of creating a second") {
    const json list{{"backfills", json::array({backfill_of(request, 7)})}, {"total_entries", 1}};
    const auto outcome =
        classify_airflow_follow_up(spec, request, conflict, answer(200, list.dump()));
    CHECK(outcome.kind == DispatchOutcome::Kind::accepted);
    CHECK(outcome.detail == "HTTP 409: already accepted: backfill 7 of this window is running");
    REQUIRE(outcome.run.has_value());
    CHECK(outcome.run->id == "7");
    CHECK(outcome.run->link == "https://airflow.example.com/dags/events_ingest/backfills");
  }
  SUBCASE("another backfill is running: retried later, naming it") {
    json other = backfill_of(request, 6);
    other["from_date"] = "2026-11-20T00:00:00Z";
    json done = backfill_of(request, 5);
    done["completed_at"] = "2026-11-24T15:00:00Z";
    const json list{{"backfills", json::array({other, done})}, {"total_entries", 2}};
    const auto outcome =
        classify_airflow_follow_up(spec, request, conflict, answer(200, list.dump()));
    CHECK(outcome.kind == DispatchOutcome::Kind::retry);
    CHECK(outcome.detail ==
          "HTTP 409: backfill 6 of 2026-11-20T00:00:00Z to 2026-11-24T12:59:59Z is running; "
          "waiting for it to finish");
    CHECK_FALSE(outcome.run.has_value());
  }
  SUBCASE("the same dates with another request's conf is not ours") {
    json other = backfill_of(request, 8);
    other["dag_run_conf"]["request_id"] = "someone-else";
    const json list{{"backfills", json::array({other})}, {"total_entries", 1}};
    CHECK(classify_airflow_follow_up(spec, request, conflict, answer(200, list.dump())).kind ==
          DispatchOutcome::Kind::retry);
  }
  SUBCASE("the list cannot be read: retried") {
    const auto outcome = classify_airflow_follow_up(spec, request, conflict, answer(502, ""));
    CHECK(outcome.kind == DispatchOutcome::Kind::retry);
    CHECK(outcome.detail ==
          "HTTP 409: There is already a running backfill for dag events_ingest (waiting for the "
          "running backfill to finish) (listing the DAG's backfills got HTTP 502)");
  }
}

TEST_CASE("airflow3_backfill: the created backfill's id, followed through its runs") {
  const BackfillRequest request = three_hours();
  const AirflowBackfillSpec spec = backfill_spec();
  const auto created =
      classify_airflow_response(spec, answer(200, backfill_of(request, 12).dump()));
  CHECK(created.kind == DispatchOutcome::Kind::accepted);
  CHECK(created.detail == "HTTP 200: backfill 12 created");
  const RunRef run =
      airflow_run(spec, request, answer(200, backfill_of(request, 12).dump())).value();
  CHECK(run.id == "12");
  CHECK(run.link == "https://airflow.example.com/dags/events_ingest/backfills");
  const PresetRequest poll = value_of(build_airflow_run_poll(spec, request, run));
  CHECK(poll.method == "GET");
  CHECK(poll.url ==
        "https://airflow.example.com/api/v2/dags/events_ingest/dagRuns?run_type=backfill"
        "&logical_date_gte=2026-11-24T10%3A00%3A00Z&logical_date_lte=2026-11-24T12%3A59%3A59Z"
        "&order_by=state&limit=100");
}

TEST_CASE("airflow3_backfill: the state of a backfill is the state of its runs") {
  const AirflowBackfillSpec spec = backfill_spec();
  const auto runs = [&](std::initializer_list<const char*> states) {
    json list = json::array();
    int n = 0;
    for (const char* state : states) {
      list.push_back({{"dag_run_id", "backfill__" + std::to_string(++n)}, {"state", state}});
    }
    return classify_airflow_run_poll(
        spec, answer(200, json{{"dag_runs", list}, {"total_entries", list.size()}}.dump()));
  };
  CHECK(runs({}).state == RunState::queued);
  CHECK(runs({}).detail == "no backfill runs yet");
  CHECK(runs({"queued", "queued"}).state == RunState::queued);
  CHECK(runs({"success", "queued"}).state == RunState::running);
  CHECK(runs({"running", "queued", "success"}).state == RunState::running);
  CHECK(runs({"running", "queued", "success"}).detail == "1 queued, 1 running, 1 success");
  const RunPoll done = runs({"success", "success", "success"});
  CHECK(done.kind == RunPoll::Kind::state);
  CHECK(done.state == RunState::succeeded);
  CHECK(done.detail == "3 success");
  const RunPoll failed = runs({"success", "failed", "success"});
  CHECK(failed.state == RunState::failed);
  CHECK(failed.detail == "1 failed, 2 success (failed: backfill__2)");
  CHECK(runs({"failed", "running"}).state == RunState::running);
  SUBCASE("a long backfill: the first page, sorted by state, holds every run not a success") {
    const auto page = [&](const char* state, int total) {
      const json list = json::array({{{"dag_run_id", "a"}, {"state", state}}});
      return classify_airflow_run_poll(
          spec, answer(200, json{{"dag_runs", list}, {"total_entries", total}}.dump()));
    };
    CHECK(page("success", 300).state == RunState::succeeded);
    CHECK(page("success", 300).detail == "1 success of the first 1 of 300 runs");
    CHECK(page("queued", 300).state == RunState::running);  // later pages may have started
    CHECK(page("queued", 1).state == RunState::queued);
  }
  CHECK(classify_airflow_run_poll(spec, answer(503, "")).kind == RunPoll::Kind::unreachable);
  CHECK(classify_airflow_run_poll(spec, answer(200, "[]")).kind == RunPoll::Kind::unreachable);
  CHECK(classify_airflow_run_poll(
            spec, answer(404, R"({"detail":"The DAG with dag_id: `x` was not found"})"))
            .kind == RunPoll::Kind::not_found);
}

}  // namespace
}  // namespace gapwatch
