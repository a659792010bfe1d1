#include "triggers/preset_dagster.h"

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
    "  }\n"
    "}\n";

constexpr std::string_view kLaunchRunMutation =
    "mutation GapwatchLaunchRun($executionParams: ExecutionParams!) {\n"
    "  launchRun(executionParams: $executionParams) {\n"
    "    __typename\n"
    "    ... on LaunchRunSuccess { run { runId } }\n"
    "    ... on Error { message }\n"
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
  // local midnight), so step in wall time and convert each start back.
  const std::int64_t wall_start = (start.time_since_epoch() + utc_offset(start, zone)).count();
  std::vector<std::string> keys;
  for (std::int64_t wall = floor_to(wall_start, every);; wall += every) {
    const Instant partition_start = instant_from_wall_clock(std::chrono::seconds{wall}, zone);
    if (partition_start >= end) {
      break;
    }
    if (keys.size() == kMaxDagsterPartitions) {
      return fail(
          fmt::format("the window covers more than {} partitions; lower "
                      "backfill.max_window",
                      kMaxDagsterPartitions));
    }
    std::string key = format_partition(partitions.format, std::chrono::seconds{wall});
    // Nonexistent wall times (a spring-forward gap) map onto the same instant
    // as the next one; a name is still listed once.
    if (keys.empty() || keys.back() != key) {
      keys.push_back(std::move(key));
    }
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
  // PythonError is an exception inside Dagster (its storage, a code server
  // restarting) and may pass; the other error members describe the request.
  const auto kind =
      type == "PythonError" ? DispatchOutcome::Kind::retry : DispatchOutcome::Kind::rejected;
  return response_outcome(kind, response, fmt::format("{}: {}", type, message));
}


// Following runs: not yet (every accepted request waits verify_after).
std::optional<RunRef> dagster_run(const DagsterSpec& /*spec*/, const BackfillRequest& /*request*/,
                                 const HttpClientResponse& /*accepted*/) {
  return std::nullopt;
}

Expected<PresetRequest> build_dagster_run_poll(const DagsterSpec& /*spec*/, const BackfillRequest& /*request*/,
                                       const RunRef& /*run*/) {
  return fail("this preset does not follow runs yet");
}

RunPoll classify_dagster_run_poll(const DagsterSpec& /*spec*/, const HttpClientResponse& response) {
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued,
                 "HTTP " + std::to_string(response.status), std::nullopt};
}

}  // namespace gapwatch
