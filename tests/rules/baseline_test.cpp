#include "rules/baseline.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "rules/buckets.h"
#include "rules/duration.h"
#include "rules/null_rate.h"
#include "rules/row_count.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using testing::at;
using testing::value_of;
using testing::zone;

// Expected values and bands below are computed by hand: median, then
// MAD = median of |value - median|, deviation = 1.4826 × MAD, half-width =
// max(sensitivity × deviation, floor).
TEST_CASE("median: odd and even counts") {
  std::vector<double> odd{5, 1, 3};
  CHECK(median(odd) == 3);
  std::vector<double> even{4, 1, 3, 10};
  CHECK(median(even) == 3.5);
  std::vector<double> one{7};
  CHECK(median(one) == 7);
}

TEST_CASE("expect: the band is sensitivity × 1.4826 × MAD") {
  // median 100; deviations 10 0 10 20 30 → MAD 10; 3 × 14.826 = 44.478.
  std::vector<double> values{90, 100, 110, 120, 70};
  const Expectation e = expect(values, 3.0, 0.0);
  CHECK(e.expected == 100);
  CHECK(e.lower == doctest::Approx(55.522));
  CHECK(e.upper == doctest::Approx(144.478));
}

TEST_CASE("expect: a perfectly regular history has the counting noise as its band") {
  // σ = 0: 3 × sqrt(0 + 50) = 21.21.
  std::vector<double> values{50, 50, 50, 50};
  const Expectation e = expect(values, 3.0, 50.0);
  CHECK(e.expected == 50);
  CHECK(e.lower == doctest::Approx(28.787));
  CHECK(e.upper == doctest::Approx(71.213));
  // And never narrower than the least half-width.
  std::vector<double> same{2, 2, 2};
  const Expectation narrow = expect(same, 3.0, 0.0, 1.0);
  CHECK(narrow.lower == 1);
  CHECK(narrow.upper == 3);
}

TEST_CASE("expect: counting noise and spread add in quadrature") {
  // median 100, MAD 10, σ = 14.826; 3 × sqrt(14.826² + 100) = 53.65.
  std::vector<double> values{90, 100, 110, 120, 70};
  const Expectation e = expect(values, 3.0, 100.0);
  CHECK(e.lower == doctest::Approx(46.35).epsilon(0.001));
  CHECK(e.upper == doctest::Approx(153.65).epsilon(0.001));
}

TEST_CASE("season_of: hour_of_week is the local weekday and hour") {
  const TimeZone* berlin = zone("Europe/Berlin");
  // Wednesday 2026-11-25 10:00 in Berlin (UTC+1) and a week later.
  const auto a = season_of(Seasonality::hour_of_week, at("2026-11-25T09:00:00Z"), berlin);
  CHECK(a == 3 * 86400 + 10 * 3600);
  CHECK(season_of(Seasonality::hour_of_week, at("2026-12-02T09:00:00Z"), berlin) == a);
  // Across the spring change (2026-03-29): the Sunday before, 10:00 local is
  // 09:00Z; that Sunday, 10:00 local is 08:00Z.
  CHECK(season_of(Seasonality::hour_of_week, at("2026-03-22T09:00:00Z"), berlin) ==
        season_of(Seasonality::hour_of_week, at("2026-03-29T08:00:00Z"), berlin));
  CHECK(season_of(Seasonality::hour_of_day, at("2026-11-25T09:00:00Z"), berlin) == 10 * 3600);
  CHECK(season_of(Seasonality::day_of_week, at("2026-11-25T09:00:00Z"), berlin) == 3);
  CHECK(season_of(Seasonality::none, at("2026-11-25T09:00:00Z"), berlin) == 0);
}

TEST_CASE("season_of: DST days in America/New_York") {
  const TimeZone* new_york = zone("America/New_York");
  // 2026-03-08: 02:00 local does not exist; the spring day has no bucket with
  // that season. Hourly buckets of that local day:
  PartitionSpec partition;
  partition.every = hours{1};
  partition.lookback = hours{24};
  partition.zone = new_york;
  const std::vector<Bucket> spring =
      buckets_within(partition, at("2026-03-08T05:00:00Z"), at("2026-03-09T04:00:00Z"));
  REQUIRE(spring.size() == 23);
  std::vector<std::int64_t> seasons;
  for (const Bucket& bucket : spring) {
    seasons.push_back(season_of(Seasonality::hour_of_day, bucket.start, new_york));
  }
  CHECK(std::find(seasons.begin(), seasons.end(), 2 * 3600) == seasons.end());
  // 2026-11-01: 01:00 local repeats; both buckets compare as 01:00.
  const std::vector<Bucket> autumn =
      buckets_within(partition, at("2026-11-01T04:00:00Z"), at("2026-11-02T05:00:00Z"));
  REQUIRE(autumn.size() == 25);
  CHECK(season_of(Seasonality::hour_of_day, at("2026-11-01T05:00:00Z"), new_york) == 3600);
  CHECK(season_of(Seasonality::hour_of_day, at("2026-11-01T06:00:00Z"), new_york) == 3600);
}

