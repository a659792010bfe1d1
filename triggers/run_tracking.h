// Following an orchestrator's run: what a preset gets back when it starts one
// (RunRef: the run's id and a link for people), and what a poll of the run's
// state says (RunPoll). The presets build the poll request and read its
// answer (webhook_preset.h); the monitor's run tracker decides when to poll
// and what a state means for the backfill request. Plain data; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gapwatch {

// A run's state as gapwatch names it, whatever the orchestrator calls it
// (each preset maps its own names; docs/executors.md lists them).
enum class RunState {
  queued,     // accepted by the orchestrator, not started (Airflow queued, Prefect
              // SCHEDULED/PENDING, Dagster QUEUED/NOT_STARTED/STARTING, ADF Queued)
  running,    // started, not ended
  succeeded,  // ended well: the data should be there now
  failed,     // ended badly, or was cancelled: the attempt failed
};

std::string_view to_string(RunState state);
std::optional<RunState> run_state_from(std::string_view text);
inline bool is_terminal(RunState state) {
  return state == RunState::succeeded || state == RunState::failed;
}

// A run an orchestrator started for a request. `id` is what its API names the
// run by (Airflow's dag_run_id or backfill id, Prefect's flow run id,
// Dagster's runId or backfillId, ADF's runId); `link` opens it in the
// orchestrator's UI (empty when the preset cannot know the UI's address).
struct RunRef {
  std::string id;
  std::string link;
};

// What one poll of a run said.
struct RunPoll {
  enum class Kind {
    state,        // the orchestrator answered with the run's state
    not_found,    // the orchestrator no longer knows the run (404, RunNotFoundError)
    unreachable,  // no answer, 5xx, 429, an unreadable body: ask again later
  };
  Kind kind = Kind::unreachable;
  RunState state = RunState::queued;  // when kind == state
  // The orchestrator's own words: its state name and, for a failed run, its
  // reason ("failed", "FAILED: Flow run encountered an exception"); for
  // not_found and unreachable what went wrong ("HTTP 503", "connection refused").
  std::string detail;
  std::optional<std::chrono::seconds> retry_after;  // an answer's Retry-After
};

}  // namespace gapwatch
