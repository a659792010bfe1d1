#include "rules/freshness.h"

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::days;
using std::chrono::hours;
using testing::at;
using testing::epoch;
using testing::value_of;
using testing::zone;

// 2026-11-25T06:00:00Z, the evaluation time of every test here.
const Instant kNow{std::chrono::seconds{1795586400}};

// orders_fresh from the configuration example: warn above 1h, fail above 2h.
RuleSpec orders_fresh() {
  RuleSpec spec;
  spec.name = "orders_fresh";
  spec.warehouse = "shop";
  spec.table = value_of(parse_qualified_name("public.orders"));
  spec.check = CheckKind::freshness;
  spec.timestamp_column = "updated_at";
  spec.thresholds.fail = Bound{std::nullopt, 7200};
  spec.thresholds.warn = Bound{std::nullopt, 3600};
  return spec;
}

PlanContext context(const Dialect& dialect, TimeEncoding encoding,
                    const TimeZone* warehouse_zone = utc_zone()) {
  PlanContext plan_context;
  plan_context.dialect = &dialect;
  plan_context.encoding = encoding;
  plan_context.warehouse_zone = warehouse_zone;
  plan_context.now = kNow;
  return plan_context;
}

// The row max() returns: the raw newest value, its epoch seconds, and how
// many rows lie too far ahead to be read.
ResultRows newest(Cell raw, Cell epoch_seconds, Cell ahead = Cell{"0"}) {
  return {{std::move(raw), std::move(epoch_seconds), std::move(ahead)}};
}

ResultRows newest_at(std::string_view rfc3339) {
  return newest(std::string(rfc3339), std::to_string(epoch(rfc3339)));
}

TEST_CASE("plan_freshness: postgres, lookback and where") {
  RuleSpec spec = orders_fresh();
  spec.lookback = days{30};
  spec.where = "status <> 'test'";
  const QueryPlan plan =
      value_of(plan_freshness(spec, context(postgres_dialect(), TimeEncoding::instant)));
  CHECK(plan.sql ==
        "SELECT MAX(\"updated_at\"), EXTRACT(EPOCH FROM MAX(\"updated_at\")), (SELECT COUNT(*) "
        "FROM \"public\".\"orders\" WHERE \"updated_at\" >= CAST(? AS TIMESTAMPTZ) AND "
        "(status <> 'test')) FROM \"public\".\"orders\" WHERE \"updated_at\" >= CAST(? AS "
        "TIMESTAMPTZ) AND \"updated_at\" < CAST(? AS TIMESTAMPTZ) AND (status <> 'test')");
  // Rows more than future_tolerance (5m) ahead are not read, only counted:
  // one row hours ahead, or junk such as 9999-12-31, must not hide an outage.
  CHECK(plan.params == std::vector<Param>{Param{std::string("2026-11-25T06:05:00Z")},
                                          Param{std::string("2026-10-26T06:00:00Z")},
                                          Param{std::string("2026-11-25T06:05:00Z")}});
  CHECK(plan.range_start == at("2026-10-26T06:00:00Z"));
  CHECK(plan.range_end == at("2026-11-25T06:05:00Z"));
  CHECK(plan.encoding == TimeEncoding::instant);
  CHECK(plan.buckets.empty());
}

TEST_CASE("plan_freshness: without lookback or where the whole table is read, up to 5m ahead") {
  const QueryPlan plan =
      value_of(plan_freshness(orders_fresh(), context(postgres_dialect(), TimeEncoding::instant)));
  CHECK(plan.sql ==
        "SELECT MAX(\"updated_at\"), EXTRACT(EPOCH FROM MAX(\"updated_at\")), (SELECT COUNT(*) "
        "FROM \"public\".\"orders\" WHERE \"updated_at\" >= CAST(? AS TIMESTAMPTZ)) FROM "
        "\"public\".\"orders\" WHERE \"updated_at\" < CAST(? AS TIMESTAMPTZ)");
  CHECK(plan.params == std::vector<Param>{Param{std::string("2026-11-25T06:05:00Z")},
                                          Param{std::string("2026-11-25T06:05:00Z")}});
  CHECK_FALSE(plan.range_start.has_value());
}

