#include "rules/row_count.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "rules/duration.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::days;
using testing::at;
using testing::error_of;
using testing::value_of;
using testing::zone;

// 2026-11-25T06:00:00Z, the evaluation time unless a test says otherwise.
const Instant kNow{std::chrono::seconds{1795586400}};

PartitionSpec partition(std::string_view every, std::string_view lookback, std::string_view delay,
                        const TimeZone* time_zone) {
  PartitionSpec spec;
  spec.every = value_of(parse_duration(every));
  spec.lookback = value_of(parse_duration(lookback));
  spec.delay = value_of(parse_duration(delay));
  spec.zone = time_zone;
  return spec;
}

// events_hourly: rows per UTC hour of raw.events, fail below 100, warn below
// 500. At kNow the judged buckets are 02:00, 03:00 and 04:00 UTC.
RuleSpec events_hourly() {
  RuleSpec spec;
  spec.name = "events_hourly";
  spec.warehouse = "shop";
  spec.table = value_of(parse_qualified_name("raw.events"));
  spec.check = CheckKind::row_count;
  spec.timestamp_column = "event_time";
  spec.partition = partition("1h", "4h", "1h", utc_zone());
  spec.thresholds.fail = Bound{100, std::nullopt};
  spec.thresholds.warn = Bound{500, std::nullopt};
  return spec;
}

// The same table counted as a whole.
RuleSpec events_total() {
  RuleSpec spec = events_hourly();
  spec.partition.reset();
  return spec;
}

PlanContext context(const Dialect& dialect, TimeEncoding encoding,
                    const TimeZone* warehouse_zone = utc_zone(), Instant now = kNow) {
  PlanContext plan_context;
  plan_context.dialect = &dialect;
  plan_context.encoding = encoding;
  plan_context.warehouse_zone = warehouse_zone;
  plan_context.now = now;
  return plan_context;
}

QueryPlan plan_of(const RuleSpec& spec, const PlanContext& plan_context) {
  return value_of(plan_row_count(spec, plan_context));
}

QueryPlan postgres_plan(const RuleSpec& spec) {
  return plan_of(spec, context(postgres_dialect(), TimeEncoding::instant));
}

Param text(std::string value) {
  return Param{std::move(value)};
}
Param integer(std::int64_t value) {
  return Param{value};
}

Window window(std::string_view start, std::string_view end, Status status) {
  return Window{at(start), at(end), status};
}

// "rows:status" per bucket, e.g. "120:warn 0:fail".
std::string bucket_summary(const Verdict& verdict) {
  std::string out;
  for (const BucketVerdict& bucket : verdict.buckets) {
    out += out.empty() ? "" : " ";
    out += std::to_string(bucket.rows) + ":" +
           (bucket.status ? std::string(to_string(*bucket.status)) : "unjudged");
  }
  return out;
}

TEST_CASE("plan_row_count: postgres, hourly UTC buckets, one grouped statement") {
  const QueryPlan plan = postgres_plan(events_hourly());
  CHECK(plan.sql ==
        "SELECT FLOOR((EXTRACT(EPOCH FROM \"event_time\") - 1795572000) / 3600) AS granule, "
        "COUNT(*) FROM \"raw\".\"events\" WHERE \"event_time\" >= CAST(? AS TIMESTAMPTZ) AND "
        "\"event_time\" < CAST(? AS TIMESTAMPTZ) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-25T02:00:00Z"), text("2026-11-25T05:00:00Z")});
  CHECK(plan.range_start == at("2026-11-25T02:00:00Z"));
  CHECK(plan.range_end == at("2026-11-25T05:00:00Z"));
  CHECK(plan.buckets == std::vector<Bucket>{
                            Bucket{at("2026-11-25T02:00:00Z"), at("2026-11-25T03:00:00Z")},
                            Bucket{at("2026-11-25T03:00:00Z"), at("2026-11-25T04:00:00Z")},
                            Bucket{at("2026-11-25T04:00:00Z"), at("2026-11-25T05:00:00Z")},
                        });
  CHECK(plan.granules.base == 1795572000);
  CHECK(plan.granules.size == 3600);
  CHECK(plan.granules.wall_zone == nullptr);
  CHECK(plan.encoding == TimeEncoding::instant);
}