// --- judging against a baseline -------------------------------------------

// Now: Wednesday 2026-11-25 06:00Z. Hourly buckets in Europe/Berlin, lookback
// 2d, delay 1h: judged are 2026-11-23T06:00Z .. 2026-11-25T05:00Z (47).
// 2026-11-25T06:00:00Z (a static may not use doctest).
const Instant kNow{std::chrono::seconds{1795586400}};

RuleSpec orders_hourly() {
  RuleSpec spec;
  spec.name = "orders_hourly";
  spec.warehouse = "shop";
  spec.table = value_of(parse_qualified_name("public.orders"));
  spec.check = CheckKind::row_count;
  spec.timestamp_column = "created_at";
  PartitionSpec partition;
  partition.every = hours{1};
  partition.lookback = hours{48};
  partition.delay = hours{1};
  partition.zone = zone("Europe/Berlin");
  spec.partition = partition;
  spec.baseline = BaselineSpec{};
  spec.thresholds.fail.drop = 0.5;
  spec.thresholds.warn = Bound{};
  spec.thresholds.warn->drop = 0.25;
  return spec;
}

// A daily cycle: 10 rows per hour at night, 130 at the peak (local 12:00).
std::int64_t cycle(Instant start, const TimeZone* zone) {
  const auto season = season_of(Seasonality::hour_of_day, start, zone) / 3600;
  return 10 + 120 * (12 - std::abs(12 - season)) / 12;
}

PlanContext context(const BaselineHistory* history, Instant now = kNow) {
  PlanContext plan_context;
  plan_context.dialect = &postgres_dialect();
  plan_context.encoding = TimeEncoding::instant;
  plan_context.warehouse_zone = utc_zone();
  plan_context.now = now;
  plan_context.history = history;
  return plan_context;
}

// The statement's rows for per-bucket counts over everything the plan reads.
ResultRows rows_for(const QueryPlan& plan, const std::function<std::int64_t(Instant)>& count) {
  ResultRows rows;
  std::vector<Bucket> read = plan.history_buckets;
  read.insert(read.end(), plan.buckets.begin(), plan.buckets.end());
  for (const Bucket& bucket : read) {
    const std::int64_t rows_in = count(bucket.start);
    if (rows_in == 0) {
      continue;  // a statement returns no row for an empty bucket
    }
    const auto granule =
        (bucket.start.time_since_epoch().count() - plan.granules.base) / plan.granules.size;
    rows.push_back({std::to_string(granule), std::to_string(rows_in)});
  }
  return rows;
}

// Kept history: every bucket of [from, to) counted by `count`.
BaselineHistory kept(const RuleSpec& spec, Instant from, Instant to,
                     const std::function<std::int64_t(Instant)>& count) {
  BaselineHistory history;
  history.fingerprint = baseline_fingerprint(spec);
  for (const Bucket& bucket : buckets_within(*spec.partition, from, to)) {
    history.buckets.push_back(CountedBucket{bucket.start, bucket.end, count(bucket.start), 0});
  }
  history.covered_from = from;
  history.covered_to = to;
  history.full_read_at = kNow - hours{1};
  return history;
}

Verdict evaluate(const RuleSpec& spec, const BaselineHistory* history,
                 const std::function<std::int64_t(Instant)>& count) {
  const QueryPlan plan = value_of(plan_row_count(spec, context(history)));
  return judge_row_count(spec, plan, rows_for(plan, count));
}

TEST_CASE("baseline: a regular daily cycle passes, night and peak alike") {
  const RuleSpec spec = orders_hourly();
  const TimeZone* berlin = spec.partition->zone;
  const auto normal = [&](Instant start) { return cycle(start, berlin); };
  const Verdict verdict = evaluate(spec, nullptr, normal);
  CHECK(verdict.status == Status::pass);
  REQUIRE(verdict.buckets.size() == 47);
  // The first evaluation read the whole history too: 28 days before the
  // judged range, in the same statement.
  // 28 days and an hour: the same local hour 28 days ago across a DST change.
  CHECK(verdict.history_read_from == at("2026-10-26T05:00:00Z"));
  CHECK(verdict.history_read.size() == 28 * 24 + 1);
  for (const BucketVerdict& bucket : verdict.buckets) {
    REQUIRE(bucket.expected);
    CHECK(*bucket.expected == static_cast<double>(bucket.rows));
  }
}

