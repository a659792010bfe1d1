#include "monitor/daemon/daemon.h"

#include <malloc.h>

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "monitor/daemon/logging.h"
#include "monitor/http/api.h"

namespace gapwatch {

namespace {

std::unique_ptr<StateStore> open_state(const std::string& path) {
  auto store = StateStore::open(path);
  if (store) {
    return std::move(*store);
  }
  // Monitoring goes on without it: evaluations, metrics and the API; what
  // cannot be recorded (incidents, requests) is not done at all.
  spdlog::error(
      "{}; evaluations and metrics go on, but no incident is recorded and nothing "
      "is dispatched until it opens (tried every {}s)",
      store.error().message, StorePolling::kReopenInterval.count());
  return StateStore::unavailable(path, store.error().message);
}

}  // namespace

Expected<std::unique_ptr<Daemon>> Daemon::start(DaemonOptions options, Config config,
                                                const Clock& clock) {
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(options), std::move(config), clock));
  if (auto started = daemon->start_http(); !started) {
    return std::unexpected(started.error());
  }
  return daemon;
}

Daemon::Daemon(DaemonOptions options, Config config, const Clock& clock)
    : m_options(std::move(options)),
      m_clock(clock),
      m_store(open_state(config.monitor.state_path)),
      m_gauges(m_metrics, m_board, *m_store),
      m_polling(clock),
      m_baselines(*m_store),
      m_pool(config.monitor.workers, clock, [this] { wake_control(); },
             [this](const RuleSpec& spec, Instant now) {
               return m_baselines.history_for(spec, now);
             }) {
  if (m_options.dry_run) {
    config.monitor.dry_run = true;
  }
  use_generation(build(std::move(config)));
  m_metrics.set_config_reload(true, m_clock.now());
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
  context.reload_rejected = [this](const std::vector<ConfigError>& errors) {
    reject_reload(errors);
  };
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

Daemon::~Daemon() {
  // The HTTP server stops first and the evaluation workers next (members are
  // destroyed in reverse order), before what they use goes.
  request_stop();
}

std::shared_ptr<const Config> Daemon::config() const {
  MutexLock lock(m_config_mutex);
  return m_config;
}

std::shared_ptr<Generation> Daemon::build(Config config) {
  auto generation = std::make_shared<Generation>(std::move(config), *m_store, m_watchdog, m_clock,
                                                 [this](const DispatchReport& report) {
                                                   {
                                                     MutexLock lock(m_mutex);
                                                     m_reports.push_back(report);
                                                   }
                                                   m_wake.notify_all();
                                                 },
                                                 [this](const RequestRecord& request) {
                                                   {
                                                     MutexLock lock(m_mutex);
                                                     m_run_reports.push_back(request);
                                                   }
                                                   m_wake.notify_all();
                                                 });
  m_evaluated.assign(generation->config.rules.size(), false);
  return generation;
}

void Daemon::use_generation(std::shared_ptr<Generation> generation) {
  m_metrics.set_rules(generation->config.rules);
  m_board.set_rules(generation->config.rules);
  m_gauges.use(*generation);
  // One Redactor for every sink: the log, the state database, what the
  // status board serves.
  m_redactor = config_redactor(generation->config);
  set_log_redactor(m_redactor);
  m_store->set_redactor(m_redactor);
  warn_about_unmasked_values(generation->config);
  m_generation = std::move(generation);
  {
    MutexLock lock(m_config_mutex);
    m_config = std::shared_ptr<const Config>(m_generation, &m_generation->config);
  }
  // At start and at every reload: the loader's document of the file is freed
  // by now, but its pages stay resident until something reuses them.
  malloc_trim(0);
}

void Daemon::request_stop() {
  {
    MutexLock lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
}

void Daemon::request_reload() {
  {
    MutexLock lock(m_mutex);
    m_reload = true;
  }
  m_wake.notify_all();
}

void Daemon::note_state_changed() {
  {
    MutexLock lock(m_mutex);
    m_state_changed = true;
  }
  m_wake.notify_all();
}

void Daemon::wake_control() {
  // Under m_mutex, so that the control thread cannot look for results, miss
  // this one and then sleep through the notification.
  MutexLock lock(m_mutex);
  m_wake.notify_one();
}

void Daemon::log_start() const {
  const Config& config = m_generation->config;
  spdlog::info("gapwatch {} running: {} rule(s) on {} warehouse(s), {} executor(s), state {}{}{}",
               GAPWATCH_VERSION, config.rules.size(), config.warehouses.size(),
               config.executors.size(), config.monitor.state_path,
               m_http
                   ? fmt::format(", http://{}:{}/",
                                 config.monitor.listen.substr(0, config.monitor.listen.rfind(':')),
                                 m_http->port())
                   : "",
               config.monitor.dry_run ? " (dry run: nothing is sent)" : "");
}

int Daemon::run() {
  log_start();
  if (auto resumed = m_generation->dispatcher.resume_interrupted(); !resumed) {
    spdlog::error("cannot resume interrupted requests: {}", resumed.error().message);
    return 1;
  }
  close_removed_rules();
  const SteadyTime started = m_clock.steady_now();
  m_gauges.publish_all_next_due();
  while (true) {
    Pass pass = take_requests();  // from the signal thread and the HTTP API
    if (pass.stop) {
      break;
    }
    reload_if_requested(pass);
    reopen_state_if_due(pass);
    const Instant now = m_clock.now();
    m_pool.abandon_overdue();      // evaluations the warehouse stopped answering → error
    record_verdicts(pass);         // results → incidents → backfill requests
    schedule_verifications(pass);  // delivery outcomes → extra evaluations
    start_due_evaluations(now);
    dispatch_due_requests(now, pass);
    follow_runs(now, pass);
    publish_gauges(pass);
    release_retired_generations();
    if (const std::optional<int> exit_code = until_healthy_exit(started)) {
      return shut_down(*exit_code);
    }
    wait_for_work(now);
  }
  return shut_down(0);
}

Daemon::Pass Daemon::take_requests() {
  Pass pass;
  MutexLock lock(m_mutex);
  pass.stop = m_stop;
  pass.reload = std::exchange(m_reload, false);
  // A reload reads the gauges afresh; a change through the API reads the
  // outbox now.
  pass.store_changed = pass.reload || std::exchange(m_state_changed, false);
  return pass;
}

void Daemon::reload_if_requested(const Pass& pass) {
  if (pass.reload) {
    reload();
    m_gauges.publish_all_next_due();
  }
}

void Daemon::reload() {
  spdlog::info("reloading {}", m_options.config_path);
  auto config = load_config_file(m_options.config_path, process_environment());
  if (!config) {
    reject_reload(config.error());
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
  // its evaluations still in flight are dropped. Its polls of runs stop now
  // (one under way is cut short, unrecorded): the new generation's tracker
  // finds the same runs in the state database, and two would ask twice.
  m_generation->runs.shutdown();
  m_retired.push_back(m_generation);
  use_generation(build(std::move(*config)));
  m_metrics.set_config_reload(true, m_clock.now());
  spdlog::info("configuration reloaded: {} rule(s), {} warehouse(s), {} executor(s)",
               m_generation->config.rules.size(), m_generation->config.warehouses.size(),
               m_generation->config.executors.size());
  close_removed_rules();
}

void Daemon::close_removed_rules() {
  if (!m_store->unavailable_reason().empty()) {
    return;  // done when the state database opens
  }
  auto closed = m_generation->incidents.close_removed_rules(m_generation->config);
  if (!closed) {
    spdlog::error("cannot close the incidents of removed rules: {}", closed.error().message);
    return;
  }
  for (const std::string& line : *closed) {
    spdlog::warn("{}", line);
  }
  std::set<std::string> rules;
  for (const RuleConfig& rule : m_generation->config.rules) {
    rules.insert(rule.spec.name);
  }
  auto forgotten = m_baselines.forget_all_but(rules);
  if (!forgotten) {
    spdlog::error("cannot drop the kept baseline counts of removed rules: {}",
                  forgotten.error().message);
  } else if (*forgotten > 0) {
    spdlog::info("dropped the kept baseline counts of {} removed rule(s)", *forgotten);
  }
}

void Daemon::reject_reload(const std::vector<ConfigError>& errors) {
  for (const ConfigError& error : errors) {
    spdlog::error("{}", error.format());
  }
  spdlog::error("reload rejected: {} problem(s); the previous configuration keeps running",
                errors.size());
  m_metrics.set_config_reload(false, m_clock.now());
}

void Daemon::reopen_state_if_due(Pass& pass) {
  // While the state database is a stand-in (it could not be opened), the
  // file is tried again every few seconds.
  if (m_store->unavailable_reason().empty() || !m_polling.reopen_due()) {
    return;
  }
  m_polling.reopen_trying();
  auto reopened = m_store->reopen();
  if (!reopened) {
    spdlog::debug("{}", reopened.error().message);
    return;
  }
  spdlog::info("the state database {} is open: incidents and backfills resume", m_store->path());
  pass.store_changed = true;
  m_generation->incidents.forget_rules_without_incident();
  if (auto resumed = m_generation->dispatcher.resume_interrupted(); !resumed) {
    spdlog::error("cannot resume interrupted requests: {}", resumed.error().message);
  }
  close_removed_rules();
}

void Daemon::record_verdicts(Pass& pass) {
  for (const CompletedEvaluation& done : m_pool.take_completed()) {
    if (done.generation != m_generation) {
      continue;  // evaluated under a configuration since replaced
    }
    record_verdict(done.rule, done.result, pass);
  }
}

void Daemon::record_verdict(std::size_t rule, const RuleResult& evaluated, Pass& pass) {
  Generation& generation = *m_generation;
  const RuleResult result = redacted(evaluated, *m_redactor);
  generation.scheduler.finished(rule, m_clock.now());
  m_gauges.publish_next_due(rule);
  ++m_evaluations;
  m_evaluated[rule] = true;
  // Metrics and the status board first: once the log line is out, what
  // operators query agrees with it.
  m_metrics.record_result(result);
  m_board.record(result);
  m_baselines.record(generation.config.rules[rule].spec, evaluated.verdict, result.evaluated_at);
  log_verdict(generation.config.rules[rule], result.verdict);
  record_incident(generation.config.rules[rule], result, pass);
}

void Daemon::log_verdict(const RuleConfig& rule, const Verdict& verdict) {
  // A change of status is news; the same status again is for debugging.
  const auto previous = m_last_status.find(rule.spec.name);
  if (previous == m_last_status.end() || previous->second != verdict.status) {
    const auto level = verdict.status == Status::pass    ? spdlog::level::info
                       : verdict.status == Status::error ? spdlog::level::err
                                                         : spdlog::level::warn;
    spdlog::log(level, "rule {}: {} ({})", rule.spec.name, to_string(verdict.status),
                verdict.message);
  } else {
    spdlog::debug("rule {}: {} ({})", rule.spec.name, to_string(verdict.status), verdict.message);
  }
  m_last_status[rule.spec.name] = verdict.status;
}

void Daemon::record_incident(const RuleConfig& rule, const RuleResult& result, Pass& pass) {
  auto effects = m_generation->incidents.record(rule, result);
  if (!effects) {
    spdlog::error("rule {}: cannot record the result in the state database: {}", rule.spec.name,
                  effects.error().message);
    return;
  }
  for (const std::string& line : effects->log) {
    spdlog::info("{}", line);
  }
  for (const std::string& line : effects->warnings) {
    spdlog::warn("{}", line);
  }
  if (effects->incident_id) {
    pass.store_changed = true;
  }
  if (effects->opened) {
    ++m_opened;
    m_metrics.record_incident_opened(rule.spec.name);
  }
  if (effects->resolved) {
    ++m_resolved;
  }
  if (!effects->new_requests.empty() && m_generation->config.monitor.dry_run) {
    spdlog::info("dry run: {} request(s) recorded, none sent", effects->new_requests.size());
  }
}

void Daemon::schedule_verifications(Pass& pass) {
  std::deque<DispatchReport> reports;
  {
    MutexLock lock(m_mutex);
    reports.swap(m_reports);
  }
  if (!reports.empty()) {
    pass.store_changed = true;
  }
  for (const DispatchReport& report : reports) {
    ++m_requests;
    m_metrics.record_delivery(report.request.executor, report.outcome.kind);
    const auto rule = m_generation->rule_index(report.request.rule);
    if (!rule) {
      continue;
    }
    if (report.request.state == RequestState::succeeded ||
        report.request.state == RequestState::accepted) {
      // A backfill may have changed counts a baseline keeps: they are read
      // again (a window inside the lookback is read anyway).
      m_baselines.reread(report.request.rule, report.request.window.start);
    }
    if (report.request.verify_by && (report.request.state == RequestState::succeeded ||
                                     report.request.state == RequestState::accepted)) {
      // Verify with an evaluation once the data may be there.
      m_generation->scheduler.request(*rule, *report.request.verify_by);
    } else if (report.request.state == RequestState::failed) {
      // Plan the next attempt (or escalate) without waiting for the schedule.
      m_generation->scheduler.request(*rule, m_clock.now());
    }
    m_gauges.publish_next_due(*rule);
  }
  schedule_after_runs(pass);
}

void Daemon::schedule_after_runs(Pass& pass) {
  std::deque<RequestRecord> settled;
  {
    MutexLock lock(m_mutex);
    settled.swap(m_run_reports);
  }
  for (const RequestRecord& request : settled) {
    pass.store_changed = true;
    const auto rule = m_generation->rule_index(request.rule);
    if (!rule) {
      continue;
    }
    if (request.state == RequestState::accepted && request.verify_by) {
      // Verified (or found still missing) at verify_by, wherever the run's
      // answers moved it. A run that succeeded may have changed counts a
      // baseline keeps.
      if (request.run && request.run->known == RunRecord::Known::state &&
          request.run->state == RunState::succeeded) {
        m_baselines.reread(request.rule, request.window.start);
      }
      m_generation->scheduler.request(*rule, *request.verify_by);
    } else if (request.state == RequestState::failed) {
      // The run failed: plan the next attempt (or escalate) now.
      m_generation->scheduler.request(*rule, m_clock.now());
    }
    m_gauges.publish_next_due(*rule);
  }
}

void Daemon::follow_runs(Instant now, Pass& pass) {
  if (m_generation->config.monitor.dry_run || (!pass.store_changed && now < m_next_run_poll)) {
    return;
  }
  if (auto started = m_generation->runs.poll_due(); !started) {
    spdlog::error("cannot read the runs to follow: {}", started.error().message);
  }
  // A run polled later than it was due (its executor's polls were busy) is
  // looked at again within the second; none due: at the latest in a minute,
  // or when this process changes the state database.
  const auto next = m_store->next_run_poll();
  const Instant soonest = now + std::chrono::seconds{1};
  m_next_run_poll = next && *next ? std::max(**next, soonest) : now + std::chrono::seconds{60};
}

void Daemon::start_due_evaluations(Instant now) {
  Generation& generation = *m_generation;
  std::vector<std::size_t> skipped;
  const std::vector<std::size_t> due = generation.scheduler.take_due(now, &skipped);
  for (const std::size_t rule : skipped) {
    const std::string& name = generation.config.rules[rule].spec.name;
    spdlog::warn("rule {}: evaluation skipped: the previous one is still running", name);
    m_metrics.record_skipped(name);
    m_board.record_skipped(name);
    m_gauges.publish_next_due(rule);
  }
  for (const std::size_t rule : due) {
    m_gauges.publish_next_due(rule);
  }
  m_pool.submit(m_generation, due);
}

void Daemon::dispatch_due_requests(Instant now, Pass& pass) {
  if (m_generation->config.monitor.dry_run) {
    return;
  }
  if (!pass.store_changed && !m_polling.outbox_due(now)) {
    return;
  }
  m_polling.outbox_reading(now);
  auto started = m_generation->dispatcher.dispatch_due();
  if (!started) {
    spdlog::error("cannot read the outbox: {}", started.error().message);
  }
  auto next = m_store->next_due();
  m_polling.set_outbox_pending_due(next ? *next : std::optional<Instant>(now));
  if (started.value_or(0) > 0) {
    pass.store_changed = true;
  }
}

void Daemon::publish_gauges(const Pass& pass) {
  m_gauges.publish_in_flight();
  m_board.set_running(m_pool.running_evaluations());
  // The outbox and incident gauges come from the state database: read it when
  // this process changed it, and every few seconds for what operators change
  // from the command line, not after every result.
  if (pass.store_changed || m_polling.gauges_due()) {
    m_polling.gauges_reading();
    m_gauges.publish_from_store();
  }
}

void Daemon::release_retired_generations() {
  std::erase_if(m_retired, [](const std::shared_ptr<Generation>& old) {
    return old->dispatcher.in_flight() == 0 && old.use_count() == 1;
  });
}

std::optional<int> Daemon::until_healthy_exit(SteadyTime started) {
  if (!m_options.until_healthy) {
    return std::nullopt;
  }
  if (healthy()) {
    spdlog::info("every rule passes and nothing is outstanding");
    return 0;
  }
  if (m_options.max_runtime.count() > 0 && m_clock.steady_now() - started > m_options.max_runtime) {
    spdlog::error("not healthy after {}s; giving up", m_options.max_runtime.count());
    return 1;
  }
  return std::nullopt;
}

bool Daemon::healthy() {
  if (std::find(m_evaluated.begin(), m_evaluated.end(), false) != m_evaluated.end()) {
    return false;
  }
  // Running first: once nothing runs, no result can complete unseen.
  if (m_pool.running() > 0 || m_pool.has_completed()) {
    return false;
  }
  {
    MutexLock lock(m_mutex);
    if (!m_reports.empty() || !m_run_reports.empty()) {
      return false;
    }
  }
  for (const auto& [rule, status] : m_last_status) {
    if (status == Status::fail || status == Status::error) {
      return false;
    }
  }
  auto active = m_store->incidents(IncidentFilter::active);
  return active && active->empty() && m_generation->dispatcher.in_flight() == 0;
}

bool Daemon::work_waiting() const {
  return m_stop || m_reload || m_state_changed || !m_reports.empty() || !m_run_reports.empty() ||
         m_pool.has_completed();
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
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(m_mutex);
  while (!work_waiting() && m_wake.wait_until(m_mutex, deadline)) {
  }
}

int Daemon::shut_down(int exit_code) {
  const std::chrono::seconds grace = m_generation->config.monitor.shutdown_grace;
  spdlog::info("stopping: waiting up to {}s for running work", grace.count());
  // Evaluations not started yet are dropped.
  m_pool.drain(grace);
  m_generation->runs.shutdown();
  m_generation->dispatcher.shutdown(grace);
  for (const auto& old : m_retired) {
    old->runs.shutdown();
    old->dispatcher.shutdown(std::chrono::seconds{0});
  }
  Pass last;
  record_verdicts(last);
  print_summary();
  return exit_code;
}

void Daemon::print_summary() {
  spdlog::info(
      "summary: {} evaluation(s) of {} rule(s); {} incident(s) opened, {} resolved; {} "
      "delivery outcome(s)",
      m_evaluations, m_generation->config.rules.size(), m_opened, m_resolved, m_requests);
}

}  // namespace gapwatch
