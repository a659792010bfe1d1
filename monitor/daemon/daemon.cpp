#include "monitor/daemon/daemon.h"

#include <malloc.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "monitor/http/api.h"
#include "monitor/daemon/logging.h"

namespace gapwatch {

struct Daemon::Generation {
  Config config;
  Warehouses warehouses;
  Evaluator evaluator;
  IncidentManager incidents;
  Dispatcher dispatcher;
  Scheduler scheduler;

  Generation(Config loaded, Daemon& daemon)
      : config(std::move(loaded)),
        warehouses(config, daemon.m_watchdog),
        evaluator(warehouses, daemon.m_clock),
        incidents(*daemon.m_store, daemon.m_clock, config.monitor.dry_run),
        dispatcher(config, *daemon.m_store, incidents, daemon.m_clock,
                   make_executors(config, daemon.m_clock),
                   [&daemon](const DispatchReport& report) {
                     {
                       std::lock_guard lock(daemon.m_mutex);
                       daemon.m_reports.push_back(report);
                     }
                     daemon.m_wake.notify_all();
                   }),
        scheduler(config.rules, daemon.m_clock.now()) {}

  std::optional<std::size_t> rule_index(const std::string& name) const {
    for (std::size_t i = 0; i < config.rules.size(); ++i) {
      if (config.rules[i].spec.name == name) {
        return i;
      }
    }
    return std::nullopt;
  }
};

Expected<std::unique_ptr<Daemon>> Daemon::start(DaemonOptions options, Config config,
                                                const Clock& clock) {
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(options), std::move(config), clock));
  if (auto started = daemon->start_http(); !started) {
    return std::unexpected(started.error());
  }
  return daemon;
}

Daemon::Daemon(DaemonOptions options, Config config, const Clock& clock)
    : m_options(std::move(options)), m_clock(clock) {
  if (m_options.dry_run) {
    config.monitor.dry_run = true;
  }
  auto store = StateStore::open(config.monitor.state_path);
  if (store) {
    m_store = std::move(*store);
  } else {
    // Monitoring goes on without it: evaluations, metrics and the API; what
    // cannot be recorded (incidents, requests) is not done at all.
    spdlog::error("{}; evaluations and metrics go on, but no incident is recorded and nothing "
                  "is dispatched until it opens (tried every {}s)",
                  store.error().message, kStateReopenInterval.count());
    m_store = StateStore::unavailable(config.monitor.state_path, store.error().message);
  }
  use_generation(build(std::move(config)));
  m_metrics.set_config_reload(true, m_clock.now());
  for (int i = 0; i < m_generation->config.monitor.workers; ++i) {
    m_workers.emplace_back([this](std::stop_token stop) { worker_loop(stop); });
  }
}

Expected<void> Daemon::start_http() {
  const std::string& listen = m_generation->config.monitor.listen;
  if (listen == "off") {
    return {};
  }
  ApiContext context;
  context.config = [this] { return this->config(); };
  context.store = m_store.get();
  context.metrics = &m_metrics;
  context.board = &m_board;
  context.clock = &m_clock;
  context.config_path = m_options.config_path;
  context.request_reload = [this] { request_reload(); };
  context.state_changed = [this] { note_state_changed(); };
  auto server = HttpServer::start(
      listen,
      [api = Api(std::move(context))](const HttpRequest& request) { return api.handle(request); });
  if (!server) {
    return std::unexpected(server.error());
  }
  m_http = std::move(*server);
  return {};
}

std::shared_ptr<const Config> Daemon::config() const {
  std::lock_guard lock(m_generation_mutex);
  return std::shared_ptr<const Config>(m_generation, &m_generation->config);
}

void Daemon::use_generation(std::shared_ptr<Generation> generation) {
  m_metrics.set_rules(generation->config.rules);
  m_board.set_rules(generation->config.rules);
  set_log_secrets(config_secrets(generation->config));
  {
    std::lock_guard lock(m_generation_mutex);
    m_generation = std::move(generation);
  }
  // At start and at every reload: yaml-cpp's tree of the file is freed by
  // now, but its pages stay resident until something reuses them.
  malloc_trim(0);
}

Daemon::~Daemon() {
  request_stop();
  {
    // Under the lock, so that no worker can check its condition, miss the
    // stop request and then sleep through the notification.
    std::lock_guard lock(m_mutex);
    for (std::jthread& worker : m_workers) {
      worker.request_stop();
    }
  }
  m_work_ready.notify_all();
  m_workers.clear();
}

