// The Prefect preset: create_flow_run's body and Prefect's 201/200 answers.
#include "triggers/preset_prefect.h"

#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/triggers/preset_support.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using testing::answer;
using testing::kHostile;
using testing::templ;
using testing::three_hours;
using testing::value_of;

PrefectSpec prefect() {
  PrefectSpec spec;
  spec.api_url = "https://api.prefect.cloud/api/accounts/a1/workspaces/w1";
  spec.deployment_id = templ("3fa85f64-5717-4562-b3fc-2c963f66afa6");
  spec.flow_run_name = templ("gapwatch-{rule}-{window_start}");
  spec.tags = {templ("gapwatch")};
  return spec;
}

TEST_CASE("prefect: POST deployments/{id}/create_flow_run with name, parameters, tags, key") {
  const BackfillRequest request = three_hours();
  const PresetRequest built = value_of(build_prefect_request(prefect(), request));
  CHECK(built.method == "POST");
  CHECK(built.url ==
        "https://api.prefect.cloud/api/accounts/a1/workspaces/w1/deployments/"
        "3fa85f64-5717-4562-b3fc-2c963f66afa6/create_flow_run");
  CHECK(built.body ==
        json{{"name", "gapwatch-events_hourly-2026-11-24T10:00:00Z"},
             {"parameters",
              {{"window_start", "2026-11-24T10:00:00Z"}, {"window_end", "2026-11-24T13:00:00Z"}}},
             {"tags", json::array({"gapwatch"})},
             {"idempotency_key", request.id}});
}

TEST_CASE("prefect: parameters and tags are templates; values stay data") {
  PrefectSpec spec = prefect();
  spec.parameters =
      JsonTemplate{json{{"table", "{table}"}, {"note", "{note}"}, {"full_refresh", true}}};
  spec.tags = {templ("gapwatch"), templ("rule:{rule}")};
  const json body = value_of(build_prefect_request(spec, three_hours())).body;
  CHECK(body["parameters"] ==
        json{{"table", "events"}, {"note", kHostile}, {"full_refresh", true}});
  CHECK(body["tags"] == json::array({"gapwatch", "rule:events_hourly"}));
}

TEST_CASE("prefect: 201 created and 200 existing are both accepted") {
  const auto created = classify_prefect_response(
      prefect(), answer(201, R"({"id":"0b1c","name":"gapwatch-x","state_type":"SCHEDULED"})"));
  CHECK(created.kind == DispatchOutcome::Kind::accepted);
  CHECK(created.detail == "HTTP 201: flow run 0b1c created");
  const auto existing = classify_prefect_response(prefect(), answer(200, R"({"id":"0b1c"})"));
  CHECK(existing.kind == DispatchOutcome::Kind::accepted);
  CHECK(existing.detail ==
        "HTTP 200: already accepted: flow run 0b1c exists for this idempotency key");
}

TEST_CASE("prefect: 409 is Prefect refusing the parameters, not a duplicate") {
  const auto outcome = classify_prefect_response(
      prefect(), answer(409, R"({"detail":"Error creating flow run: Validation failed. Failure )"
                             R"(reason: 'window_start' is a required property"})"));
  CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
  CHECK(outcome.detail.starts_with("HTTP 409: Error creating flow run: Validation failed."));
}

TEST_CASE("prefect: 404 and 422 are rejected with Prefect's message; 5xx retried") {
  CHECK(classify_prefect_response(prefect(), answer(404, R"({"detail":"Deployment not found"})"))
            .detail == "HTTP 404: Deployment not found");
  const auto invalid = classify_prefect_response(
      prefect(),
      answer(422, R"({"exception_message":"Invalid request received.","exception_detail":)"
                  R"([{"loc":["body","nme"],"msg":"Extra inputs are not permitted"}]})"));
  CHECK(invalid.kind == DispatchOutcome::Kind::rejected);
  CHECK(invalid.detail == "HTTP 422: body.nme: Extra inputs are not permitted");
  CHECK(classify_prefect_response(prefect(), answer(502, "")).kind == DispatchOutcome::Kind::retry);
}

TEST_CASE("prefect: a segment's request has a segment parameter beside the window") {
  const BackfillRequest request = testing::three_hours_of_fr();
  CHECK(value_of(build_prefect_request(prefect(), request)).body["parameters"] ==
        json{{"window_start", "2026-11-24T10:00:00Z"},
             {"window_end", "2026-11-24T13:00:00Z"},
             {"segment", {{"country", "FR"}, {"channel", nullptr}}}});
  CHECK(value_of(build_prefect_request(prefect(), request)).body["idempotency_key"] == request.id);
}

