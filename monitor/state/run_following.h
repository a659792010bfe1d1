// Following an orchestrator's run, as decisions without I/O: when a run is
// asked about next, and what each answer means for its backfill request
// (RunTracker does the asking; the Dispatcher starts following on acceptance).
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "monitor/config/config.h"
#include "monitor/state/state_store.h"
#include "rules/clock.h"
#include "triggers/run_tracking.h"

namespace gapwatch {

// How a request's run is followed: its executor's poll_every and run_timeout,
// its rule's verify_after.
struct RunTiming {
  std::chrono::seconds poll_every{30};
  std::chrono::seconds run_timeout{std::chrono::hours{24}};
  std::chrono::seconds verify_after{600};
};
RunTiming run_timing(const Config& config, const RequestRecord& request);

// The wait before a run's next poll after `slow_polls` slow polls in a row
// (queued, or no answer): poll_every doubled for each, at most 8 × poll_every.
std::chrono::seconds run_poll_delay(std::chrono::seconds poll_every, int slow_polls);

// What following a run starts from, when a request is accepted at `now`.
RunRecord start_following(const RunRef& ref, const RunTiming& timing, Instant now);

// What a poll changed, for the request's history.
struct RunChange {
  std::string kind;    // the event: run_queued, run_running, run_succeeded, run_failed,
                       // run_timed_out, run_not_found, run_unreachable; empty: nothing new
  std::string detail;  // for the event
  bool attempt_failed = false;  // the request is failed now
};

// Applies `poll` to `request` (accepted, its run followed) at `now`.
RunChange apply_run_poll(RequestRecord& request, const RunPoll& poll, const RunTiming& timing,
                         Instant now);

}  // namespace gapwatch