TEST_CASE("baseline: a peak hour cut by 60% fails with exactly that window") {
  const RuleSpec spec = orders_hourly();
  const TimeZone* berlin = spec.partition->zone;
  const Instant cut = at("2026-11-24T11:00:00Z");  // 12:00 in Berlin, the peak (130)
  const auto counts = [&](Instant start) {
    const std::int64_t normal = cycle(start, berlin);
    return start == cut ? normal * 4 / 10 : normal;
  };
  const Verdict verdict = evaluate(spec, nullptr, counts);
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.windows ==
        std::vector<Window>{Window{cut, cut + hours{1}, Status::fail}});
  // Expected 130, floor 3 × sqrt(130) = 34.2: band 95.8..164.2.
  CHECK(verdict.message ==
        "1 of 47 hourly buckets at least 50% below the expected value; worst 52 rows, expected "
        "130 (band 96..164)");
  CHECK(verdict.observed == 52);
}

TEST_CASE("baseline: a drop inside the band does not fail, outside it and under the drop does") {
  RuleSpec spec = orders_hourly();
  const TimeZone* berlin = spec.partition->zone;
  // Night: expected 10, floor 3 × sqrt(10) = 9.49, band 0.51..19.49. 4 rows
  // are 60% below expected but inside the band: pass. 0 rows: fail.
  const Instant night = at("2026-11-23T23:00:00Z");  // midnight in Berlin
  const auto with = [&](std::int64_t rows) {
    return [&, rows](Instant start) { return start == night ? rows : cycle(start, berlin); };
  };
  CHECK(evaluate(spec, nullptr, with(4)).status == Status::pass);
  CHECK(evaluate(spec, nullptr, with(0)).status == Status::fail);
}

TEST_CASE("baseline: warn fires on the smaller drop") {
  const RuleSpec spec = orders_hourly();
  const TimeZone* berlin = spec.partition->zone;
  const Instant peak = at("2026-11-24T11:00:00Z");
  // 130 → 90: 30.8% below (warn at 25%), below the band's 95.8.
  const Verdict verdict = evaluate(spec, nullptr, [&](Instant start) {
    return start == peak ? 90 : cycle(start, berlin);
  });
  CHECK(verdict.status == Status::warn);
  CHECK(verdict.windows == std::vector<Window>{Window{peak, peak + hours{1}, Status::warn}});
}

TEST_CASE("baseline: rise catches a duplicated load; a static bound still applies") {
  RuleSpec spec = orders_hourly();
  spec.thresholds.fail.rise = 1.0;       // doubled
  spec.thresholds.fail.min = 1;          // and never an empty hour
  const TimeZone* berlin = spec.partition->zone;
  const Instant peak = at("2026-11-24T11:00:00Z");
  const Verdict doubled = evaluate(spec, nullptr, [&](Instant start) {
    return start == peak ? 260 : cycle(start, berlin);
  });
  CHECK(doubled.status == Status::fail);
  CHECK(doubled.message.starts_with("1 of 47 hourly buckets below 1 rows or at least 50% below "
                                    "or at least 100% above the expected value"));
}

TEST_CASE("baseline: the judged range learns only from buckets that do not fail") {
  RuleSpec spec = orders_hourly();
  spec.baseline->seasonality = Seasonality::hour_of_day;
  spec.baseline->history = hours{24 * 4};
  spec.baseline->min_history = 3;
  const TimeZone* berlin = spec.partition->zone;
  // Both judged days lose their peak: the second day's expectation must not
  // learn from the first day's loss.
  const Instant first = at("2026-11-23T11:00:00Z"), second = at("2026-11-24T11:00:00Z");
  const Verdict verdict = evaluate(spec, nullptr, [&](Instant start) {
    return start == first || start == second ? 0 : cycle(start, berlin);
  });
  REQUIRE(verdict.windows.size() == 2);
  for (const BucketVerdict& bucket : verdict.buckets) {
    if (bucket.start == second) {
      CHECK(bucket.expected == 130);
    }
  }
}