TEST_CASE("plan_freshness: where without lookback") {
  RuleSpec spec = orders_fresh();
  spec.where = "region = 'eu'";
  const QueryPlan plan =
      value_of(plan_freshness(spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text)));
  CHECK(plan.sql ==
        "SELECT MAX(\"updated_at\"), CAST(strftime('%s', MAX(\"updated_at\")) AS INTEGER), "
        "(SELECT COUNT(*) FROM \"public\".\"orders\" WHERE \"updated_at\" >= ? AND (region = "
        "'eu')) FROM \"public\".\"orders\" WHERE \"updated_at\" < ? AND (region = 'eu')");
  CHECK(plan.params.size() == 2);
}

TEST_CASE("plan_freshness: postgres zone-less column binds the warehouse wall clock") {
  RuleSpec spec = orders_fresh();
  spec.lookback = days{1};
  const TimeZone* berlin = zone("Europe/Berlin");
  const QueryPlan plan =
      value_of(plan_freshness(spec, context(postgres_dialect(), TimeEncoding::wall_clock, berlin)));
  CHECK(plan.sql ==
        "SELECT MAX(\"updated_at\"), EXTRACT(EPOCH FROM MAX(\"updated_at\")), (SELECT COUNT(*) "
        "FROM \"public\".\"orders\" WHERE \"updated_at\" >= CAST(? AS TIMESTAMP)) FROM "
        "\"public\".\"orders\" WHERE \"updated_at\" >= CAST(? AS TIMESTAMP) AND \"updated_at\" < "
        "CAST(? AS TIMESTAMP)");
  CHECK(plan.params == std::vector<Param>{Param{std::string("2026-11-25 07:05:00")},
                                          Param{std::string("2026-11-24 07:00:00")},
                                          Param{std::string("2026-11-25 07:05:00")}});
  CHECK(plan.warehouse_zone == berlin);
  CHECK(plan.encoding == TimeEncoding::wall_clock);
}

TEST_CASE("plan_freshness: sqlite text timestamps") {
  RuleSpec spec = orders_fresh();
  spec.table = value_of(parse_qualified_name("orders"));
  spec.lookback = days{30};
  const QueryPlan plan = value_of(plan_freshness(
      spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text, zone("Europe/Berlin"))));
  CHECK(plan.sql ==
        "SELECT MAX(\"updated_at\"), CAST(strftime('%s', MAX(\"updated_at\")) AS INTEGER), "
        "(SELECT COUNT(*) FROM \"orders\" WHERE \"updated_at\" >= ?) FROM \"orders\" WHERE "
        "\"updated_at\" >= ? AND \"updated_at\" < ?");
  CHECK(plan.params == std::vector<Param>{Param{std::string("2026-11-25 07:05:00")},
                                          Param{std::string("2026-10-26 07:00:00")},
                                          Param{std::string("2026-11-25 07:05:00")}});
}

