#include "rules/verdict.h"

#include <optional>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;

Bound at_least(double min) {
  return Bound{min, std::nullopt};
}
Bound at_most(double max) {
  return Bound{std::nullopt, max};
}
Bound between(double min, double max) {
  return Bound{min, max};
}

BucketVerdict judged(std::string_view start, std::string_view end, std::optional<Status> status) {
  BucketVerdict bucket;
  bucket.start = at(start);
  bucket.end = at(end);
  bucket.status = status;
  return bucket;
}

// Hourly buckets from 00:00Z on 2026-11-25, one per status given.
std::vector<BucketVerdict> hourly(const std::vector<std::optional<Status>>& statuses) {
  std::vector<BucketVerdict> buckets;
  Instant start = at("2026-11-25T00:00:00Z");
  for (const std::optional<Status>& status : statuses) {
    BucketVerdict bucket;
    bucket.start = start;
    bucket.end = start + std::chrono::hours{1};
    bucket.status = status;
    buckets.push_back(bucket);
    start = bucket.end;
  }
  return buckets;
}

Window window(std::string_view start, std::string_view end, Status status) {
  return Window{at(start), at(end), status};
}

constexpr std::optional<Status> kUnjudged = std::nullopt;

TEST_CASE("to_string names every status") {
  CHECK(to_string(Status::pass) == "pass");
  CHECK(to_string(Status::warn) == "warn");
  CHECK(to_string(Status::fail) == "fail");
  CHECK(to_string(Status::error) == "error");
}

TEST_CASE("worse orders pass < warn < fail < error") {
  const Status order[] = {Status::pass, Status::warn, Status::fail, Status::error};
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      CAPTURE(order[i]);
      CAPTURE(order[j]);
      CHECK(worse(order[i], order[j]) == order[i > j ? i : j]);
    }
  }
  CHECK(worse(Status::error, Status::pass) == Status::error);
  CHECK(worse(Status::warn, Status::fail) == Status::fail);
}

TEST_CASE("judge_value: a minimum") {
  const Thresholds thresholds{at_least(100), at_least(500)};
  CHECK(judge_value(thresholds, 0) == Status::fail);
  CHECK(judge_value(thresholds, 99.5) == Status::fail);
  CHECK(judge_value(thresholds, 100) == Status::warn);  // the bound itself is allowed
  CHECK(judge_value(thresholds, 499) == Status::warn);
  CHECK(judge_value(thresholds, 500) == Status::pass);
  CHECK(judge_value(thresholds, 1e12) == Status::pass);
}

TEST_CASE("judge_value: a maximum") {
  const Thresholds thresholds{at_most(7200), at_most(3600)};
  CHECK(judge_value(thresholds, 0) == Status::pass);
  CHECK(judge_value(thresholds, 3600) == Status::pass);
  CHECK(judge_value(thresholds, 3601) == Status::warn);
  CHECK(judge_value(thresholds, 7200) == Status::warn);
  CHECK(judge_value(thresholds, 7201) == Status::fail);
}

TEST_CASE("judge_value: a range") {
  const Thresholds thresholds{between(10, 1000), between(100, 900)};
  CHECK(judge_value(thresholds, 9) == Status::fail);
  CHECK(judge_value(thresholds, 10) == Status::warn);
  CHECK(judge_value(thresholds, 100) == Status::pass);
  CHECK(judge_value(thresholds, 900) == Status::pass);
  CHECK(judge_value(thresholds, 901) == Status::warn);
  CHECK(judge_value(thresholds, 1001) == Status::fail);
}

TEST_CASE("judge_value: without warn there is only pass or fail") {
  const Thresholds thresholds{at_most(0.02), std::nullopt};
  CHECK(judge_value(thresholds, 0.0) == Status::pass);
  CHECK(judge_value(thresholds, 0.02) == Status::pass);
  CHECK(judge_value(thresholds, 0.0201) == Status::fail);
}

