// QueryWatchdog: cancels statements that outlive their deadline. Some ODBC
// drivers ignore SQL_ATTR_QUERY_TIMEOUT (the SQLite driver does), so every
// statement is registered here while it runs, and one thread starts its
// cancel action (SQLCancel) when the deadline passes. Each cancel action runs
// on a thread of its own: a server that does not answer (stopped, blackholed)
// leaves SQLCancel waiting on it forever, and that must not hold up the
// cancels of other statements, on this warehouse or any other.
//
// Thread-safe. disarm() waits for a cancel action that is running, so once it
// returns the caller may free the statement handle. m_mutex guards the
// entries; cancel actions run without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
  // A cancel action started on its own thread, and whether it has returned.
  // Shared with that thread, which may outlive the watchdog.
  struct Firing {
    Mutex mutex;
    CondVar returned;  // signalled when done is set
    bool done GUARDED_BY(mutex) = false;
  };

  // The watchdog's thread: waits for the earliest deadline and fires it.
  void run() EXCLUDES(m_mutex);
  // Takes `entry` out and starts its cancel action on a thread of its own.
  void fire(std::map<Token, Entry>::iterator entry) REQUIRES(m_mutex);

  Mutex m_mutex;
  CondVar m_wake;  // signalled on stopping and on an earlier deadline
  std::map<Token, Entry> m_entries GUARDED_BY(m_mutex);
  std::map<Token, std::shared_ptr<Firing>> m_fired GUARDED_BY(m_mutex);
  Token m_next_token GUARDED_BY(m_mutex) = 1;
  bool m_stopping GUARDED_BY(m_mutex) = false;
  // When the thread wakes next on its own (max while it has nothing to
  // watch): arm() wakes it only for an earlier deadline, not for every
  // statement.
  Clock::time_point m_wakes_at GUARDED_BY(m_mutex) = Clock::time_point::max();
  std::thread m_thread;
};

}  // namespace gapwatch
