// The Dagster preset: partition names from windows, the GraphQL mutations and
// variables, and reading results whose __typename says success or failure.
#include "triggers/preset_dagster.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/triggers/preset_support.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::answer;
using testing::at;
using testing::error_of;
using testing::request_for;
using testing::templ;
using testing::three_hours;
using testing::value_of;
using testing::zone;
using Keys = std::vector<std::string>;

DagsterPartitions hourly() {
  return DagsterPartitions{seconds{3600}, "%Y-%m-%d-%H:%M", nullptr};
}
DagsterPartitions daily() {
  return DagsterPartitions{seconds{86400}, "%Y-%m-%d", nullptr};
}

DagsterSpec dagster(DagsterSpec::Target target) {
  DagsterSpec spec;
  spec.base_url = "https://acme.dagster.cloud/prod";
  spec.target = target;
  spec.repository_location = templ("analytics");
  spec.repository = templ("__repository__");
  spec.partition_set = templ("events_job_partition_set");
  spec.job = templ("events_job");
  spec.assets = {{"raw", "events"}, {"events_daily"}};
  spec.partitions = hourly();
  return spec;
}

TEST_CASE("dagster partition keys: hourly windows name each hour, Dagster's default format") {
  CHECK(value_of(dagster_partition_keys(hourly(), at("2026-11-24T10:00:00Z"),
                                        at("2026-11-24T13:00:00Z"))) ==
        Keys{"2026-11-24-10:00", "2026-11-24-11:00", "2026-11-24-12:00"});
}

TEST_CASE("dagster partition keys: a window not on partition boundaries takes every overlap") {
  CHECK(value_of(dagster_partition_keys(daily(), at("2026-11-23T18:00:00Z"),
                                        at("2026-11-25T00:00:01Z"))) ==
        Keys{"2026-11-23", "2026-11-24", "2026-11-25"});
}

TEST_CASE("dagster partition keys: daily partitions follow the zone's midnight") {
  DagsterPartitions berlin = daily();
  berlin.zone = zone("Europe/Berlin");
  // 23:00Z on the 23rd is midnight of the 24th in Berlin (UTC+1 in November).
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-11-23T23:00:00Z"),
                                        at("2026-11-24T23:00:00Z"))) == Keys{"2026-11-24"});
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-11-23T22:00:00Z"),
                                        at("2026-11-24T00:00:00Z"))) ==
        Keys{"2026-11-23", "2026-11-24"});
}

TEST_CASE("dagster partition keys: across a DST change a local day is one partition") {
  DagsterPartitions berlin = daily();
  berlin.zone = zone("Europe/Berlin");
  // 2026-10-25 has 25 hours in Berlin: 22:00Z on the 24th to 23:00Z on the 25th.
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-10-24T22:00:00Z"),
                                        at("2026-10-25T23:00:00Z"))) == Keys{"2026-10-25"});
}

TEST_CASE("dagster partition keys: custom formats and sub-hour partitions") {
  const DagsterPartitions quarter{seconds{900}, "%Y%m%dT%H%M%S", nullptr};
  CHECK(value_of(dagster_partition_keys(quarter, at("2026-11-24T10:00:00Z"),
                                        at("2026-11-24T10:30:00Z"))) ==
        Keys{"20261124T100000", "20261124T101500"});
}

