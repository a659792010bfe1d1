// Clock: where "now" comes from. Everything that needs the time takes a Clock,
// so tests drive time by hand (ManualClock) instead of sleeping. SystemClock
// lives in monitor/. ManualClock is thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "rules/time.h"

namespace gapwatch {

class Clock {
 public:
  virtual ~Clock() = default;
  // The current instant (UTC, whole seconds).
  virtual Instant now() const = 0;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start) : m_now(start.time_since_epoch().count()) {}
  Instant now() const override { return Instant{std::chrono::seconds{m_now.load()}}; }
  void set(Instant instant) { m_now = instant.time_since_epoch().count(); }
  void advance(std::chrono::seconds by) { m_now += by.count(); }

 private:
  std::atomic<std::int64_t> m_now;
};

}  // namespace gapwatch