TEST_CASE("plan_freshness: epoch columns bind integers") {
  RuleSpec spec = orders_fresh();
  spec.lookback = hours{1};
  SUBCASE("postgres milliseconds") {
    const QueryPlan plan = value_of(
        plan_freshness(spec, context(postgres_dialect(), TimeEncoding::epoch_milliseconds)));
    CHECK(plan.sql ==
          "SELECT MAX(\"updated_at\"), (MAX(\"updated_at\")) / 1000.0, (SELECT COUNT(*) FROM "
          "\"public\".\"orders\" WHERE \"updated_at\" >= ?) FROM \"public\".\"orders\" "
          "WHERE \"updated_at\" >= ? AND \"updated_at\" < ?");
    CHECK(plan.params == std::vector<Param>{Param{std::int64_t{1795586700000}},
                                            Param{std::int64_t{1795582800000}},
                                            Param{std::int64_t{1795586700000}}});
  }
  SUBCASE("sqlite seconds") {
    const QueryPlan plan =
        value_of(plan_freshness(spec, context(sqlite_dialect(), TimeEncoding::epoch_seconds)));
    CHECK(plan.sql ==
          "SELECT MAX(\"updated_at\"), MAX(\"updated_at\"), (SELECT COUNT(*) FROM "
          "\"public\".\"orders\" WHERE \"updated_at\" >= ?) FROM \"public\".\"orders\" WHERE "
          "\"updated_at\" >= ? AND \"updated_at\" < ?");
    CHECK(plan.params == std::vector<Param>{Param{std::int64_t{1795586700}},
                                            Param{std::int64_t{1795582800}},
                                            Param{std::int64_t{1795586700}}});
  }
  SUBCASE("sqlite milliseconds") {
    const QueryPlan plan =
        value_of(plan_freshness(spec, context(sqlite_dialect(), TimeEncoding::epoch_milliseconds)));
    CHECK(plan.sql ==
          "SELECT MAX(\"updated_at\"), (MAX(\"updated_at\")) / 1000, (SELECT COUNT(*) FROM "
          "\"public\".\"orders\" WHERE \"updated_at\" >= ?) FROM \"public\".\"orders\" "
          "WHERE \"updated_at\" >= ? AND \"updated_at\" < ?");
  }
}

QueryPlan instant_plan(const RuleSpec& spec) {
  return value_of(plan_freshness(spec, context(postgres_dialect(), TimeEncoding::instant)));
}

TEST_CASE("judge_freshness: a recent newest row passes") {
  const RuleSpec spec = orders_fresh();
  const Verdict verdict =
      judge_freshness(spec, instant_plan(spec), newest_at("2026-11-25T05:30:00Z"), kNow);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.observed == 1800.0);
  CHECK(verdict.message == "newest row 2026-11-25T05:30:00Z is 30m old");
  CHECK(verdict.newest_row == at("2026-11-25T05:30:00Z"));
  CHECK(verdict.windows.empty());
  CHECK_FALSE(verdict.error.has_value());
}

TEST_CASE("judge_freshness: an age at the warn bound still passes") {
  const RuleSpec spec = orders_fresh();
  const Verdict verdict =
      judge_freshness(spec, instant_plan(spec), newest_at("2026-11-25T05:00:00Z"), kNow);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.observed == 3600.0);
}

TEST_CASE("judge_freshness: warn, with a window from the newest row to now") {
  const RuleSpec spec = orders_fresh();
  const Verdict verdict =
      judge_freshness(spec, instant_plan(spec), newest_at("2026-11-25T04:30:00Z"), kNow);
  CHECK(verdict.status == Status::warn);
  CHECK(verdict.observed == 5400.0);
  CHECK(verdict.message == "newest row 2026-11-25T04:30:00Z is 1h30m old (warn above 1h)");
  CHECK(verdict.windows ==
        std::vector<Window>{Window{at("2026-11-25T04:30:00Z"), kNow, Status::warn}});
}

TEST_CASE("judge_freshness: fail, with a window from the newest row to now") {
  const RuleSpec spec = orders_fresh();
  const Verdict verdict =
      judge_freshness(spec, instant_plan(spec), newest_at("2026-11-23T03:00:00Z"), kNow);
  CHECK(verdict.status == Status::fail);
  CHECK(verdict.observed == 183600.0);
  CHECK(verdict.message == "newest row 2026-11-23T03:00:00Z is 2d3h old (fail above 2h)");
  CHECK(verdict.windows ==
        std::vector<Window>{Window{at("2026-11-23T03:00:00Z"), kNow, Status::fail}});
}

TEST_CASE("judge_freshness: without warn, past fail.max fails") {
  RuleSpec spec = orders_fresh();
  spec.thresholds.warn.reset();
  const QueryPlan plan = instant_plan(spec);
  CHECK(judge_freshness(spec, plan, newest_at("2026-11-25T04:30:00Z"), kNow).status ==
        Status::pass);
  CHECK(judge_freshness(spec, plan, newest_at("2026-11-25T03:59:59Z"), kNow).status ==
        Status::fail);
}

