#include "triggers/preset_adf.h"

#include <fmt/format.h>

#include "triggers/response_body.h"
#include "triggers/response_outcome.h"

namespace gapwatch {

std::string entra_token_url(std::string_view login_url, std::string_view tenant_id) {
  return join_url(login_url, {tenant_id, "oauth2", "v2.0", "token"});
}

Expected<PresetRequest> build_adf_request(const AdfSpec& spec, const BackfillRequest& request) {
  auto subscription = expand_required(spec.subscription_id, request.values, "subscription_id");
  if (!subscription) {
    return std::unexpected(subscription.error());
  }
  auto group = expand_required(spec.resource_group, request.values, "resource_group");
  if (!group) {
    return std::unexpected(group.error());
  }
  auto factory = expand_required(spec.factory, request.values, "factory");
  if (!factory) {
    return std::unexpected(factory.error());
  }
  auto pipeline = expand_required(spec.pipeline, request.values, "pipeline");
  if (!pipeline) {
    return std::unexpected(pipeline.error());
  }
  nlohmann::json defaults = window_parameters(request);
  if (defaults.contains("segment")) {
    // Pipeline parameters are typed, and the pipeline declares each one: the
    // segment goes as one string parameter holding its JSON object (a value
    // that is not valid UTF-8 is an error here, not a changed value).
    auto text = dump_json(defaults["segment"]);
    if (!text) {
      return fail(fmt::format("the segment is not valid UTF-8: {}", text.error().message));
    }
    defaults["segment"] = std::move(*text);
  }
  auto parameters = expand_or(spec.parameters, request.values, std::move(defaults));
  if (!parameters) {
    return std::unexpected(parameters.error());
  }
  if (!parameters->is_object()) {
    return fail("parameters must be a mapping of the pipeline's parameter names");
  }
  PresetRequest out;
  out.url = join_url(spec.management_url, {"subscriptions", *subscription, "resourceGroups", *group,
                                           "providers", "Microsoft.DataFactory", "factories",
                                           *factory, "pipelines", *pipeline, "createRun"}) +
            "?api-version=" + std::string(kAdfApiVersion);
  out.body = std::move(*parameters);
  return out;
}

DispatchOutcome classify_adf_response(const AdfSpec&, const HttpClientResponse& response) {
  if (response.status >= 200 && response.status < 300) {
    const nlohmann::json document = parse_json_body(response.body);
    const std::string run_id =
        document.is_object() && document.contains("runId") && document["runId"].is_string()
            ? document["runId"].get<std::string>()
            : std::string("?");
    return response_outcome(DispatchOutcome::Kind::accepted, response,
                            fmt::format("pipeline run {} created", run_id));
  }
  return classify_with_message(response);
}


// Following runs: not yet (every accepted request waits verify_after).
std::optional<RunRef> adf_run(const AdfSpec& /*spec*/, const BackfillRequest& /*request*/,
                                 const HttpClientResponse& /*accepted*/) {
  return std::nullopt;
}

Expected<PresetRequest> build_adf_run_poll(const AdfSpec& /*spec*/, const BackfillRequest& /*request*/,
                                       const RunRef& /*run*/) {
  return fail("this preset does not follow runs yet");
}

RunPoll classify_adf_run_poll(const AdfSpec& /*spec*/, const HttpClientResponse& response) {
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued,
                 "HTTP " + std::to_string(response.status), std::nullopt};
}

}  // namespace gapwatch