std::unique_ptr<Daemon::Generation> Daemon::build(Config config) {
  auto generation = std::make_unique<Generation>(std::move(config), *this);
  m_evaluated.assign(generation->config.rules.size(), false);
  m_published_due.assign(generation->config.rules.size(), PublishedDue{});
  return generation;
}

void Daemon::request_stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
}

void Daemon::request_reload() {
  {
    std::lock_guard lock(m_mutex);
    m_reload = true;
  }
  m_wake.notify_all();
}

void Daemon::note_state_changed() {
  {
    std::lock_guard lock(m_mutex);
    m_state_changed = true;
  }
  m_wake.notify_all();
}

Daemon::WarehouseQueue* Daemon::runnable_queue() {
  WarehouseQueue* oldest = nullptr;
  for (auto& [warehouse, queue] : m_queues) {
    if (!queue.jobs.empty() && queue.running < queue.max_connections &&
        (oldest == nullptr || queue.jobs.front().sequence < oldest->jobs.front().sequence)) {
      oldest = &queue;
    }
  }
  return oldest;
}

void Daemon::worker_loop(std::stop_token stop) {
  while (true) {
    Job job;
    WarehouseQueue* queue = nullptr;
    {
      std::unique_lock lock(m_mutex);
      m_work_ready.wait(lock, [&] {
        queue = runnable_queue();
        return stop.stop_requested() || queue != nullptr;
      });
      if (queue == nullptr) {
        return;
      }
      job = std::move(queue->jobs.front());
      queue->jobs.pop_front();
      ++queue->running;
    }
    job.run();
    // The connection freed here lets at most one more job of this warehouse
    // run, and this worker looks for it next: no other worker need wake.
    std::lock_guard lock(m_mutex);
    --queue->running;
  }
}

void Daemon::reload() {
  spdlog::info("reloading {}", m_options.config_path);
  auto config = load_config_file(m_options.config_path, process_environment());
  if (!config) {
    for (const ConfigError& error : config.error()) {
      spdlog::error("{}", error.format());
    }
    spdlog::error("reload rejected: {} problem(s); the previous configuration keeps running",
                  config.error().size());
    m_metrics.set_config_reload(false, m_clock.now());
    return;
  }
  if (m_options.dry_run) {
    config->monitor.dry_run = true;
  }
  // These are read once at start (the server's socket, the logger, the worker
  // threads, the open state database): say so rather than ignore a change.
  const MonitorConfig& running = m_generation->config.monitor;
  const MonitorConfig& loaded = config->monitor;
  const std::pair<const char*, bool> fixed_at_start[] = {
      {"listen", running.listen != loaded.listen},
      {"log_format", running.log_format != loaded.log_format},
      {"log_level", running.log_level != loaded.log_level},
      {"workers", running.workers != loaded.workers},
      {"state", running.state_path != loaded.state_path},
  };
  for (const auto& [key, changed] : fixed_at_start) {
    if (changed) {
      spdlog::warn("monitor.{} changed: it takes effect when gapwatch restarts", key);
    }
  }
  // The old generation finishes its deliveries on its own threads; results of
  // its evaluations still in flight are dropped.
  m_retired.push_back(m_generation);
  use_generation(build(std::move(*config)));
  m_metrics.set_config_reload(true, m_clock.now());
  spdlog::info("configuration reloaded: {} rule(s), {} warehouse(s), {} executor(s)",
               m_generation->config.rules.size(), m_generation->config.warehouses.size(),
               m_generation->config.executors.size());
}