TEST_CASE("judge_freshness: a newest row in the future counts as age 0") {
  const RuleSpec spec = orders_fresh();
  const Verdict verdict =
      judge_freshness(spec, instant_plan(spec), newest_at("2026-11-25T06:05:00Z"), kNow);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.observed == 0.0);
  CHECK(verdict.message ==
        "newest row 2026-11-25T06:05:00Z is 0s old (newest row is 5m in the future; counted as "
        "age 0)");
  CHECK(verdict.newest_row == at("2026-11-25T06:05:00Z"));
  CHECK(verdict.windows.empty());
}

// One row dated 20 h ahead once made such a rule pass through a real outage;
// now the statement leaves it out and the message counts it.
TEST_CASE("judge_freshness: rows too far ahead were left out, and the message says how many") {
  const RuleSpec spec = orders_fresh();
  SUBCASE("the newest row read is old: fail") {
    const Verdict verdict =
        judge_freshness(spec, instant_plan(spec),
                        newest("2026-11-23T03:00:00Z", std::to_string(epoch("2026-11-23T03:00:00Z")), "1"),
                        kNow);
    CHECK(verdict.status == Status::fail);
    CHECK(verdict.message ==
          "newest row 2026-11-23T03:00:00Z is 2d3h old (fail above 2h); 1 row dated more than 5m "
          "in the future and left out");
  }
  SUBCASE("nothing else: fail, no rows") {
    const Verdict verdict =
        judge_freshness(spec, instant_plan(spec), newest(std::nullopt, std::nullopt, "3"), kNow);
    CHECK(verdict.status == Status::fail);
    CHECK(verdict.message ==
          "no rows with a non-NULL updated_at; 3 rows dated more than 5m in the future and left out");
  }
  SUBCASE("a configured tolerance is named") {
    RuleSpec tolerant = spec;
    tolerant.future_tolerance = std::chrono::minutes{30};
    const QueryPlan plan = instant_plan(tolerant);
    CHECK(plan.range_end == at("2026-11-25T06:30:00Z"));
    const Verdict verdict = judge_freshness(tolerant, plan, newest_at("2026-11-25T05:30:00Z"), kNow);
    CHECK(verdict.status == Status::pass);
    CHECK(verdict.message == "newest row 2026-11-25T05:30:00Z is 30m old");
  }
}

TEST_CASE("judge_freshness: no rows fail, with observed empty, never pass") {
  SUBCASE("within the lookback: the window is [now - lookback, now)") {
    RuleSpec spec = orders_fresh();
    spec.lookback = days{30};
    const Verdict verdict =
        judge_freshness(spec, instant_plan(spec), newest(std::nullopt, std::nullopt), kNow);
    CHECK(verdict.status == Status::fail);
    CHECK_FALSE(verdict.observed.has_value());
    CHECK_FALSE(verdict.newest_row.has_value());
    CHECK(verdict.message == "no rows with a updated_at in the last 30d");
    CHECK(verdict.windows ==
          std::vector<Window>{Window{at("2026-10-26T06:00:00Z"), kNow, Status::fail}});
  }
  SUBCASE("in the whole table (or only NULL timestamps)") {
    const RuleSpec spec = orders_fresh();
    const Verdict verdict =
        judge_freshness(spec, instant_plan(spec), newest(std::nullopt, std::nullopt), kNow);
    CHECK(verdict.status == Status::fail);
    CHECK_FALSE(verdict.observed.has_value());
    CHECK(verdict.message == "no rows with a non-NULL updated_at");
    CHECK(verdict.windows.empty());
  }
}

