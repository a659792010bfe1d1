// Daemon: `gapwatch run`. Each pass of the control loop (Daemon::run) takes
// what other threads asked for (stop, reload, a change through the API),
// reloads or reopens the state database if due, then runs the pipeline:
//
//   record verdicts → incidents → backfill requests (committed to the outbox)
//   → schedule verifications → start due evaluations (EvaluationPool)
//   → dispatch due requests → follow orchestrator runs → publish gauges
//
// and sleeps until there is work, at most until the next second.
//
// SIGTERM/SIGINT stop scheduling, let running work finish within
// monitor.shutdown_grace and exit 0, leaving unsent requests in the outbox.
// SIGHUP (and POST /-/reload) reloads the config; an invalid config is logged,
// alike for both, and the old one keeps running.
//
// Threads: the control thread (run) owns the scheduler, the gauges and every
// decision; members without an annotation are its alone. Evaluation workers
// leave their results in the EvaluationPool; delivery threads, the HTTP API
// and the signal thread hand reports and requests over under m_mutex; all of
// them wake the control thread through m_wake. The HTTP API reads the running
// configuration through config().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/daemon/dispatcher.h"
#include "monitor/daemon/evaluation_pool.h"
#include "monitor/state/baseline_book.h"
#include "monitor/daemon/gauges.h"
#include "monitor/daemon/generation.h"
#include "monitor/daemon/store_polling.h"
#include "monitor/http/http_server.h"
#include "monitor/http/metrics.h"
#include "monitor/http/status_board.h"
#include "monitor/state/state_store.h"
#include "monitor/warehouse/query_watchdog.h"
#include "rules/clock.h"
#include "rules/mutex.h"

namespace gapwatch {

struct DaemonOptions {
  std::string config_path;
  bool dry_run = false;
  // Exit 0 once every rule has been evaluated and nothing is failing or
  // outstanding (the demo and tests); exit 1 if that has not happened within
  // max_runtime.
  bool until_healthy = false;
  std::chrono::seconds max_runtime{0};
};

class Daemon {
 public:
  // Opens the state database (without it, monitoring goes on and it is tried
  // again), builds the configuration, starts the evaluation workers and the
  // HTTP server. An error if the server cannot listen.
  static Expected<std::unique_ptr<Daemon>> start(DaemonOptions options, Config config,
                                                 const Clock& clock);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until stopped; returns the exit code.
  int run();

  // Asynchronous requests (signal thread, HTTP API, tests).
  void request_stop() EXCLUDES(m_mutex);
  void request_reload() EXCLUDES(m_mutex);
  // The HTTP API wrote to the state database: read the outbox now.
  void note_state_changed() EXCLUDES(m_mutex);

  // The running configuration (any thread).
  std::shared_ptr<const Config> config() const EXCLUDES(m_config_mutex);
  // The HTTP server's port, or 0 when it is off.
  int http_port() const { return m_http ? m_http->port() : 0; }

 private:
  // One pass of the control loop: what it was asked, and what its steps did.
  struct Pass {
    bool stop = false;
    bool reload = false;
    // The state database changed (by this process, or through the API): the
    // outbox and the gauges drawn from it are read again this pass.
    bool store_changed = false;
  };

  Daemon(DaemonOptions options, Config config, const Clock& clock);
  Expected<void> start_http();

  // The steps of a pass, in order.
  Pass take_requests() EXCLUDES(m_mutex);
  void reload_if_requested(const Pass& pass);
  void reopen_state_if_due(Pass& pass);
  void record_verdicts(Pass& pass);
  void schedule_verifications(Pass& pass) EXCLUDES(m_mutex);
  // The part for requests whose run a poll settled or failed.
  void schedule_after_runs(Pass& pass) EXCLUDES(m_mutex);
  void start_due_evaluations(Instant now);
  void dispatch_due_requests(Instant now, Pass& pass);
  // Starts the polls of orchestrator runs that are due (RunTracker).
  void follow_runs(Instant now, Pass& pass);
  void publish_gauges(const Pass& pass);
  void release_retired_generations();
  // With --until-healthy: the exit code once healthy (0) or out of time (1).
  std::optional<int> until_healthy_exit(SteadyTime started) EXCLUDES(m_mutex);
  void wait_for_work(Instant now) EXCLUDES(m_mutex);
  int shut_down(int exit_code);

  // What record_verdicts does with one result.
  void record_verdict(std::size_t rule, const RuleResult& evaluated, Pass& pass);
  void log_verdict(const RuleConfig& rule, const Verdict& verdict);
  void record_incident(const RuleConfig& rule, const RuleResult& result, Pass& pass);

  void log_start() const;
  std::shared_ptr<Generation> build(Config config);
  void reload();
  // Resolves the incidents of rules the running configuration no longer has
  // (at start, after a reload, once the state database opens) and logs each.
  void close_removed_rules();
  // Logs a configuration a reload refused, each problem with its place, and
  // records the failure in the metrics: SIGHUP and POST /-/reload alike.
  // Any thread (the HTTP API's too).
  void reject_reload(const std::vector<ConfigError>& errors);
  void use_generation(std::shared_ptr<Generation> generation) EXCLUDES(m_config_mutex);
  bool healthy() EXCLUDES(m_mutex);
  bool work_waiting() const REQUIRES(m_mutex);
  // A worker's wake for the control thread (see EvaluationPool).
  void wake_control() EXCLUDES(m_mutex);
  void print_summary();

  const DaemonOptions m_options;
  const Clock& m_clock;

  // What other threads hand the control thread.
  mutable Mutex m_mutex;
  CondVar m_wake;  // the control thread: results, reports, stop, reload, a change
  std::deque<DispatchReport> m_reports GUARDED_BY(m_mutex);
  std::deque<RequestRecord> m_run_reports GUARDED_BY(m_mutex);  // RunTracker::Listener
  bool m_stop GUARDED_BY(m_mutex) = false;
  bool m_reload GUARDED_BY(m_mutex) = false;
  bool m_state_changed GUARDED_BY(m_mutex) = false;

  std::unique_ptr<StateStore> m_store;
  QueryWatchdog m_watchdog;
  Metrics m_metrics;
  StatusBoard m_board;

  // The running configuration as other threads see it (part of m_generation).
  mutable Mutex m_config_mutex;
  std::shared_ptr<const Config> m_config GUARDED_BY(m_config_mutex);
  // The current generation (control thread), and those replaced by a reload
  // that still have deliveries under way. Declared after m_mutex and
  // m_reports, which their delivery threads report to until they are gone.
  std::shared_ptr<Generation> m_generation;
  std::vector<std::shared_ptr<Generation>> m_retired;
  // Masks the current configuration's secrets (control thread; the log and
  // the state store share it).
  std::shared_ptr<const Redactor> m_redactor = std::make_shared<const Redactor>();

  Gauges m_gauges;
  StorePolling m_polling;
  // What the baseline rules keep of their history (workers read it).
  BaselineBook m_baselines;

  // Statistics for the log and the summary (control thread).
  std::vector<bool> m_evaluated;  // per rule of the current generation
  std::map<std::string, Status> m_last_status;
  std::uint64_t m_evaluations = 0;
  std::uint64_t m_opened = 0;
  std::uint64_t m_resolved = 0;
  std::uint64_t m_requests = 0;
  Instant m_next_run_poll{};  // when follow_runs next asks the state database

  // Declared after what its workers use (the generations they hold, m_mutex
  // and m_wake), so that it stops first.
  EvaluationPool m_pool;
  std::unique_ptr<HttpServer> m_http;  // last: stopped first
};

}  // namespace gapwatch
