// EvaluationPool: the daemon's evaluation workers. The control thread submits
// the rules that are due; a fixed number of worker threads evaluate them and
// leave the results in a queue that the control thread takes in batches.
//
// Evaluations wait in a queue per warehouse. A worker takes the oldest job of
// a warehouse that has a connection free (its max_connections), so that a
// warehouse whose queries hang holds at most its own connections' worth of
// workers and the other warehouses' rules keep their schedules.
//
// The control thread is woken (the wake_control callback) only for a result
// that may need acting on (anything but a pass) and at the end of a burst
// (nothing left queued or running: what --until-healthy waits for; drain()
// waits for it on a condition of its own). Otherwise it finds passes at its
// next wake, at most a second away and always before it takes due rules, so
// that a rule never looks still running when it comes due again. A wake per
// result cost a context switch per statement.
//
// An evaluation stuck in a call the warehouse never answers (see Heartbeat)
// is abandoned by abandon_overdue(), which the control thread calls on every
// pass: its rule gets an error result (QueryOutcome::abandoned) at once, its
// warehouse queue's place is freed, and a new worker thread takes over its
// share of the work. The stuck thread is detached; when its call returns it
// ends without touching the pool (Heartbeat::finish decides who owns the
// result). The destructor abandons what is still stuck once it is overdue
// rather than wait for it forever.
//
// Thread-safe: the queues, counts, results and threads are guarded by m_mutex.
// wake_control is called on a worker with no lock of the pool held, so its
// owner may call the pool while holding a lock of its own (the daemon checks
// for results under its mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "monitor/warehouse/heartbeat.h"
#include "monitor/warehouse/rule_result.h"
#include "rules/baseline.h"
#include "rules/clock.h"
#include "rules/mutex.h"

namespace gapwatch {

struct Generation;

// One evaluation, done: rule `rule` of `generation`'s config, and its result.
struct CompletedEvaluation {
  std::shared_ptr<Generation> generation;
  std::size_t rule = 0;
  RuleResult result;
};


class EvaluationPool {
 public:
  // What a worker evaluates a rule with: the kept history of a baseline rule
  // at `now` (may be null). Called on the worker, so thread-safe.
  using HistoryFor =
      std::function<std::shared_ptr<const BaselineHistory>(const RuleSpec& spec, Instant now)>;

  // Starts `workers` threads; each evaluates at the clock's now().
  EvaluationPool(int workers, const Clock& clock, std::function<void()> wake_control,
                 HistoryFor history_for = {});
  // Lets the workers finish the jobs they can take, then joins them.
  ~EvaluationPool();
  EvaluationPool(const EvaluationPool&) = delete;
  EvaluationPool& operator=(const EvaluationPool&) = delete;

  // Queues an evaluation of each of `rules` (indexes into generation's
  // config.rules) on its warehouse's queue, whose cap is the warehouse's
  // max_connections in this generation.
  void submit(const std::shared_ptr<Generation>& generation, const std::vector<std::size_t>& rules)
      EXCLUDES(m_mutex);
  // The results completed since the last call, oldest first.
  std::deque<CompletedEvaluation> take_completed() EXCLUDES(m_mutex);
  bool has_completed() const EXCLUDES(m_mutex);
  // Evaluations submitted whose result is not completed yet (queued or
  // running).
  int running() const EXCLUDES(m_mutex);

  // At shutdown: drops the evaluations not started yet and waits up to
  // `grace` for those still running. Their results stay to be taken.
  void drain(std::chrono::seconds grace) EXCLUDES(m_mutex);

  // Gives up on the evaluations stuck in a driver call past its deadline (at
  // the clock's steady time): each gets an error result, to be taken like any
  // other, and its thread is replaced. Returns how many were abandoned.
  int abandon_overdue() EXCLUDES(m_mutex);
  // The evaluations running now: (rule, since when), oldest first.
  std::vector<std::pair<std::string, Instant>> running_evaluations() const EXCLUDES(m_mutex);
  // Worker threads abandoned in a driver call that has not returned yet, in
  // this process (at exit they are left behind: see main).
  static int threads_stuck();

 private:
  struct Job {
    std::uint64_t sequence = 0;  // the order jobs were queued in
    std::shared_ptr<Generation> generation;
    std::size_t rule = 0;
  };
  struct WarehouseQueue {
    int max_connections = 1;
    int running = 0;
    std::deque<Job> jobs;
  };
  struct Taken {
    Job job;
    WarehouseQueue* queue;
    std::shared_ptr<Heartbeat> heartbeat;
  };
  // An evaluation a worker is running, by job sequence.
  struct Running {
    std::shared_ptr<Generation> generation;
    std::size_t rule = 0;
    Instant now;         // what it evaluates at
    SteadyTime started;  // when it started
    WarehouseQueue* queue = nullptr;
    std::shared_ptr<Heartbeat> heartbeat;
    int worker = 0;  // the thread running it
  };

  void start_worker() REQUIRES(m_mutex);
  void work(int worker) EXCLUDES(m_mutex);
  // The next job to evaluate, waiting for one; std::nullopt at shutdown.
  std::optional<Taken> take_job(int worker) EXCLUDES(m_mutex);
  // Queues one evaluation; true if it raised its warehouse's cap while jobs
  // were waiting (several may be runnable at once).
  bool enqueue(const std::shared_ptr<Generation>& generation, std::size_t rule) REQUIRES(m_mutex);
  // The queue to take a job from, or nullptr.
  WarehouseQueue* runnable_queue() REQUIRES(m_mutex);
  // Records the result of a job whose Heartbeat::finish claim succeeded.
  void finish(std::uint64_t sequence, CompletedEvaluation done) EXCLUDES(m_mutex);
  // Abandons one running evaluation (its Heartbeat claim succeeded).
  void abandon(std::map<std::uint64_t, Running>::iterator running) REQUIRES(m_mutex);

  const Clock& m_clock;
  const std::function<void()> m_wake_control;
  const HistoryFor m_history_for;

  mutable Mutex m_mutex;
  CondVar m_work_ready;  // the workers: a job was queued, or shutdown
  CondVar m_idle;        // drain(): nothing is running any more
  // By warehouse name. Nodes are never erased: a running job keeps a pointer
  // to its queue.
  std::map<std::string, WarehouseQueue> m_queues GUARDED_BY(m_mutex);
  std::uint64_t m_queued GUARDED_BY(m_mutex) = 0;  // jobs ever queued
  int m_running GUARDED_BY(m_mutex) = 0;
  std::deque<CompletedEvaluation> m_completed GUARDED_BY(m_mutex);
  std::map<std::uint64_t, Running> m_in_flight GUARDED_BY(m_mutex);
  bool m_shutdown GUARDED_BY(m_mutex) = false;

  // By worker id; an abandoned worker's thread is detached and erased.
  std::map<int, std::thread> m_workers GUARDED_BY(m_mutex);
  int m_next_worker GUARDED_BY(m_mutex) = 0;
};

}  // namespace gapwatch