TEST_CASE("judge_value: fail wins over warn when both are violated") {
  const Thresholds thresholds{at_most(10), at_most(5)};
  CHECK(judge_value(thresholds, 11) == Status::fail);
}

TEST_CASE("error_verdict carries the message as the error") {
  const Verdict verdict = error_verdict("query timed out after 60s and was cancelled");
  CHECK(verdict.status == Status::error);
  CHECK(verdict.message == "query timed out after 60s and was cancelled");
  REQUIRE(verdict.error.has_value());
  CHECK(*verdict.error == "query timed out after 60s and was cancelled");
  CHECK_FALSE(verdict.observed.has_value());
  CHECK(verdict.windows.empty());
  CHECK(verdict.buckets.empty());
}

TEST_CASE("a default Verdict is an error, never a pass") {
  CHECK(Verdict{}.status == Status::error);
}

TEST_CASE("merge_windows: maximal runs of non-passing buckets of equal status") {
  SUBCASE("no buckets, or only passing ones: no window") {
    CHECK(merge_windows({}).empty());
    CHECK(merge_windows(hourly({Status::pass, Status::pass})).empty());
  }
  SUBCASE("one failing bucket") {
    CHECK(
        merge_windows(hourly({Status::pass, Status::fail, Status::pass})) ==
        std::vector<Window>{window("2026-11-25T01:00:00Z", "2026-11-25T02:00:00Z", Status::fail)});
  }
  SUBCASE("consecutive failing buckets merge") {
    CHECK(
        merge_windows(hourly({Status::fail, Status::fail, Status::fail})) ==
        std::vector<Window>{window("2026-11-25T00:00:00Z", "2026-11-25T03:00:00Z", Status::fail)});
  }
  SUBCASE("a change of status starts a new window") {
    CHECK(merge_windows(hourly({Status::warn, Status::fail, Status::fail, Status::warn})) ==
          std::vector<Window>{
              window("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z", Status::warn),
              window("2026-11-25T01:00:00Z", "2026-11-25T03:00:00Z", Status::fail),
              window("2026-11-25T03:00:00Z", "2026-11-25T04:00:00Z", Status::warn),
          });
  }
  SUBCASE("a passing bucket ends a run") {
    CHECK(merge_windows(hourly({Status::fail, Status::pass, Status::fail, Status::fail})) ==
          std::vector<Window>{
              window("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z", Status::fail),
              window("2026-11-25T02:00:00Z", "2026-11-25T04:00:00Z", Status::fail),
          });
  }
  SUBCASE("an unjudged bucket ends a run and opens none") {
    CHECK(merge_windows(hourly({Status::fail, kUnjudged, Status::fail})) ==
          std::vector<Window>{
              window("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z", Status::fail),
              window("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", Status::fail),
          });
    CHECK(merge_windows(hourly({kUnjudged, kUnjudged})).empty());
  }
  SUBCASE("a gap between buckets ends a run") {
    const std::vector<BucketVerdict> gapped{
        judged("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z", Status::fail),
        judged("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", Status::fail),
    };
    CHECK(merge_windows(gapped) ==
          std::vector<Window>{
              window("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z", Status::fail),
              window("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", Status::fail),
          });
  }
  SUBCASE("windows follow buckets of uneven length (a 25-hour day)") {
    const std::vector<BucketVerdict> days{
        judged("2026-10-23T22:00:00Z", "2026-10-24T22:00:00Z", Status::pass),
        judged("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", Status::fail),
        judged("2026-10-25T23:00:00Z", "2026-10-26T23:00:00Z", Status::fail),
    };
    CHECK(merge_windows(days) == std::vector<Window>{window("2026-10-24T22:00:00Z",
                                                            "2026-10-26T23:00:00Z", Status::fail)});
  }
  SUBCASE("the last bucket closes an open run") {
    CHECK(
        merge_windows(hourly({Status::pass, Status::warn, Status::warn})) ==
        std::vector<Window>{window("2026-11-25T01:00:00Z", "2026-11-25T03:00:00Z", Status::warn)});
  }
}

}  // namespace
}  // namespace gapwatch
