// The Dagster preset: partition names from windows, the GraphQL mutations and
// variables, and reading results whose __typename says success or failure.
#include "triggers/preset_dagster.h"

#include <algorithm>

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

// Dagster's dst_safe_strftime (dagster/_core/definitions/
// time_window_partitions.py): in an hourly schedule the second occurrence of a
// repeated local hour is named with its UTC offset.
TEST_CASE("dagster partition keys: the autumn repeated hour is two partitions, as Dagster names") {
  DagsterPartitions berlin = hourly();
  berlin.zone = zone("Europe/Berlin");
  // 2026-10-25 03:00 CEST (01:00Z) becomes 02:00 CET: 02:00-03:00 happens twice.
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-10-24T23:00:00Z"),
                                        at("2026-10-25T03:00:00Z"))) ==
        Keys{"2026-10-25-01:00", "2026-10-25-02:00", "2026-10-25-02:00+0100",
             "2026-10-25-03:00"});
  // Each occurrence alone: the first at 00:00Z, the second at 01:00Z.
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-10-25T00:00:00Z"),
                                        at("2026-10-25T01:00:00Z"))) ==
        Keys{"2026-10-25-02:00"});
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-10-25T01:00:00Z"),
                                        at("2026-10-25T02:00:00Z"))) ==
        Keys{"2026-10-25-02:00+0100"});
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-10-25T01:30:00Z"),
                                        at("2026-10-25T01:45:00Z"))) ==
        Keys{"2026-10-25-02:00+0100"});
  // New York falls back at 06:00Z: 01:00 EDT, then 01:00 EST (-0500).
  DagsterPartitions new_york = hourly();
  new_york.zone = zone("America/New_York");
  CHECK(value_of(dagster_partition_keys(new_york, at("2026-11-01T05:00:00Z"),
                                        at("2026-11-01T07:00:00Z"))) ==
        Keys{"2026-11-01-01:00", "2026-11-01-01:00-0500"});
}

TEST_CASE("dagster partition keys: 15-minute partitions in the repeated hour, in time order") {
  DagsterPartitions berlin{seconds{900}, "%Y-%m-%d-%H:%M", zone("Europe/Berlin")};
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-10-25T00:30:00Z"),
                                        at("2026-10-25T01:30:00Z"))) ==
        Keys{"2026-10-25-02:30", "2026-10-25-02:45", "2026-10-25-02:00+0100",
             "2026-10-25-02:15+0100"});
}