TEST_CASE("plan_row_count: the where predicate is ANDed after the range") {
  RuleSpec spec = events_hourly();
  spec.where = "status <> 'test' OR kind = 'x'";
  CHECK(postgres_plan(spec).sql ==
        "SELECT FLOOR((EXTRACT(EPOCH FROM \"event_time\") - 1795572000) / 3600) AS granule, "
        "COUNT(*) FROM \"raw\".\"events\" WHERE \"event_time\" >= CAST(? AS TIMESTAMPTZ) AND "
        "\"event_time\" < CAST(? AS TIMESTAMPTZ) AND (status <> 'test' OR kind = 'x') GROUP BY 1");
}

TEST_CASE("plan_row_count: postgres zone-less column") {
  const QueryPlan plan =
      plan_of(events_hourly(),
              context(postgres_dialect(), TimeEncoding::wall_clock, zone("America/New_York")));
  CHECK(plan.sql ==
        "SELECT FLOOR((EXTRACT(EPOCH FROM \"event_time\") - 1795554000) / 3600) AS granule, "
        "COUNT(*) FROM \"raw\".\"events\" WHERE \"event_time\" >= CAST(? AS TIMESTAMP) AND "
        "\"event_time\" < CAST(? AS TIMESTAMP) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-24 21:00:00"), text("2026-11-25 00:00:00")});
  CHECK(plan.granules.wall_zone == zone("America/New_York"));
}

TEST_CASE("plan_row_count: postgres text and epoch columns") {
  SUBCASE("text") {
    const QueryPlan plan =
        plan_of(events_hourly(), context(postgres_dialect(), TimeEncoding::wall_clock_text));
    CHECK(plan.sql ==
          "SELECT FLOOR((EXTRACT(EPOCH FROM CAST(\"event_time\" AS TIMESTAMP)) - 1795572000) / "
          "3600) AS granule, COUNT(*) FROM \"raw\".\"events\" WHERE \"event_time\" >= ? AND "
          "\"event_time\" < ? GROUP BY 1");
    CHECK(plan.params ==
          std::vector<Param>{text("2026-11-25 02:00:00"), text("2026-11-25 05:00:00")});
  }
  SUBCASE("milliseconds") {
    const QueryPlan plan =
        plan_of(events_hourly(), context(postgres_dialect(), TimeEncoding::epoch_milliseconds));
    CHECK(plan.sql ==
          "SELECT FLOOR(((\"event_time\") / 1000.0 - 1795572000) / 3600) AS granule, COUNT(*) "
          "FROM \"raw\".\"events\" WHERE \"event_time\" >= ? AND \"event_time\" < ? GROUP BY 1");
    CHECK(plan.params == std::vector<Param>{integer(1795572000000), integer(1795582800000)});
  }
  SUBCASE("seconds") {
    const QueryPlan plan =
        plan_of(events_hourly(), context(postgres_dialect(), TimeEncoding::epoch_seconds));
    CHECK(plan.sql ==
          "SELECT FLOOR((\"event_time\" - 1795572000) / 3600) AS granule, COUNT(*) FROM "
          "\"raw\".\"events\" WHERE \"event_time\" >= ? AND \"event_time\" < ? GROUP BY 1");
    CHECK(plan.params == std::vector<Param>{integer(1795572000), integer(1795582800)});
  }
}

