// Clock: where "now" comes from. Everything that needs the time takes a Clock,
// so tests drive time by hand (ManualClock) instead of sleeping. A clock has
// two readings: the wall time (UTC instants, which rules and the state
// database speak) and monotonic time (how long something took, when to do
// something again), which never jumps when the wall clock is set.
// SystemClock (monitor/daemon/system_clock.h) reads the real ones.
//
// Thread-safe: ManualClock may be read on any thread while a test moves it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "rules/time.h"

namespace gapwatch {

// The wall time, finer than an Instant (microseconds reach far past 2262,
// where nanoseconds since 1970 overflow).
using PreciseInstant = std::chrono::sys_time<std::chrono::microseconds>;
// A reading of the monotonic clock: only differences between two mean anything.
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall time (UTC).
  virtual PreciseInstant precise_now() const = 0;
  // The current monotonic time.
  virtual SteadyTime steady_now() const = 0;

  // The current instant (UTC, whole seconds): precise_now() floored.
  Instant now() const { return std::chrono::floor<std::chrono::seconds>(precise_now()); }
};

// A clock that moves only when told: advance() moves the wall and the
// monotonic time together; set() moves the wall time alone, as when an
// operator sets the system clock. Its monotonic time starts at SteadyTime{}.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start) : m_wall_us(microseconds_of(start.time_since_epoch())) {}

  PreciseInstant precise_now() const override {
    return PreciseInstant{std::chrono::microseconds{m_wall_us.load()}};
  }
  SteadyTime steady_now() const override {
    return SteadyTime{std::chrono::duration_cast<SteadyTime::duration>(
        std::chrono::microseconds{m_steady_us.load()})};
  }

  void set(Instant instant) { m_wall_us = microseconds_of(instant.time_since_epoch()); }
  void advance(std::chrono::microseconds by) {
    m_wall_us += by.count();
    m_steady_us += by.count();
  }

 private:
  static std::int64_t microseconds_of(std::chrono::seconds since_epoch) {
    return std::chrono::microseconds{since_epoch}.count();
  }

  std::atomic<std::int64_t> m_wall_us;
  std::atomic<std::int64_t> m_steady_us{0};
};

}  // namespace gapwatch
