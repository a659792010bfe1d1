#include "triggers/preset_dagster.h"

#include <algorithm>
#include <array>

#include <date/date.h>

#include <fmt/format.h>

#include "triggers/response_body.h"
#include "triggers/response_outcome.h"

namespace gapwatch {

namespace {

// The result union members are read through __typename; every Dagster error
// type implements the Error interface, so one fragment gets any message.
constexpr std::string_view kLaunchBackfillMutation =
    "mutation GapwatchLaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {\n"
    "  launchPartitionBackfill(backfillParams: $backfillParams) {\n"
    "    __typename\n"
    "    ... on LaunchBackfillSuccess { backfillId }\n"
    "    ... on Error { message }\n"
    "    ... on PythonError { className }\n"
    "  }\n"
    "}\n";

constexpr std::string_view kLaunchRunMutation =
    "mutation GapwatchLaunchRun($executionParams: ExecutionParams!) {\n"
    "  launchRun(executionParams: $executionParams) {\n"
    "    __typename\n"
    "    ... on LaunchRunSuccess { run { runId } }\n"
    "    ... on Error { message }\n"
    "    ... on PythonError { className }\n"
    "  }\n"
    "}\n";

constexpr std::string_view kPartitionTag = "dagster/partition";

// A wall-clock reading (seconds since the epoch as if the zone were UTC) in
// Dagster's strftime subset.
std::string format_partition(std::string_view format, std::chrono::seconds wall) {
  const date::sys_seconds point{wall};
  const auto day = date::floor<date::days>(point);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<std::chrono::seconds> time{point - day};
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out += format[i];
      continue;
    }
    switch (format[++i]) {
      case 'Y':
        out += fmt::format("{:04}", static_cast<int>(ymd.year()));
        break;
      case 'm':
        out += fmt::format("{:02}", static_cast<unsigned>(ymd.month()));
        break;
      case 'd':
        out += fmt::format("{:02}", static_cast<unsigned>(ymd.day()));
        break;
      case 'H':
        out += fmt::format("{:02}", time.hours().count());
        break;
      case 'M':
        out += fmt::format("{:02}", time.minutes().count());
        break;
      case 'S':
        out += fmt::format("{:02}", time.seconds().count());
        break;
      default:
        out += format[i];  // "%%"
        break;
    }
  }
  return out;
}

std::int64_t floor_to(std::int64_t value, std::int64_t step) {
  const std::int64_t remainder = value % step;
  return remainder < 0 ? value - remainder - step : value - remainder;
}

std::unexpected<Error> too_many_partitions() {
  return fail(fmt::format("the window covers more than {} partitions; lower backfill.max_window",
                          kMaxDagsterPartitions));
}

// A UTC offset as Python's %z writes it: "+0100", "-0330".
std::string format_offset(std::chrono::seconds offset) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(offset).count();
  const auto magnitude = minutes < 0 ? -minutes : minutes;
  return fmt::format("{}{:02}{:02}", minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
}

nlohmann::json execution_tags(const DagsterSpec& spec, const BackfillRequest& request,
                              Expected<void>& status) {
  nlohmann::json tags = nlohmann::json::array();
  tags.push_back({{"key", "gapwatch/request_id"}, {"value", request.id}});
  tags.push_back({{"key", "gapwatch/rule"}, {"value", request.rule}});
  if (!request.segment.empty()) {
    // Tag values are strings: the segment's JSON object as text.
    auto segment = dump_json(segment_json(request.segment));
    if (!segment) {
      status = fail(fmt::format("the segment is not valid UTF-8: {}", segment.error().message));
      return tags;
    }
    tags.push_back({{"key", "gapwatch/segment"}, {"value", std::move(*segment)}});
  }
  for (const auto& [key, value] : spec.tags) {
    auto text = value.expand(request.values, Template::Encoding::raw);
    if (!text) {
      status = std::unexpected(text.error());
      return tags;
    }
    tags.push_back({{"key", key}, {"value", std::move(*text)}});
  }
  return tags;
}

// The GraphQL request body for launchPartitionBackfill.
nlohmann::json launch_backfill_body(nlohmann::json params) {
  return {{"query", kLaunchBackfillMutation},
          {"variables", {{"backfillParams", std::move(params)}}},
          {"operationName", "GapwatchLaunchPartitionBackfill"}};
}

std::string window_text(const BackfillRequest& request) {
  return fmt::format("{} .. {}", format_rfc3339(request.window_start),
                     format_rfc3339(request.window_end));
}

