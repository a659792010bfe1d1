#include "monitor/daemon/evaluation_pool.h"

#include <atomic>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "monitor/daemon/generation.h"

namespace gapwatch {

namespace {

// Abandoned threads whose driver call has not returned, process-wide.
std::atomic<int> g_threads_stuck{0};

}  // namespace

int EvaluationPool::threads_stuck() {
  return g_threads_stuck.load();
}

EvaluationPool::EvaluationPool(int workers, const Clock& clock, std::function<void()> wake_control,
                               HistoryFor history_for)
    : m_clock(clock),
      m_wake_control(std::move(wake_control)),
      m_history_for(std::move(history_for)) {
  MutexLock lock(m_mutex);
  for (int i = 0; i < workers; ++i) {
    start_worker();
  }
}

EvaluationPool::~EvaluationPool() {
  std::map<int, std::thread> workers;
  {
    MutexLock lock(m_mutex);
    m_shutdown = true;
    m_work_ready.notify_all();
    // Wait for what runs, but not for a call the warehouse never answers.
    while (!m_in_flight.empty()) {
      std::optional<SteadyTime> earliest;
      for (auto it = m_in_flight.begin(); it != m_in_flight.end();) {
        const auto overdue = it->second.heartbeat->overdue_at();
        if (overdue && m_clock.steady_now() >= *overdue && it->second.heartbeat->abandon()) {
          abandon(it++);
          continue;
        }
        if (overdue && (!earliest || *overdue < *earliest)) {
          earliest = overdue;
        }
        ++it;
      }
      if (m_in_flight.empty()) {
        break;
      }
      // Real time, a second at most: the clock may be a test's.
      m_idle.wait_until(m_mutex, std::chrono::steady_clock::now() + std::chrono::seconds{1});
    }
    workers.swap(m_workers);
  }
  for (auto& [id, worker] : workers) {
    worker.join();
  }
}

void EvaluationPool::start_worker() {
  const int id = m_next_worker++;
  m_workers.emplace(id, std::thread([this, id] { work(id); }));
}

void EvaluationPool::submit(const std::shared_ptr<Generation>& generation,
                            const std::vector<std::size_t>& rules) {
  bool wake_all_workers = false;
  for (const std::size_t rule : rules) {
    {
      MutexLock lock(m_mutex);
      if (enqueue(generation, rule)) {
        wake_all_workers = true;
      }
    }
    m_work_ready.notify_one();
  }
  if (wake_all_workers) {
    m_work_ready.notify_all();
  }
}

bool EvaluationPool::enqueue(const std::shared_ptr<Generation>& generation, std::size_t rule) {
  const std::string& warehouse = generation->config.rules[rule].spec.warehouse;
  const WarehouseConfig* found = generation->config.find_warehouse(warehouse);
  WarehouseQueue& queue = m_queues[warehouse];
  // A reload may change the cap; jobs already running count against it.
  const int max_connections = found ? found->max_connections : 1;
  const bool raised = max_connections > queue.max_connections && !queue.jobs.empty();
  queue.max_connections = max_connections;
  queue.jobs.push_back(Job{++m_queued, generation, rule});
  ++m_running;
  return raised;
}

std::deque<CompletedEvaluation> EvaluationPool::take_completed() {
  std::deque<CompletedEvaluation> completed;
  MutexLock lock(m_mutex);
  completed.swap(m_completed);
  return completed;
}

bool EvaluationPool::has_completed() const {
  MutexLock lock(m_mutex);
  return !m_completed.empty();
}

int EvaluationPool::running() const {
  MutexLock lock(m_mutex);
  return m_running;
}

void EvaluationPool::drain(std::chrono::seconds grace) {
  // A real wait, on the system's monotonic clock whatever clock evaluates.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  MutexLock lock(m_mutex);
  for (auto& [warehouse, queue] : m_queues) {
    m_running -= static_cast<int>(queue.jobs.size());
    queue.jobs.clear();
  }
  while (m_running > 0 && m_idle.wait_until(m_mutex, deadline)) {
  }
}

EvaluationPool::WarehouseQueue* EvaluationPool::runnable_queue() {
  WarehouseQueue* oldest = nullptr;
  for (auto& [warehouse, queue] : m_queues) {
    if (!queue.jobs.empty() && queue.running < queue.max_connections &&
        (oldest == nullptr || queue.jobs.front().sequence < oldest->jobs.front().sequence)) {
      oldest = &queue;
    }
  }
  return oldest;
}

std::optional<EvaluationPool::Taken> EvaluationPool::take_job(int worker) {
  MutexLock lock(m_mutex);
  while (true) {
    if (WarehouseQueue* queue = runnable_queue()) {
      auto heartbeat = std::make_shared<Heartbeat>(m_clock);
      Running running{queue->jobs.front().generation, queue->jobs.front().rule, m_clock.now(),
                      m_clock.steady_now(), queue, heartbeat, worker};
      m_in_flight.emplace(queue->jobs.front().sequence, std::move(running));
      Taken taken{std::move(queue->jobs.front()), queue, std::move(heartbeat)};
      queue->jobs.pop_front();
      ++queue->running;
      return taken;
    }
    if (m_shutdown) {
      return std::nullopt;
    }
    m_work_ready.wait(m_mutex);
  }
}

void EvaluationPool::work(int worker) {
  while (std::optional<Taken> taken = take_job(worker)) {
    Job& job = taken->job;
    const std::shared_ptr<Heartbeat> heartbeat = taken->heartbeat;
    const RuleConfig& rule = job.generation->config.rules[job.rule];
    const Instant now = m_clock.now();
    const std::shared_ptr<const BaselineHistory> history =
        m_history_for ? m_history_for(rule.spec, now) : nullptr;
    RuleResult result =
        job.generation->evaluator.evaluate(rule, now, heartbeat.get(), history.get());
    if (!heartbeat->finish()) {
      // Abandoned: the pool recorded an error in our place, runs a new
      // thread instead of this one, and may be gone by now.
      g_threads_stuck.fetch_sub(1);
      return;
    }
    finish(job.sequence,
           CompletedEvaluation{std::move(job.generation), job.rule, std::move(result)});
  }
}

void EvaluationPool::finish(std::uint64_t sequence, CompletedEvaluation done) {
  const bool needs_action = done.result.verdict.status != Status::pass;
  bool idle = false;
  {
    MutexLock lock(m_mutex);
    const auto running = m_in_flight.find(sequence);
    WarehouseQueue& queue = *running->second.queue;
    m_in_flight.erase(running);
    m_completed.push_back(std::move(done));
    --m_running;
    // The connection freed here lets at most one more job of this warehouse
    // run, and this worker looks for it next: no other worker need wake.
    --queue.running;
    idle = m_running == 0;
  }
  if (idle) {
    m_idle.notify_all();
  }
  if (needs_action || idle) {
    m_wake_control();
  }
}

int EvaluationPool::abandon_overdue() {
  int abandoned = 0;
  bool idle = false;
  {
    MutexLock lock(m_mutex);
    const SteadyTime now = m_clock.steady_now();
    for (auto it = m_in_flight.begin(); it != m_in_flight.end();) {
      const auto overdue = it->second.heartbeat->overdue_at();
      if (overdue && now >= *overdue && it->second.heartbeat->abandon()) {
        abandon(it++);
        ++abandoned;
        continue;
      }
      ++it;
    }
    idle = abandoned > 0 && m_running == 0;
  }
  if (idle) {
    m_idle.notify_all();
  }
  return abandoned;
}

void EvaluationPool::abandon(std::map<std::uint64_t, Running>::iterator running) {
  Running& job = running->second;
  const RuleConfig& rule = job.generation->config.rules[job.rule];
  const WarehouseConfig* warehouse = job.generation->config.find_warehouse(rule.spec.warehouse);
  const auto timeout = warehouse != nullptr ? warehouse->query_timeout : std::chrono::seconds{0};
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.steady_now() - job.started);
  const std::string message = fmt::format(
      "warehouse {} did not answer a call for {}s past query_timeout ({}s), not even its "
      "cancel: the evaluation was abandoned after {:.1f}s and its connection will be closed",
      rule.spec.warehouse, Heartbeat::kGrace.count(), timeout.count(),
      static_cast<double>(took.count()) / 1000.0);
  spdlog::error("rule {}: {}", rule.spec.name, message);
  RuleResult result{RuleIdentity(rule.spec), rule.spec.labels, job.now, took,
                    error_verdict(message), QueryOutcome::abandoned};
  m_completed.push_back(CompletedEvaluation{job.generation, job.rule, std::move(result)});
  --m_running;
  --job.queue->running;
  g_threads_stuck.fetch_add(1);
  if (const auto worker = m_workers.find(job.worker); worker != m_workers.end()) {
    worker->second.detach();
    m_workers.erase(worker);
  }
  m_in_flight.erase(running);
  if (!m_shutdown) {
    start_worker();
  }
  m_work_ready.notify_all();  // the warehouse's queue has room again
}

std::vector<std::pair<std::string, Instant>> EvaluationPool::running_evaluations() const {
  std::vector<std::pair<std::string, Instant>> running;
  MutexLock lock(m_mutex);
  for (const auto& [sequence, job] : m_in_flight) {
    running.emplace_back(job.generation->config.rules[job.rule].spec.name, job.now);
  }
  return running;
}

}  // namespace gapwatch
