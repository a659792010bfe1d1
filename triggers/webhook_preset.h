// WebhookPreset: an orchestrator's API as a webhook shape. A preset decides
// the method, URL and JSON body of each request and reads the answer by its
// status and body, so that "already have it" answers count as accepted and
// errors sent with a success status count as failures. One file per
// orchestrator (preset_airflow, preset_prefect, preset_dagster, preset_adf);
// this one dispatches on the kind. Pure; thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "triggers/preset_adf.h"
#include "triggers/preset_airflow.h"
#include "triggers/preset_dagster.h"
#include "triggers/preset_prefect.h"
#include "triggers/run_tracking.h"

namespace gapwatch {

using PresetSpec =
    std::variant<AirflowDagRunSpec, AirflowBackfillSpec, PrefectSpec, DagsterSpec, AdfSpec>;

// As written in the config: airflow2, airflow3, airflow3_backfill, prefect,
// dagster, adf.
std::string_view preset_name(const PresetSpec& preset);

Expected<PresetRequest> build_preset_request(const PresetSpec& preset,
                                             const BackfillRequest& request);
DispatchOutcome classify_preset_response(const PresetSpec& preset,
                                         const HttpClientResponse& response);

// A second exchange inside one delivery, for answers that cannot be judged
// alone (an Airflow 409: is the existing run ours?). The executor sends the
// follow-up with the delivery's credentials right after the answer, and the
// delivery's outcome is classify_preset_follow_up's instead of
// classify_preset_response's. nullopt: the answer speaks for itself.
std::optional<PresetRequest> preset_follow_up(const PresetSpec& preset,
                                              const BackfillRequest& request,
                                              const HttpClientResponse& answer);
DispatchOutcome classify_preset_follow_up(const PresetSpec& preset, const BackfillRequest& request,
                                          const HttpClientResponse& answer,
                                          const HttpClientResponse& follow_up);

// Following the run an accepted request started (run_tracking.h).
//
// The run an accepted answer names; nullopt when the answer names none (the
// request is then verified after verify_after, as a plain webhook's).
std::optional<RunRef> preset_run(const PresetSpec& preset, const BackfillRequest& request,
                                 const HttpClientResponse& accepted);
// The request asking the orchestrator for the state of `run` (without
// credentials: the executor adds them as for a delivery).
Expected<PresetRequest> build_run_poll(const PresetSpec& preset, const BackfillRequest& request,
                                       const RunRef& run);
// What the answer to build_run_poll's request says of the run.
RunPoll classify_run_poll(const PresetSpec& preset, const HttpClientResponse& response);

// Adds every template variable the preset uses to `names`.
void collect_preset_variables(const PresetSpec& preset, std::set<std::string>& names);

}  // namespace gapwatch
