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
  std::shared_ptr<Firing> firing;
  {
    MutexLock lock(m_mutex);
    if (m_entries.erase(token) > 0) {
      return false;
    }
    const auto found = m_fired.find(token);
    firing = std::move(found->second);
    m_fired.erase(found);
  }
  // The cancel action was started: wait until it has returned.
  MutexLock lock(firing->mutex);
  while (!firing->done) {
    firing->returned.wait(firing->mutex);
  }
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
  auto firing = std::make_shared<Firing>();
  m_fired[entry->first] = firing;
  std::thread([cancel = std::move(entry->second.cancel), firing] {
    cancel();
    MutexLock lock(firing->mutex);
    firing->done = true;
    firing->returned.notify_all();
  }).detach();
  m_entries.erase(entry);
}

}  // namespace gapwatch
