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
      return gapwatch::testing::describe(request.window.start, request.window.end) +
             (request.window.segment.empty()
                  ? std::string()
                  : " segment " + gapwatch::segment_name(request.window.segment)) +
             " attempt " + std::to_string(request.attempt) +
             (request.not_before ? " not before " + gapwatch::format_rfc3339(*request.not_before)
                                 : "");
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
  PastRequest request;
  request.window = window;
  request.attempt = attempt;
  request.progress = progress;
  request.counts = counts;
  return request;
}

PlannedRequest request(Window window, int attempt = 1) {
  return PlannedRequest{window, attempt, std::nullopt};
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

PastRequest failed_at(Window window, int attempt, Instant when, std::string error = "",
                      bool counts = true) {
  PastRequest request = past(window, attempt, RequestProgress::failed, counts);
  request.failed_at = when;
  request.error = std::move(error);
  return request;
}

BackfillPolicy with_attempt_backoff(std::chrono::seconds backoff, int max_attempts = 10) {
  BackfillPolicy policy;
  policy.attempt_backoff = backoff;
  policy.max_attempts = max_attempts;
  return policy;
}

TEST_CASE("attempt_wait: none for a first attempt, then attempt_backoff doubling up to 2h") {
  CHECK(attempt_wait(minutes{5}, 0) == minutes{0});
  CHECK(attempt_wait(minutes{5}, 1) == minutes{5});
  CHECK(attempt_wait(minutes{5}, 2) == minutes{10});
  CHECK(attempt_wait(minutes{5}, 3) == minutes{20});
  CHECK(attempt_wait(minutes{5}, 5) == minutes{80});
  CHECK(attempt_wait(minutes{5}, 6) == hours{2});
  CHECK(attempt_wait(minutes{5}, 100) == hours{2});  // no overflow however many failed
  CHECK(attempt_wait(hours{2}, 1) == hours{2});
  CHECK(attempt_wait(std::chrono::seconds{0}, 3) == minutes{0});  // 0s: today's behaviour
}

TEST_CASE("a piece with counted failures waits attempt_backoff after the latest of them") {
  const Instant first = base() + hours{10};
  const Instant second = base() + hours{11};
  SUBCASE("one failure: attempt_backoff after it") {
    CHECK(plan({span(0, 1)}, {failed_at(span(0, 1), 1, first)}, with_attempt_backoff(minutes{5}))
              .requests == std::vector{PlannedRequest{span(0, 1), 2, first + minutes{5}}});
  }
  SUBCASE("two failures: twice that, after the later one") {
    CHECK(plan({span(0, 1)}, {failed_at(span(0, 1), 2, second), failed_at(span(0, 1), 1, first)},
               with_attempt_backoff(minutes{5}))
              .requests == std::vector{PlannedRequest{span(0, 1), 3, second + minutes{10}}});
  }
  SUBCASE("failures before an operator retry (or of another incident) do not make it wait") {
    CHECK(plan({span(0, 1)}, {failed_at(span(0, 1), 1, first, "", false)},
               with_attempt_backoff(minutes{5}))
              .requests == std::vector{request(span(0, 1), 2)});
  }
  SUBCASE("attempt_backoff 0s: at once") {
    CHECK(plan({span(0, 1)}, {failed_at(span(0, 1), 1, first)},
               with_attempt_backoff(std::chrono::seconds{0}))
              .requests == std::vector{request(span(0, 1), 2)});
  }
  SUBCASE("a piece without failures goes at once beside one that waits") {
    CHECK(plan({span(0, 1), span(5, 6)}, {failed_at(span(5, 6), 1, first)},
               with_attempt_backoff(minutes{5}))
              .requests == std::vector{request(span(0, 1), 1),
                                       PlannedRequest{span(5, 6), 2, first + minutes{5}}});
  }
}

TEST_CASE("the escalation's reason carries the last failure's error") {
  const BackfillPlan result =
      plan({span(0, 1)},
           {failed_at(span(0, 1), 1, base() + hours{1}, "exit status 1"),
            failed_at(span(0, 1), 2, base() + hours{2}, "the backfill was delivered but the window "
                                                         "still fails")},
           with_attempt_backoff(minutes{5}, 2));
  CHECK(result.escalate);
  CHECK(result.reason ==
        "window 2026-11-25T00:00:00Z .. 2026-11-25T01:00:00Z still fails after 2 failed "
        "attempt(s); the last: the backfill was delivered but the window still fails");
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

// ---------------------------------------------------------------------------
// Manual backfills

TEST_CASE("a manual range is cut into max_window pieces from its start") {
  const auto windows = plan_manual_backfill(span(0, 60), with_max_window(hours{24}));
  REQUIRE(windows.has_value());
  CHECK(*windows == std::vector{span(0, 24), span(24, 48), span(48, 60)});
  const auto short_range = plan_manual_backfill(span(3, 5), with_max_window(hours{24}));
  REQUIRE(short_range.has_value());
  CHECK(*short_range == std::vector{span(3, 5)});
}

TEST_CASE("a manual range is clipped at not_before, and refused when it lies before it") {
  const auto clipped = plan_manual_backfill(span(0, 10), with_not_before(base() + hours{4}));
  REQUIRE(clipped.has_value());
  CHECK(*clipped == std::vector{span(4, 10)});
  const auto before = plan_manual_backfill(span(0, 4), with_not_before(base() + hours{4}));
  REQUIRE_FALSE(before.has_value());
  CHECK(before.error().message ==
        "the range 2026-11-25T00:00:00Z .. 2026-11-25T04:00:00Z lies before the rule's "
        "backfill.not_before (2026-11-25T04:00:00Z)");
}

TEST_CASE("a manual range of more than kMaxManualWindows pieces is refused") {
  SUBCASE("exactly the bound is accepted") {
    const auto windows = plan_manual_backfill(span(0, kMaxManualWindows), with_max_window(hours{1}));
    REQUIRE(windows.has_value());
    CHECK(windows->size() == static_cast<std::size_t>(kMaxManualWindows));
  }
  SUBCASE("one second more is not") {
    const Window range{base(), base() + hours{kMaxManualWindows} + std::chrono::seconds{1},
                       Status::fail};
    CHECK_FALSE(plan_manual_backfill(range, with_max_window(hours{1})).has_value());
  }
  SUBCASE("1970 to 2100 with the default max_window (24h)") {
    const auto refused = plan_manual_backfill(
        Window{at("1970-01-01T00:00:00Z"), at("2100-01-01T00:00:00Z"), Status::fail}, {});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message ==
          "the range 1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z would make 47482 requests of "
          "at most 1d (backfill.max_window); a manual backfill makes at most 1000: request a "
          "shorter range, or several");
  }
}

// ---------------------------------------------------------------------------
// Segments.

SegmentKey fr() {
  return SegmentKey{"FR"};
}
SegmentKey de() {
  return SegmentKey{"DE"};
}

Window in(const SegmentKey& segment, Window window) {
  window.segment = segment;
  return window;
}

std::vector<Window> in(const SegmentKey& segment, std::vector<Window> windows) {
  for (Window& window : windows) {
    window.segment = segment;
  }
  return windows;
}

std::vector<Window> joined(std::vector<Window> a, const std::vector<Window>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_CASE("failing_units of a segmented verdict carry each bucket's segment") {
  Verdict verdict;
  verdict.status = Status::fail;
  verdict.segments = {SegmentVerdict{SegmentKey{std::nullopt}, Status::fail, 0.0, ""},
                      SegmentVerdict{fr(), Status::fail, 0.0, ""}};
  const auto add = [&](std::uint32_t segment, int hour, Status status) {
    BucketVerdict bucket;
    bucket.start = base() + hours{hour};
    bucket.end = base() + hours{hour + 1};
    bucket.status = status;
    bucket.segment = segment;
    verdict.buckets.push_back(bucket);
  };
  add(0, 0, Status::fail);
  add(0, 1, Status::pass);
  add(1, 0, Status::pass);
  add(1, 1, Status::fail);
  CHECK(failing_units(verdict) ==
        std::vector{in(SegmentKey{std::nullopt}, span(0, 1)), in(fr(), span(1, 2))});
}

TEST_CASE("failing_units of a segmented verdict without buckets keep its windows' segments") {
  Verdict verdict;
  verdict.status = Status::fail;
  verdict.windows = {in(fr(), span(0, 3))};
  CHECK(failing_units(verdict) == std::vector{in(fr(), span(0, 3))});
}

TEST_CASE("each segment's units are merged and cut on their own") {
  SUBCASE("the same hours of two segments make two requests") {
    CHECK(plan(joined(in(fr(), hourly(0, 3)), in(de(), hourly(0, 3)))).requests ==
          std::vector{request(in(fr(), span(0, 3))), request(in(de(), span(0, 3)))});
  }
  SUBCASE("adjacent hours of two segments are never merged") {
    CHECK(plan(joined(in(fr(), hourly(0, 2)), in(de(), hourly(2, 4)))).requests ==
          std::vector{request(in(fr(), span(0, 2))), request(in(de(), span(2, 4)))});
  }
  SUBCASE("max_window cuts each segment's run from its own start") {
    CHECK(
        plan(joined(in(fr(), hourly(0, 3)), in(de(), hourly(1, 4))), {}, with_max_window(hours{2}))
            .requests == std::vector{request(in(fr(), span(0, 2))), request(in(fr(), span(2, 3))),
                                     request(in(de(), span(1, 3))), request(in(de(), span(3, 4)))});
  }
  SUBCASE("a freshness-like window longer than max_window keeps its segment") {
    CHECK(plan({in(fr(), span(0, 30))}, {}, with_max_window(hours{12})).requests ==
          std::vector{request(in(fr(), span(0, 12))), request(in(fr(), span(12, 24))),
                      request(in(fr(), span(24, 30)))});
  }
}

TEST_CASE("an outstanding request blocks units of its own segment only, or all for the table") {
  SUBCASE("another segment's outstanding request does not block") {
    CHECK(
        plan(in(fr(), hourly(0, 2)), {past(in(de(), span(0, 2)), 1, RequestProgress::outstanding)})
            .requests == std::vector{request(in(fr(), span(0, 2)))});
  }
  SUBCASE("the segment's own outstanding request blocks") {
    CHECK(
        plan(in(fr(), hourly(0, 3)), {past(in(fr(), span(0, 2)), 1, RequestProgress::outstanding)})
            .requests == std::vector{request(in(fr(), span(2, 3)))});
  }
  SUBCASE("an outstanding whole-table request blocks every segment's units") {
    CHECK(plan(joined(in(fr(), hourly(0, 3)), in(de(), hourly(0, 3))),
               {past(span(1, 2), 1, RequestProgress::outstanding)})
              .requests == std::vector{request(in(fr(), span(0, 1))), request(in(fr(), span(2, 3))),
                                       request(in(de(), span(0, 1))),
                                       request(in(de(), span(2, 3)))});
  }
  SUBCASE("a whole-table unit is blocked by any segment's outstanding request") {
    CHECK(plan(hourly(0, 3), {past(in(fr(), span(1, 2)), 1, RequestProgress::outstanding)})
              .requests == std::vector{request(span(0, 1)), request(span(2, 3))});
  }
  SUBCASE("segment units under a whole-table unit of the same plan are not requested twice") {
    CHECK(plan(joined(hourly(0, 2), in(fr(), hourly(1, 3)))).requests ==
          std::vector{request(span(0, 2)), request(in(fr(), span(2, 3)))});
  }
}

TEST_CASE("attempts continue per segment, over the segment's and the table's requests") {
  const std::vector<PastRequest> history{
      past(in(fr(), span(0, 1)), 1, RequestProgress::failed),
      past(in(de(), span(0, 1)), 4, RequestProgress::failed),
      past(span(0, 1), 2, RequestProgress::done),
  };
  SUBCASE("a segment: its own and the table's") {
    CHECK(plan({in(fr(), span(0, 1))}, history, with_max_attempts(10)).requests ==
          std::vector{request(in(fr(), span(0, 1)), 3)});
  }
  SUBCASE("another segment: the table's only") {
    CHECK(plan({in(SegmentKey{"IT"}, span(0, 1))}, history, with_max_attempts(10)).requests ==
          std::vector{request(in(SegmentKey{"IT"}, span(0, 1)), 3)});
  }
  SUBCASE("the whole table: every segment's") {
    CHECK(plan({span(0, 1)}, history, with_max_attempts(10)).requests ==
          std::vector{request(span(0, 1), 5)});
  }
}

TEST_CASE("failures of another segment neither escalate nor delay a segment") {
  const std::vector<PastRequest> history{
      failed_at(in(de(), span(0, 1)), 1, base() + hours{5}),
      failed_at(in(de(), span(0, 1)), 2, base() + hours{6}),
  };
  SUBCASE("another segment goes at once") {
    const BackfillPlan result =
        plan({in(fr(), span(0, 1))}, history, with_attempt_backoff(minutes{5}, 2));
    CHECK_FALSE(result.escalate);
    CHECK(result.requests == std::vector{request(in(fr(), span(0, 1)))});
  }
  SUBCASE("the failing segment escalates, naming itself") {
    const BackfillPlan result =
        plan({in(de(), span(0, 1))}, history, with_attempt_backoff(minutes{5}, 2));
    CHECK(result.escalate);
    CHECK(result.reason ==
          "window 2026-11-25T00:00:00Z .. 2026-11-25T01:00:00Z of segment DE still fails after 2 "
          "failed attempt(s)");
  }
}

TEST_CASE("min_buckets counts each segment's buckets") {
  const BackfillPlan result =
      plan(joined(in(fr(), hourly(0, 3)), in(de(), hourly(0, 2))), {}, with_min_buckets(3));
  CHECK(result.requests == std::vector{request(in(fr(), span(0, 3)))});
  CHECK(result.reason == "segment DE: 2 failing bucket(s) to request, waiting for min_buckets (3)");
}

}  // namespace
}  // namespace gapwatch
