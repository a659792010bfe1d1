#include "triggers/preset_prefect.h"

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


// Following runs: not yet (every accepted request waits verify_after).
std::optional<RunRef> prefect_run(const PrefectSpec& /*spec*/, const BackfillRequest& /*request*/,
                                 const HttpClientResponse& /*accepted*/) {
  return std::nullopt;
}

Expected<PresetRequest> build_prefect_run_poll(const PrefectSpec& /*spec*/, const BackfillRequest& /*request*/,
                                       const RunRef& /*run*/) {
  return fail("this preset does not follow runs yet");
}

RunPoll classify_prefect_run_poll(const PrefectSpec& /*spec*/, const HttpClientResponse& response) {
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued,
                 "HTTP " + std::to_string(response.status), std::nullopt};
}

}  // namespace gapwatch