TEST_CASE("baseline: windows of incidents that were not healed are never learned from") {
  RuleSpec spec = orders_hourly();
  const TimeZone* berlin = spec.partition->zone;
  const Instant judged_start = at("2026-11-23T06:00:00Z");
  // Three of the four earlier Tuesdays lost their peak and were never healed.
  const Instant peak = at("2026-11-24T11:00:00Z");
  const std::vector<Instant> lost{peak - hours{24 * 7}, peak - hours{24 * 14},
                                  peak - hours{24 * 21}};
  const auto counts = [&](Instant start) {
    return std::find(lost.begin(), lost.end(), start) != lost.end() ? 5 : cycle(start, berlin);
  };
  BaselineHistory history = kept(spec, judged_start - hours{24 * 28}, judged_start, counts);
  const auto expected_at_peak = [&](const BaselineHistory& kept_history) {
    const Verdict verdict = evaluate(spec, &kept_history, counts);
    CHECK_FALSE(verdict.history_read_from);  // steady state: only the lookback is read
    for (const BucketVerdict& bucket : verdict.buckets) {
      if (bucket.start == peak) {
        return bucket.expected;
      }
    }
    return std::optional<double>{};
  };
  // Learned from: median of 5, 5, 5, 130 = 5: the losses hide the next one.
  CHECK(expected_at_peak(history) == 5);
  for (const Instant start : lost) {
    history.excluded.push_back(Window{start, start + hours{1}, Status::fail});
  }
  // Without them only one comparable bucket is left: learning, not judged.
  const Verdict verdict = evaluate(spec, &history, counts);
  CHECK(verdict.message.find("learning: 1 of 3 comparable buckets") != std::string::npos);
  spec.baseline->min_history = 1;
  CHECK(expected_at_peak(history) == 130);
}

TEST_CASE("baseline: too little history is learning, never a silent pass") {
  const RuleSpec spec = orders_hourly();
  const TimeZone* berlin = spec.partition->zone;
  const Instant judged_start = at("2026-11-23T06:00:00Z");
  // A new table: rows only since two days before the judged range. The hours
  // before its first row are not an outage and are not learned from; each
  // hour of the week has at most one comparable bucket.
  const auto counts = [&](Instant start) {
    return start < judged_start - hours{48} ? 0 : cycle(start, berlin);
  };
  const Verdict verdict = evaluate(spec, nullptr, counts);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.message.ends_with("(learning: 0 of 3 comparable buckets)"));
  for (const BucketVerdict& bucket : verdict.buckets) {
    CHECK(bucket.learning == 0);
    CHECK_FALSE(bucket.expected);
  }
  // With a static bound next to it, that bound still judges.
  RuleSpec with_min = spec;
  with_min.thresholds.fail.min = 20;
  CHECK(evaluate(with_min, nullptr, counts).status == Status::fail);

  // hour_of_day learns within two days: two comparable buckets for the first
  // judged day, then the judged day's own buckets count too.
  RuleSpec daily = spec;
  daily.baseline->seasonality = Seasonality::hour_of_day;
  const Verdict daily_verdict = evaluate(daily, nullptr, counts);
  CHECK(daily_verdict.status == Status::pass);
  CHECK(daily_verdict.message.find("(learning: 2 of 3 comparable buckets for 24 of them)") !=
        std::string::npos);
}

TEST_CASE("baseline: 28 days back across the autumn DST change is still four same hours") {
  // The judged buckets of 2026-11-18..20 in Berlin; 28 days before them
  // crosses 2026-10-25, when the clocks went back: the same local hour four
  // weeks earlier lies 28 days and an hour back.
  RuleSpec spec = orders_hourly();
  spec.baseline->min_history = 4;
  const Instant now = at("2026-11-20T06:00:00Z");
  const QueryPlan plan = value_of(plan_row_count(spec, context(nullptr, now)));
  const Verdict verdict =
      judge_row_count(spec, plan, rows_for(plan, [](Instant) { return std::int64_t{100}; }));
  CHECK(verdict.status == Status::pass);
  for (const BucketVerdict& bucket : verdict.buckets) {
    CHECK_MESSAGE(!bucket.learning, format_rfc3339(bucket.start));
    CHECK(bucket.expected == 100);
  }
}

