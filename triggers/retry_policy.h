// When to try a delivery again: exponential backoff from initial_backoff,
// capped at max_backoff, with "equal jitter" (half fixed, half random) so
// that many failing requests do not retry in lockstep; a server's Retry-After
// is honoured when it asks for longer. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>

#include "triggers/executor_spec.h"

namespace gapwatch {

// The delay before delivery number `failed_deliveries + 1`. `random_unit` is
// in [0, 1) (injected so tests are deterministic).
std::chrono::seconds retry_delay(const RetryPolicy& policy, int failed_deliveries,
                                 double random_unit,
                                 std::optional<std::chrono::seconds> retry_after);

}  // namespace gapwatch
