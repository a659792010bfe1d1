// Apache Airflow presets. A DAG run per request through the stable REST API
// (Airflow 2: POST /api/v1/dags/{dag_id}/dagRuns; Airflow 3: POST
// /api/v2/dags/{dag_id}/dagRuns, which rejects unknown fields and wants the
// logical_date key present, possibly null), or an Airflow 3 backfill (POST
// /api/v2/backfills) covering the window. A 409 is judged only after asking
// Airflow again (the follow-up below): a dag run is ours when our dag_run_id
// exists, and a running backfill is ours when it covers our window with our
// conf. The run is then followed through GET dagRuns/{dag_run_id}, or for a
// backfill through the DAG's backfill runs in the window. Pure; thread-safe.
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
  // Whether the body carries data_interval_start/_end (the window). Airflow 2
  // accepts them in POST dagRuns from 2.9 on and refuses them before (the
  // config's airflow_version decides; left out when it is not given). Airflow
  // 3 accepts them, but builds a data interval only with a logical date, so
  // with `logical_date: none` they are left out: conf carries the window.
  enum class DataInterval { left_out, window };

  Api api = Api::v2;
  std::string base_url;  // no trailing '/'
  Template dag_id;
  Template dag_run_id;  // default gapwatch-{request_id}
  LogicalDate logical_date = LogicalDate::none;
  DataInterval data_interval = DataInterval::window;
  // default: window_description(); one's own conf gets window_start and
  // window_end added unless it sets them, so the run always knows its window.
  std::optional<JsonTemplate> conf;
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

// 200 accepted; other codes by the plain rules, with Airflow's message. A 409
// (a run with the dag_run_id or the logical date exists; another backfill of
// the DAG is running) is judged by the follow-up; without one (it could not
// be built) it is retried.
DispatchOutcome classify_airflow_response(const AirflowDagRunSpec& spec,
                                          const HttpClientResponse& response);
DispatchOutcome classify_airflow_response(const AirflowBackfillSpec& spec,
                                          const HttpClientResponse& response);

// The second exchange of a delivery whose answer was a 409
// (webhook_preset.h: preset_follow_up, classify_preset_follow_up).
//
// Dag runs: GET dagRuns/{our dag_run_id}. Found: an earlier delivery got
// through, accepted and followed. Not found: the 409 was another run on the
// same logical date (the scheduler's, usually), which gapwatch does not own:
// rejected, saying so.
std::optional<PresetRequest> airflow_follow_up(const AirflowDagRunSpec& spec,
                                               const BackfillRequest& request,
                                               const HttpClientResponse& answer);
DispatchOutcome classify_airflow_follow_up(const AirflowDagRunSpec& spec,
                                           const BackfillRequest& request,
                                           const HttpClientResponse& answer,
                                           const HttpClientResponse& follow_up);
// Backfills: GET /api/v2/backfills?dag_id=…, newest first. A running backfill
// with our dates and conf is an earlier delivery's (the answer was lost):
// accepted and followed instead of creating a second. Another backfill:
// retried later, naming it.
std::optional<PresetRequest> airflow_follow_up(const AirflowBackfillSpec& spec,
                                               const BackfillRequest& request,
                                               const HttpClientResponse& answer);
DispatchOutcome classify_airflow_follow_up(const AirflowBackfillSpec& spec,
                                           const BackfillRequest& request,
                                           const HttpClientResponse& answer,
                                           const HttpClientResponse& follow_up);

// Following runs (webhook_preset.h: preset_run, build_run_poll, classify_run_poll).
//
// A dag run: RunRef{dag_run_id, the UI's page of the run (Airflow 2: the
// grid with ?dag_run_id=; Airflow 3: /dags/{dag_id}/runs/{run_id})}, polled
// with GET dagRuns/{dag_run_id}: Airflow's state queued, running, success,
// failed (DagRunState), detail the state and the run's note if any.
// A backfill: RunRef{backfill id, /dags/{dag_id}/backfills}, polled with GET
// dags/{dag_id}/dagRuns?run_type=backfill and the window's logical dates
// (Airflow creates every run of a backfill when it creates the backfill):
// succeeded when every run succeeded, failed when all ended and one failed,
// running while some ran or ended, queued while all are queued (or none exist yet).
std::optional<RunRef> airflow_run(const AirflowDagRunSpec& spec, const BackfillRequest& request,
                                  const HttpClientResponse& accepted);
Expected<PresetRequest> build_airflow_run_poll(const AirflowDagRunSpec& spec,
                                               const BackfillRequest& request, const RunRef& run);
RunPoll classify_airflow_run_poll(const AirflowDagRunSpec& spec,
                                  const HttpClientResponse& response);
std::optional<RunRef> airflow_run(const AirflowBackfillSpec& spec, const BackfillRequest& request,
                                  const HttpClientResponse& accepted);
Expected<PresetRequest> build_airflow_run_poll(const AirflowBackfillSpec& spec,
                                               const BackfillRequest& request, const RunRef& run);
RunPoll classify_airflow_run_poll(const AirflowBackfillSpec& spec,
                                  const HttpClientResponse& response);

}  // namespace gapwatch
