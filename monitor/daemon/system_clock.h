// SystemClock: the real wall clock, or a fixed instant for `check --now`.
// Thread-safe.
#pragma once

#include <optional>

#include "rules/clock.h"

namespace gapwatch {

class SystemClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

}  // namespace gapwatch
