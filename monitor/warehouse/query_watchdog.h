// QueryWatchdog: cancels statements that outlive their deadline. Some ODBC
// drivers ignore SQL_ATTR_QUERY_TIMEOUT (the SQLite driver does), so every
// statement is registered here while it runs, and one thread calls its cancel
// action (SQLCancel) when the deadline passes.
//
// Thread-safe. disarm() waits for a cancel action that is running, so once it
// returns the caller may free the statement handle. m_mutex guards the
// entries; cancel actions run without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "rules/mutex.h"

namespace gapwatch {

class QueryWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  using Token = std::uint64_t;

  QueryWatchdog();
  ~QueryWatchdog();
  QueryWatchdog(const QueryWatchdog&) = delete;
  QueryWatchdog& operator=(const QueryWatchdog&) = delete;

  // Calls `cancel` once at `deadline` unless disarmed first.
  Token arm(Clock::time_point deadline, std::function<void()> cancel);
  // Returns true if the cancel action ran (the statement timed out).
  bool disarm(Token token);

 private:
  struct Entry {
    Clock::time_point deadline;
    std::function<void()> cancel;
  };

  // The watchdog's thread: waits for the earliest deadline and fires it.
  void run() EXCLUDES(m_mutex);
  // Takes `entry` out and runs its cancel action with m_mutex released.
  void fire(std::map<Token, Entry>::iterator entry) REQUIRES(m_mutex);

  Mutex m_mutex;
  CondVar m_wake;       // signalled on stopping and on an earlier deadline
  CondVar m_fire_done;  // signalled when a cancel action has returned
  std::map<Token, Entry> m_entries GUARDED_BY(m_mutex);
  std::map<Token, bool> m_fired GUARDED_BY(m_mutex);  // token -> cancel finished
  Token m_next_token GUARDED_BY(m_mutex) = 1;
  bool m_stopping GUARDED_BY(m_mutex) = false;
  // When the thread wakes next on its own (max while it has nothing to
  // watch): arm() wakes it only for an earlier deadline, not for every
  // statement.
  Clock::time_point m_wakes_at GUARDED_BY(m_mutex) = Clock::time_point::max();
  std::thread m_thread;
};

}  // namespace gapwatch
