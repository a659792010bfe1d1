#include "monitor/daemon/evaluation_pool.h"

#include <utility>

#include "monitor/daemon/generation.h"

namespace gapwatch {

EvaluationPool::EvaluationPool(int workers, const Clock& clock, std::function<void()> wake_control)
    : m_clock(clock), m_wake_control(std::move(wake_control)) {
  for (int i = 0; i < workers; ++i) {
    m_workers.emplace_back([this] { work(); });
  }
}

EvaluationPool::~EvaluationPool() {
  {
    MutexLock lock(m_mutex);
    m_shutdown = true;
  }
  m_work_ready.notify_all();
  m_workers.clear();
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

std::optional<EvaluationPool::Taken> EvaluationPool::take_job() {
  MutexLock lock(m_mutex);
  while (true) {
    if (WarehouseQueue* queue = runnable_queue()) {
      Taken taken{std::move(queue->jobs.front()), queue};
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

void EvaluationPool::work() {
  while (std::optional<Taken> taken = take_job()) {
    Job& job = taken->job;
    const RuleConfig& rule = job.generation->config.rules[job.rule];
    RuleResult result = job.generation->evaluator.evaluate(rule, m_clock.now());
    finish(*taken->queue,
           CompletedEvaluation{std::move(job.generation), job.rule, std::move(result)});
  }
}

void EvaluationPool::finish(WarehouseQueue& queue, CompletedEvaluation done) {
  const bool needs_action = done.result.verdict.status != Status::pass;
  bool idle = false;
  {
    MutexLock lock(m_mutex);
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

}  // namespace gapwatch