TEST_CASE("plan_row_count: sqlite") {
  RuleSpec spec = events_hourly();
  spec.table = value_of(parse_qualified_name("events"));
  SUBCASE("text timestamps in a Berlin warehouse count from the wall clock") {
    const QueryPlan plan = plan_of(
        spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text, zone("Europe/Berlin")));
    CHECK(plan.sql ==
          "SELECT CAST((CAST(strftime('%s', \"event_time\") AS INTEGER) - 1795575600) / 3600 AS "
          "INTEGER) AS granule, COUNT(*) FROM \"events\" WHERE \"event_time\" >= ? AND "
          "\"event_time\" < ? GROUP BY 1");
    CHECK(plan.params ==
          std::vector<Param>{text("2026-11-25 03:00:00"), text("2026-11-25 06:00:00")});
    CHECK(plan.granules.base == 1795575600);
    CHECK(plan.granules.wall_zone == zone("Europe/Berlin"));
  }
  SUBCASE("epoch seconds") {
    const QueryPlan plan = plan_of(spec, context(sqlite_dialect(), TimeEncoding::epoch_seconds));
    CHECK(plan.sql ==
          "SELECT CAST((\"event_time\" - 1795572000) / 3600 AS INTEGER) AS granule, COUNT(*) FROM "
          "\"events\" WHERE \"event_time\" >= ? AND \"event_time\" < ? GROUP BY 1");
    CHECK(plan.params == std::vector<Param>{integer(1795572000), integer(1795582800)});
  }
  SUBCASE("epoch milliseconds") {
    const QueryPlan plan =
        plan_of(spec, context(sqlite_dialect(), TimeEncoding::epoch_milliseconds));
    CHECK(plan.sql ==
          "SELECT CAST(((\"event_time\") / 1000 - 1795572000) / 3600 AS INTEGER) AS granule, "
          "COUNT(*) FROM \"events\" WHERE \"event_time\" >= ? AND \"event_time\" < ? GROUP BY 1");
  }
}

TEST_CASE("plan_row_count: Berlin daily buckets across DST group by hour") {
  RuleSpec spec = events_hourly();
  spec.partition = partition("1d", "3d", "0s", zone("Europe/Berlin"));
  const QueryPlan plan = plan_of(spec, context(postgres_dialect(), TimeEncoding::instant,
                                               utc_zone(), at("2026-03-30T22:00:00Z")));
  CHECK(plan.sql ==
        "SELECT FLOOR((EXTRACT(EPOCH FROM \"event_time\") - 1774652400) / 3600) AS granule, "
        "COUNT(*) FROM \"raw\".\"events\" WHERE \"event_time\" >= CAST(? AS TIMESTAMPTZ) AND "
        "\"event_time\" < CAST(? AS TIMESTAMPTZ) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-03-27T23:00:00Z"), text("2026-03-30T22:00:00Z")});
  CHECK(plan.buckets.size() == 3U);
}

TEST_CASE("plan_row_count: no whole bucket in the judged range is an error") {
  RuleSpec spec = events_hourly();
  spec.partition = partition("1h", "1h", "0s", utc_zone());
  CHECK(error_of(plan_row_count(spec, context(postgres_dialect(), TimeEncoding::instant, utc_zone(),
                                              at("2026-11-25T06:30:00Z")))) ==
        "no whole hourly bucket lies between now - lookback (2026-11-25T05:30:00Z) and now - "
        "delay; increase partition.lookback");
}

