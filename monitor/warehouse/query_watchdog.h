// QueryWatchdog: cancels statements that outlive their deadline. Some ODBC
// drivers ignore SQL_ATTR_QUERY_TIMEOUT (the SQLite driver does), so every
// statement is registered here while it runs, and one thread calls its cancel
// action (SQLCancel) when the deadline passes.
//
// Thread-safe. disarm() waits for a cancel action that is running, so once it
// returns the caller may free the statement handle.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

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

  void run();

  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::map<Token, Entry> m_entries;        // guarded by m_mutex
  std::map<Token, bool> m_fired;           // guarded by m_mutex; token -> cancel finished
  Token m_next_token = 1;                  // guarded by m_mutex
  bool m_stopping = false;                 // guarded by m_mutex
  // When the thread wakes next on its own (max while it has nothing to
  // watch): arm() wakes it only for an earlier deadline, not for every
  // statement.
  Clock::time_point m_wakes_at = Clock::time_point::max();  // guarded by m_mutex
  std::condition_variable m_fire_done;
  std::thread m_thread;
};

}  // namespace gapwatch
