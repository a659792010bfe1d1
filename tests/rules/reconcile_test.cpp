// Reconciliation with a source: missing and extra rows per bucket and
// segment, allowances as counts and shares, and buckets aligned across two
// encodings and zones, including the repeated hour of an autumn clock change.
#include "rules/reconcile.h"

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "rules/counts.h"
#include "tests/rules/golden_rules.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;
using testing::value_of;
using testing::zone;

// 2026-11-25T06:00:00Z: the judged buckets are 02:00, 03:00 and 04:00 UTC.
using testing::golden::kNow;

RuleSpec orders_loaded() {
  RuleSpec spec =
      testing::golden::hourly_row_count("orders_loaded", "dwh", "analytics.orders", "created_at");
  SourceSpec source;
  source.warehouse = "erp";
  source.table = value_of(parse_qualified_name("sales.orders"));
  source.timestamp_column = "created";
  source.where = "status <> 'draft'";
  spec.source = source;
  spec.thresholds.fail.missing = Allowance{0, false};
  spec.thresholds.warn = Bound{};
  spec.thresholds.warn->extra = Allowance{0, false};
  return spec;
}

PlanContext context(const Dialect& dialect, TimeEncoding encoding, const TimeZone* warehouse_zone,
                    Instant now = kNow) {
  PlanContext plan_context;
  plan_context.dialect = &dialect;
  plan_context.encoding = encoding;
  plan_context.warehouse_zone = warehouse_zone;
  plan_context.now = now;
  return plan_context;
}

ResultRows counts(std::initializer_list<int> per_bucket) {
  ResultRows rows;
  int granule = 0;
  for (const int count : per_bucket) {
    rows.push_back(ResultRow{std::to_string(granule++), std::to_string(count)});
  }
  return rows;
}

// "rows/source:status" per bucket.
std::string summary(const Verdict& verdict) {
  std::string out;
  for (const BucketVerdict& bucket : verdict.buckets) {
    out += out.empty() ? "" : " ";
    out += std::to_string(bucket.rows) + "/" + std::to_string(bucket.source_rows.value_or(-1)) +
           ":" + (bucket.status ? std::string(to_string(*bucket.status)) : "unjudged");
  }
  return out;
}

struct Plans {
  QueryPlan target;
  QueryPlan source;
};

Plans utc_plans(const RuleSpec& spec) {
  return Plans{
      value_of(plan_counts(spec, context(postgres_dialect(), TimeEncoding::instant, utc_zone()),
                           std::nullopt)),
      value_of(plan_source(spec, context(mysql_dialect(), TimeEncoding::wall_clock, utc_zone())))};
}

TEST_CASE("reconcile: the source's statement reads the source's table, column and filter") {
  const Plans plans = utc_plans(orders_loaded());
  CHECK(plans.source.sql ==
        "SELECT (TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', `created`) - 1795572000) DIV 3600 "
        "AS granule, COUNT(*) FROM `sales`.`orders` WHERE `created` >= CAST(? AS DATETIME) AND "
        "`created` < CAST(? AS DATETIME) AND (status <> 'draft') GROUP BY 1");
  CHECK(plans.source.buckets == plans.target.buckets);
}

TEST_CASE("reconcile: a partial loss of a few rows in one hour fails that hour") {
  const RuleSpec spec = orders_loaded();
  const Plans plans = utc_plans(spec);
  const Verdict verdict =
      judge_reconciled(spec, plans.target, counts({120, 115, 130}), plans.source,
                       counts({120, 120, 130}));
  CHECK(verdict.status == Status::fail);
  CHECK(summary(verdict) == "120/120:pass 115/120:fail 130/130:pass");
  CHECK(verdict.message ==
        "1 of 3 hourly buckets more than 0 rows missing; worst 2026-11-25 03:00-04:00: 115 of 120 "
        "source rows");
  CHECK(verdict.observed == 5.0);
  REQUIRE(verdict.windows.size() == 1);
  CHECK(verdict.windows[0] ==
        Window{at("2026-11-25T03:00:00Z"), at("2026-11-25T04:00:00Z"), Status::fail});
}

TEST_CASE("reconcile: a duplicated load is extra rows, a warning here") {
  const RuleSpec spec = orders_loaded();
  const Plans plans = utc_plans(spec);
  const Verdict verdict = judge_reconciled(spec, plans.target, counts({120, 240, 130}),
                                           plans.source, counts({120, 120, 130}));
  CHECK(verdict.status == Status::warn);
  CHECK(verdict.message ==
        "1 of 3 hourly buckets more than 0 rows extra; worst 2026-11-25 03:00-04:00: 240 rows, "
        "120 in the source (120 extra)");
}

TEST_CASE("reconcile: a share allowance scales with the source's rows") {
  RuleSpec spec = orders_loaded();
  spec.thresholds.fail.missing = Allowance{0.05, true};
  const Plans plans = utc_plans(spec);
  const Verdict verdict = judge_reconciled(spec, plans.target, counts({95, 94, 0}), plans.source,
                                           counts({100, 100, 0}));
  CHECK(summary(verdict) == "95/100:pass 94/100:fail 0/0:pass");
  CHECK(verdict.message.starts_with(
      "1 of 3 hourly buckets more than 5% of the source's rows missing"));
}

TEST_CASE("reconcile: matching sides pass") {
  const RuleSpec spec = orders_loaded();
  const Plans plans = utc_plans(spec);
  const Verdict verdict = judge_reconciled(spec, plans.target, counts({1, 2, 3}), plans.source,
                                           counts({1, 2, 3}));
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.message == "3 hourly buckets match the source");
  CHECK(verdict.windows.empty());
}

