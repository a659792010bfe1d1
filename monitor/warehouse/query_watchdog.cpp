// QueryWatchdog: one thread that sleeps until the earliest deadline and
// cancels what is still running then (see query_watchdog.h).
#include "monitor/warehouse/query_watchdog.h"

#include <algorithm>

namespace gapwatch {

QueryWatchdog::QueryWatchdog() : m_thread([this] { run(); }) {}

QueryWatchdog::~QueryWatchdog() {
  {
    MutexLock lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

QueryWatchdog::Token QueryWatchdog::arm(Clock::time_point deadline, std::function<void()> cancel) {
  Token token = 0;
  bool earlier = false;
  {
    MutexLock lock(m_mutex);
    token = m_next_token++;
    m_entries.emplace(token, Entry{deadline, std::move(cancel)});
    earlier = deadline < m_wakes_at;
  }
  if (earlier) {
    m_wake.notify_all();
  }
  return token;
}

bool QueryWatchdog::disarm(Token token) {
  MutexLock lock(m_mutex);
  if (m_entries.erase(token) > 0) {
    return false;
  }
  // The cancel action was taken: wait until it has returned.
  while (!m_fired[token]) {
    m_fire_done.wait(m_mutex);
  }
  m_fired.erase(token);
  return true;
}

void QueryWatchdog::run() {
  MutexLock lock(m_mutex);
  while (!m_stopping) {
    if (m_entries.empty()) {
      m_wakes_at = Clock::time_point::max();
      m_wake.wait(m_mutex);
      continue;
    }
    const auto next = std::min_element(m_entries.begin(), m_entries.end(),
                                       [](const auto& a, const auto& b) {
                                         return a.second.deadline < b.second.deadline;
                                       });
    // A copy: while we wait, disarm() may erase the entry.
    const Clock::time_point deadline = next->second.deadline;
    if (Clock::now() < deadline) {
      m_wakes_at = deadline;
      m_wake.wait_until(m_mutex, deadline);
      continue;
    }
    fire(next);
  }
}

void QueryWatchdog::fire(std::map<Token, Entry>::iterator entry) {
  m_wakes_at = Clock::time_point::min();  // firing: awake
  const Token token = entry->first;
  std::function<void()> cancel = std::move(entry->second.cancel);
  m_entries.erase(entry);
  m_fired[token] = false;
  m_mutex.unlock();
  cancel();
  m_mutex.lock();
  m_fired[token] = true;
  m_fire_done.notify_all();
}

}  // namespace gapwatch
