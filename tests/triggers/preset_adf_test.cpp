// The Azure Data Factory preset: createRun's URL and body, Entra ID's token
// URL, and ARM's answers.
#include "triggers/preset_adf.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/triggers/preset_support.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using testing::answer;
using testing::error_of;
using testing::templ;
using testing::three_hours;
using testing::value_of;

AdfSpec adf() {
  AdfSpec spec;
  spec.subscription_id = templ("00000000-1111-2222-3333-444444444444");
  spec.resource_group = templ("rg-data");
  spec.factory = templ("adf-prod");
  spec.pipeline = templ("reload {table}");
  return spec;
}

TEST_CASE("adf: POST …/pipelines/{pipeline}/createRun?api-version=2018-06-01") {
  const PresetRequest built = value_of(build_adf_request(adf(), three_hours()));
  CHECK(built.method == "POST");
  CHECK(built.url ==
        "https://management.azure.com/subscriptions/00000000-1111-2222-3333-444444444444/"
        "resourceGroups/rg-data/providers/Microsoft.DataFactory/factories/adf-prod/pipelines/"
        "reload%20events/createRun?api-version=2018-06-01");
}

TEST_CASE("adf: the body is the parameters map, by default the window") {
  CHECK(value_of(build_adf_request(adf(), three_hours())).body ==
        json{{"window_start", "2026-11-24T10:00:00Z"}, {"window_end", "2026-11-24T13:00:00Z"}});
  AdfSpec spec = adf();
  spec.parameters =
      JsonTemplate{json{{"tableName", "{table}"}, {"from", "{window_start_date}"}, {"batch", 500}}};
  CHECK(value_of(build_adf_request(spec, three_hours())).body ==
        json{{"tableName", "events"}, {"from", "2026-11-24"}, {"batch", 500}});
}

TEST_CASE("adf: the management URL is configurable (tests point it at loopback)") {
  AdfSpec spec = adf();
  spec.management_url = "http://127.0.0.1:4567";
  CHECK(value_of(build_adf_request(spec, three_hours()))
            .url.starts_with("http://127.0.0.1:4567/subscriptions/"));
}

TEST_CASE("adf: the Entra ID token URL of a tenant") {
  CHECK(entra_token_url(kEntraLoginUrl, "contoso.onmicrosoft.com") ==
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  CHECK(entra_token_url("http://127.0.0.1:9000", "t/../x") ==
        "http://127.0.0.1:9000/t%2F..%2Fx/oauth2/v2.0/token");
}

TEST_CASE("adf: 200 with a runId is accepted; ARM errors carry code and message") {
  const auto created =
      classify_adf_response(adf(), answer(200, R"({"runId":"2f7fdb90-5df1-4b8e"})"));
  CHECK(created.kind == DispatchOutcome::Kind::accepted);
  CHECK(created.detail == "HTTP 200: pipeline run 2f7fdb90-5df1-4b8e created");
  const auto missing = classify_adf_response(
      adf(), answer(404, R"({"error":{"code":"PipelineNotFound","message":"Pipeline 'x' not )"
                         R"(found"}})"));
  CHECK(missing.kind == DispatchOutcome::Kind::rejected);
  CHECK(missing.detail == "HTTP 404: PipelineNotFound: Pipeline 'x' not found");
  CHECK(classify_adf_response(adf(), answer(429, "")).kind == DispatchOutcome::Kind::retry);
}

TEST_CASE("adf: parameters that are not a mapping are refused") {
  AdfSpec spec = adf();
  spec.parameters = JsonTemplate{json::array({"x"})};
  CHECK(error_of(build_adf_request(spec, three_hours())) ==
        "parameters must be a mapping of the pipeline's parameter names");
}

TEST_CASE("adf: a segment's request has a string parameter segment holding its JSON object") {
  const json body = value_of(build_adf_request(adf(), testing::three_hours_of_fr())).body;
  CHECK(body["window_start"] == "2026-11-24T10:00:00Z");
  CHECK(body["window_end"] == "2026-11-24T13:00:00Z");
  REQUIRE(body["segment"].is_string());
  CHECK(json::parse(body["segment"].get<std::string>()) ==
        json{{"country", "FR"}, {"channel", nullptr}});
}

