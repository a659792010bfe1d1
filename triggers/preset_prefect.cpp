#include "triggers/preset_prefect.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "triggers/response_body.h"
#include "triggers/response_outcome.h"

namespace gapwatch {

Expected<PresetRequest> build_prefect_request(const PrefectSpec& spec,
                                              const BackfillRequest& request) {
  auto deployment = expand_required(spec.deployment_id, request.values, "deployment_id");
  if (!deployment) {
    return std::unexpected(deployment.error());
  }
  auto name = expand_required(spec.flow_run_name, request.values, "flow_run_name");
  if (!name) {
    return std::unexpected(name.error());
  }
  auto parameters = expand_or(spec.parameters, request.values, window_parameters(request));
  if (!parameters) {
    return std::unexpected(parameters.error());
  }
  if (!parameters->is_object()) {
    return fail("parameters must be a mapping of the flow's parameter names");
  }
  nlohmann::json tags = nlohmann::json::array();
  for (const Template& tag : spec.tags) {
    auto text = expand_required(tag, request.values, "tag");
    if (!text) {
      return std::unexpected(text.error());
    }
    tags.push_back(std::move(*text));
  }
  PresetRequest out;
  out.url = join_url(spec.api_url, {"deployments", *deployment, "create_flow_run"});
  out.body = nlohmann::json{{"name", std::move(*name)},
                            {"parameters", std::move(*parameters)},
                            {"tags", std::move(tags)},
                            {"idempotency_key", request.id}};
  return out;
}

DispatchOutcome classify_prefect_response(const PrefectSpec&, const HttpClientResponse& response) {
  const nlohmann::json document = parse_json_body(response.body);
  const std::string run_id =
      document.is_object() && document.contains("id") && document["id"].is_string()
          ? document["id"].get<std::string>()
          : std::string();
  if (response.status == 201) {
    return response_outcome(DispatchOutcome::Kind::accepted, response,
                            fmt::format("flow run {} created", run_id));
  }
  if (response.status == 200) {
    return response_outcome(
        DispatchOutcome::Kind::accepted, response,
        fmt::format("already accepted: flow run {} exists for this idempotency key", run_id));
  }
  return classify_with_message(response);
}


// Following runs. The flow run is read back with GET {api_url}/flow_runs/{id}
// (PrefectHQ/prefect src/prefect/server/api/flow_runs.py read_flow_run: 404
// "Flow run not found" for an id it does not know); its state is `state.type`
// (schemas/states.py StateType), with the state's name and message for people.
namespace {

// The UI's address as Prefect derives it from PREFECT_API_URL when
// PREFECT_UI_URL is not set (src/prefect/settings/models/_defaults.py
// default_ui_url, cloud.py default_cloud_ui_url): Prefect Cloud's
// https://api.prefect.cloud/api becomes https://app.prefect.cloud, a trailing
// "/api" is dropped, "/api/" becomes "/", and the Cloud routes
// /accounts/ and /workspaces/ are singular in the UI.
std::string prefect_ui_url(std::string_view api_url) {
  std::string url(api_url);
  while (url.ends_with('/')) {
    url.pop_back();
  }
  const auto replace_all = [&url](std::string_view from, std::string_view to) {
    for (std::size_t at = url.find(from); at != std::string::npos;
         at = url.find(from, at + to.size())) {
      url.replace(at, from.size(), to);
    }
  };
  constexpr std::string_view kCloudApi = "https://api.prefect.cloud/api";
  if (url.starts_with(kCloudApi)) {
    url.replace(0, kCloudApi.size(), "https://app.prefect.cloud");
  }
  if (url.ends_with("/api")) {
    url.resize(url.size() - 4);
  }
  replace_all("/api/", "/");
  replace_all("/accounts/", "/account/");
  replace_all("/workspaces/", "/workspace/");
  return url;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
  });
}

}  // namespace

std::optional<RunRef> prefect_run(const PrefectSpec& spec, const BackfillRequest& /*request*/,
                                  const HttpClientResponse& accepted) {
  const std::string id = string_member(parse_json_body(accepted.body), "id");
  if (id.empty()) {
    return std::nullopt;
  }
  return RunRef{id, join_url(prefect_ui_url(spec.api_url), {"runs", "flow-run", id})};
}

Expected<PresetRequest> build_prefect_run_poll(const PrefectSpec& spec,
                                               const BackfillRequest& /*request*/,
                                               const RunRef& run) {
  if (run.id.empty()) {
    return fail("the flow run has no id");
  }
  PresetRequest out;
  out.method = "GET";
  out.url = join_url(spec.api_url, {"flow_runs", run.id});
  return out;
}

RunPoll classify_prefect_run_poll(const PrefectSpec& /*spec*/,
                                  const HttpClientResponse& response) {
  RunPoll poll;
  if (response.status == 404) {
    poll.kind = RunPoll::Kind::not_found;
    const std::string message = error_message(response.body);
    poll.detail = "HTTP 404" + (message.empty() ? std::string() : ": " + message);
    return poll;
  }
  const nlohmann::json document = parse_json_body(response.body);
  const nlohmann::json state =
      document.is_object() && document.contains("state") ? document["state"] : nlohmann::json();
  std::string type = string_member(state, "type");
  if (type.empty()) {
    type = string_member(document, "state_type");  // the flat copy FlowRunResponse carries
  }
  if (response.status != 200 || type.empty()) {
    poll.kind = RunPoll::Kind::unreachable;
    poll.detail = response.status == 200 ? "HTTP 200: the answer has no flow run state"
                                         : classify_with_message(response).detail;
    return poll;
  }
  // StateType: SCHEDULED/PENDING wait for a worker; PAUSED and CANCELLING
  // are started and not yet ended; CRASHED is infrastructure failing the run.
  std::optional<RunState> mapped;
  if (type == "SCHEDULED" || type == "PENDING") {
    mapped = RunState::queued;
  } else if (type == "RUNNING" || type == "PAUSED" || type == "CANCELLING") {
    mapped = RunState::running;
  } else if (type == "COMPLETED") {
    mapped = RunState::succeeded;
  } else if (type == "FAILED" || type == "CANCELLED" || type == "CRASHED") {
    mapped = RunState::failed;
  }
  if (!mapped) {
    poll.kind = RunPoll::Kind::unreachable;
    poll.detail = fmt::format("HTTP 200: unknown flow run state type {}", type);
    return poll;
  }
  poll.kind = RunPoll::Kind::state;
  poll.state = *mapped;
  poll.detail = type;
  std::string name = string_member(state, "name");
  if (name.empty()) {
    name = string_member(document, "state_name");
  }
  if (!name.empty() && !same_ignoring_case(name, type)) {
    poll.detail += " (" + name + ")";  // a custom name: "COMPLETED (Cached)"
  }
  const std::string message = string_member(state, "message");
  if (!message.empty()) {
    poll.detail += ": " + message;
  }
  return poll;
}

}  // namespace gapwatch