// A PythonError is an exception raised inside Dagster; its className (the
// Python class, dagster-graphql schema/errors.py GraphenePythonError) is all
// the API says of its cause. These classes describe the request or the code
// location's definitions, so the same launch fails again until someone
// changes them (dagster/_core/errors.py; CheckError from dagster/_check);
// any other class (DagsterUserCodeUnreachableError while a code server
// restarts, a storage error) may pass, and is retried.
bool is_permanent_python_error(std::string_view class_name) {
  static constexpr std::array<std::string_view, 12> kPermanent = {
      "CheckError",
      "DagsterInvalidConfigError",
      "DagsterInvalidDefinitionError",
      "DagsterInvalidInvocationError",
      "DagsterInvalidSubsetError",
      "DagsterInvariantViolationError",
      "DagsterUnknownPartitionError",
      "DagsterInvalidPropertyError",
      "KeyError",
      "TypeError",
      "ValueError",
      "AttributeError",
  };
  return std::ranges::find(kPermanent, class_name) != kPermanent.end();
}

}  // namespace

bool valid_partition_format(std::string_view format) {
  if (format.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '%') {
      if (i + 1 == format.size() ||
          std::string_view("YmdHMS%").find(format[i + 1]) == std::string_view::npos) {
        return false;
      }
      ++i;
    }
  }
  return true;
}

Expected<std::vector<std::string>> dagster_partition_keys(const DagsterPartitions& partitions,
                                                          Instant start, Instant end) {
  if (end <= start) {
    return fail("the window is empty");
  }
  const TimeZone* zone = partitions.zone != nullptr ? partitions.zone : utc_zone();
  const std::int64_t every = partitions.every.count();
  if (every <= 0 || 86400 % every != 0) {
    return fail("the partition length must divide a day");
  }
  // Partitions follow the zone's wall clock (a daily partition starts at
  // local midnight), so step in wall time and list the instants each reading
  // names: none in a spring-forward gap, two in an autumn repeated hour.
  // Dagster (dagster/_core/definitions/time_window_partitions.py,
  // dagster/_utils/schedules.py) names the second of two like the first plus
  // its UTC offset ("2026-10-25-02:00+0100"), but only when the partitions'
  // cron schedule runs every hour (hourly and shorter partitions: its
  // dst_safe_strftime and cron_string_repeats_every_hour). A skipped reading
  // starts at the transition, where the next reading starts too: that next
  // one is the partition, as in Dagster's schedule.
  struct Start {
    Instant instant;
    std::string key;
  };
  std::vector<Start> starts;
  const bool names_repeats = every <= 3600;
  const std::int64_t wall_start = (start.time_since_epoch() + utc_offset(start, zone)).count();
  constexpr std::int64_t kLookBackSeconds = 10800;  // three hours
  // Start a few hours of wall time back (at least one partition): after a
  // clock change the partitions overlapping `start` may begin at earlier
  // wall times (the second occurrence of a repeated hour).
  const std::int64_t back = std::max<std::int64_t>(1, kLookBackSeconds / every);
  for (std::int64_t wall = floor_to(wall_start, every) - back * every;; wall += every) {
    const std::chrono::seconds wall_clock{wall};
    const date::local_info info = zone->get_info(date::local_seconds{wall_clock});
    std::string key = format_partition(partitions.format, wall_clock);
    const Instant first = instant_from_wall_clock(wall_clock, zone);
    if (first >= end) {
      break;
    }
    if (!starts.empty() && starts.back().instant == first) {
      starts.back().key = key;  // a skipped reading's partition is the next one
    } else {
      starts.push_back(Start{first, key});
    }
    if (info.result == date::local_info::ambiguous) {
      const Instant second{wall_clock - info.second.offset};
      if (names_repeats) {
        key += format_offset(info.second.offset);
      }
      if (second < end) {
        starts.push_back(Start{second, std::move(key)});
      }
    }
    if (starts.size() > kMaxDagsterPartitions + 2 * static_cast<std::size_t>(back) + 2) {
      return too_many_partitions();
    }
  }
  // Readings of a repeated hour were listed out of order when partitions are
  // shorter than it (02:00, 02:00+0100, 02:15, …): order them in time.
  std::ranges::stable_sort(starts, {}, &Start::instant);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const bool ends_after_start = i + 1 == starts.size() || starts[i + 1].instant > start;
    if (starts[i].instant < end && ends_after_start &&
        (keys.empty() || keys.back() != starts[i].key)) {
      keys.push_back(std::move(starts[i].key));
    }
  }
  if (keys.size() > kMaxDagsterPartitions) {
    return too_many_partitions();
  }
  return keys;
}

