#include "triggers/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace gapwatch {

namespace {
// A Retry-After beyond a day is taken as a day: a broken header must not park
// a request for years.
constexpr std::chrono::seconds kLongestRetryAfter{86400};
}  // namespace

std::chrono::seconds retry_delay(const RetryPolicy& policy, int failed_deliveries,
                                 double random_unit,
                                 std::optional<std::chrono::seconds> retry_after) {
  const double exponent = std::clamp(failed_deliveries - 1, 0, 40);
  const double base = std::min(static_cast<double>(policy.initial_backoff.count()) *
                                   std::pow(2.0, exponent),
                               static_cast<double>(policy.max_backoff.count()));
  const double jittered = base / 2.0 + std::clamp(random_unit, 0.0, 1.0) * base / 2.0;
  auto delay = std::chrono::seconds{static_cast<std::int64_t>(std::ceil(jittered))};
  if (retry_after) {
    delay = std::max(delay, std::min(*retry_after, kLongestRetryAfter));
  }
  return std::max(delay, std::chrono::seconds{1});
}

}  // namespace gapwatch