TEST_CASE("baseline: a rare NULL in small buckets is noise, a jump is not") {
  RuleSpec spec = orders_hourly();
  spec.check = CheckKind::null_rate;
  spec.column = "email";
  spec.min_rows = 1;
  spec.thresholds = Thresholds{};
  spec.thresholds.fail.rise = 0.05;
  spec.baseline->seasonality = Seasonality::none;
  const QueryPlan plan = value_of(plan_null_rate(spec, context(nullptr)));
  // 28 rows an hour; one NULL in every fourth hour (about 0.9%): most
  // comparable shares are 0. Two NULLs in an hour (7.1%) must not fail; ten
  // (36%) must.
  const Instant two = at("2026-11-24T10:00:00Z"), ten = at("2026-11-24T11:00:00Z");
  ResultRows rows;
  std::vector<Bucket> read = plan.history_buckets;
  read.insert(read.end(), plan.buckets.begin(), plan.buckets.end());
  for (const Bucket& bucket : read) {
    const auto index = bucket.start.time_since_epoch().count() / 3600;
    const int nulls = bucket.start == two ? 2 : bucket.start == ten ? 10 : index % 4 == 0 ? 1 : 0;
    const auto granule =
        (bucket.start.time_since_epoch().count() - plan.granules.base) / plan.granules.size;
    rows.push_back({std::to_string(granule), "28", std::to_string(28 - nulls)});
  }
  const Verdict verdict = judge_null_rate(spec, plan, rows);
  CHECK(verdict.windows == std::vector<Window>{Window{ten, ten + hours{1}, Status::fail}});
}

TEST_CASE("history_read_from: the whole history first, then only what was not kept") {
  const RuleSpec spec = orders_hourly();
  const Instant judged_start = at("2026-11-23T06:00:00Z");
  const Instant needed = judged_start - hours{24 * 28 + 1};
  CHECK(history_read_from(spec, nullptr, judged_start, kNow) == needed);

  BaselineHistory history = kept(spec, needed, judged_start, [](Instant) { return 1; });
  CHECK_FALSE(history_read_from(spec, &history, judged_start, kNow));
  // Two hours later: the two hours between what was kept and the judged range.
  CHECK(history_read_from(spec, &history, judged_start + hours{2}, kNow + hours{2}) ==
        judged_start);
  // Another table, another fingerprint: everything again.
  history.fingerprint = "other";
  CHECK(history_read_from(spec, &history, judged_start, kNow) == needed);
  history.fingerprint = baseline_fingerprint(spec);
  // The refresh is due after 75% to 100% of baseline.refresh.
  CHECK_FALSE(history_read_from(spec, &history, judged_start, *history.full_read_at + hours{17}));
  CHECK(history_read_from(spec, &history, judged_start, *history.full_read_at + hours{24}) ==
        needed);
  // A longer history than what was kept: everything again.
  RuleSpec longer = spec;
  longer.baseline->history = hours{24 * 35};
  CHECK(history_read_from(longer, &history, judged_start, kNow) ==
        judged_start - hours{24 * 35 + 1});
}

TEST_CASE("baseline: the statement reads history and lookback at once, then the lookback only") {
  const RuleSpec spec = orders_hourly();
  const QueryPlan first = value_of(plan_row_count(spec, context(nullptr)));
  CHECK(first.range_start == at("2026-10-26T05:00:00Z"));
  CHECK(first.range_end == at("2026-11-25T05:00:00Z"));
  const Instant judged_start = at("2026-11-23T06:00:00Z");
  const BaselineHistory history =
      kept(spec, judged_start - hours{24 * 28}, judged_start, [](Instant) { return 1; });
  const QueryPlan steady = value_of(plan_row_count(spec, context(&history)));
  CHECK(steady.range_start == judged_start);
  CHECK(steady.sql == first.sql.substr(0, 0) + steady.sql);
  CHECK(steady.history_buckets.empty());
}

TEST_CASE("baseline: null_rate rise is measured in points of the share") {
  RuleSpec spec = orders_hourly();
  spec.check = CheckKind::null_rate;
  spec.column = "email";
  spec.thresholds = Thresholds{};
  spec.thresholds.fail.rise = 0.10;  // 10 points
  const Instant hour = at("2026-11-24T11:00:00Z");
  // 200 rows an hour, 2% NULL; in `hour` 30% NULL.
  const QueryPlan plan = value_of(plan_null_rate(spec, context(nullptr)));
  ResultRows rows;
  std::vector<Bucket> read = plan.history_buckets;
  read.insert(read.end(), plan.buckets.begin(), plan.buckets.end());
  for (const Bucket& bucket : read) {
    const auto granule =
        (bucket.start.time_since_epoch().count() - plan.granules.base) / plan.granules.size;
    const int non_null = bucket.start == hour ? 140 : 196;
    rows.push_back({std::to_string(granule), "200", std::to_string(non_null)});
  }
  const Verdict verdict = judge_null_rate(spec, plan, rows);
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.windows == std::vector<Window>{Window{hour, hour + hours{1}, Status::fail}});
  CHECK(verdict.message.find("at least 10 points above the expected value") != std::string::npos);
}

}  // namespace
}  // namespace gapwatch
