// Dagster preset: GraphQL at {base_url}/graphql. A request becomes a
// launchPartitionBackfill of a job's partition set (the partition names the
// window covers), of assets (the range of partitions the window covers), or a
// launchRun of a job for the window's single partition (the dagster/partition
// tag). Dagster answers HTTP 200 even for failures: the result is a union
// whose __typename says which, so error members (PartitionSetNotFoundError,
// …) are rejections with their message, as are GraphQL errors; PythonError
// (an exception inside Dagster) is retried unless its className says the
// request or the code location is at fault. Runs are followed with
// runOrError, backfills with partitionBackfillOrError.
// Dagster+ takes its API token in the Dagster-Cloud-Api-Token header. Pure;
// thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rules/time.h"
#include "triggers/dispatch_outcome.h"
#include "triggers/http_transport.h"
#include "triggers/json_template.h"
#include "triggers/preset_request.h"
#include "triggers/run_tracking.h"

namespace gapwatch {

// How a Dagster time-window partitions definition names its partitions.
struct DagsterPartitions {
  std::chrono::seconds every{86400};  // whole minutes dividing a day, or 1d
  std::string format = "%Y-%m-%d";    // Dagster's fmt: %Y %m %d %H %M %S
  const TimeZone* zone = nullptr;     // nullptr: UTC
};

struct DagsterSpec {
  enum class Target { partition_set, assets, job };

  std::string base_url;                  // GraphQL is at {base_url}/graphql
  std::optional<std::string> api_token;  // Dagster+: Dagster-Cloud-Api-Token
  Target target = Target::partition_set;
  Template repository_location;                  // partition_set and job
  Template repository;                           // default __repository__
  Template partition_set;                        // Target::partition_set
  std::vector<std::vector<std::string>> assets;  // Target::assets: asset key paths
  Template job;                                  // Target::job
  std::optional<JsonTemplate> run_config;        // Target::job: runConfigData
  std::vector<std::pair<std::string, Template>> tags;
  DagsterPartitions partitions;
};

// The partition keys whose time windows overlap [start, end), in order. In an
// autumn repeated hour, hourly and shorter partitions name the second
// occurrence with its UTC offset, as Dagster does ("2026-10-25-02:00+0100").
Expected<std::vector<std::string>> dagster_partition_keys(const DagsterPartitions& partitions,
                                                          Instant start, Instant end);

// Whether `format` uses only the conversions Dagster partition names use.
bool valid_partition_format(std::string_view format);

Expected<PresetRequest> build_dagster_request(const DagsterSpec& spec,
                                              const BackfillRequest& request);
DispatchOutcome classify_dagster_response(const DagsterSpec& spec,
                                          const HttpClientResponse& response);

// The most partitions one request may name.
constexpr std::size_t kMaxDagsterPartitions = 10000;


// Following runs (webhook_preset.h: preset_run, build_run_poll, classify_run_poll).
std::optional<RunRef> dagster_run(const DagsterSpec& spec, const BackfillRequest& request,
                                 const HttpClientResponse& accepted);
Expected<PresetRequest> build_dagster_run_poll(const DagsterSpec& spec, const BackfillRequest& request,
                                       const RunRef& run);
RunPoll classify_dagster_run_poll(const DagsterSpec& spec, const HttpClientResponse& response);

}  // namespace gapwatch