Expected<PresetRequest> build_dagster_request(const DagsterSpec& spec,
                                              const BackfillRequest& request) {
  auto keys = dagster_partition_keys(spec.partitions, request.window_start, request.window_end);
  if (!keys) {
    return std::unexpected(keys.error());
  }
  Expected<void> status;
  nlohmann::json tags = execution_tags(spec, request, status);
  if (!status) {
    return std::unexpected(status.error());
  }
  const auto repository_selector = [&]() -> Expected<nlohmann::json> {
    auto location =
        expand_required(spec.repository_location, request.values, "repository_location");
    if (!location) {
      return std::unexpected(location.error());
    }
    auto repository = expand_required(spec.repository, request.values, "repository");
    if (!repository) {
      return std::unexpected(repository.error());
    }
    return nlohmann::json{{"repositoryLocationName", std::move(*location)},
                          {"repositoryName", std::move(*repository)}};
  };

  nlohmann::json body;
  switch (spec.target) {
    case DagsterSpec::Target::partition_set: {
      auto selector = repository_selector();
      if (!selector) {
        return std::unexpected(selector.error());
      }
      auto set_name = expand_required(spec.partition_set, request.values, "partition_set");
      if (!set_name) {
        return std::unexpected(set_name.error());
      }
      body = launch_backfill_body(
          {{"selector",
            {{"partitionSetName", std::move(*set_name)}, {"repositorySelector", *selector}}},
           {"partitionNames", *keys},
           {"tags", tags}});
      break;
    }
    case DagsterSpec::Target::assets: {
      nlohmann::json by_asset = nlohmann::json::array();
      for (const auto& path : spec.assets) {
        by_asset.push_back(
            {{"assetKey", {{"path", path}}},
             {"partitions", {{"range", {{"start", keys->front()}, {"end", keys->back()}}}}}});
      }
      body = launch_backfill_body({{"partitionsByAssets", std::move(by_asset)}, {"tags", tags}});
      break;
    }
    case DagsterSpec::Target::job: {
      if (keys->size() != 1) {
        return fail(fmt::format(
            "launchRun runs one partition, but the window {} covers {} ({} .. {}); set the "
            "rule's backfill.max_window to the partition length, or use partition_set or assets",
            window_text(request), keys->size(), keys->front(), keys->back()));
      }
      auto selector = repository_selector();
      if (!selector) {
        return std::unexpected(selector.error());
      }
      auto job = expand_required(spec.job, request.values, "job");
      if (!job) {
        return std::unexpected(job.error());
      }
      (*selector)["jobName"] = std::move(*job);
      tags.insert(tags.begin(), nlohmann::json{{"key", kPartitionTag}, {"value", keys->front()}});
      nlohmann::json params = {{"selector", std::move(*selector)},
                               {"executionMetadata", {{"tags", std::move(tags)}}}};
      if (spec.run_config) {
        auto config = expand_json(*spec.run_config, request.values);
        if (!config) {
          return std::unexpected(config.error());
        }
        params["runConfigData"] = std::move(*config);
      }
      body = {{"query", kLaunchRunMutation},
              {"variables", {{"executionParams", std::move(params)}}},
              {"operationName", "GapwatchLaunchRun"}};
      break;
    }
  }
  PresetRequest out;
  out.url = join_url(spec.base_url, {"graphql"});
  if (spec.api_token) {
    out.headers.emplace_back("Dagster-Cloud-Api-Token", *spec.api_token);
  }
  out.body = std::move(body);
  return out;
}

