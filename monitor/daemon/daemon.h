// Daemon: `gapwatch run`. The top-level loop, in one screen:
//
//   schedule → evaluate (worker pool) → incidents → backfill requests
//   (committed to the outbox) → dispatch → verify (an extra evaluation) → resolve
//
// SIGTERM/SIGINT stop scheduling, let running work finish within
// monitor.shutdown_grace and exit 0, leaving unsent requests in the outbox.
// SIGHUP reloads the config; an invalid config is logged and the old one keeps
// running.
//
// Threads: the control thread (run) owns the scheduler and all decisions;
// evaluation workers, delivery threads, the query watchdog and a signal thread
// hand their results back through queues guarded by m_mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/daemon/dispatcher.h"
#include "monitor/warehouse/evaluator.h"
#include "monitor/http/http_server.h"
#include "monitor/state/incident_manager.h"
#include "monitor/http/metrics.h"
#include "monitor/daemon/scheduler.h"
#include "monitor/state/state_store.h"
#include "monitor/http/status_board.h"
#include "rules/clock.h"

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
  void request_stop();
  void request_reload();
  // The HTTP API wrote to the state database: read the outbox now.
  void note_state_changed();

  // The running configuration (any thread).
  std::shared_ptr<const Config> config() const;
  // The HTTP server's port, or 0 when it is off.
  int http_port() const { return m_http ? m_http->port() : 0; }

 private:
  // Everything built from one config; replaced whole on reload.
  struct Generation;

  Daemon(DaemonOptions options, Config config, const Clock& clock);
  Expected<void> start_http();

  struct Completed {
    std::shared_ptr<Generation> generation;
    std::size_t rule;
    RuleResult result;
  };

  std::unique_ptr<Generation> build(Config config);
  void reload();
  void evaluate_due(Instant now);
  // Each returns whether the state database changed (incidents, requests).
  bool handle_results();
  bool handle_reports();
  bool healthy();
  void wait_for_work(Instant now);
  void worker_loop(std::stop_token stop);
  void print_summary();
  // Hands due requests to the dispatcher if the outbox may hold some; true
  // if any was started.
  bool read_outbox_if_due(Instant now, bool store_changed);
  void update_gauges(bool store_changed);
  // Publishes a rule's next due time to the metrics and status board if it
  // changed (only rules whose schedule moved are looked at).
  void publish_next_due(std::size_t rule);
  void publish_all_next_due();
  // While the state database is a stand-in (it could not be opened), tries
  // the file again every kStateReopenInterval; true when it opened now.
  bool reopen_state_if_due();
  void use_generation(std::shared_ptr<Generation> generation);

  DaemonOptions m_options;
  const Clock& m_clock;
  std::unique_ptr<StateStore> m_store;
  QueryWatchdog m_watchdog;
  Metrics m_metrics;
  StatusBoard m_board;
  mutable std::mutex m_generation_mutex;
  std::shared_ptr<Generation> m_generation;  // written by the control thread under m_generation_mutex
  std::vector<std::shared_ptr<Generation>> m_retired;  // awaiting their deliveries

  std::mutex m_mutex;
  std::condition_variable m_wake;        // the control thread: results, reports, stop, reload
  std::condition_variable m_work_ready;  // the workers: a job was queued, or stop
  // Evaluations waiting for a worker, queued per warehouse. A worker takes the
  // oldest job of a warehouse that has a connection free (max_connections),
  // so that a warehouse whose queries hang holds at most its own
  // connections' worth of workers and the other warehouses' rules keep their
  // schedules.
  struct Job {
    std::uint64_t sequence = 0;  // the order jobs were queued in
    std::function<void()> run;
  };
  struct WarehouseQueue {
    int max_connections = 1;
    int running = 0;
    std::deque<Job> jobs;
  };
  // The queue to take a job from, or nullptr; m_mutex held.
  WarehouseQueue* runnable_queue();
  std::map<std::string, WarehouseQueue> m_queues;  // guarded by m_mutex
  std::uint64_t m_queued = 0;                      // guarded by m_mutex: jobs ever queued
  std::deque<Completed> m_completed;         // guarded by m_mutex
  std::deque<DispatchReport> m_reports;      // guarded by m_mutex
  bool m_stop = false;                       // guarded by m_mutex
  bool m_reload = false;                     // guarded by m_mutex
  bool m_state_changed = false;              // guarded by m_mutex
  int m_running_jobs = 0;                    // guarded by m_mutex
  std::vector<std::jthread> m_workers;
  std::unique_ptr<HttpServer> m_http;  // last: stopped first

  // Statistics for the log and the summary (control thread only).
  std::vector<bool> m_evaluated;  // per rule of the current generation
  // What was last published as each rule's next due time (current
  // generation): only the rules whose schedule moved are published again, as
  // 10,000 rules made a look at every rule per batch of results costly.
  struct PublishedDue {
    bool published = false;
    std::optional<Instant> due;
  };
  std::vector<PublishedDue> m_published_due;
  static constexpr std::chrono::seconds kStoreGaugeInterval{5};
  static constexpr std::chrono::seconds kStateReopenInterval{5};
  SteadyTime m_next_reopen;  // control thread
  // The outbox is read when a pass changed it, when its earliest pending
  // request comes due, and every kOutboxPollInterval for requests enqueued
  // from the command line (control thread).
  static constexpr std::chrono::seconds kOutboxPollInterval{5};
  std::optional<Instant> m_outbox_due;  // earliest pending, as last read
  Instant m_last_outbox_read;            // at most once a second unless changed
  SteadyTime m_next_outbox_poll;
  SteadyTime m_next_store_read;  // control thread
  std::map<std::string, Status> m_last_status;
  std::uint64_t m_evaluations = 0;
  std::uint64_t m_opened = 0;
  std::uint64_t m_resolved = 0;
  std::uint64_t m_requests = 0;
  std::uint64_t m_verified = 0;
};

}  // namespace gapwatch