void Daemon::evaluate_due(Instant now) {
  std::shared_ptr<Generation> generation = m_generation;
  std::vector<std::size_t> skipped;
  const std::vector<std::size_t> due = generation->scheduler.take_due(now, &skipped);
  for (const std::size_t index : skipped) {
    const std::string& name = generation->config.rules[index].spec.name;
    spdlog::warn("rule {}: evaluation skipped: the previous one is still running", name);
    m_metrics.record_skipped(name);
    m_board.record_skipped(name);
    publish_next_due(index);
  }
  bool wake_all_workers = false;
  for (const std::size_t index : due) {
    publish_next_due(index);
    const std::string& warehouse = generation->config.rules[index].spec.warehouse;
    const WarehouseConfig* found = generation->config.find_warehouse(warehouse);
    {
      std::lock_guard lock(m_mutex);
      ++m_running_jobs;
      WarehouseQueue& queue = m_queues[warehouse];
      // A reload may change the cap; jobs already running count against it.
      // A raised cap can make several waiting jobs runnable at once.
      const int max_connections = found ? found->max_connections : 1;
      if (max_connections > queue.max_connections && !queue.jobs.empty()) {
        wake_all_workers = true;
      }
      queue.max_connections = max_connections;
      queue.jobs.push_back(Job{++m_queued, [this, generation, index] {
        const RuleConfig& rule = generation->config.rules[index];
        RuleResult result = generation->evaluator.evaluate(rule, m_clock.now());
        // The control thread takes results in batches. It is woken for one
        // that may need acting on (anything but a pass), at the end of a
        // burst (nothing left queued or running: also what shutdown and
        // --until-healthy wait for), and otherwise finds passes at its next
        // wake, at most a second away and always before it takes due rules,
        // so that a rule never looks still running when it comes due again.
        // A wake per result cost a context switch per statement.
        bool wake_control = result.verdict.status != Status::pass;
        {
          std::lock_guard inner(m_mutex);
          m_completed.push_back(Completed{generation, index, std::move(result)});
          --m_running_jobs;
          wake_control = wake_control || m_running_jobs == 0 || m_stop;
        }
        if (wake_control) {
          m_wake.notify_one();  // the control thread
        }
      }});
    }
    m_work_ready.notify_one();
  }
  if (wake_all_workers) {
    m_work_ready.notify_all();
  }
}

bool Daemon::handle_results() {
  bool store_changed = false;
  std::deque<Completed> completed;
  {
    std::lock_guard lock(m_mutex);
    completed.swap(m_completed);
  }
  for (Completed& item : completed) {
    if (item.generation != m_generation) {
      continue;  // evaluated under a configuration since replaced
    }
    Generation& generation = *m_generation;
    generation.scheduler.finished(item.rule, m_clock.now());
    publish_next_due(item.rule);
    const RuleConfig& rule = generation.config.rules[item.rule];
    const Verdict& verdict = item.result.verdict;
    ++m_evaluations;
    m_evaluated[item.rule] = true;
    // Metrics and the status board first: once the log line is out, what
    // operators query agrees with it.
    m_metrics.record_result(item.result);
    m_board.record(item.result);
    const auto previous = m_last_status.find(rule.spec.name);
    if (previous == m_last_status.end() || previous->second != verdict.status) {
      const auto level = verdict.status == Status::pass   ? spdlog::level::info
                         : verdict.status == Status::error ? spdlog::level::err
                                                           : spdlog::level::warn;
      spdlog::log(level, "rule {}: {} ({})", rule.spec.name, to_string(verdict.status),
                  verdict.message);
    } else {
      spdlog::debug("rule {}: {} ({})", rule.spec.name, to_string(verdict.status),
                    verdict.message);
    }
    m_last_status[rule.spec.name] = verdict.status;
    auto effects = generation.incidents.record(rule, item.result);
    if (!effects) {
      spdlog::error("rule {}: cannot record the result in the state database: {}",
                    rule.spec.name, effects.error().message);
      continue;
    }
    for (const std::string& line : effects->log) {
      spdlog::info("{}", line);
    }
    store_changed = store_changed || effects->incident_id.has_value();
    m_opened += effects->opened ? 1U : 0U;
    if (effects->opened) {
      m_metrics.record_incident_opened(rule.spec.name);
    }
    m_resolved += effects->resolved ? 1U : 0U;
    if (!effects->new_requests.empty() && generation.config.monitor.dry_run) {
      spdlog::info("dry run: {} request(s) recorded, none sent", effects->new_requests.size());
    }
  }
  return store_changed;
}

bool Daemon::handle_reports() {
  std::deque<DispatchReport> reports;
  {
    std::lock_guard lock(m_mutex);
    reports.swap(m_reports);
  }
  for (const DispatchReport& report : reports) {
    ++m_requests;
    m_metrics.record_delivery(report.request.executor, report.outcome.kind);
    const auto index = m_generation->rule_index(report.request.rule);
    if (!index) {
      continue;
    }
    if (report.request.verify_by &&
        (report.request.state == RequestState::succeeded ||
         report.request.state == RequestState::accepted)) {
      // Verify with an evaluation once the data may be there.
      m_generation->scheduler.request(*index, *report.request.verify_by);
    } else if (report.request.state == RequestState::failed) {
      // Plan the next attempt (or escalate) without waiting for the schedule.
      m_generation->scheduler.request(*index, m_clock.now());
    }
    publish_next_due(*index);
  }
  return !reports.empty();
}

