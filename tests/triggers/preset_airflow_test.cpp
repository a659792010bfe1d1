// The Airflow presets: request shapes of the stable REST API (v1 for Airflow
// 2, v2 for Airflow 3) and of Airflow 3 backfills, and how answers are read.
#include "triggers/preset_airflow.h"

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
  for (const auto& [key, value] : body.items()) {
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
  CHECK(body["conf"] == json{{"note", kHostile}, {"tables", json::array({"events", 3})}});
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

TEST_CASE("airflow: 409 for an existing dag_run_id is an earlier delivery: accepted") {
  const auto v1 = classify_airflow_response(
      dag_run(AirflowDagRunSpec::Api::v1),
      answer(409, R"({"detail":"DAGRun with DAG ID: 'x' and DAGRun ID: 'gapwatch-abc' already )"
                  R"(exists","status":409,"title":"Conflict","type":"about:blank"})"));
  CHECK(v1.kind == DispatchOutcome::Kind::accepted);
  CHECK(v1.detail == "HTTP 409: already accepted: the dag_run_id exists");
  const auto v2 = classify_airflow_response(
      dag_run(AirflowDagRunSpec::Api::v2),
      answer(409, R"({"detail":{"reason":"Unique constraint violation","statement":"hidden",)"
                  R"("orig_error":"hidden","message":"Serious error"}})"));
  CHECK(v2.kind == DispatchOutcome::Kind::accepted);
}

TEST_CASE(
    "airflow2: 409 for an existing logical date (how Airflow 2 answers a resend) is accepted") {
  const auto outcome = classify_airflow_response(
      dag_run(AirflowDagRunSpec::Api::v1),
      answer(409, R"({"detail":"DAGRun with DAG ID: 'x' and DAGRun logical date: '2026-11-24 )"
                  R"(10:00:00+00:00' already exists","status":409,"title":"Conflict"})"));
  CHECK(outcome.kind == DispatchOutcome::Kind::accepted);
  CHECK(outcome.detail == "HTTP 409: already accepted: a run for this logical date exists");
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

TEST_CASE("airflow3_backfill: 409 (a backfill of the DAG is running) is retried later") {
  const auto outcome = classify_airflow_response(
      AirflowBackfillSpec{},
      answer(409, R"({"detail":"There is already a running backfill for dag events_ingest"})"));
  CHECK(outcome.kind == DispatchOutcome::Kind::retry);
  CHECK(outcome.detail ==
        "HTTP 409: There is already a running backfill for dag events_ingest (waiting for the "
        "running backfill to finish)");
  const auto created =
      classify_airflow_response(AirflowBackfillSpec{}, answer(200, R"({"id":12,"dag_id":"x"})"));
  CHECK(created.kind == DispatchOutcome::Kind::accepted);
  CHECK(created.detail == "HTTP 200: backfill 12 created");
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
          json{{"country", "FR"}, {"segment", "FR, null"}});
  }
}

TEST_CASE("airflow: a whole-table request's conf has no segment key") {
  CHECK_FALSE(value_of(build_airflow_request(dag_run(AirflowDagRunSpec::Api::v2), three_hours()))
                  .body["conf"]
                  .contains("segment"));
}

}  // namespace
}  // namespace gapwatch