TEST_CASE("plan_row_count: the whole table") {
  SUBCASE("all rows") {
    const QueryPlan plan = postgres_plan(events_total());
    CHECK(plan.sql == "SELECT COUNT(*) FROM \"raw\".\"events\"");
    CHECK(plan.params.empty());
    CHECK_FALSE(plan.range_start.has_value());
    CHECK_FALSE(plan.range_end.has_value());
    CHECK(plan.buckets.empty());
  }
  SUBCASE("rows in [now - lookback, now)") {
    RuleSpec spec = events_total();
    spec.lookback = days{1};
    const QueryPlan plan = postgres_plan(spec);
    CHECK(plan.sql ==
          "SELECT COUNT(*) FROM \"raw\".\"events\" WHERE \"event_time\" >= CAST(? AS "
          "TIMESTAMPTZ) AND \"event_time\" < CAST(? AS TIMESTAMPTZ)");
    CHECK(plan.params ==
          std::vector<Param>{text("2026-11-24T06:00:00Z"), text("2026-11-25T06:00:00Z")});
    CHECK(plan.range_start == at("2026-11-24T06:00:00Z"));
    CHECK(plan.range_end == kNow);
  }
  SUBCASE("where only") {
    RuleSpec spec = events_total();
    spec.where = "kind = 'order'";
    CHECK(postgres_plan(spec).sql ==
          "SELECT COUNT(*) FROM \"raw\".\"events\" WHERE (kind = 'order')");
  }
  SUBCASE("sqlite, lookback and where") {
    RuleSpec spec = events_total();
    spec.table = value_of(parse_qualified_name("events"));
    spec.lookback = days{1};
    spec.where = "kind = 'order'";
    const QueryPlan plan = plan_of(spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text));
    CHECK(plan.sql ==
          "SELECT COUNT(*) FROM \"events\" WHERE \"event_time\" >= ? AND \"event_time\" < ? AND "
          "(kind = 'order')");
    CHECK(plan.params ==
          std::vector<Param>{text("2026-11-24 06:00:00"), text("2026-11-25 06:00:00")});
  }
}

TEST_CASE("judge_row_count: every bucket above warn passes") {
  const RuleSpec spec = events_hourly();
  const Verdict verdict =
      judge_row_count(spec, postgres_plan(spec), {{"0", "600"}, {"1", "700"}, {"2", "550"}});
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.observed == 550.0);
  CHECK(verdict.message == "3 hourly buckets pass; worst 550 rows");
  CHECK(verdict.windows.empty());
  CHECK(bucket_summary(verdict) == "600:pass 700:pass 550:pass");
  CHECK_FALSE(verdict.error.has_value());
}

TEST_CASE("judge_row_count: a bucket without rows observes 0 and fails") {
  const RuleSpec spec = events_hourly();
  const Verdict verdict = judge_row_count(spec, postgres_plan(spec), {{"0", "120"}, {"2", "40"}});
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.observed == 0.0);
  CHECK(verdict.message == "2 of 3 hourly buckets below 100 rows; 1 more below 500 rows");
  CHECK(bucket_summary(verdict) == "120:warn 0:fail 40:fail");
  CHECK(verdict.windows == std::vector<Window>{
                               window("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", Status::warn),
                               window("2026-11-25T03:00:00Z", "2026-11-25T05:00:00Z", Status::fail),
                           });
  REQUIRE(verdict.buckets.size() == 3U);
  CHECK(verdict.buckets[1].start == at("2026-11-25T03:00:00Z"));
  CHECK(verdict.buckets[1].end == at("2026-11-25T04:00:00Z"));
  CHECK(verdict.buckets[1].value == 0.0);
}

TEST_CASE("judge_row_count: warn only") {
  const RuleSpec spec = events_hourly();
  const Verdict verdict =
      judge_row_count(spec, postgres_plan(spec), {{"0", "600"}, {"1", "499"}, {"2", "450"}});
  CHECK(verdict.status == Status::warn);
  CHECK(verdict.observed == 450.0);
  CHECK(verdict.message == "2 of 3 hourly buckets below 500 rows");
  CHECK(verdict.windows ==
        std::vector<Window>{window("2026-11-25T03:00:00Z", "2026-11-25T05:00:00Z", Status::warn)});
}

TEST_CASE("judge_row_count: no rows at all fail every bucket, never pass") {
  const RuleSpec spec = events_hourly();
  const Verdict verdict = judge_row_count(spec, postgres_plan(spec), {});
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.observed == 0.0);
  CHECK(verdict.message == "3 of 3 hourly buckets below 100 rows");
  CHECK(bucket_summary(verdict) == "0:fail 0:fail 0:fail");
  CHECK(verdict.windows ==
        std::vector<Window>{window("2026-11-25T02:00:00Z", "2026-11-25T05:00:00Z", Status::fail)});
}