TEST_CASE("dagster partition keys: empty windows and too many partitions are errors") {
  CHECK(error_of(dagster_partition_keys(hourly(), at("2026-11-24T10:00:00Z"),
                                        at("2026-11-24T10:00:00Z"))) == "the window is empty");
  const DagsterPartitions minutes{seconds{60}, "%Y-%m-%d-%H:%M", nullptr};
  CHECK(error_of(
            dagster_partition_keys(minutes, at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z")))
            .starts_with("the window covers more than 10000 partitions"));
}

TEST_CASE("dagster: valid_partition_format accepts Dagster's conversions only") {
  CHECK(valid_partition_format("%Y-%m-%d"));
  CHECK(valid_partition_format("%Y-%m-%d-%H:%M"));
  CHECK(valid_partition_format("day %% %d"));
  CHECK_FALSE(valid_partition_format(""));
  CHECK_FALSE(valid_partition_format("%Y-%j"));
  CHECK_FALSE(valid_partition_format("%Y-%"));
}

TEST_CASE("dagster: a partition set backfill names the partitions of the window") {
  const BackfillRequest request = three_hours();
  const PresetRequest built =
      value_of(build_dagster_request(dagster(DagsterSpec::Target::partition_set), request));
  CHECK(built.url == "https://acme.dagster.cloud/prod/graphql");
  CHECK(built.body["operationName"] == "GapwatchLaunchPartitionBackfill");
  const std::string query = built.body["query"];
  CHECK(query.find("launchPartitionBackfill(backfillParams: $backfillParams)") !=
        std::string::npos);
  CHECK(query.find("__typename") != std::string::npos);
  CHECK(
      built.body["variables"] ==
      json{{"backfillParams",
            {{"selector",
              {{"partitionSetName", "events_job_partition_set"},
               {"repositorySelector",
                {{"repositoryLocationName", "analytics"}, {"repositoryName", "__repository__"}}}}},
             {"partitionNames",
              json::array({"2026-11-24-10:00", "2026-11-24-11:00", "2026-11-24-12:00"})},
             {"tags", json::array({{{"key", "gapwatch/request_id"}, {"value", request.id}},
                                   {{"key", "gapwatch/rule"}, {"value", "events_hourly"}}})}}}});
}

TEST_CASE("dagster: an asset backfill selects the range of partitions per asset") {
  const json params =
      value_of(build_dagster_request(dagster(DagsterSpec::Target::assets), three_hours()))
          .body["variables"]["backfillParams"];
  CHECK(
      params["partitionsByAssets"] ==
      json::array({{{"assetKey", {{"path", json::array({"raw", "events"})}}},
                    {"partitions",
                     {{"range", {{"start", "2026-11-24-10:00"}, {"end", "2026-11-24-12:00"}}}}}},
                   {{"assetKey", {{"path", json::array({"events_daily"})}}},
                    {"partitions",
                     {{"range", {{"start", "2026-11-24-10:00"}, {"end", "2026-11-24-12:00"}}}}}}}));
  CHECK_FALSE(params.contains("selector"));
}

TEST_CASE("dagster: launchRun runs one partition with the dagster/partition tag") {
  DagsterSpec spec = dagster(DagsterSpec::Target::job);
  spec.run_config = JsonTemplate{json{{"ops", {{"load", {{"config", {{"table", "{table}"}}}}}}}}};
  spec.tags = {{"team", templ("data-{warehouse}")}};
  const BackfillRequest request = request_for("2026-11-24T10:00:00Z", "2026-11-24T11:00:00Z");
  const PresetRequest built = value_of(build_dagster_request(spec, request));
  CHECK(built.body["operationName"] == "GapwatchLaunchRun");
  CHECK(std::string(built.body["query"]).find("launchRun(executionParams: $executionParams)") !=
        std::string::npos);
  const json params = built.body["variables"]["executionParams"];
  CHECK(params["selector"] == json{{"repositoryLocationName", "analytics"},
                                   {"repositoryName", "__repository__"},
                                   {"jobName", "events_job"}});
  CHECK(params["runConfigData"] == json{{"ops", {{"load", {{"config", {{"table", "events"}}}}}}}});
  CHECK(params["executionMetadata"]["tags"] ==
        json::array({{{"key", "dagster/partition"}, {"value", "2026-11-24-10:00"}},
                     {{"key", "gapwatch/request_id"}, {"value", request.id}},
                     {{"key", "gapwatch/rule"}, {"value", "events_hourly"}},
                     {{"key", "team"}, {"value", "data-local"}}}));
}

TEST_CASE("dagster: launchRun refuses a window of several partitions, saying what to do") {
  CHECK(error_of(build_dagster_request(dagster(DagsterSpec::Target::job), three_hours()))
            .starts_with("launchRun runs one partition, but the window 2026-11-24T10:00:00Z .. "
                         "2026-11-24T13:00:00Z covers 3 (2026-11-24-10:00 .. 2026-11-24-12:00); "
                         "set the rule's backfill.max_window"));
}

TEST_CASE("dagster: the Dagster+ API token goes in its own header") {
  DagsterSpec spec = dagster(DagsterSpec::Target::assets);
  spec.api_token = "user:abc123";
  const PresetRequest built = value_of(build_dagster_request(spec, three_hours()));
  REQUIRE(built.headers.size() == 1);
  CHECK(built.headers[0] ==
        std::pair<std::string, std::string>{"Dagster-Cloud-Api-Token", "user:abc123"});
}

TEST_CASE("dagster: success members are accepted with their id") {
  const auto backfill = classify_dagster_response(
      dagster(DagsterSpec::Target::partition_set),
      answer(200, R"({"data":{"launchPartitionBackfill":{"__typename":"LaunchBackfillSuccess",)"
                  R"("backfillId":"mkqbxdqv"}}})"));
  CHECK(backfill.kind == DispatchOutcome::Kind::accepted);
  CHECK(backfill.detail == "HTTP 200: backfill mkqbxdqv launched");
  const auto run = classify_dagster_response(
      dagster(DagsterSpec::Target::job),
      answer(200,
             R"({"data":{"launchRun":{"__typename":"LaunchRunSuccess","run":{"runId":"r-1"}}}})"));
  CHECK(run.kind == DispatchOutcome::Kind::accepted);
  CHECK(run.detail == "HTTP 200: run r-1 launched");
}

TEST_CASE("dagster: an error member with HTTP 200 is a failure with its message") {
  const auto outcome = classify_dagster_response(
      dagster(DagsterSpec::Target::partition_set),
      answer(200, R"({"data":{"launchPartitionBackfill":{"__typename":"PartitionSetNotFoundError",)"
                  R"("message":"Partition set events_job_partition_set could not be found."}}})"));
  CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
  CHECK(outcome.detail ==
        "HTTP 200: PartitionSetNotFoundError: Partition set events_job_partition_set could not be "
        "found.");
  const auto python = classify_dagster_response(
      dagster(DagsterSpec::Target::job),
      answer(200, R"({"data":{"launchRun":{"__typename":"PythonError","message":"boom"}}})"));
  // An exception inside Dagster may pass: retried (max_attempts bounds it).
  CHECK(python.kind == DispatchOutcome::Kind::retry);
  CHECK(python.detail == "HTTP 200: PythonError: boom");
}

TEST_CASE("dagster: GraphQL errors are failures; on a server error status, retried") {
  const auto invalid = classify_dagster_response(
      dagster(DagsterSpec::Target::assets),
      answer(400, R"({"errors":[{"message":"Variable '$backfillParams' got invalid value"}]})"));
  CHECK(invalid.kind == DispatchOutcome::Kind::rejected);
  CHECK(invalid.detail == "HTTP 400: GraphQL error: Variable '$backfillParams' got invalid value");
  const auto ok_status = classify_dagster_response(
      dagster(DagsterSpec::Target::assets),
      answer(200, R"({"data":null,"errors":[{"message":"Cannot query field"}]})"));
  CHECK(ok_status.kind == DispatchOutcome::Kind::rejected);
  CHECK(classify_dagster_response(dagster(DagsterSpec::Target::assets),
                                  answer(503, R"({"errors":[{"message":"overloaded"}]})"))
            .kind == DispatchOutcome::Kind::retry);
}

TEST_CASE("dagster: an answer without the result is a failure, not an acceptance") {
  const auto outcome = classify_dagster_response(dagster(DagsterSpec::Target::assets),
                                                 answer(200, R"({"data":{}})"));
  CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
  CHECK(outcome.detail == "HTTP 200: the answer has no launchPartitionBackfill result");
  CHECK(
      classify_dagster_response(dagster(DagsterSpec::Target::assets), answer(200, "<html>")).kind ==
      DispatchOutcome::Kind::rejected);
}

TEST_CASE("dagster: a segment's request is tagged gapwatch/segment with its JSON object") {
  const BackfillRequest request = testing::three_hours_of_fr();
  const json tags =
      value_of(build_dagster_request(dagster(DagsterSpec::Target::partition_set), request))
          .body["variables"]["backfillParams"]["tags"];
  REQUIRE(tags.size() == 3);
  CHECK(tags[2]["key"] == "gapwatch/segment");
  CHECK(json::parse(tags[2]["value"].get<std::string>()) ==
        json{{"country", "FR"}, {"channel", nullptr}});
}

}  // namespace
}  // namespace gapwatch
