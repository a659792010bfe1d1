#include "rules/null_rate.h"

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
using testing::value_of;
using testing::zone;

// 2026-03-30T22:00:00Z, Berlin's midnight starting 2026-03-31: the judged daily
// buckets are the 28th (24h), the 29th (23h, spring forward) and the 30th
// (24h). Hour granules 0..23 fall in the first, 24..46 in the second, 47..70
// in the third.
const Instant kNow{std::chrono::seconds{1774908000}};

// customers_email from the configuration example: daily Berlin buckets, fail
// above 2% NULL, buckets under 50 rows not judged.
RuleSpec customers_email() {
  RuleSpec spec;
  spec.name = "customers_email";
  spec.warehouse = "shop";
  spec.table = value_of(parse_qualified_name("crm.customers"));
  spec.check = CheckKind::null_rate;
  spec.column = "email";
  spec.timestamp_column = "created_at";
  PartitionSpec partition;
  partition.every = days{1};
  partition.lookback = days{3};
  partition.delay = std::chrono::seconds{0};
  partition.zone = zone("Europe/Berlin");
  spec.partition = partition;
  spec.thresholds.fail = Bound{std::nullopt, 0.02};
  spec.min_rows = 50;
  return spec;
}

RuleSpec customers_total() {
  RuleSpec spec = customers_email();
  spec.partition.reset();
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

QueryPlan postgres_plan(const RuleSpec& spec) {
  return value_of(plan_null_rate(spec, context(postgres_dialect(), TimeEncoding::instant)));
}

Param text(std::string value) {
  return Param{std::move(value)};
}

Window window(std::string_view start, std::string_view end, Status status) {
  return Window{at(start), at(end), status};
}

// "rows/nulls:status" per bucket, e.g. "100/5:fail 30/30:unjudged".
std::string bucket_summary(const Verdict& verdict) {
  std::string out;
  for (const BucketVerdict& bucket : verdict.buckets) {
    out += out.empty() ? "" : " ";
    out += std::to_string(bucket.rows) + "/" + std::to_string(bucket.nulls) + ":" +
           (bucket.status ? std::string(to_string(*bucket.status)) : "unjudged");
  }
  return out;
}

TEST_CASE("plan_null_rate: postgres counts rows and non-NULL values per granule") {
  const QueryPlan plan = postgres_plan(customers_email());
  CHECK(plan.sql ==
        "SELECT FLOOR((EXTRACT(EPOCH FROM \"created_at\") - 1774652400) / 3600) AS granule, "
        "COUNT(*), COUNT(\"email\") FROM \"crm\".\"customers\" WHERE \"created_at\" >= CAST(? AS "
        "TIMESTAMPTZ) AND \"created_at\" < CAST(? AS TIMESTAMPTZ) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-03-27T23:00:00Z"), text("2026-03-30T22:00:00Z")});
  CHECK(plan.buckets.size() == 3U);
  CHECK(plan.granules.size == 3600);
}

TEST_CASE("plan_null_rate: sqlite, Berlin text timestamps and a where predicate") {
  RuleSpec spec = customers_email();
  spec.table = value_of(parse_qualified_name("customers"));
  spec.where = "deleted = 0";
  const QueryPlan plan = value_of(plan_null_rate(
      spec, context(sqlite_dialect(), TimeEncoding::wall_clock_text, zone("Europe/Berlin"))));
  CHECK(plan.sql ==
        "SELECT CAST((CAST(strftime('%s', \"created_at\") AS INTEGER) - 1774656000) / 3600 AS "
        "INTEGER) AS granule, COUNT(*), COUNT(\"email\") FROM \"customers\" WHERE "
        "\"created_at\" >= ? AND \"created_at\" < ? AND (deleted = 0) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-03-28 00:00:00"), text("2026-03-31 00:00:00")});
}

TEST_CASE("plan_null_rate: the whole table") {
  SUBCASE("all rows") {
    CHECK(postgres_plan(customers_total()).sql ==
          "SELECT COUNT(*), COUNT(\"email\") FROM \"crm\".\"customers\"");
  }
  SUBCASE("sqlite, within the lookback") {
    RuleSpec spec = customers_total();
    spec.table = value_of(parse_qualified_name("customers"));
    spec.lookback = days{1};
    const QueryPlan plan =
        value_of(plan_null_rate(spec, context(sqlite_dialect(), TimeEncoding::epoch_seconds)));
    CHECK(plan.sql ==
          "SELECT COUNT(*), COUNT(\"email\") FROM \"customers\" WHERE \"created_at\" >= ? AND "
          "\"created_at\" < ?");
    CHECK(plan.params ==
          std::vector<Param>{Param{std::int64_t{1774821600}}, Param{std::int64_t{1774908000}}});
  }
}

