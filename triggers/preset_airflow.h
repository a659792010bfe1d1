// Apache Airflow presets. A DAG run per request through the stable REST API
// (Airflow 2: POST /api/v1/dags/{dag_id}/dagRuns; Airflow 3: POST
// /api/v2/dags/{dag_id}/dagRuns, which rejects unknown fields and wants the
// logical_date key present, possibly null), or an Airflow 3 backfill (POST
// /api/v2/backfills) covering the window. A dag_run_id that exists (409)
// means an earlier delivery of the same request got through: accepted. Pure;
// thread-safe.
#pragma once

#include <optional>
#include <string>

#include "triggers/dispatch_outcome.h"
#include "triggers/http_transport.h"
#include "triggers/json_template.h"
#include "triggers/preset_request.h"
#include "triggers/run_tracking.h"

namespace gapwatch {

struct AirflowDagRunSpec {
  enum class Api { v1, v2 };  // Airflow 2, Airflow 3
  // What the run's logical date is. `none`: v1 leaves it out (Airflow uses
  // the time of the request), v2 sends null (Airflow 3 then ignores the data
  // interval; the window is in conf).
  enum class LogicalDate { none, window_start, window_end };

  Api api = Api::v2;
  std::string base_url;  // no trailing '/'
  Template dag_id;
  Template dag_run_id;  // default gapwatch-{request_id}
  LogicalDate logical_date = LogicalDate::none;
  std::optional<JsonTemplate> conf;  // default: window_description()
};

struct AirflowBackfillSpec {
  std::string base_url;
  Template dag_id;
  // Airflow's names: none, failed, completed. gapwatch's default is
  // `completed`: the runs of a window with missing data usually succeeded.
  std::string reprocess_behavior = "completed";
  int max_active_runs = 10;
  std::optional<JsonTemplate> dag_run_conf;  // default: window_description()
};

Expected<PresetRequest> build_airflow_request(const AirflowDagRunSpec& spec,
                                              const BackfillRequest& request);
Expected<PresetRequest> build_airflow_request(const AirflowBackfillSpec& spec,
                                              const BackfillRequest& request);

// 200 accepted; 409 (the dag_run_id, or with Airflow 2 the logical date,
// exists) accepted as an earlier delivery; other codes by the plain rules,
// with Airflow's message.
DispatchOutcome classify_airflow_response(const AirflowDagRunSpec& spec,
                                          const HttpClientResponse& response);
// 200 accepted; 409 (another backfill of the DAG is running) retried later;
// other codes by the plain rules, with Airflow's message.
DispatchOutcome classify_airflow_response(const AirflowBackfillSpec& spec,
                                          const HttpClientResponse& response);


// Following runs (webhook_preset.h: preset_run, build_run_poll, classify_run_poll).
std::optional<RunRef> airflow_run(const AirflowDagRunSpec& spec, const BackfillRequest& request,
                                 const HttpClientResponse& accepted);
Expected<PresetRequest> build_airflow_run_poll(const AirflowDagRunSpec& spec, const BackfillRequest& request,
                                       const RunRef& run);
RunPoll classify_airflow_run_poll(const AirflowDagRunSpec& spec, const HttpClientResponse& response);
std::optional<RunRef> airflow_run(const AirflowBackfillSpec& spec, const BackfillRequest& request,
                                 const HttpClientResponse& accepted);
Expected<PresetRequest> build_airflow_run_poll(const AirflowBackfillSpec& spec, const BackfillRequest& request,
                                       const RunRef& run);
RunPoll classify_airflow_run_poll(const AirflowBackfillSpec& spec, const HttpClientResponse& response);

}  // namespace gapwatch
