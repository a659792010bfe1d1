// parse_retry_after only: dispatching needs a server and is covered by the
// integration tests.
#include "triggers/webhook_executor.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;

// The default "now" of these tests, 90 seconds before the dates below.
Instant test_now() {
  return at("2015-10-21T07:26:30Z");
}

// The delay in seconds, or -1 when the value is rejected, so that failures
// print numbers.
std::int64_t retry_after(std::string_view value, Instant now) {
  const std::optional<std::chrono::seconds> delay = parse_retry_after(value, now);
  return delay ? delay->count() : -1;
}

TEST_CASE("Retry-After as delta seconds") {
  CHECK(retry_after("120", test_now()) == 120);
  CHECK(retry_after("0", test_now()) == 0);
  CHECK(retry_after("007", test_now()) == 7);
  CHECK(retry_after("999999999", test_now()) == 999999999);
}

TEST_CASE("Retry-After delta seconds too long to parse are saturated, not overflowed") {
  CHECK(retry_after("99999999999999999999999999", test_now()) == 999999999);
}

TEST_CASE("Retry-After as an HTTP date counts from the injected now") {
  CHECK(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", test_now()) == 90);
  CHECK(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", at("2015-10-21T07:00:00Z")) == 1680);
}

TEST_CASE("Retry-After accepts the obsolete HTTP date forms") {
  CHECK(retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", test_now()) == 90);
  CHECK(retry_after("Wed Oct 21 07:28:00 2015", test_now()) == 90);
}

TEST_CASE("Retry-After with a date in the past means retry now") {
  CHECK(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", at("2015-10-21T08:00:00Z")) == 0);
  CHECK(retry_after("Thu, 01 Jan 1970 00:00:00 GMT", test_now()) == 0);
}

TEST_CASE("Retry-After that is neither seconds nor a date is ignored") {
  CHECK(retry_after("", test_now()) == -1);
  CHECK(retry_after("soon", test_now()) == -1);
  CHECK(retry_after("-5", test_now()) == -1);
  CHECK(retry_after("1.5", test_now()) == -1);
  CHECK(retry_after("12abc", test_now()) == -1);
  CHECK(retry_after("5 seconds", test_now()) == -1);
  CHECK(retry_after("garbage, 99 Foo 2026", test_now()) == -1);
}

}  // namespace
}  // namespace gapwatch