DispatchOutcome classify_dagster_response(const DagsterSpec& spec,
                                          const HttpClientResponse& response) {
  const nlohmann::json document = parse_json_body(response.body);
  const bool has_errors = document.is_object() && document.contains("errors") &&
                          document["errors"].is_array() && !document["errors"].empty();
  if (has_errors) {
    const auto& first = document["errors"][0];
    const std::string message =
        first.is_object() && first.contains("message") && first["message"].is_string()
            ? first["message"].get<std::string>()
            : first.dump();
    // A GraphQL error on a server error status is the server's trouble.
    const auto kind = is_transient_status(response.status) ? DispatchOutcome::Kind::retry
                                                           : DispatchOutcome::Kind::rejected;
    return response_outcome(kind, response, "GraphQL error: " + message);
  }
  if (response.status < 200 || response.status >= 300) {
    return classify_with_message(response);
  }
  const char* field =
      spec.target == DagsterSpec::Target::job ? "launchRun" : "launchPartitionBackfill";
  const nlohmann::json* result = nullptr;
  if (document.is_object() && document.contains("data") && document["data"].is_object() &&
      document["data"].contains(field) && document["data"][field].is_object()) {
    result = &document["data"][field];
  }
  if (result == nullptr || !result->contains("__typename") ||
      !(*result)["__typename"].is_string()) {
    return response_outcome(DispatchOutcome::Kind::rejected, response,
                            fmt::format("the answer has no {} result", field));
  }
  const std::string type = (*result)["__typename"].get<std::string>();
  if (type == "LaunchBackfillSuccess") {
    const auto& id = result->contains("backfillId") ? (*result)["backfillId"] : nullptr;
    return response_outcome(
        DispatchOutcome::Kind::accepted, response,
        fmt::format("backfill {} launched", id.is_string() ? id.get<std::string>() : "?"));
  }
  if (type == "LaunchRunSuccess") {
    std::string run_id = "?";
    if (result->contains("run") && (*result)["run"].is_object() &&
        (*result)["run"].contains("runId") && (*result)["run"]["runId"].is_string()) {
      run_id = (*result)["run"]["runId"].get<std::string>();
    }
    return response_outcome(DispatchOutcome::Kind::accepted, response,
                            fmt::format("run {} launched", run_id));
  }
  const std::string message = result->contains("message") && (*result)["message"].is_string()
                                  ? (*result)["message"].get<std::string>()
                                  : std::string("no message");
  const std::string class_name = string_member(*result, "className");
  const auto kind = type == "PythonError" && !is_permanent_python_error(class_name)
                        ? DispatchOutcome::Kind::retry
                        : DispatchOutcome::Kind::rejected;
  if (!class_name.empty()) {
    return response_outcome(kind, response,
                            fmt::format("{} ({}): {}", type, class_name, message));
  }
  return response_outcome(kind, response, fmt::format("{}: {}", type, message));
}


// Following runs: launchRun's run is read with runOrError, a backfill with
// partitionBackfillOrError (dagster-graphql schema: RunOrError = Run |
// RunNotFoundError | PythonError; PartitionBackfillOrError = PartitionBackfill
// | BackfillNotFoundError | PythonError). The UI shows them at /runs/{runId}
// and /overview/backfills/{backfillId}.
namespace {

constexpr std::string_view kRunStatusQuery =
    "query GapwatchRunStatus($runId: ID!) {\n"
    "  runOrError(runId: $runId) {\n"
    "    __typename\n"
    "    ... on Run { runId status }\n"
    "    ... on Error { message }\n"
    "  }\n"
    "}\n";

constexpr std::string_view kBackfillStatusQuery =
    "query GapwatchBackfillStatus($backfillId: String!) {\n"
    "  partitionBackfillOrError(backfillId: $backfillId) {\n"
    "    __typename\n"
    "    ... on PartitionBackfill { status error { message } }\n"
    "    ... on Error { message }\n"
    "  }\n"
    "}\n";

bool follows_single_run(const DagsterSpec& spec) {
  return spec.target == DagsterSpec::Target::job;
}

// RunStatus (dagster-graphql schema/pipelines/pipeline.py GrapheneRunStatus,
// from DagsterRunStatus): MANAGED is a run Dagster records but does not
// launch itself; it has started.
std::optional<RunState> from_run_status(std::string_view status) {
  if (status == "QUEUED" || status == "NOT_STARTED" || status == "STARTING") {
    return RunState::queued;
  }
  if (status == "STARTED" || status == "CANCELING" || status == "MANAGED") {
    return RunState::running;
  }
  if (status == "SUCCESS") {
    return RunState::succeeded;
  }
  if (status == "FAILURE" || status == "CANCELED") {
    return RunState::failed;
  }
  return std::nullopt;
}

// BulkActionStatus (dagster-graphql schema/backfill.py). COMPLETED_SUCCESS and
// COMPLETED_FAILED arrived with dagster-io/dagster#24365 (1.8, September
// 2024); before it COMPLETED was the only end, and until #23141 (1.8.0) a job
// backfill was COMPLETED as soon as its runs were launched, not finished, so
// COMPLETED alone does not say the data is there: it is followed as running
// (verify_after bounds it). FAILING (#31935) cancels the runs before FAILED.
std::optional<RunState> from_backfill_status(std::string_view status) {
  if (status == "REQUESTED" || status == "CANCELING" || status == "FAILING" ||
      status == "COMPLETED") {
    return RunState::running;
  }
  if (status == "COMPLETED_SUCCESS") {
    return RunState::succeeded;
  }
  if (status == "COMPLETED_FAILED" || status == "FAILED" || status == "CANCELED") {
    return RunState::failed;
  }
  return std::nullopt;
}

RunPoll unreachable_poll(std::string detail) {
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued, std::move(detail), std::nullopt};
}

}  // namespace