TEST_CASE("adf: a segment value that is not UTF-8 is an error, not a changed value") {
  BackfillRequest request = testing::three_hours_of_fr();
  request.segment = segment_columns({"country"}, {std::string("\xff")});
  CHECK(error_of(build_adf_request(adf(), request)).starts_with("the segment is not valid UTF-8"));
}

// Following the pipeline run (datafactory 2018-06-01 PipelineRuns_Get).
TEST_CASE("adf: createRun's runId is followed, linked in ADF Studio's monitoring") {
  const auto run = adf_run(adf(), three_hours(),
                           answer(200, R"({"runId":"2f7fdb90-5df1-4b8e-ac2f-064cfa58202b"})"));
  REQUIRE(run);
  CHECK(run->id == "2f7fdb90-5df1-4b8e-ac2f-064cfa58202b");
  CHECK(run->link ==
        "https://adf.azure.com/en/monitoring/pipelineruns/2f7fdb90-5df1-4b8e-ac2f-064cfa58202b"
        "?factory=/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-data/"
        "providers/Microsoft.DataFactory/factories/adf-prod");
  CHECK_FALSE(adf_run(adf(), three_hours(), answer(200, "{}")));
}

TEST_CASE("adf: the poll is GET …/factories/{factory}/pipelineruns/{runId}") {
  const PresetRequest poll = value_of(build_adf_run_poll(adf(), three_hours(), RunRef{"r/1", ""}));
  CHECK(poll.method == "GET");
  CHECK(poll.url ==
        "https://management.azure.com/subscriptions/00000000-1111-2222-3333-444444444444/"
        "resourceGroups/rg-data/providers/Microsoft.DataFactory/factories/adf-prod/pipelineruns/"
        "r%2F1?api-version=2018-06-01");
  CHECK(poll.body.is_null());
}

TEST_CASE("adf: status maps to the run's state; a failure carries ADF's message") {
  const auto state_of = [](std::string_view status) {
    return classify_adf_run_poll(adf(), answer(200, json{{"runId", "r"}, {"status", status},
                                                         {"message", ""}}.dump()));
  };
  CHECK(state_of("Queued").state == RunState::queued);
  CHECK(state_of("InProgress").state == RunState::running);
  CHECK(state_of("Canceling").state == RunState::running);
  CHECK(state_of("Succeeded").state == RunState::succeeded);
  CHECK(state_of("Failed").state == RunState::failed);
  CHECK(state_of("Cancelled").state == RunState::failed);
  CHECK(state_of("Succeeded").detail == "Succeeded");
  const RunPoll failed = classify_adf_run_poll(
      adf(), answer(200, R"({"runId":"r","status":"Failed","message":"Operation on target )"
                         R"(Copy failed: The table 'events' does not exist"})"));
  CHECK(failed.kind == RunPoll::Kind::state);
  CHECK(failed.detail ==
        "Failed: Operation on target Copy failed: The table 'events' does not exist");
}

TEST_CASE("adf: 404 is a run ADF no longer knows; 5xx, 429 and junk ask again") {
  const RunPoll gone = classify_adf_run_poll(
      adf(), answer(404, R"({"error":{"code":"ResourceNotFound","message":"run not found"}})"));
  CHECK(gone.kind == RunPoll::Kind::not_found);
  CHECK(gone.detail.starts_with("HTTP 404"));
  CHECK(classify_adf_run_poll(adf(), answer(500, "")).kind == RunPoll::Kind::unreachable);
  CHECK(classify_adf_run_poll(adf(), answer(429, "")).kind == RunPoll::Kind::unreachable);
  CHECK(classify_adf_run_poll(adf(), answer(200, "{}")).kind == RunPoll::Kind::unreachable);
  CHECK(classify_adf_run_poll(adf(), answer(200, R"({"status":"Paused"})")).kind ==
        RunPoll::Kind::unreachable);
}

}  // namespace
}  // namespace gapwatch
