// RunTracker: follows the orchestrator runs that accepted backfill requests
// started (RequestRecord::run), by asking the orchestrator for each run's
// state every poll_every (more slowly while the run is queued or the
// orchestrator does not answer), until the run ends:
//
//   failed or cancelled → the attempt fails at once, with the orchestrator's
//                         reason; the rule's next evaluation plans the next
//   succeeded           → verified by the next evaluation that starts after
//                         it; still missing data then fails the attempt with
//                         its own reason (IncidentManager::verify_requests)
//   queued, running     → waits, up to the executor's run_timeout
//   not found (404)     → said in the history; verify_after decides, as for
//                         a plain webhook
//
// An orchestrator that cannot be reached, or answers 5xx, is asked again
// later; verify_after since its last answer bounds the wait, as today.
//
// Everything it knows is in the state database (the runs to poll and when),
// so a restarted gapwatch follows the runs in flight again, never sooner
// than their next poll. The decisions are run_following.h's, without I/O.
//
// Thread-safe: poll_due() and shutdown() are the control thread's; each
// executor's polls run one at a time on a thread of their own, writing
// through the StateStore; m_mutex guards the threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <thread>

#include "monitor/config/config.h"
#include "monitor/daemon/dispatcher.h"
#include "monitor/state/incident_manager.h"
#include "monitor/state/run_following.h"
#include "monitor/state/state_store.h"
#include "rules/clock.h"
#include "rules/mutex.h"

namespace gapwatch {

class RunTracker {
 public:
  // `listener` hears of every request whose run a poll changed in a way the
  // history records (a new state, an end, not found, the orchestrator not
  // answering), on the polling thread: the control thread schedules its
  // verification at verify_by, or the next attempt.
  using Listener = std::function<void(const RequestRecord&)>;

  RunTracker(const Config& config, StateStore& store, IncidentManager& incidents,
             const Clock& clock, Dispatcher& dispatcher, Listener listener);
  ~RunTracker();
  RunTracker(const RunTracker&) = delete;
  RunTracker& operator=(const RunTracker&) = delete;

  // Starts polling for each executor with runs due a poll and no poll under
  // way; returns how many executors started.
  Expected<int> poll_due() EXCLUDES(m_mutex);
  // Stops the polls (one under way is cut short) and waits for their threads.
  void shutdown() EXCLUDES(m_mutex);
  // Waits for the polls under way to end by themselves: each executor's
  // thread ends once none of its runs is due (tests, with a clock that stands).
  void drain() EXCLUDES(m_mutex);

 private:
  void poll_executor(const std::string& executor, std::stop_token stop) EXCLUDES(m_mutex);
  // Records what `poll` said of `request`'s run, unless the request has
  // moved on meanwhile (verified, failed, resolved by an operator).
  Expected<void> record(const RequestRecord& polled, const RunPoll& poll);
  void reap() REQUIRES(m_mutex);

  const Config& m_config;
  StateStore& m_store;
  IncidentManager& m_incidents;
  const Clock& m_clock;
  Dispatcher& m_dispatcher;
  Listener m_listener;

  Mutex m_mutex;
  std::map<std::string, std::jthread> m_threads GUARDED_BY(m_mutex);  // by executor
  std::map<std::string, bool> m_done GUARDED_BY(m_mutex);  // executors whose thread has ended
};

}  // namespace gapwatch