TEST_CASE("judge_null_rate: every bucket within the maximum passes") {
  const RuleSpec spec = customers_email();
  const Verdict verdict = judge_null_rate(
      spec, postgres_plan(spec), {{"0", "100", "99"}, {"30", "200", "200"}, {"50", "100", "100"}});
  CHECK(verdict.status == Status::pass);
  REQUIRE(verdict.observed.has_value());
  CHECK(*verdict.observed == doctest::Approx(0.01));
  CHECK(verdict.message == "3 daily buckets pass; worst 1% NULL in email");
  CHECK(bucket_summary(verdict) == "100/1:pass 200/0:pass 100/0:pass");
  CHECK(verdict.windows.empty());
}

TEST_CASE("judge_null_rate: buckets above the maximum fail, the highest ratio is observed") {
  const RuleSpec spec = customers_email();
  const Verdict verdict = judge_null_rate(
      spec, postgres_plan(spec), {{"0", "100", "99"}, {"30", "100", "95"}, {"50", "100", "97"}});
  CHECK(verdict.status == Status::fail);
  REQUIRE(verdict.observed.has_value());
  CHECK(*verdict.observed == doctest::Approx(0.05));
  CHECK(verdict.message == "2 of 3 daily buckets above 2% NULL in email");
  CHECK(bucket_summary(verdict) == "100/1:pass 100/5:fail 100/3:fail");
  CHECK(verdict.windows ==
        std::vector<Window>{window("2026-03-28T23:00:00Z", "2026-03-30T22:00:00Z", Status::fail)});
  REQUIRE(verdict.buckets.size() == 3U);
  CHECK(*verdict.buckets[1].value == doctest::Approx(0.05));
}

TEST_CASE("judge_null_rate: warn") {
  RuleSpec spec = customers_email();
  spec.thresholds.warn = Bound{std::nullopt, 0.01};
  const Verdict verdict = judge_null_rate(
      spec, postgres_plan(spec), {{"0", "200", "197"}, {"30", "100", "100"}, {"50", "100", "100"}});
  CHECK(verdict.status == Status::warn);
  CHECK(verdict.message == "1 of 3 daily buckets above 1% NULL in email");
  CHECK(verdict.windows ==
        std::vector<Window>{window("2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", Status::warn)});
}

TEST_CASE("judge_null_rate: buckets under min_rows are not judged and split windows") {
  const RuleSpec spec = customers_email();
  const Verdict verdict = judge_null_rate(
      spec, postgres_plan(spec), {{"0", "100", "95"}, {"30", "30", "0"}, {"50", "100", "90"}});
  CHECK(verdict.status == Status::fail);
  CHECK(*verdict.observed == doctest::Approx(0.10));
  CHECK(verdict.message ==
        "2 of 3 daily buckets above 2% NULL in email (1 not judged: fewer than 50 rows)");
  CHECK(bucket_summary(verdict) == "100/5:fail 30/30:unjudged 100/10:fail");
  REQUIRE(verdict.buckets.size() == 3U);
  CHECK_FALSE(verdict.buckets[1].value.has_value());
  CHECK(verdict.windows == std::vector<Window>{
                               window("2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", Status::fail),
                               window("2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z", Status::fail),
                           });
}

TEST_CASE("judge_null_rate: a bucket without rows is not judged") {
  const RuleSpec spec = customers_email();
  const Verdict verdict =
      judge_null_rate(spec, postgres_plan(spec), {{"0", "100", "100"}, {"50", "100", "100"}});
  CHECK(verdict.status == Status::pass);
  CHECK(bucket_summary(verdict) == "100/0:pass 0/0:unjudged 100/0:pass");
  CHECK(verdict.message ==
        "2 daily buckets pass; worst 0% NULL in email (1 not judged: fewer than 50 rows)");
}

TEST_CASE("judge_null_rate: a bucket of exactly min_rows is judged") {
  const RuleSpec spec = customers_email();
  const Verdict verdict = judge_null_rate(
      spec, postgres_plan(spec), {{"0", "50", "50"}, {"30", "50", "40"}, {"50", "50", "50"}});
  CHECK(bucket_summary(verdict) == "50/0:pass 50/10:fail 50/0:pass");
}

TEST_CASE("judge_null_rate: no rows at all fail with the whole range as window") {
  const RuleSpec spec = customers_email();
  const Verdict verdict = judge_null_rate(spec, postgres_plan(spec), {});
  CHECK(verdict.status == Status::fail);
  CHECK_FALSE(verdict.observed.has_value());
  CHECK(verdict.message == "no rows to judge the null rate of email in 3 daily buckets");
  CHECK(verdict.windows ==
        std::vector<Window>{window("2026-03-27T23:00:00Z", "2026-03-30T22:00:00Z", Status::fail)});
  CHECK(bucket_summary(verdict) == "0/0:unjudged 0/0:unjudged 0/0:unjudged");
}

