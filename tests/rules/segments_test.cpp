// Segmented rules: one grouped statement, every known segment judged on its
// own, dark segments filled with 0, NULL as a segment of its own, the
// max_segments bound, per-segment windows and messages.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "rules/baseline.h"
#include "rules/duration.h"
#include "rules/null_rate.h"
#include "rules/row_count.h"
#include "tests/rules/golden_rules.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;
using testing::value_of;

// 2026-11-25T06:00:00Z: the judged buckets are 02:00, 03:00 and 04:00 UTC.
using testing::golden::kNow;
// Granules of the judged range: 02:00 is granule 0.
constexpr std::int64_t kBase = 1795572000;

RuleSpec orders_by_country() {
  RuleSpec spec =
      testing::golden::hourly_row_count("orders_by_country", "shop", "public.orders", "created_at");
  spec.segment_by = {"country"};
  spec.thresholds.fail = Bound{1, std::nullopt};
  return spec;
}

PlanContext postgres_context() {
  PlanContext context;
  context.dialect = &postgres_dialect();
  context.encoding = TimeEncoding::instant;
  context.warehouse_zone = utc_zone();
  context.now = kNow;
  return context;
}

ResultRow row(int granule, std::optional<std::string> country, int count) {
  return ResultRow{std::to_string(granule), std::move(country), std::to_string(count)};
}

// "segment:rows:status" per bucket.
std::string summary(const Verdict& verdict) {
  std::string out;
  for (const BucketVerdict& bucket : verdict.buckets) {
    out += out.empty() ? "" : " ";
    out += segment_name(verdict.segments.at(bucket.segment).key) + ":" +
           std::to_string(bucket.rows) + ":" +
           (bucket.status ? std::string(to_string(*bucket.status)) : "unjudged");
  }
  return out;
}

TEST_CASE("segments: one statement grouped by granule and the segment columns") {
  RuleSpec spec = orders_by_country();
  spec.segment_by = {"country", "channel"};
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  CHECK(plan.sql ==
        "SELECT FLOOR((EXTRACT(EPOCH FROM \"created_at\") - 1795572000) / 3600) AS granule, "
        "\"country\", \"channel\", COUNT(*) FROM \"public\".\"orders\" WHERE \"created_at\" >= "
        "CAST(? AS TIMESTAMPTZ) AND \"created_at\" < CAST(? AS TIMESTAMPTZ) GROUP BY 1, 2, 3");
  CHECK(plan.segment_columns == 2);
  CHECK(plan.max_segments == kDefaultMaxSegments);
}

TEST_CASE("segments: a known segment without rows in a bucket counts 0 there and fails") {
  const RuleSpec spec = orders_by_country();
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  // DE has rows in every bucket; FR only in the first: FR went dark at 03:00.
  const ResultRows rows{row(0, "DE", 40), row(1, "DE", 41), row(2, "DE", 39), row(0, "FR", 3)};
  const Verdict verdict = judge_row_count(spec, plan, rows);
  CHECK(verdict.status == Status::fail);
  CHECK(summary(verdict) == "DE:40:pass DE:41:pass DE:39:pass FR:3:pass FR:0:fail FR:0:fail");
  REQUIRE(verdict.segments.size() == 2);
  CHECK(verdict.segments[0].status == Status::pass);
  CHECK(verdict.segments[1].status == Status::fail);
  CHECK(verdict.segments[1].observed == 0.0);
  CHECK(verdict.message ==
        "FR: 2 of 3 hourly buckets below 1 rows (1 failing of 2 segments)");
  REQUIRE(verdict.windows.size() == 1);
  CHECK(verdict.windows[0] == Window{at("2026-11-25T03:00:00Z"), at("2026-11-25T05:00:00Z"),
                                     Status::fail, SegmentKey{"FR"}});
  CHECK(verdict.observed == 0.0);
}

TEST_CASE("segments: NULL is a segment of its own, named null, ordered first") {
  const RuleSpec spec = orders_by_country();
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  const ResultRows rows{row(0, "DE", 5), row(1, "DE", 5), row(2, "DE", 5),
                        row(0, std::nullopt, 2), row(2, std::nullopt, 1)};
  const Verdict verdict = judge_row_count(spec, plan, rows);
  REQUIRE(verdict.segments.size() == 2);
  CHECK(verdict.segments[0].key == SegmentKey{std::nullopt});
  CHECK(segment_name(verdict.segments[0].key) == "null");
  CHECK(verdict.message.starts_with("null: 1 of 3 hourly buckets below 1 rows"));
  REQUIRE(verdict.windows.size() == 1);
  CHECK(verdict.windows[0].segment == SegmentKey{std::nullopt});
}

TEST_CASE("segments: a segment whose value is the text 'null' is not the NULL segment") {
  const RuleSpec spec = orders_by_country();
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  const ResultRows rows{row(0, "null", 5), row(1, "null", 5), row(2, "null", 5),
                        row(0, std::nullopt, 2), row(1, std::nullopt, 2), row(2, std::nullopt, 2)};
  const Verdict verdict = judge_row_count(spec, plan, rows);
  CHECK(verdict.segments.size() == 2);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.message == "2 segments pass; worst null: 2 rows");
}

TEST_CASE("segments: more distinct segments than max_segments is an error, never a cut") {
  RuleSpec spec = orders_by_country();
  spec.max_segments = 2;
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  const ResultRows rows{row(0, "DE", 5), row(0, "FR", 5), row(0, "IT", 5)};
  const Verdict verdict = judge_row_count(spec, plan, rows);
  CHECK(verdict.status == Status::error);
  CHECK(verdict.message ==
        "more than max_segments (2) distinct segments; raise max_segments or segment by fewer "
        "columns");
  CHECK(judge_row_count(spec, plan, ResultRows{row(0, "DE", 5), row(2, "FR", 5)}).status !=
        Status::error);
}