bool Daemon::healthy() {
  if (std::find(m_evaluated.begin(), m_evaluated.end(), false) != m_evaluated.end()) {
    return false;
  }
  {
    std::lock_guard lock(m_mutex);
    if (m_running_jobs > 0 || !m_completed.empty() || !m_reports.empty()) {
      return false;
    }
  }
  for (const auto& [rule, status] : m_last_status) {
    if (status == Status::fail || status == Status::error) {
      return false;
    }
  }
  auto active = m_store->incidents(true);
  return active && active->empty() && m_generation->dispatcher.in_flight() == 0;
}

void Daemon::wait_for_work(Instant now) {
  Instant until = now + std::chrono::seconds{1};
  if (const auto due = m_generation->scheduler.next_due()) {
    until = std::min(until, *due);
  }
  // Instants have whole seconds: wake at the start of the second that is
  // due, as the clock tells. The wait itself is on the system's monotonic
  // clock and never longer than a second, so that a wall clock set back
  // cannot hold the loop.
  const auto timeout = std::clamp<std::chrono::microseconds>(
      until - m_clock.precise_now(), std::chrono::seconds{0}, std::chrono::seconds{1});
  std::unique_lock lock(m_mutex);
  m_wake.wait_for(lock, timeout, [&] {
    return m_stop || m_reload || m_state_changed || !m_completed.empty() || !m_reports.empty();
  });
}

void Daemon::publish_next_due(std::size_t rule) {
  const Generation& generation = *m_generation;
  const std::optional<Instant> due =
      generation.scheduler.running(rule)
          ? std::nullopt
          : std::optional<Instant>(generation.scheduler.due_at(rule));
  PublishedDue& published = m_published_due[rule];
  if (published.published && published.due == due) {
    return;
  }
  published = PublishedDue{true, due};
  m_board.set_next_due(generation.config.rules[rule].spec.name, due);
  m_metrics.set_next_evaluation(generation.config.rules[rule].spec.name, due);
}

bool Daemon::reopen_state_if_due() {
  const SteadyTime now = m_clock.steady_now();
  if (now < m_next_reopen || m_store->unavailable_reason().empty()) {
    return false;
  }
  m_next_reopen = now + kStateReopenInterval;
  auto reopened = m_store->reopen();
  if (!reopened) {
    spdlog::debug("{}", reopened.error().message);
    return false;
  }
  spdlog::info("the state database {} is open: incidents and backfills resume",
               m_store->path());
  m_generation->incidents.forget_rules_without_incident();
  if (auto resumed = m_generation->dispatcher.resume_interrupted(); !resumed) {
    spdlog::error("cannot resume interrupted requests: {}", resumed.error().message);
  }
  return true;
}

void Daemon::publish_all_next_due() {
  for (std::size_t rule = 0; rule < m_generation->config.rules.size(); ++rule) {
    publish_next_due(rule);
  }
}

bool Daemon::read_outbox_if_due(Instant now, bool store_changed) {
  // Not after every result, and not every second: with 100 rules every 5 s,
  // reading it once a second was 4.5% of the daemon's CPU samples.
  const SteadyTime steady_now = m_clock.steady_now();
  const bool comes_due = m_outbox_due && *m_outbox_due <= now && now != m_last_outbox_read;
  if (!store_changed && !comes_due && steady_now < m_next_outbox_poll) {
    return false;
  }
  m_last_outbox_read = now;
  m_next_outbox_poll = steady_now + kOutboxPollInterval;
  auto started_count = m_generation->dispatcher.dispatch_due();
  if (!started_count) {
    spdlog::error("cannot read the outbox: {}", started_count.error().message);
  }
  // Requests left pending (held back by max_concurrent or an escalated
  // incident) keep this in the past: the outbox is then read once a second.
  auto next = m_store->next_due();
  m_outbox_due = next ? *next : std::optional<Instant>(now);
  return started_count.value_or(0) > 0;
}

