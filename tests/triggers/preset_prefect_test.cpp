// The Prefect preset: create_flow_run's body and Prefect's 201/200 answers.
#include "triggers/preset_prefect.h"

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

}  // namespace
}  // namespace gapwatch
