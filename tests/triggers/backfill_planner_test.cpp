#include "triggers/backfill_planner.h"

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace doctest {

template <>
struct StringMaker<std::vector<gapwatch::PlannedRequest>> {
  static String convert(const std::vector<gapwatch::PlannedRequest>& requests) {
    return gapwatch::testing::join(requests, [](const gapwatch::PlannedRequest& request) {
      return gapwatch::testing::describe(request.window.start, request.window.end) + " attempt " +
             std::to_string(request.attempt);
    });
  }
};

}  // namespace doctest

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::at;

// Every window below is counted in hours from this instant. (A function, not
// a constant: at() asserts, and doctest cannot assert before main.)
Instant base() {
  return at("2026-11-25T00:00:00Z");
}

Window span(int from_hour, int to_hour) {
  return Window{base() + hours{from_hour}, base() + hours{to_hour}, Status::fail};
}

// Adjacent hourly units covering [from_hour, to_hour).
std::vector<Window> hourly(int from_hour, int to_hour) {
  std::vector<Window> units;
  for (int hour = from_hour; hour < to_hour; ++hour) {
    units.push_back(span(hour, hour + 1));
  }
  return units;
}

PastRequest past(Window window, int attempt, RequestProgress progress, bool counts = true) {
  return PastRequest{window, attempt, progress, counts};
}

PlannedRequest request(Window window, int attempt = 1) {
  return PlannedRequest{window, attempt};
}

BackfillPlan plan(std::vector<Window> units, std::vector<PastRequest> history = {},
                  const BackfillPolicy& policy = {}) {
  PlanningInput input;
  input.failing_units = std::move(units);
  input.history = std::move(history);
  return plan_backfill(input, policy);
}

BackfillPolicy with_max_window(std::chrono::seconds max_window) {
  BackfillPolicy policy;
  policy.max_window = max_window;
  return policy;
}

BackfillPolicy with_max_attempts(int max_attempts) {
  BackfillPolicy policy;
  policy.max_attempts = max_attempts;
  return policy;
}

BackfillPolicy with_not_before(Instant not_before) {
  BackfillPolicy policy;
  policy.not_before = not_before;
  return policy;
}

BackfillPolicy with_min_buckets(int min_buckets) {
  BackfillPolicy policy;
  policy.min_buckets = min_buckets;
  return policy;
}

TEST_CASE("nothing failing plans nothing") {
  const BackfillPlan result = plan({});
  CHECK(result.requests.empty());
  CHECK_FALSE(result.escalate);
  CHECK(result.reason == "no failing buckets");
}

TEST_CASE("one failing unit without history is requested as attempt 1") {
  const BackfillPlan result = plan({span(3, 4)});
  CHECK(result.requests == std::vector{request(span(3, 4), 1)});
  CHECK_FALSE(result.escalate);
  CHECK(result.reason.empty());
}

TEST_CASE("adjacent failing buckets merge into one request") {
  CHECK(plan(hourly(2, 5)).requests == std::vector{request(span(2, 5))});
}

TEST_CASE("non-adjacent failing buckets are never merged") {
  const BackfillPlan result = plan({span(0, 1), span(2, 3), span(3, 4), span(6, 7)});
  CHECK(result.requests ==
        std::vector{request(span(0, 1)), request(span(2, 4)), request(span(6, 7))});
}

TEST_CASE("max_window cuts merged buckets on bucket boundaries") {
  SUBCASE("six hourly buckets with max_window 4h give 4h then 2h") {
    CHECK(plan(hourly(0, 6), {}, with_max_window(hours{4})).requests ==
          std::vector{request(span(0, 4)), request(span(4, 6))});
  }
  SUBCASE("a run exactly max_window long stays one request") {
    CHECK(plan(hourly(0, 4), {}, with_max_window(hours{4})).requests ==
          std::vector{request(span(0, 4))});
  }
  SUBCASE("a max_window shorter than two buckets keeps each bucket whole") {
    CHECK(plan(hourly(0, 3), {}, with_max_window(minutes{90})).requests ==
          std::vector{request(span(0, 1)), request(span(1, 2)), request(span(2, 3))});
  }
  SUBCASE("cutting restarts at a gap") {
    std::vector<Window> units = hourly(0, 3);
    const std::vector<Window> later = hourly(4, 7);
    units.insert(units.end(), later.begin(), later.end());
    CHECK(plan(units, {}, with_max_window(hours{2})).requests ==
          std::vector{request(span(0, 2)), request(span(2, 3)), request(span(4, 6)),
                      request(span(6, 7))});
  }
}

TEST_CASE("max_window cuts a single unit longer than it by time") {
  // A freshness rule's one window: 30 hours without data, max_window 12h.
  CHECK(plan({span(0, 30)}, {}, with_max_window(hours{12})).requests ==
        std::vector{request(span(0, 12)), request(span(12, 24)), request(span(24, 30))});
}

