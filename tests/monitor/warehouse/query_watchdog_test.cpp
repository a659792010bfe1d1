// QueryWatchdog: a statement past its deadline is cancelled exactly once, one
// disarmed in time never is, and disarm() does not return while a cancel
// action still runs (the caller frees the statement handle right after).
// Deadlines lie in the past or an hour ahead, so no test depends on how fast
// the machine is; waits for the watchdog's thread are bounded.
#include "monitor/warehouse/query_watchdog.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <doctest/doctest.h>

namespace gapwatch {
namespace {

using namespace std::chrono_literals;
using SteadyClock = QueryWatchdog::Clock;

constexpr auto kBound = 30s;  // how long a test waits for the watchdog's thread at most

TEST_CASE("query watchdog: a statement past its deadline is cancelled once, and disarm says so") {
  QueryWatchdog watchdog;
  std::atomic<int> cancels{0};
  std::promise<void> cancelled;
  const auto token = watchdog.arm(SteadyClock::now() - 1s, [&] {
    if (++cancels == 1) {
      cancelled.set_value();
    }
  });
  REQUIRE(cancelled.get_future().wait_for(kBound) == std::future_status::ready);
  CHECK(watchdog.disarm(token));
  CHECK(cancels == 1);
}

TEST_CASE("query watchdog: a statement disarmed before its deadline is never cancelled") {
  std::atomic<int> cancels{0};
  {
    QueryWatchdog watchdog;
    const auto token = watchdog.arm(SteadyClock::now() + 1h, [&] { ++cancels; });
    CHECK_FALSE(watchdog.disarm(token));
  }  // the watchdog's thread has stopped
  CHECK(cancels == 0);
}

TEST_CASE("query watchdog: only the statements past their deadline are cancelled") {
  QueryWatchdog watchdog;
  std::atomic<int> late_cancels{0};
  std::atomic<int> timely_cancels{0};
  std::promise<void> cancelled;
  const auto timely = watchdog.arm(SteadyClock::now() + 1h, [&] { ++timely_cancels; });
  const auto late = watchdog.arm(SteadyClock::now() - 1s, [&] {
    ++late_cancels;
    cancelled.set_value();
  });
  REQUIRE(cancelled.get_future().wait_for(kBound) == std::future_status::ready);
  CHECK(watchdog.disarm(late));
  CHECK_FALSE(watchdog.disarm(timely));
  CHECK(late_cancels == 1);
  CHECK(timely_cancels == 0);
}

TEST_CASE("query watchdog: disarm returns only after the cancel action has returned") {
  QueryWatchdog watchdog;
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> finished{false};
  const auto token = watchdog.arm(SteadyClock::now() - 1s, [&] {
    started.set_value();
    released.wait();
    finished = true;
  });
  REQUIRE(started.get_future().wait_for(kBound) == std::future_status::ready);
  // The cancel action is now running and blocked: a disarm from here on must
  // wait for it.
  std::atomic<bool> finished_when_disarmed{false};
  std::thread disarming([&] {
    CHECK(watchdog.disarm(token));
    finished_when_disarmed = finished.load();
  });
  release.set_value();
  disarming.join();
  CHECK(finished_when_disarmed);
}

// SQLCancel on a server stopped with SIGSTOP never returns: before each cancel
// had a thread of its own, one such cancel held up every later deadline.
TEST_CASE("query watchdog: a cancel action that never returns does not hold up another") {
  QueryWatchdog watchdog;
  std::promise<void> stuck_started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  const auto stuck = watchdog.arm(SteadyClock::now() - 2s, [&] {
    stuck_started.set_value();
    released.wait();
  });
  REQUIRE(stuck_started.get_future().wait_for(kBound) == std::future_status::ready);
  std::promise<void> other_cancelled;
  const auto other = watchdog.arm(SteadyClock::now() - 1s, [&] { other_cancelled.set_value(); });
  const bool in_time = other_cancelled.get_future().wait_for(kBound) == std::future_status::ready;
  release.set_value();  // lets the first cancel return, however the check went
  CHECK(in_time);
  CHECK(watchdog.disarm(other));
  CHECK(watchdog.disarm(stuck));
}

}  // namespace
}  // namespace gapwatch