TEST_CASE("judge_null_rate: rows but no bucket reaching min_rows is an error") {
  const RuleSpec spec = customers_email();
  const Verdict verdict =
      judge_null_rate(spec, postgres_plan(spec), {{"0", "10", "5"}, {"30", "20", "20"}});
  CHECK(verdict.status == Status::error);
  CHECK(verdict.message ==
        "cannot judge the null rate of email: 30 row(s) in all, no bucket reaches min_rows (50)");
  CHECK(verdict.error == verdict.message);
  CHECK(verdict.windows.empty());
  CHECK(bucket_summary(verdict) == "10/5:unjudged 20/0:unjudged 0/0:unjudged");
}

TEST_CASE("judge_null_rate: malformed results are errors, never a pass") {
  const RuleSpec spec = customers_email();
  const QueryPlan plan = postgres_plan(spec);
  const auto error_message = [&](const ResultRows& rows) {
    const Verdict verdict = judge_null_rate(spec, plan, rows);
    CHECK(verdict.status == Status::error);
    CHECK(verdict.windows.empty());
    return verdict.message;
  };
  CHECK(error_message({{"0", "100"}}) == "the warehouse returned 2 columns, expected 3");
  CHECK(error_message({{"0", "100", "x"}}) ==
        "the warehouse returned a count that is not a number");
  CHECK(error_message({{Cell{"0"}, Cell{"100"}, std::nullopt}}) ==
        "the warehouse returned a count that is not a number");
  CHECK(error_message({{"zero", "100", "100"}}) ==
        "the warehouse returned a granule 'zero' that is not a number");
  CHECK(
      error_message({{std::nullopt, Cell{"3"}, Cell{"3"}}}).find("3 row(s) in the judged range") ==
      0);
}

TEST_CASE("judge_null_rate: the whole table") {
  SUBCASE("pass") {
    const RuleSpec spec = customers_total();
    const Verdict verdict = judge_null_rate(spec, postgres_plan(spec), {{"200", "198"}});
    CHECK(verdict.status == Status::pass);
    CHECK(*verdict.observed == doctest::Approx(0.01));
    CHECK(verdict.message == "1% NULL in email (2 of 200 rows)");
    CHECK(verdict.windows.empty());
  }
  SUBCASE("fail, with the lookback as window") {
    RuleSpec spec = customers_total();
    spec.lookback = days{1};
    const Verdict verdict = judge_null_rate(spec, postgres_plan(spec), {{"200", "190"}});
    CHECK(verdict.status == Status::fail);
    CHECK(*verdict.observed == doctest::Approx(0.05));
    CHECK(verdict.message == "5% NULL in email (10 of 200 rows), above 2%");
    CHECK(verdict.windows == std::vector<Window>{window("2026-03-29T22:00:00Z",
                                                        "2026-03-30T22:00:00Z", Status::fail)});
  }
  SUBCASE("warn") {
    RuleSpec spec = customers_total();
    spec.thresholds.warn = Bound{std::nullopt, 0.01};
    const Verdict verdict = judge_null_rate(spec, postgres_plan(spec), {{"1000", "985"}});
    CHECK(verdict.status == Status::warn);
    CHECK(verdict.message == "1.5% NULL in email (15 of 1000 rows), above 1%");
  }
  SUBCASE("no rows fail, never pass") {
    RuleSpec spec = customers_total();
    spec.lookback = days{1};
    const Verdict verdict = judge_null_rate(spec, postgres_plan(spec), {{"0", "0"}});
    CHECK(verdict.status == Status::fail);
    CHECK_FALSE(verdict.observed.has_value());
    CHECK(verdict.message == "no rows to judge the null rate of email");
    CHECK(verdict.windows == std::vector<Window>{window("2026-03-29T22:00:00Z",
                                                        "2026-03-30T22:00:00Z", Status::fail)});
  }
  SUBCASE("fewer rows than min_rows is an error") {
    const RuleSpec spec = customers_total();
    const Verdict verdict = judge_null_rate(spec, postgres_plan(spec), {{"10", "10"}});
    CHECK(verdict.status == Status::error);
    CHECK(verdict.message.find("cannot judge the null rate of email: 10 row(s) in all") == 0);
  }
  SUBCASE("malformed results are errors") {
    const RuleSpec spec = customers_total();
    const QueryPlan plan = postgres_plan(spec);
    CHECK(judge_null_rate(spec, plan, {}).status == Status::error);
    CHECK(judge_null_rate(spec, plan, {{"10"}}).message ==
          "the warehouse returned an unexpected result shape for a count");
    CHECK(judge_null_rate(spec, plan, {{"10", "ten"}}).message ==
          "the warehouse returned a count that is not a number");
  }
}

}  // namespace
}  // namespace gapwatch