void Daemon::update_gauges(bool store_changed) {
  Generation& generation = *m_generation;
  for (const ExecutorSpec& executor : generation.config.executors) {
    m_metrics.set_in_flight(executor.name, generation.dispatcher.in_flight(executor.name));
  }
  // The outbox and incident gauges come from the state database: read it when
  // this process changed it, and every few seconds for what operators change
  // from the command line, not after every result.
  const SteadyTime now = m_clock.steady_now();
  if (!store_changed && now < m_next_store_read) {
    return;
  }
  m_next_store_read = now + kStoreGaugeInterval;
  if (auto pending = m_store->count_requests(RequestState::pending)) {
    m_metrics.set_outbox_pending(*pending);
  }
  if (auto active = m_store->incidents(true)) {
    std::map<std::string, bool> incidents;
    for (const Incident& incident : *active) {
      incidents[incident.rule] = incident.state == IncidentState::escalated;
    }
    m_metrics.set_incidents(incidents);
  }
}

void Daemon::print_summary() {
  spdlog::info("summary: {} evaluation(s) of {} rule(s); {} incident(s) opened, {} resolved; {} "
               "delivery outcome(s)",
               m_evaluations, m_generation->config.rules.size(), m_opened, m_resolved, m_requests);
}

int Daemon::run() {
  const Config& config = m_generation->config;
  spdlog::info("gapwatch {} running: {} rule(s) on {} warehouse(s), {} executor(s), state {}{}{}",
               GAPWATCH_VERSION, config.rules.size(), config.warehouses.size(),
               config.executors.size(), config.monitor.state_path,
               m_http ? fmt::format(", http://{}:{}/", config.monitor.listen.substr(
                                                           0, config.monitor.listen.rfind(':')),
                                    m_http->port())
                      : "",
               config.monitor.dry_run ? " (dry run: nothing is sent)" : "");
  if (auto resumed = m_generation->dispatcher.resume_interrupted(); !resumed) {
    spdlog::error("cannot resume interrupted requests: {}", resumed.error().message);
    return 1;
  }
  const SteadyTime started = m_clock.steady_now();
  int exit_code = 0;
  publish_all_next_due();
  while (true) {
    bool reload_now = false;
    bool changed_elsewhere = false;  // by the HTTP API
    {
      std::lock_guard lock(m_mutex);
      if (m_stop) {
        break;
      }
      reload_now = std::exchange(m_reload, false);
      changed_elsewhere = std::exchange(m_state_changed, false);
    }
    bool store_changed = reload_now || changed_elsewhere;
    if (reload_now) {
      reload();
      publish_all_next_due();
    }
    store_changed = reopen_state_if_due() || store_changed;
    const Instant now = m_clock.now();
    store_changed = handle_results() || store_changed;
    store_changed = handle_reports() || store_changed;
    evaluate_due(now);
    if (!m_generation->config.monitor.dry_run) {
      store_changed = read_outbox_if_due(now, store_changed) || store_changed;
    }
    update_gauges(store_changed);
    std::erase_if(m_retired, [](const std::shared_ptr<Generation>& old) {
      return old->dispatcher.in_flight() == 0 && old.use_count() == 1;
    });
    if (m_options.until_healthy) {
      if (healthy()) {
        spdlog::info("every rule passes and nothing is outstanding");
        break;
      }
      if (m_options.max_runtime.count() > 0 &&
          m_clock.steady_now() - started > m_options.max_runtime) {
        spdlog::error("not healthy after {}s; giving up", m_options.max_runtime.count());
        exit_code = 1;
        break;
      }
    }
    wait_for_work(now);
  }
  spdlog::info("stopping: waiting up to {}s for running work",
               m_generation->config.monitor.shutdown_grace.count());
  {
    std::unique_lock lock(m_mutex);
    m_stop = true;
    // Evaluations not started yet are dropped: they no longer count as running.
    for (auto& [warehouse, queue] : m_queues) {
      m_running_jobs -= static_cast<int>(queue.jobs.size());
      queue.jobs.clear();
    }
  }
  m_wake.notify_all();
  const auto grace = m_generation->config.monitor.shutdown_grace;
  {
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, grace, [&] { return m_running_jobs == 0; });
  }
  m_generation->dispatcher.shutdown(grace);
  for (const auto& old : m_retired) {
    old->dispatcher.shutdown(std::chrono::seconds{0});
  }
  handle_results();
  print_summary();
  return exit_code;
}

}  // namespace gapwatch