TEST_CASE("judge_row_count: numbers as drivers print them") {
  const RuleSpec spec = events_hourly();
  const Verdict verdict = judge_row_count(spec, postgres_plan(spec),
                                          {{"0", "600.000"}, {"1.0", "700"}, {"2.000000", "550"}});
  CHECK(verdict.status == Status::pass);
  CHECK(bucket_summary(verdict) == "600:pass 700:pass 550:pass");
}

TEST_CASE("judge_row_count: granules outside the judged buckets are ignored") {
  const RuleSpec spec = events_hourly();
  const Verdict verdict =
      judge_row_count(spec, postgres_plan(spec),
                      {{"-1", "1000"}, {"0", "600"}, {"1", "700"}, {"2", "550"}, {"3", "1000"}});
  CHECK(bucket_summary(verdict) == "600:pass 700:pass 550:pass");
}

TEST_CASE("judge_row_count: Berlin daily buckets of 24, 23 and 24 hours roll up hour granules") {
  RuleSpec spec = events_hourly();
  spec.partition = partition("1d", "3d", "0s", zone("Europe/Berlin"));
  spec.thresholds.fail = Bound{3, std::nullopt};
  spec.thresholds.warn.reset();
  const QueryPlan plan = plan_of(spec, context(postgres_dialect(), TimeEncoding::instant,
                                               utc_zone(), at("2026-03-30T22:00:00Z")));
  // Granule 23 is the last hour of 2026-03-28, 24..46 the 23 hours of the 29th.
  const Verdict verdict =
      judge_row_count(spec, plan, {{"23", "5"}, {"24", "7"}, {"46", "1"}, {"47", "2"}});
  CHECK(bucket_summary(verdict) == "5:pass 8:pass 2:fail");
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.message == "1 of 3 daily buckets below 3 rows");
  CHECK(verdict.windows ==
        std::vector<Window>{window("2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z", Status::fail)});
}

TEST_CASE("judge_row_count: 15-minute buckets name their size") {
  RuleSpec spec = events_hourly();
  spec.partition = partition("15m", "1h", "0s", utc_zone());
  const Verdict verdict = judge_row_count(spec, postgres_plan(spec),
                                          {{"0", "600"}, {"1", "600"}, {"2", "600"}, {"3", "10"}});
  CHECK(verdict.message == "1 of 4 15-minute buckets below 100 rows");
  CHECK(verdict.windows ==
        std::vector<Window>{window("2026-11-25T05:45:00Z", "2026-11-25T06:00:00Z", Status::fail)});
}

TEST_CASE("judge_row_count: with a maximum, the fullest bucket is the worst") {
  RuleSpec spec = events_hourly();
  spec.thresholds.fail = Bound{std::nullopt, 1000};
  spec.thresholds.warn = Bound{std::nullopt, 800};
  SUBCASE("fail") {
    const Verdict verdict =
        judge_row_count(spec, postgres_plan(spec), {{"0", "10"}, {"1", "2000"}, {"2", "900"}});
    CHECK(verdict.status == Status::fail);
    CHECK(verdict.observed == 2000.0);
    CHECK(verdict.message == "1 of 3 hourly buckets above 1000 rows; 1 more above 800 rows");
  }
  SUBCASE("pass") {
    const Verdict verdict =
        judge_row_count(spec, postgres_plan(spec), {{"0", "10"}, {"1", "700"}, {"2", "300"}});
    CHECK(verdict.status == Status::pass);
    CHECK(verdict.observed == 700.0);
    CHECK(verdict.message == "3 hourly buckets pass; worst 700 rows");
  }
}

TEST_CASE("judge_row_count: a range threshold") {
  RuleSpec spec = events_hourly();
  spec.thresholds.fail = Bound{10, 1000};
  spec.thresholds.warn.reset();
  const Verdict verdict =
      judge_row_count(spec, postgres_plan(spec), {{"0", "5"}, {"1", "500"}, {"2", "5000"}});
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.message == "2 of 3 hourly buckets outside 10..1000 rows");
  CHECK(verdict.windows == std::vector<Window>{
                               window("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z", Status::fail),
                               window("2026-11-25T04:00:00Z", "2026-11-25T05:00:00Z", Status::fail),
                           });
}