TEST_CASE("an outstanding request blocks every unit it overlaps") {
  SUBCASE("covered units are left alone") {
    const BackfillPlan result =
        plan(hourly(0, 4), {past(span(1, 3), 1, RequestProgress::outstanding)});
    // What remains is not adjacent any more, so it is not merged either.
    CHECK(result.requests == std::vector{request(span(0, 1)), request(span(3, 4))});
  }
  SUBCASE("an overlap of a few minutes is enough") {
    const Window partial{base() + minutes{90}, base() + minutes{100}, Status::fail};
    CHECK(plan(hourly(0, 3), {past(partial, 1, RequestProgress::outstanding)}).requests ==
          std::vector{request(span(0, 1)), request(span(2, 3))});
  }
  SUBCASE("a request that only touches a unit does not block it") {
    CHECK(plan({span(1, 2)}, {past(span(0, 1), 1, RequestProgress::outstanding),
                              past(span(2, 3), 1, RequestProgress::outstanding)})
              .requests == std::vector{request(span(1, 2))});
  }
  SUBCASE("an outstanding request from an earlier incident blocks too") {
    CHECK(plan({span(1, 2)}, {past(span(0, 5), 1, RequestProgress::outstanding, false)})
              .requests.empty());
  }
  SUBCASE("when every unit is requested nothing is planned and the log says why") {
    const BackfillPlan result =
        plan(hourly(0, 2), {past(span(0, 2), 1, RequestProgress::outstanding)});
    CHECK(result.requests.empty());
    CHECK_FALSE(result.escalate);
    CHECK(result.reason == "every failing bucket is already requested or lies before not_before");
  }
}

TEST_CASE("failed and done requests do not block a unit") {
  CHECK(plan({span(0, 1)}, {past(span(0, 1), 1, RequestProgress::failed)}).requests.size() == 1);
  CHECK(plan({span(0, 1)}, {past(span(0, 1), 1, RequestProgress::done)}).requests.size() == 1);
}

TEST_CASE("a failed request raises the attempt number") {
  CHECK(plan(hourly(0, 2), {past(span(0, 2), 1, RequestProgress::failed)}).requests ==
        std::vector{request(span(0, 2), 2)});
}

TEST_CASE("a done request raises the attempt number so a request id is never reused") {
  CHECK(plan({span(0, 1)}, {past(span(0, 1), 1, RequestProgress::done)}).requests ==
        std::vector{request(span(0, 1), 2)});
}

TEST_CASE("the attempt is one more than the highest earlier attempt overlapping the piece") {
  const std::vector<PastRequest> history{
      past(span(0, 1), 1, RequestProgress::failed), past(span(1, 2), 2, RequestProgress::done),
      past(span(5, 6), 7, RequestProgress::failed),  // overlaps nothing planned
  };
  CHECK(plan(hourly(0, 2), history, with_max_attempts(10)).requests ==
        std::vector{request(span(0, 2), 3)});
}

TEST_CASE("each piece gets its own attempt number") {
  const std::vector<PastRequest> history{past(span(4, 5), 2, RequestProgress::failed)};
  CHECK(plan(hourly(0, 6), history, with_max_window(hours{4})).requests ==
        std::vector{request(span(0, 4), 1), request(span(4, 6), 3)});
}

TEST_CASE("attempts continue across incidents") {
  // Two failures from an earlier incident (or before an operator retry):
  // they raise the attempt number but do not count toward escalation.
  const std::vector<PastRequest> history{past(span(0, 1), 1, RequestProgress::failed, false),
                                         past(span(0, 1), 2, RequestProgress::failed, false)};
  const BackfillPlan result = plan({span(0, 1)}, history, with_max_attempts(2));
  CHECK_FALSE(result.escalate);
  CHECK(result.requests == std::vector{request(span(0, 1), 3)});
}

TEST_CASE("escalation happens exactly when counted failures reach max_attempts") {
  std::vector<PastRequest> history{past(span(0, 2), 1, RequestProgress::failed),
                                   past(span(0, 2), 2, RequestProgress::failed)};
  SUBCASE("one failure short: another attempt") {
    const BackfillPlan result = plan(hourly(0, 2), history, with_max_attempts(3));
    CHECK_FALSE(result.escalate);
    CHECK(result.requests == std::vector{request(span(0, 2), 3)});
  }
  SUBCASE("an uncounted failure does not tip it over") {
    history.push_back(past(span(0, 2), 3, RequestProgress::failed, false));
    const BackfillPlan result = plan(hourly(0, 2), history, with_max_attempts(3));
    CHECK_FALSE(result.escalate);
    CHECK(result.requests == std::vector{request(span(0, 2), 4)});
  }
  SUBCASE("a done request does not count as a failure") {
    history.push_back(past(span(0, 2), 3, RequestProgress::done));
    const BackfillPlan result = plan(hourly(0, 2), history, with_max_attempts(3));
    CHECK_FALSE(result.escalate);
    CHECK(result.requests == std::vector{request(span(0, 2), 4)});
  }
  SUBCASE("failures of other windows do not count") {
    history.push_back(past(span(2, 3), 1, RequestProgress::failed));
    const BackfillPlan result = plan(hourly(0, 2), history, with_max_attempts(3));
    CHECK_FALSE(result.escalate);
  }
  SUBCASE("the third counted failure escalates instead of requesting") {
    history.push_back(past(span(0, 2), 3, RequestProgress::failed));
    const BackfillPlan result = plan(hourly(0, 2), history, with_max_attempts(3));
    CHECK(result.escalate);
    CHECK(result.requests.empty());
    CHECK(result.reason ==
          "window 2026-11-25T00:00:00Z .. 2026-11-25T02:00:00Z still fails after 3 failed "
          "attempt(s)");
  }
  SUBCASE("max_attempts 1 escalates after the first counted failure") {
    const BackfillPlan result =
        plan({span(0, 1)}, {past(span(0, 1), 1, RequestProgress::failed)}, with_max_attempts(1));
    CHECK(result.escalate);
    CHECK(result.requests.empty());
  }
}

