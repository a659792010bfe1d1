// Azure Data Factory preset: a pipeline run per request, POST
// {management_url}/subscriptions/{subscription}/resourceGroups/{group}/providers/
// Microsoft.DataFactory/factories/{factory}/pipelines/{pipeline}/createRun
// ?api-version=2018-06-01 with the pipeline parameters as the body, answered
// {"runId": …}. The bearer token comes from Microsoft Entra ID (OAuth2 client
// credentials, scope https://management.azure.com/.default), obtained by the
// executor's token cache. createRun has no idempotency key: a resend after a
// lost answer starts a second run. The run is followed with PipelineRuns_Get
// (.../pipelineruns/{runId}). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "triggers/dispatch_outcome.h"
#include "triggers/http_transport.h"
#include "triggers/json_template.h"
#include "triggers/preset_request.h"
#include "triggers/run_tracking.h"

namespace gapwatch {

constexpr std::string_view kAdfApiVersion = "2018-06-01";
constexpr std::string_view kAzureManagementUrl = "https://management.azure.com";
constexpr std::string_view kEntraLoginUrl = "https://login.microsoftonline.com";
constexpr std::string_view kAzureManagementScope = "https://management.azure.com/.default";

struct AdfSpec {
  std::string management_url{kAzureManagementUrl};
  Template subscription_id;
  Template resource_group;
  Template factory;
  Template pipeline;
  std::optional<JsonTemplate> parameters;  // default: window_parameters()
};

// The Entra ID token endpoint of a tenant under `login_url`.
std::string entra_token_url(std::string_view login_url, std::string_view tenant_id);

Expected<PresetRequest> build_adf_request(const AdfSpec& spec, const BackfillRequest& request);
DispatchOutcome classify_adf_response(const AdfSpec& spec, const HttpClientResponse& response);


// Following runs (webhook_preset.h: preset_run, build_run_poll, classify_run_poll).
std::optional<RunRef> adf_run(const AdfSpec& spec, const BackfillRequest& request,
                                 const HttpClientResponse& accepted);
Expected<PresetRequest> build_adf_run_poll(const AdfSpec& spec, const BackfillRequest& request,
                                       const RunRef& run);
RunPoll classify_adf_run_poll(const AdfSpec& spec, const HttpClientResponse& response);

}  // namespace gapwatch