TEST_CASE("judge_row_count: zone-less rows in a repeated hour count toward its first occurrence") {
  // UTC hourly buckets 23:00Z, 00:00Z and 01:00Z around Berlin's fall back; the
  // warehouse writes Berlin wall-clock times, so 00:xxZ and 01:xxZ both read 02:xx.
  RuleSpec spec = events_hourly();
  spec.table = value_of(parse_qualified_name("events"));
  spec.partition = partition("1h", "3h", "0s", utc_zone());
  const QueryPlan plan = plan_of(spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text,
                                               zone("Europe/Berlin"), at("2026-10-25T02:00:00Z")));
  CHECK(plan.params ==
        std::vector<Param>{text("2026-10-25 01:00:00"), text("2026-10-25 03:00:00")});
  const Verdict verdict = judge_row_count(spec, plan, {{"0", "600"}, {"1", "1200"}});
  CHECK(bucket_summary(verdict) == "600:pass 1200:pass 0:fail");
}

TEST_CASE("judge_row_count: zone-less rows across a skipped hour land in their UTC buckets") {
  // UTC hourly buckets 22:00Z..03:00Z around Berlin's spring forward; wall-clock
  // granule 3 (02:00, which never happens) is empty and 03:00 is 01:00Z.
  RuleSpec spec = events_hourly();
  spec.table = value_of(parse_qualified_name("events"));
  spec.partition = partition("1h", "6h", "0s", utc_zone());
  const QueryPlan plan = plan_of(spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text,
                                               zone("Europe/Berlin"), at("2026-03-29T04:00:00Z")));
  CHECK(plan.params ==
        std::vector<Param>{text("2026-03-28 23:00:00"), text("2026-03-29 06:00:00")});
  CHECK(plan.granules.base == testing::wall("2026-03-28 23:00:00").count());
  CHECK(plan.granules.size == 3600);
  const Verdict verdict = judge_row_count(
      spec, plan,
      {{"0", "600"}, {"1", "601"}, {"2", "602"}, {"4", "604"}, {"5", "605"}, {"6", "606"}});
  CHECK(bucket_summary(verdict) == "600:pass 601:pass 602:pass 604:pass 605:pass 606:pass");
  CHECK(verdict.status == Status::pass);
}

TEST_CASE("judge_row_count: malformed results are errors, never a pass") {
  const RuleSpec spec = events_hourly();
  const QueryPlan plan = postgres_plan(spec);
  const auto error_message = [&](const ResultRows& rows) {
    const Verdict verdict = judge_row_count(spec, plan, rows);
    CHECK(verdict.status == Status::error);
    CHECK(verdict.error == verdict.message);
    CHECK(verdict.windows.empty());
    return verdict.message;
  };
  CHECK(error_message({{"0", "600", "1"}}) == "the warehouse returned 3 columns, expected 2");
  CHECK(error_message({{"0"}}) == "the warehouse returned 1 columns, expected 2");
  CHECK(error_message({{"0", "many"}}) == "the warehouse returned a count that is not a number");
  CHECK(error_message({{"0", "12.5"}}) == "the warehouse returned a count that is not a number");
  CHECK(error_message({{Cell{"0"}, std::nullopt}}) ==
        "the warehouse returned a count that is not a number");
  CHECK(error_message({{"x", "600"}}) ==
        "the warehouse returned a granule 'x' that is not a number");
  CHECK(error_message({{"0", "600"}, {std::nullopt, Cell{"4"}}}) ==
        "4 row(s) in the judged range have a timestamp that cannot be read as a time (text "
        "timestamps must look like 'YYYY-MM-DD HH:MM:SS')");
}