TEST_CASE("one escalating piece escalates the whole plan") {
  const std::vector<PastRequest> history{past(span(5, 6), 1, RequestProgress::failed),
                                         past(span(5, 6), 2, RequestProgress::failed)};
  const BackfillPlan result = plan({span(0, 1), span(5, 6)}, history, with_max_attempts(2));
  CHECK(result.escalate);
  CHECK(result.requests.empty());
}

TEST_CASE("not_before drops units ending before it and clips a unit straddling it") {
  const Instant not_before = base() + minutes{150};  // 02:30
  const BackfillPlan result = plan(hourly(0, 4), {}, with_not_before(not_before));
  CHECK(result.requests ==
        std::vector{request(Window{not_before, base() + hours{4}, Status::fail})});
}

TEST_CASE("not_before on a bucket boundary drops the bucket ending there") {
  CHECK(plan(hourly(0, 4), {}, with_not_before(base() + hours{2})).requests ==
        std::vector{request(span(2, 4))});
}

TEST_CASE("when every unit lies before not_before nothing is planned") {
  const BackfillPlan result = plan(hourly(0, 3), {}, with_not_before(base() + hours{3}));
  CHECK(result.requests.empty());
  CHECK_FALSE(result.escalate);
  CHECK(result.reason == "every failing bucket is already requested or lies before not_before");
}

TEST_CASE("min_buckets waits until enough buckets fail") {
  SUBCASE("fewer than min_buckets: nothing, with the reason") {
    const BackfillPlan result = plan(hourly(0, 2), {}, with_min_buckets(3));
    CHECK(result.requests.empty());
    CHECK_FALSE(result.escalate);
    CHECK(result.reason == "2 failing bucket(s) to request, waiting for min_buckets (3)");
  }
  SUBCASE("exactly min_buckets: requested") {
    CHECK(plan(hourly(0, 3), {}, with_min_buckets(3)).requests == std::vector{request(span(0, 3))});
  }
  SUBCASE("non-adjacent buckets count together") {
    CHECK(plan({span(0, 1), span(4, 5), span(8, 9)}, {}, with_min_buckets(3)).requests.size() == 3);
  }
  SUBCASE("buckets already requested do not count") {
    const BackfillPlan result = plan(
        hourly(0, 3), {past(span(0, 1), 1, RequestProgress::outstanding)}, with_min_buckets(3));
    CHECK(result.requests.empty());
    CHECK(result.reason == "2 failing bucket(s) to request, waiting for min_buckets (3)");
  }
  SUBCASE("buckets before not_before do not count") {
    BackfillPolicy policy = with_min_buckets(3);
    policy.not_before = base() + hours{1};
    CHECK(plan(hourly(0, 3), {}, policy).requests.empty());
  }
}

TEST_CASE("failing_units of a verdict with buckets are its fail buckets, one unit each") {
  Verdict verdict;
  verdict.status = Status::fail;
  const std::optional<Status> statuses[] = {Status::pass, Status::fail, Status::fail,
                                            Status::warn, std::nullopt, Status::fail};
  int hour = 0;
  for (const std::optional<Status>& status : statuses) {
    BucketVerdict bucket;
    bucket.start = base() + hours{hour};
    bucket.end = base() + hours{hour + 1};
    bucket.status = status;
    verdict.buckets.push_back(bucket);
    ++hour;
  }
  // The merged windows are ignored when there are buckets.
  verdict.windows = {span(1, 3), Window{base() + hours{3}, base() + hours{4}, Status::warn},
                     span(5, 6)};
  CHECK(failing_units(verdict) == std::vector{span(1, 2), span(2, 3), span(5, 6)});
}

TEST_CASE("failing_units of a verdict without buckets are its fail windows") {
  Verdict verdict;
  verdict.status = Status::fail;
  verdict.windows = {span(0, 30), Window{base() + hours{40}, base() + hours{41}, Status::warn}};
  CHECK(failing_units(verdict) == std::vector{span(0, 30)});
}

TEST_CASE("failing_units of a passing verdict is empty") {
  Verdict verdict;
  verdict.status = Status::pass;
  CHECK(failing_units(verdict).empty());
}

}  // namespace
}  // namespace gapwatch