TEST_CASE("dagster partition keys: the spring gap has no partition; 6-hourly names no offset") {
  DagsterPartitions berlin = hourly();
  berlin.zone = zone("Europe/Berlin");
  // 2026-03-29 02:00 CET (01:00Z) becomes 03:00 CEST: there is no 02:00.
  CHECK(value_of(dagster_partition_keys(berlin, at("2026-03-29T00:00:00Z"),
                                        at("2026-03-29T02:00:00Z"))) ==
        Keys{"2026-03-29-01:00", "2026-03-29-03:00"});
  // A schedule that does not run every hour (cron "0 */6 * * *") is not
  // given offsets by Dagster.
  const DagsterPartitions six{seconds{6 * 3600}, "%Y-%m-%d-%H:%M", zone("Europe/Berlin")};
  const auto keys =
      value_of(dagster_partition_keys(six, at("2026-10-24T22:00:00Z"), at("2026-10-25T05:00:00Z")));
  CHECK(std::ranges::none_of(keys, [](const std::string& key) { return key.contains('+'); }));
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

// Following runs (dagster-graphql: runOrError, partitionBackfillOrError).
TEST_CASE("dagster: launchRun's runId and a backfill's backfillId are followed, linked") {
  const auto run = dagster_run(
      dagster(DagsterSpec::Target::job), three_hours(),
      answer(200, R"({"data":{"launchRun":{"__typename":"LaunchRunSuccess","run":{"runId":"r-1"}}}})"));
  REQUIRE(run);
  CHECK(run->id == "r-1");
  CHECK(run->link == dagster(DagsterSpec::Target::job).base_url + "/runs/r-1");
  const auto backfill = dagster_run(
      dagster(DagsterSpec::Target::assets), three_hours(),
      answer(200, R"({"data":{"launchPartitionBackfill":{"__typename":"LaunchBackfillSuccess",)"
                  R"("backfillId":"xkcdabcd"}}})"));
  REQUIRE(backfill);
  CHECK(backfill->id == "xkcdabcd");
  CHECK(backfill->link ==
        dagster(DagsterSpec::Target::assets).base_url + "/overview/backfills/xkcdabcd");
  CHECK_FALSE(dagster_run(dagster(DagsterSpec::Target::job), three_hours(), answer(200, "{}")));
}

TEST_CASE("dagster: the poll asks runOrError for a run, partitionBackfillOrError for a backfill") {
  const PresetRequest run =
      value_of(build_dagster_run_poll(dagster(DagsterSpec::Target::job), three_hours(),
                                      RunRef{"r-1", ""}));
  CHECK(run.method == "POST");
  CHECK(run.url == dagster(DagsterSpec::Target::job).base_url + "/graphql");
  CHECK(std::string(run.body["query"]).find("runOrError(runId: $runId)") != std::string::npos);
  CHECK(run.body["variables"] == json{{"runId", "r-1"}});
  const PresetRequest backfill =
      value_of(build_dagster_run_poll(dagster(DagsterSpec::Target::partition_set), three_hours(),
                                      RunRef{"xkcdabcd", ""}));
  CHECK(std::string(backfill.body["query"])
            .find("partitionBackfillOrError(backfillId: $backfillId)") != std::string::npos);
  CHECK(backfill.body["variables"] == json{{"backfillId", "xkcdabcd"}});
}

TEST_CASE("dagster: RunStatus maps to the run's state") {
  const auto state_of = [](std::string_view status) {
    return classify_dagster_run_poll(
        dagster(DagsterSpec::Target::job),
        answer(200, json{{"data", {{"runOrError", {{"__typename", "Run"}, {"runId", "r-1"},
                                                   {"status", status}}}}}}
                        .dump()));
  };
  for (const auto* status : {"QUEUED", "NOT_STARTED", "STARTING"}) {
    CHECK(state_of(status).state == RunState::queued);
  }
  for (const auto* status : {"STARTED", "CANCELING", "MANAGED"}) {
    CHECK(state_of(status).state == RunState::running);
  }
  CHECK(state_of("SUCCESS").state == RunState::succeeded);
  CHECK(state_of("FAILURE").state == RunState::failed);
  CHECK(state_of("CANCELED").state == RunState::failed);
  CHECK(state_of("FAILURE").detail == "FAILURE");
  CHECK(state_of("SOMETHING_NEW").kind == RunPoll::Kind::unreachable);
}

TEST_CASE("dagster: BulkActionStatus maps to the backfill's state; COMPLETED alone is not an end") {
  const auto state_of = [](std::string_view status) {
    return classify_dagster_run_poll(
        dagster(DagsterSpec::Target::assets),
        answer(200, json{{"data", {{"partitionBackfillOrError",
                                    {{"__typename", "PartitionBackfill"}, {"status", status},
                                     {"error", nullptr}}}}}}
                        .dump()));
  };
  for (const auto* status : {"REQUESTED", "CANCELING", "FAILING", "COMPLETED"}) {
    CAPTURE(status);
    CHECK(state_of(status).kind == RunPoll::Kind::state);
    CHECK(state_of(status).state == RunState::running);
  }
  CHECK(state_of("COMPLETED_SUCCESS").state == RunState::succeeded);
  for (const auto* status : {"COMPLETED_FAILED", "FAILED", "CANCELED"}) {
    CHECK(state_of(status).state == RunState::failed);
  }
  const RunPoll failed = classify_dagster_run_poll(
      dagster(DagsterSpec::Target::assets),
      answer(200, R"({"data":{"partitionBackfillOrError":{"__typename":"PartitionBackfill",)"
                  R"("status":"FAILED","error":{"message":"DagsterUserCodeUnreachableError"}}}})"));
  CHECK(failed.detail == "FAILED: DagsterUserCodeUnreachableError");
}

TEST_CASE("dagster: not-found members are not_found; PythonError, GraphQL errors, 5xx ask again") {
  const RunPoll gone = classify_dagster_run_poll(
      dagster(DagsterSpec::Target::job),
      answer(200, R"({"data":{"runOrError":{"__typename":"RunNotFoundError",)"
                  R"("message":"Run r-1 could not be found."}}})"));
  CHECK(gone.kind == RunPoll::Kind::not_found);
  CHECK(gone.detail == "RunNotFoundError: Run r-1 could not be found.");
  CHECK(classify_dagster_run_poll(
            dagster(DagsterSpec::Target::partition_set),
            answer(200, R"({"data":{"partitionBackfillOrError":{"__typename":)"
                        R"("BackfillNotFoundError","message":"Backfill x not found"}}})"))
            .kind == RunPoll::Kind::not_found);
  CHECK(classify_dagster_run_poll(dagster(DagsterSpec::Target::job),
                                  answer(200, R"({"data":{"runOrError":{"__typename":)"
                                              R"("PythonError","message":"db down"}}})"))
            .kind == RunPoll::Kind::unreachable);
  // An older Dagster that cannot name a status answers a GraphQL error.
  CHECK(classify_dagster_run_poll(
            dagster(DagsterSpec::Target::assets),
            answer(200, R"({"errors":[{"message":"Enum 'BulkActionStatus' cannot represent )"
                        R"(value: 'COMPLETED_SUCCESS'"}]})"))
            .kind == RunPoll::Kind::unreachable);
  CHECK(classify_dagster_run_poll(dagster(DagsterSpec::Target::job), answer(503, "")).kind ==
        RunPoll::Kind::unreachable);
}

TEST_CASE("dagster: a PythonError whose class describes the request is not retried") {
  const auto launch = [](std::string_view class_name) {
    return classify_dagster_response(
        dagster(DagsterSpec::Target::job),
        answer(200, json{{"data", {{"launchRun", {{"__typename", "PythonError"},
                                                  {"message", "boom"},
                                                  {"className", class_name}}}}}}
                        .dump()));
  };
  CHECK(launch("DagsterInvariantViolationError").kind == DispatchOutcome::Kind::rejected);
  CHECK(launch("DagsterInvariantViolationError").detail ==
        "HTTP 200: PythonError (DagsterInvariantViolationError): boom");
  CHECK(launch("CheckError").kind == DispatchOutcome::Kind::rejected);
  CHECK(launch("DagsterInvalidSubsetError").kind == DispatchOutcome::Kind::rejected);
  CHECK(launch("DagsterUserCodeUnreachableError").kind == DispatchOutcome::Kind::retry);
  CHECK(launch("OperationalError").kind == DispatchOutcome::Kind::retry);
}

}  // namespace
}  // namespace gapwatch
