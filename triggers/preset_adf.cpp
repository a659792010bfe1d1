#include "triggers/preset_adf.h"

#include <fmt/format.h>

#include "triggers/response_body.h"
#include "triggers/response_outcome.h"

namespace gapwatch {

namespace {

struct FactoryPath {
  std::string subscription;
  std::string group;
  std::string factory;
};

Expected<FactoryPath> factory_path(const AdfSpec& spec, const BackfillRequest& request) {
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
  return FactoryPath{std::move(*subscription), std::move(*group), std::move(*factory)};
}

}  // namespace

std::string entra_token_url(std::string_view login_url, std::string_view tenant_id) {
  return join_url(login_url, {tenant_id, "oauth2", "v2.0", "token"});
}

Expected<PresetRequest> build_adf_request(const AdfSpec& spec, const BackfillRequest& request) {
  auto path = factory_path(spec, request);
  if (!path) {
    return std::unexpected(path.error());
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
  out.url = join_url(spec.management_url,
                     {"subscriptions", path->subscription, "resourceGroups", path->group,
                      "providers", "Microsoft.DataFactory", "factories", path->factory,
                      "pipelines", *pipeline, "createRun"}) +
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


// Following runs: PipelineRuns_Get, GET .../factories/{factory}/pipelineruns/
// {runId}?api-version=2018-06-01, answers a PipelineRun whose `status` is
// Queued, InProgress, Succeeded, Failed, Canceling or Cancelled and whose
// `message` says why a run failed (Azure/azure-rest-api-specs
// specification/datafactory/resource-manager/Microsoft.DataFactory/stable/
// 2018-06-01/datafactory.json, examples/PipelineRuns_Get.json).

std::optional<RunRef> adf_run(const AdfSpec& spec, const BackfillRequest& request,
                              const HttpClientResponse& accepted) {
  const std::string id = string_member(parse_json_body(accepted.body), "runId");
  if (id.empty()) {
    return std::nullopt;
  }
  // The ADF Studio monitoring page of the run; its factory parameter is the
  // factory's resource id (unencoded slashes, as the Studio writes it).
  std::string link;
  if (auto path = factory_path(spec, request)) {
    link = join_url("https://adf.azure.com/en/monitoring", {"pipelineruns", id}) +
           "?factory=" +
           join_url("", {"subscriptions", path->subscription, "resourceGroups", path->group,
                         "providers", "Microsoft.DataFactory", "factories", path->factory});
  }
  return RunRef{id, std::move(link)};
}

Expected<PresetRequest> build_adf_run_poll(const AdfSpec& spec, const BackfillRequest& request,
                                           const RunRef& run) {
  if (run.id.empty()) {
    return fail("the pipeline run has no id");
  }
  auto path = factory_path(spec, request);
  if (!path) {
    return std::unexpected(path.error());
  }
  PresetRequest out;
  out.method = "GET";
  out.url = join_url(spec.management_url,
                     {"subscriptions", path->subscription, "resourceGroups", path->group,
                      "providers", "Microsoft.DataFactory", "factories", path->factory,
                      "pipelineruns", run.id}) +
            "?api-version=" + std::string(kAdfApiVersion);
  return out;
}

RunPoll classify_adf_run_poll(const AdfSpec& /*spec*/, const HttpClientResponse& response) {
  if (response.status == 404) {
    return RunPoll{RunPoll::Kind::not_found, RunState::queued,
                   classify_with_message(response).detail, std::nullopt};
  }
  const nlohmann::json document = parse_json_body(response.body);
  const std::string status = string_member(document, "status");
  if (response.status != 200 || status.empty()) {
    return RunPoll{RunPoll::Kind::unreachable, RunState::queued,
                   response.status == 200 ? "HTTP 200: the answer has no pipeline run status"
                                          : classify_with_message(response).detail,
                   std::nullopt};
  }
  std::optional<RunState> state;
  if (status == "Queued") {
    state = RunState::queued;
  } else if (status == "InProgress" || status == "Canceling") {
    state = RunState::running;
  } else if (status == "Succeeded") {
    state = RunState::succeeded;
  } else if (status == "Failed" || status == "Cancelled") {
    state = RunState::failed;
  }
  if (!state) {
    return RunPoll{RunPoll::Kind::unreachable, RunState::queued,
                   fmt::format("HTTP 200: unknown pipeline run status '{}'", status),
                   std::nullopt};
  }
  RunPoll poll{RunPoll::Kind::state, *state, status, std::nullopt};
  if (const std::string message = string_member(document, "message"); !message.empty()) {
    poll.detail += ": " + message;
  }
  return poll;
}

}  // namespace gapwatch