// Following the flow run (PrefectHQ/prefect read_flow_run, StateType).
TEST_CASE("prefect: the created flow run is followed by its id, linked in the UI") {
  const auto run = prefect_run(prefect(), three_hours(),
                               answer(201, R"({"id":"0b1c-77","state_type":"SCHEDULED"})"));
  REQUIRE(run);
  CHECK(run->id == "0b1c-77");
  // Prefect's own UI URL for a Cloud workspace's API URL.
  CHECK(run->link == "https://app.prefect.cloud/account/a1/workspace/w1/runs/flow-run/0b1c-77");
  PrefectSpec local = prefect();
  local.api_url = "http://prefect:4200/api";
  CHECK(prefect_run(local, three_hours(), answer(200, R"({"id":"9"})"))->link ==
        "http://prefect:4200/runs/flow-run/9");
  CHECK_FALSE(prefect_run(prefect(), three_hours(), answer(201, "{}")));
}

TEST_CASE("prefect: the poll is GET {api_url}/flow_runs/{id}") {
  const PresetRequest poll =
      value_of(build_prefect_run_poll(prefect(), three_hours(), RunRef{"0b1c-77", ""}));
  CHECK(poll.method == "GET");
  CHECK(poll.url == "https://api.prefect.cloud/api/accounts/a1/workspaces/w1/flow_runs/0b1c-77");
  CHECK(poll.body.is_null());
}

TEST_CASE("prefect: state.type maps to the run's state, with Prefect's words") {
  const auto state_of = [](std::string_view type, std::string_view name) {
    const json body{{"id", "9"},
                    {"state_type", type},
                    {"state", {{"type", type}, {"name", name}, {"message", ""}}}};
    return classify_prefect_run_poll(prefect(), answer(200, body.dump()));
  };
  struct Case {
    std::string type;
    std::string name;
    RunState state;
  };
  for (const Case& expected : std::vector<Case>{
           {"SCHEDULED", "Late", RunState::queued},
           {"PENDING", "Pending", RunState::queued},
           {"RUNNING", "Running", RunState::running},
           {"PAUSED", "Suspended", RunState::running},
           {"CANCELLING", "Cancelling", RunState::running},
           {"COMPLETED", "Completed", RunState::succeeded},
           {"FAILED", "Failed", RunState::failed},
           {"CANCELLED", "Cancelled", RunState::failed},
           {"CRASHED", "Crashed", RunState::failed}}) {
    CAPTURE(expected.type);
    const RunPoll poll = state_of(expected.type, expected.name);
    CHECK(poll.kind == RunPoll::Kind::state);
    CHECK(poll.state == expected.state);
  }
  CHECK(state_of("COMPLETED", "Cached").detail == "COMPLETED (Cached)");
  CHECK(state_of("FAILED", "Failed").detail == "FAILED");
  const RunPoll failed = classify_prefect_run_poll(
      prefect(), answer(200, R"({"state":{"type":"FAILED","name":"Failed",)"
                             R"("message":"Flow run encountered an exception: KeyError"}})"));
  CHECK(failed.detail == "FAILED: Flow run encountered an exception: KeyError");
}

TEST_CASE("prefect: 404 is a run Prefect no longer knows; 5xx, 429 and junk ask again") {
  const RunPoll gone =
      classify_prefect_run_poll(prefect(), answer(404, R"({"detail":"Flow run not found"})"));
  CHECK(gone.kind == RunPoll::Kind::not_found);
  CHECK(gone.detail == "HTTP 404: Flow run not found");
  CHECK(classify_prefect_run_poll(prefect(), answer(503, "")).kind ==
        RunPoll::Kind::unreachable);
  CHECK(classify_prefect_run_poll(prefect(), answer(429, "")).kind ==
        RunPoll::Kind::unreachable);
  CHECK(classify_prefect_run_poll(prefect(), answer(200, "<html>")).kind ==
        RunPoll::Kind::unreachable);
  CHECK(classify_prefect_run_poll(prefect(), answer(200, R"({"state":{"type":"WEIRD"}})"))
            .detail == "HTTP 200: unknown flow run state type WEIRD");
}

}  // namespace
}  // namespace gapwatch