TEST_CASE("judge_freshness: a newest value that is not a time is an error") {
  RuleSpec spec = orders_fresh();
  spec.timestamp_format = TimestampFormat::text;
  const QueryPlan plan =
      value_of(plan_freshness(spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text)));
  SUBCASE("NULL epoch for a non-NULL raw value") {
    const Verdict verdict = judge_freshness(spec, plan, newest("yesterday", std::nullopt), kNow);
    CHECK(verdict.status == Status::error);
    CHECK(verdict.message ==
          "newest updated_at 'yesterday' cannot be read as a time (timestamp_format: text)");
    CHECK(verdict.error == verdict.message);
    CHECK(verdict.windows.empty());
  }
  SUBCASE("an epoch that is not a number") {
    const Verdict verdict = judge_freshness(spec, plan, newest("x", "abc"), kNow);
    CHECK(verdict.status == Status::error);
  }
}

TEST_CASE("judge_freshness: malformed results are errors") {
  const RuleSpec spec = orders_fresh();
  const QueryPlan plan = instant_plan(spec);
  const std::string message = "the warehouse returned an unexpected result shape for max()";
  SUBCASE("no row") {
    const Verdict verdict = judge_freshness(spec, plan, {}, kNow);
    CHECK(verdict.status == Status::error);
    CHECK(verdict.message == message);
  }
  SUBCASE("two rows") {
    ResultRows rows = newest_at("2026-11-25T05:30:00Z");
    rows.push_back(rows.front());
    CHECK(judge_freshness(spec, plan, rows, kNow).status == Status::error);
  }
  SUBCASE("one column") {
    CHECK(judge_freshness(spec, plan, {{Cell{"1795584600"}}}, kNow).status == Status::error);
  }
  SUBCASE("four columns") {
    CHECK(judge_freshness(spec, plan, {{Cell{"a"}, Cell{"1795584600"}, Cell{"0"}, Cell{"b"}}},
                          kNow)
              .status == Status::error);
  }
  SUBCASE("a count of rows ahead that is not a count") {
    CHECK(judge_freshness(spec, plan, newest("a", "1795584600", "b"), kNow).status ==
          Status::error);
    CHECK(judge_freshness(spec, plan, newest("a", "1795584600", "-1"), kNow).status ==
          Status::error);
  }
}

TEST_CASE("judge_freshness: driver number formats") {
  const RuleSpec spec = orders_fresh();
  const QueryPlan plan = instant_plan(spec);
  SUBCASE("a fractional epoch is floored to the second") {
    const Verdict verdict =
        judge_freshness(spec, plan, newest("2026-11-25 05:30:00.75+00", "1795584600.750000"), kNow);
    CHECK(verdict.newest_row == at("2026-11-25T05:30:00Z"));
    CHECK(verdict.observed == 1800.0);
  }
  SUBCASE("an exponent") {
    const Verdict verdict = judge_freshness(spec, plan, newest("x", "1.7955846e9"), kNow);
    CHECK(verdict.newest_row == at("2026-11-25T05:30:00Z"));
  }
}

TEST_CASE("judge_freshness: a zone-less newest row is read in the warehouse zone") {
  const RuleSpec spec = orders_fresh();
  const TimeZone* berlin = zone("Europe/Berlin");
  const QueryPlan plan =
      value_of(plan_freshness(spec, context(postgres_dialect(), TimeEncoding::wall_clock, berlin)));
  // 06:30 on Berlin's wall clock is 05:30Z.
  const Verdict verdict = judge_freshness(
      spec, plan, newest("2026-11-25 06:30:00", std::to_string(epoch("2026-11-25T06:30:00Z"))),
      kNow);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.newest_row == at("2026-11-25T05:30:00Z"));
  CHECK(verdict.observed == 1800.0);
  SUBCASE("in the repeated hour, the first occurrence") {
    const Verdict repeated = judge_freshness(
        spec, plan, newest("2026-10-25 02:30:00", std::to_string(epoch("2026-10-25T02:30:00Z"))),
        at("2026-10-25T01:45:00Z"));
    CHECK(repeated.newest_row == at("2026-10-25T00:30:00Z"));
    CHECK(repeated.observed == 4500.0);
    CHECK(repeated.status == Status::warn);
  }
}

}  // namespace
}  // namespace gapwatch
