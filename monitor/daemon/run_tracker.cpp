#include "monitor/daemon/run_tracker.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>


namespace gapwatch {

RunTracker::RunTracker(const Config& config, StateStore& store, IncidentManager& incidents,
                       const Clock& clock, Dispatcher& dispatcher, Listener listener)
    : m_config(config),
      m_store(store),
      m_incidents(incidents),
      m_clock(clock),
      m_dispatcher(dispatcher),
      m_listener(std::move(listener)) {}

RunTracker::~RunTracker() { shutdown(); }

void RunTracker::reap() {
  for (auto done = m_done.begin(); done != m_done.end();) {
    if (done->second) {
      m_threads.erase(done->first);  // joins a thread that has ended
      done = m_done.erase(done);
    } else {
      ++done;
    }
  }
}

Expected<int> RunTracker::poll_due() {
  const Instant now = m_clock.now();
  int started = 0;
  MutexLock lock(m_mutex);
  reap();
  for (const ExecutorSpec& executor : m_config.executors) {
    if (executor.is_command() || m_threads.contains(executor.name)) {
      continue;
    }
    auto due = m_store.runs_to_poll(executor.name, now);
    if (!due) {
      return std::unexpected(due.error());
    }
    if (due->empty()) {
      continue;
    }
    m_done[executor.name] = false;
    m_threads.emplace(executor.name, std::jthread([this, name = executor.name](std::stop_token stop) {
                        poll_executor(name, stop);
                      }));
    ++started;
  }
  return started;
}

void RunTracker::shutdown() {
  std::map<std::string, std::jthread> threads;
  {
    MutexLock lock(m_mutex);
    threads.swap(m_threads);
    m_done.clear();
  }
  for (auto& [name, thread] : threads) {
    thread.request_stop();
  }
  threads.clear();  // joins
}

void RunTracker::drain() {
  std::map<std::string, std::jthread> threads;
  {
    MutexLock lock(m_mutex);
    threads.swap(m_threads);
    m_done.clear();
  }
  for (auto& [name, thread] : threads) {
    thread.join();
  }
}

void RunTracker::poll_executor(const std::string& executor, std::stop_token stop) {
  Executor* target = m_dispatcher.executor(executor);
  bool writable = true;
  while (target != nullptr && writable && !stop.stop_requested()) {
    auto due = m_store.runs_to_poll(executor, m_clock.now());
    if (!due) {
      spdlog::error("cannot read the runs to follow: {}", due.error().message);
      break;
    }
    if (due->empty()) {
      break;
    }
    for (const RequestRecord& request : *due) {
      if (stop.stop_requested()) {
        break;
      }
      std::optional<RunPoll> poll =
          target->poll_run(backfill_request_of(request, m_config), request.run->ref, stop);
      if (!poll) {
        poll = RunPoll{RunPoll::Kind::not_found, RunState::queued,
                       "the executor no longer follows runs", std::nullopt};
      }
      if (stop.stop_requested() && poll->kind == RunPoll::Kind::unreachable) {
        break;  // cut short by a stop: asked again on the next start
      }
      if (auto recorded = record(request, *poll); !recorded) {
        spdlog::error("request {}: cannot record its run's state: {}", request.id,
                      recorded.error().message);
        writable = false;  // the database is not taking writes: try on a later pass
        break;
      }
    }
  }
  MutexLock lock(m_mutex);
  if (auto done = m_done.find(executor); done != m_done.end()) {
    done->second = true;
  }
}

Expected<void> RunTracker::record(const RequestRecord& polled, const RunPoll& poll) {
  const Instant now = m_clock.now();
  const RunTiming timing = run_timing(m_config, polled);
  std::optional<RequestRecord> changed;
  RunChange change;
  auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    auto current = transaction.request(polled.id);
    if (!current) {
      return std::unexpected(current.error());
    }
    if (!*current || (*current)->state != RequestState::accepted || !(*current)->run ||
        (*current)->run->ref.id != polled.run->ref.id || !(*current)->run->followed()) {
      // Moved on while the orchestrator was asked: verified, failed, or its
      // run settled by an answer recorded meanwhile (another process's), which
      // a late answer must not undo.
      return {};
    }
    RequestRecord request = std::move(**current);
    change = apply_run_poll(request, poll, timing, now);
    request.updated_at = now;
    if (auto updated = transaction.update_request(request); !updated) {
      return updated;
    }
    if (!change.kind.empty()) {
      if (auto added = transaction.add_event(
              {0, now, request.incident_id, request.id, change.kind, change.detail});
          !added) {
        return added;
      }
    }
    if (change.attempt_failed && request.incident_id) {
      if (auto refreshed = m_incidents.refresh_state(transaction, *request.incident_id);
          !refreshed) {
        return refreshed;
      }
    }
    changed = std::move(request);
    return {};
  });
  if (!done) {
    return done;
  }
  if (!changed || change.kind.empty()) {
    return {};
  }
  const auto level = change.attempt_failed ? spdlog::level::warn : spdlog::level::info;
  spdlog::log(level, "request {} for {}: {}", changed->id, changed->rule, change.detail);
  // Every change the history records may move what the control thread
  // schedules: the verification at verify_by, or the next attempt.
  m_listener(*changed);
  return {};
}

}  // namespace gapwatch