TEST_CASE("segments: no segment at all judges the whole table's empty buckets") {
  const RuleSpec spec = orders_by_country();
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  const Verdict verdict = judge_row_count(spec, plan, ResultRows{});
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.segments.empty());
  CHECK(verdict.message == "no segment has rows: 3 of 3 hourly buckets below 1 rows");
  REQUIRE(verdict.windows.size() == 1);
  CHECK(verdict.windows[0].segment.empty());
}

TEST_CASE("segments: with two columns the values stay apart and name the segment") {
  RuleSpec spec = orders_by_country();
  spec.segment_by = {"country", "channel"};
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  const auto two = [](int granule, std::string country, std::optional<std::string> channel,
                      int count) {
    return ResultRow{std::to_string(granule), std::move(country), std::move(channel),
                     std::to_string(count)};
  };
  // ("FR", "web, app") and ("FR, web", "app") must not be mixed up.
  const ResultRows rows{two(0, "FR", "web, app", 1), two(1, "FR", "web, app", 1),
                        two(2, "FR", "web, app", 1), two(0, "FR, web", "app", 1)};
  const Verdict verdict = judge_row_count(spec, plan, rows);
  REQUIRE(verdict.segments.size() == 2);
  CHECK(verdict.windows.size() == 1);
  CHECK(verdict.windows[0].segment == SegmentKey{"FR, web", "app"});
}

TEST_CASE("segments: the statement's rows may come in any order") {
  const RuleSpec spec = orders_by_country();
  const QueryPlan plan = value_of(plan_row_count(spec, postgres_context()));
  const ResultRows ordered{row(0, "DE", 4), row(1, "DE", 0 + 2), row(2, "DE", 1),
                           row(0, "FR", 3), row(1, "FR", 3),     row(2, "FR", 3)};
  ResultRows shuffled{ordered[5], ordered[0], ordered[3], ordered[2], ordered[4], ordered[1]};
  CHECK(summary(judge_row_count(spec, plan, ordered)) ==
        summary(judge_row_count(spec, plan, shuffled)));
}

TEST_CASE("segments: null_rate is judged per segment") {
  RuleSpec spec = orders_by_country();
  spec.check = CheckKind::null_rate;
  spec.column = "email";
  spec.thresholds.fail = Bound{std::nullopt, 0.5};
  const QueryPlan plan = value_of(plan_null_rate(spec, postgres_context()));
  CHECK(plan.sql.find("\"country\", COUNT(*), COUNT(\"email\")") != std::string::npos);
  const auto three = [](int granule, std::string country, int rows, int non_null) {
    return ResultRow{std::to_string(granule), std::move(country), std::to_string(rows),
                     std::to_string(non_null)};
  };
  const ResultRows rows{three(0, "DE", 10, 10), three(1, "DE", 10, 10), three(2, "DE", 10, 10),
                        three(0, "FR", 10, 10), three(1, "FR", 10, 2), three(2, "FR", 10, 10)};
  const Verdict verdict = judge_null_rate(spec, plan, rows);
  CHECK(verdict.status == Status::fail);
  REQUIRE(verdict.windows.size() == 1);
  CHECK(verdict.windows[0] == Window{at("2026-11-25T03:00:00Z"), at("2026-11-25T04:00:00Z"),
                                     Status::fail, SegmentKey{"FR"}});
}

TEST_CASE("segments: a baseline per segment, and a segment known only from its history") {
  RuleSpec spec = orders_by_country();
  spec.thresholds.fail = Bound{};
  spec.thresholds.fail.drop = 0.5;
  BaselineSpec baseline;
  baseline.history = std::chrono::hours{24 * 7};
  baseline.seasonality = Seasonality::none;
  baseline.min_history = 3;
  spec.baseline = baseline;
  // Kept: a week of DE at ~100 an hour and IT at ~10 an hour.
  BaselineHistory history;
  history.fingerprint = baseline_fingerprint(spec);
  history.segments = {SegmentKey{"DE"}, SegmentKey{"IT"}};
  const Instant judged_start = at("2026-11-25T02:00:00Z");
  for (std::uint32_t segment = 0; segment < 2; ++segment) {
    for (Instant start = judged_start - std::chrono::hours{24 * 7}; start < judged_start;
         start += std::chrono::hours{1}) {
      history.buckets.emplace_back(start, start + std::chrono::hours{1}, segment == 0 ? 100 : 10,
                                   0, segment);
    }
  }
  history.covered_from = history.buckets.front().start;
  history.covered_to = judged_start;
  history.full_read_at = kNow;
  PlanContext context = postgres_context();
  context.history = &history;
  const QueryPlan plan = value_of(plan_row_count(spec, context));
  CHECK(plan.history_buckets.empty());
  // IT sends nothing in the judged range; DE drops to 40 at 04:00.
  const ResultRows rows{row(0, "DE", 100), row(1, "DE", 98), row(2, "DE", 40)};
  const Verdict verdict = judge_row_count(spec, plan, rows);
  REQUIRE(verdict.segments.size() == 2);
  CHECK(verdict.segments[1].key == SegmentKey{"IT"});
  CHECK(summary(verdict) == "DE:100:pass DE:98:pass DE:40:fail IT:0:fail IT:0:fail IT:0:fail");
  CHECK(verdict.buckets[0].expected == 100.0);
  CHECK(verdict.buckets[3].expected == 10.0);
}

}  // namespace
}  // namespace gapwatch