std::optional<RunRef> dagster_run(const DagsterSpec& spec, const BackfillRequest& /*request*/,
                                  const HttpClientResponse& accepted) {
  const nlohmann::json document = parse_json_body(accepted.body);
  if (!document.is_object() || !document.contains("data") || !document["data"].is_object()) {
    return std::nullopt;
  }
  const nlohmann::json& data = document["data"];
  if (follows_single_run(spec)) {
    if (!data.contains("launchRun") || !data["launchRun"].is_object() ||
        !data["launchRun"].contains("run")) {
      return std::nullopt;
    }
    const std::string id = string_member(data["launchRun"]["run"], "runId");
    if (id.empty()) {
      return std::nullopt;
    }
    return RunRef{id, join_url(spec.base_url, {"runs", id})};
  }
  if (!data.contains("launchPartitionBackfill")) {
    return std::nullopt;
  }
  const std::string id = string_member(data["launchPartitionBackfill"], "backfillId");
  if (id.empty()) {
    return std::nullopt;
  }
  return RunRef{id, join_url(spec.base_url, {"overview", "backfills", id})};
}

Expected<PresetRequest> build_dagster_run_poll(const DagsterSpec& spec,
                                               const BackfillRequest& /*request*/,
                                               const RunRef& run) {
  if (run.id.empty()) {
    return fail("the run has no id");
  }
  PresetRequest out;
  out.url = join_url(spec.base_url, {"graphql"});
  if (spec.api_token) {
    out.headers.emplace_back("Dagster-Cloud-Api-Token", *spec.api_token);
  }
  if (follows_single_run(spec)) {
    out.body = {{"query", kRunStatusQuery},
                {"variables", {{"runId", run.id}}},
                {"operationName", "GapwatchRunStatus"}};
  } else {
    out.body = {{"query", kBackfillStatusQuery},
                {"variables", {{"backfillId", run.id}}},
                {"operationName", "GapwatchBackfillStatus"}};
  }
  return out;
}

RunPoll classify_dagster_run_poll(const DagsterSpec& spec, const HttpClientResponse& response) {
  if (response.status < 200 || response.status >= 300) {
    return unreachable_poll(classify_with_message(response).detail);
  }
  const nlohmann::json document = parse_json_body(response.body);
  if (document.is_object() && document.contains("errors") && document["errors"].is_array() &&
      !document["errors"].empty()) {
    const std::string message = string_member(document["errors"][0], "message");
    return unreachable_poll(fmt::format("HTTP {}: GraphQL error: {}", response.status,
                                        message.empty() ? document["errors"][0].dump() : message));
  }
  const char* field = follows_single_run(spec) ? "runOrError" : "partitionBackfillOrError";
  const nlohmann::json* result = nullptr;
  if (document.is_object() && document.contains("data") && document["data"].is_object() &&
      document["data"].contains(field) && document["data"][field].is_object()) {
    result = &document["data"][field];
  }
  const std::string type = result != nullptr ? string_member(*result, "__typename") : std::string();
  if (result == nullptr || type.empty()) {
    return unreachable_poll(fmt::format("HTTP {}: the answer has no {} result", response.status,
                                        field));
  }
  if (type == "RunNotFoundError" || type == "BackfillNotFoundError") {
    return RunPoll{RunPoll::Kind::not_found, RunState::queued,
                   fmt::format("{}: {}", type, string_member(*result, "message")), std::nullopt};
  }
  if (type != "Run" && type != "PartitionBackfill") {
    // PythonError: Dagster could not read its storage; ask again later.
    return unreachable_poll(fmt::format("{}: {}", type, string_member(*result, "message")));
  }
  const std::string status = string_member(*result, "status");
  const auto state =
      type == "Run" ? from_run_status(status) : from_backfill_status(status);
  if (!state) {
    return unreachable_poll(fmt::format("HTTP {}: unknown {} status '{}'", response.status, type,
                                        status));
  }
  RunPoll poll{RunPoll::Kind::state, *state, status, std::nullopt};
  if (result->contains("error") && (*result)["error"].is_object()) {
    if (const std::string reason = string_member((*result)["error"], "message"); !reason.empty()) {
      poll.detail += ": " + reason;
    }
  }
  return poll;
}

}  // namespace gapwatch
