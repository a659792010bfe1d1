#include "triggers/retry_policy.h"

#include <chrono>
#include <cstdint>
#include <optional>

#include <doctest/doctest.h>

namespace gapwatch {
namespace {

using std::chrono::seconds;

// Delays compare as counts so that failures print numbers.
std::int64_t delay(const RetryPolicy& policy, int failed_deliveries, double random_unit,
                   std::optional<seconds> retry_after = std::nullopt) {
  return retry_delay(policy, failed_deliveries, random_unit, retry_after).count();
}

RetryPolicy policy(std::int64_t initial, std::int64_t max) {
  return RetryPolicy{5, seconds{initial}, seconds{max}};
}

// Just below 1: random_unit lies in [0, 1).
constexpr double kAlmostOne = 0.999999;

TEST_CASE("the first retry waits between half and all of initial_backoff") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 1, 0.0) == 5);
  CHECK(delay(retry, 1, 0.5) == 8);  // 7.5 rounds up
  CHECK(delay(retry, 1, kAlmostOne) == 10);
}

TEST_CASE("the backoff doubles with each failed delivery") {
  const RetryPolicy retry = policy(10, 100000);
  CHECK(delay(retry, 1, 0.0) == 5);
  CHECK(delay(retry, 2, 0.0) == 10);
  CHECK(delay(retry, 3, 0.0) == 20);
  CHECK(delay(retry, 4, 0.0) == 40);
  CHECK(delay(retry, 4, kAlmostOne) == 80);
}

TEST_CASE("jitter keeps every delay within half to all of the backoff") {
  const RetryPolicy retry = policy(60, 100000);
  for (int failed = 1; failed <= 6; ++failed) {
    const std::int64_t base = 60 << (failed - 1);
    for (const double random_unit : {0.0, 0.1, 0.37, 0.5, 0.73, 0.9, kAlmostOne}) {
      CAPTURE(failed);
      CAPTURE(random_unit);
      const std::int64_t value = delay(retry, failed, random_unit);
      CHECK(value >= base / 2);
      CHECK(value <= base);
    }
  }
}

TEST_CASE("different random draws spread retries apart") {
  const RetryPolicy retry = policy(100, 100000);
  CHECK(delay(retry, 3, 0.1) == 220);
  CHECK(delay(retry, 3, 0.6) == 320);
}

TEST_CASE("the backoff is capped at max_backoff") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 9, 0.0) == 900);
  CHECK(delay(retry, 9, kAlmostOne) == 1800);
  CHECK(delay(retry, 20, kAlmostOne) == 1800);
}

TEST_CASE("a huge number of failed deliveries does not overflow") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 1000000, 0.0) == 900);
  CHECK(delay(retry, 2147483647, kAlmostOne) == 1800);
}

TEST_CASE("no failed delivery yet is treated like the first") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 0, 0.0) == 5);
  CHECK(delay(retry, -3, 0.0) == 5);
}

TEST_CASE("a random unit out of range is clamped into it") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 1, -1.0) == 5);
  CHECK(delay(retry, 1, 7.0) == 10);
}

TEST_CASE("a Retry-After longer than the backoff is honoured") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 1, 0.0, seconds{120}) == 120);
  // Even beyond max_backoff: the server knows when it will be ready.
  CHECK(delay(retry, 1, 0.0, seconds{3600}) == 3600);
}

TEST_CASE("a Retry-After shorter than the backoff does not shorten it") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 3, 0.0, seconds{2}) == 20);
  CHECK(delay(retry, 3, 0.0, seconds{0}) == 20);
}

TEST_CASE("a Retry-After beyond a day is taken as a day") {
  const RetryPolicy retry = policy(10, 1800);
  CHECK(delay(retry, 1, 0.0, seconds{86400}) == 86400);
  CHECK(delay(retry, 1, 0.0, seconds{999999999}) == 86400);
}

TEST_CASE("a delay is never shorter than one second") {
  CHECK(delay(policy(1, 1800), 1, 0.0) == 1);  // half a second rounds up
  CHECK(delay(policy(0, 0), 1, 0.0) == 1);
  CHECK(delay(policy(0, 0), 1, 0.0, seconds{0}) == 1);
}

}  // namespace
}  // namespace gapwatch
