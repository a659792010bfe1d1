#include "rules/clock.h"

#include <chrono>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::at;

TEST_CASE("manual clock: advance moves the wall and the monotonic time together") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  const SteadyTime started = clock.steady_now();
  clock.advance(milliseconds{1500});
  CHECK(clock.steady_now() - started == milliseconds{1500});
  CHECK(clock.precise_now() == at("2026-11-24T12:00:00Z") + milliseconds{1500});
}

TEST_CASE("manual clock: now() is the wall time floored to whole seconds") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  clock.advance(milliseconds{999});
  CHECK(clock.now() == at("2026-11-24T12:00:00Z"));
  clock.advance(milliseconds{1});
  CHECK(clock.now() == at("2026-11-24T12:00:01Z"));
}

TEST_CASE("manual clock: set moves the wall time alone, as setting the system clock does") {
  ManualClock clock(at("2026-11-24T12:00:00Z"));
  const SteadyTime started = clock.steady_now();
  clock.set(at("2026-11-24T11:00:00Z"));
  CHECK(clock.now() == at("2026-11-24T11:00:00Z"));
  CHECK(clock.steady_now() == started);
}

TEST_CASE("manual clock: instants far past 2262 keep their value") {
  ManualClock clock(at("2999-12-31T23:59:59Z"));
  clock.advance(seconds{1});
  CHECK(clock.now() == at("3000-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace gapwatch
