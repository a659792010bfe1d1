// Prefect preset: a flow run of a deployment per request, POST
// {api_url}/deployments/{deployment_id}/create_flow_run with {name,
// parameters, tags, idempotency_key}. The idempotency key is the request id:
// Prefect answers 201 for a new run and 200 with the existing one for a key
// it has seen, and both are accepted. A 409 is Prefect refusing the
// parameters (the deployment enforces its schema): rejected. The flow run is
// followed with GET {api_url}/flow_runs/{id}. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "triggers/dispatch_outcome.h"
#include "triggers/http_transport.h"
#include "triggers/json_template.h"
#include "triggers/preset_request.h"
#include "triggers/run_tracking.h"

namespace gapwatch {

struct PrefectSpec {
  std::string api_url;  // e.g. http://prefect:4200/api, or Prefect Cloud's workspace URL
  Template deployment_id;
  Template flow_run_name;                  // default gapwatch-{rule}-{window_start}
  std::optional<JsonTemplate> parameters;  // default: window_parameters()
  std::vector<Template> tags;              // default: gapwatch
};

Expected<PresetRequest> build_prefect_request(const PrefectSpec& spec,
                                              const BackfillRequest& request);
DispatchOutcome classify_prefect_response(const PrefectSpec& spec,
                                          const HttpClientResponse& response);


// Following runs (webhook_preset.h: preset_run, build_run_poll, classify_run_poll).
std::optional<RunRef> prefect_run(const PrefectSpec& spec, const BackfillRequest& request,
                                 const HttpClientResponse& accepted);
Expected<PresetRequest> build_prefect_run_poll(const PrefectSpec& spec, const BackfillRequest& request,
                                       const RunRef& run);
RunPoll classify_prefect_run_poll(const PrefectSpec& spec, const HttpClientResponse& response);

}  // namespace gapwatch
