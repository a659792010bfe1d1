// SystemClock: the real clocks — the system's wall clock (UTC) and its
// monotonic clock. Thread-safe.
#pragma once

#include <chrono>

#include "rules/clock.h"

namespace gapwatch {

class SystemClock final : public Clock {
 public:
  PreciseInstant precise_now() const override {
    return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  }
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace gapwatch
