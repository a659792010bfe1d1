// Generation: everything the daemon builds from one configuration — its
// warehouses, evaluator, incident manager, dispatcher, run tracker and scheduler. A reload
// builds a new one and replaces the old whole; the old one lives on (shared)
// until its deliveries and the evaluations still holding it have finished.
//
// Thread safety: the config, warehouses and evaluator are read by evaluation
// workers; the scheduler belongs to the control thread; the incident manager
// and dispatcher are thread-safe (see their headers).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "monitor/config/config.h"
#include "monitor/daemon/dispatcher.h"
#include "monitor/daemon/run_tracker.h"
#include "monitor/daemon/scheduler.h"
#include "monitor/state/incident_manager.h"
#include "monitor/state/state_store.h"
#include "monitor/warehouse/evaluator.h"
#include "monitor/warehouse/query_watchdog.h"
#include "rules/clock.h"

namespace gapwatch {

struct Generation {
  // `on_report` hears every delivery outcome, on the delivering thread;
  // `on_run` every request a run's poll settled or failed, on the polling thread.
  Generation(Config loaded, StateStore& store, QueryWatchdog& watchdog, const Clock& clock,
             Dispatcher::Listener on_report, RunTracker::Listener on_run);
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // The index of the rule named `name` in config.rules.
  std::optional<std::size_t> rule_index(const std::string& name) const;

  Config config;
  Warehouses warehouses;
  Evaluator evaluator;
  IncidentManager incidents;
  Dispatcher dispatcher;
  RunTracker runs;  // polls through the dispatcher's executors: declared after it
  Scheduler scheduler;
};

}  // namespace gapwatch