TEST_CASE("reconcile: a segment present only in the source lacks all its rows") {
  RuleSpec spec = orders_loaded();
  spec.segment_by = {"country"};
  const Plans plans = utc_plans(spec);
  const auto row = [](int granule, std::string country, int count) {
    return ResultRow{std::to_string(granule), std::move(country), std::to_string(count)};
  };
  const ResultRows target{row(0, "DE", 10), row(1, "DE", 10), row(2, "DE", 10)};
  const ResultRows source{row(0, "DE", 10), row(1, "DE", 10), row(2, "DE", 10),
                          row(1, "FR", 5)};
  const Verdict verdict = judge_reconciled(spec, plans.target, target, plans.source, source);
  CHECK(verdict.status == Status::fail);
  REQUIRE(verdict.windows.size() == 1);
  CHECK(verdict.windows[0] == Window{at("2026-11-25T03:00:00Z"), at("2026-11-25T04:00:00Z"),
                                     Status::fail, SegmentKey{"FR"}});
  CHECK(verdict.message.starts_with(
      "FR: 1 of 3 hourly buckets more than 0 rows missing; worst 2026-11-25 03:00-04:00: 0 of 5 "
      "source rows"));
}

TEST_CASE("repeated_wall_clock: Europe/Berlin repeats 02:00-03:00 on 2026-10-25") {
  const auto repeated = repeated_wall_clock(zone("Europe/Berlin"), at("2026-10-24T12:00:00Z"),
                                            at("2026-10-26T00:00:00Z"));
  REQUIRE(repeated.size() == 1);
  CHECK(repeated[0] == Interval{at("2026-10-25T00:00:00Z"), at("2026-10-25T02:00:00Z")});
  CHECK(repeated_wall_clock(zone("Europe/Berlin"), at("2026-03-28T00:00:00Z"),
                            at("2026-03-30T00:00:00Z"))
            .empty());
  CHECK(repeated_wall_clock(utc_zone(), at("2026-10-24T00:00:00Z"), at("2026-10-26T00:00:00Z"))
            .empty());
}

TEST_CASE("reconcile: naive local time in the repeated hour is compared as one unit") {
  // The target stores instants; the source a DATETIME on Berlin's wall clock,
  // which puts both occurrences of 02:xx local on the first.
  RuleSpec spec = orders_loaded();
  spec.partition->lookback = std::chrono::hours{4};
  spec.partition->delay = std::chrono::hours{0};
  const Instant now = at("2026-10-25T04:00:00Z");
  const QueryPlan target = value_of(plan_counts(
      spec, context(postgres_dialect(), TimeEncoding::instant, utc_zone(), now), std::nullopt));
  const QueryPlan source = value_of(plan_source(
      spec, context(mysql_dialect(), TimeEncoding::wall_clock, zone("Europe/Berlin"), now)));
  REQUIRE(target.buckets.size() == 4);  // 00:00 to 04:00 UTC
  // Source granules are wall-clock hours from the wall clock of 00:00 UTC
  // (02:00 CEST): 02:xx local is granule 0, 03:xx 1, 04:xx 2.
  REQUIRE(source.granules.size == 3600);
  const ResultRows source_rows{ResultRow{"0", "20"}, ResultRow{"1", "10"}, ResultRow{"2", "10"}};
  const Verdict verdict =
      judge_reconciled(spec, target, counts({10, 10, 10, 10}), source, source_rows);
  CHECK(summary(verdict) == "10/20:pass 10/0:pass 10/10:pass 10/10:pass");
  CHECK(verdict.status == Status::pass);

  // A real loss inside the repeated hour is still found, for the whole unit.
  const Verdict lost =
      judge_reconciled(spec, target, counts({10, 9, 10, 10}), source, source_rows);
  CHECK(summary(lost) == "10/20:fail 9/0:fail 10/10:pass 10/10:pass");
  CHECK(lost.message ==
        "2 of 4 hourly buckets more than 0 rows missing; worst 2026-10-25 00:00-02:00: 19 of 20 "
        "source rows");
  REQUIRE(lost.windows.size() == 1);
  CHECK(lost.windows[0] ==
        Window{at("2026-10-25T00:00:00Z"), at("2026-10-25T02:00:00Z"), Status::fail});
}

TEST_CASE("reconcile: a repeated hour reaching outside the judged range is not judged") {
  RuleSpec spec = orders_loaded();
  spec.partition->lookback = std::chrono::hours{3};
  spec.partition->delay = std::chrono::hours{0};
  const Instant now = at("2026-10-25T04:00:00Z");  // judged: 01:00 to 04:00 UTC
  const QueryPlan target = value_of(plan_counts(
      spec, context(postgres_dialect(), TimeEncoding::instant, utc_zone(), now), std::nullopt));
  const QueryPlan source = value_of(plan_source(
      spec, context(mysql_dialect(), TimeEncoding::wall_clock, zone("Europe/Berlin"), now)));
  const Verdict verdict = judge_reconciled(spec, target, counts({10, 10, 10}), source,
                                           ResultRows{ResultRow{"1", "10"}, ResultRow{"2", "10"}});
  CHECK(summary(verdict).starts_with("10/"));
  CHECK(!verdict.buckets.front().status);
  CHECK(verdict.status == Status::pass);
}

}  // namespace
}  // namespace gapwatch