TEST_CASE("judge_row_count: billion-row counts are counted exactly; counts past 64 bits are errors") {
  const RuleSpec spec = events_hourly();
  const QueryPlan plan = postgres_plan(spec);
  // Beyond 32 bits, and several granules of one bucket adding up.
  const Verdict big = judge_row_count(
      spec, plan, {{"0", "4294967296"}, {"1", "3000000000"}, {"2", "9000000000000000000"}});
  CHECK(big.status == Status::pass);
  CHECK(bucket_summary(big) == "4294967296:pass 3000000000:pass 9000000000000000000:pass");
  CHECK(big.observed == 3000000000.0);

  const auto error_message = [&](const ResultRows& rows) {
    const Verdict verdict = judge_row_count(spec, plan, rows);
    CHECK(verdict.status == Status::error);
    CHECK(verdict.windows.empty());
    return verdict.message;
  };
  CHECK(error_message({{"0", "99999999999999999999"}}) ==
        "the warehouse returned a count that is not a number");
  CHECK(error_message({{"0", "-5"}}) ==
        "the warehouse returned inconsistent counts (-5 rows, -5 non-NULL)");
  // Counts of one bucket whose sum does not fit (a driver returning the same
  // granule twice).
  const Verdict overflow = judge_row_count(
      spec, plan, {{"0", "9000000000000000000"}, {"0", "9000000000000000000"}});
  CHECK(overflow.status == Status::error);
  CHECK(overflow.message == "the warehouse returned counts too large to add up");
}

TEST_CASE("judge_row_count: the whole table") {
  SUBCASE("fail, with the lookback as its window") {
    RuleSpec spec = events_total();
    spec.lookback = days{1};
    const Verdict verdict = judge_row_count(spec, postgres_plan(spec), {{"42"}});
    CHECK(verdict.status == Status::fail);
    CHECK(verdict.observed == 42.0);
    CHECK(verdict.message == "42 rows in the last 1d (below 100 rows)");
    CHECK(verdict.windows == std::vector<Window>{window("2026-11-24T06:00:00Z",
                                                        "2026-11-25T06:00:00Z", Status::fail)});
    CHECK(verdict.buckets.empty());
  }
  SUBCASE("warn") {
    RuleSpec spec = events_total();
    spec.lookback = days{1};
    const Verdict verdict = judge_row_count(spec, postgres_plan(spec), {{"300"}});
    CHECK(verdict.status == Status::warn);
    CHECK(verdict.message == "300 rows in the last 1d (below 500 rows)");
    CHECK(verdict.windows == std::vector<Window>{window("2026-11-24T06:00:00Z",
                                                        "2026-11-25T06:00:00Z", Status::warn)});
  }
  SUBCASE("pass") {
    const RuleSpec spec = events_total();
    const Verdict verdict = judge_row_count(spec, postgres_plan(spec), {{"1000"}});
    CHECK(verdict.status == Status::pass);
    CHECK(verdict.observed == 1000.0);
    CHECK(verdict.message == "1000 rows");
    CHECK(verdict.windows.empty());
  }
  SUBCASE("an empty table fails; without lookback there is no window to name") {
    const RuleSpec spec = events_total();
    const Verdict verdict = judge_row_count(spec, postgres_plan(spec), {{"0"}});
    CHECK(verdict.status == Status::fail);
    CHECK(verdict.observed == 0.0);
    CHECK(verdict.message == "0 rows (below 100 rows)");
    CHECK(verdict.windows.empty());
  }
  SUBCASE("malformed results are errors") {
    const RuleSpec spec = events_total();
    const QueryPlan plan = postgres_plan(spec);
    const std::string shape = "the warehouse returned an unexpected result shape for a count";
    CHECK(judge_row_count(spec, plan, {}).message == shape);
    CHECK(judge_row_count(spec, plan, {{"1"}, {"2"}}).message == shape);
    CHECK(judge_row_count(spec, plan, {{"1", "2"}}).message == shape);
    CHECK(judge_row_count(spec, plan, {{"x"}}).message ==
          "the warehouse returned a count that is not a number");
    CHECK(judge_row_count(spec, plan, {{std::nullopt}}).status == Status::error);
  }
}

}  // namespace
}  // namespace gapwatch
