// Baseline scenarios shared by the SQLite and PostgreSQL integration tests: a
// table of orders with a daily and a weekly cycle in Berlin time (nights ~10
// rows an hour, weekday peaks ~130, quieter weekends) and ±10% noise that is
// the same in every run, 35 days up to a fixed now. The rules learn what each
// hour of the week holds and judge the last 7 days against it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include <date/date.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "scenarios.h"

namespace gapwatch::testing {

namespace {

// Wednesday; the history reaches back over the autumn DST change (10-25).
constexpr const char* kNow = "2026-11-25T06:00:00Z";
constexpr std::uint64_t kSeed = 20261125;

Instant at(const std::string& text) { return *parse_rfc3339(text); }

const TimeZone* berlin() { return *find_time_zone("Europe/Berlin"); }

// A number in [0, 1) fixed by `seed` and `index` (splitmix64).
double noise(std::uint64_t seed, std::int64_t index) {
  std::uint64_t z = seed + static_cast<std::uint64_t>(index) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53);
}

// The typical orders of a local hour: 10 at night, a peak at 14:00 of 130 on
// weekdays and 50 at weekends.
double typical_orders(date::local_seconds wall) {
  const date::local_days day = date::floor<date::days>(wall);
  const auto hour = std::chrono::duration_cast<std::chrono::hours>(wall - day).count();
  const bool weekend = date::weekday{day}.c_encoding() % 6 == 0;
  const double peak = weekend ? 40.0 : 120.0;
  if (hour < 6 || hour >= 22) {
    return 10.0;
  }
  const double shape = std::sin(std::numbers::pi * static_cast<double>(hour - 6) / 16.0);
  return 10.0 + peak * shape * shape;
}

// What one hour of the table holds.
struct HourOfOrders {
  Instant start;
  int rows = 0;
  int nulls = 0;  // rows without an email
};

// The hours from `first` to `now` (the last one ends at `now`), each with its
// typical orders ±10% and about 2% of them without an email.
std::vector<HourOfOrders> seasonal_orders(Instant first, Instant now) {
  std::vector<HourOfOrders> hours;
  for (Instant start = first; start < now; start += std::chrono::hours{1}) {
    const std::int64_t index = start.time_since_epoch().count() / 3600;
    const double factor = 0.9 + 0.2 * noise(kSeed, index);
    HourOfOrders hour;
    hour.start = start;
    hour.rows = static_cast<int>(std::lround(typical_orders(berlin()->to_local(start)) * factor));
    hour.nulls = static_cast<int>(std::floor(hour.rows * 0.02 + noise(kSeed + 1, index)));
    hours.push_back(hour);
  }
  return hours;
}

std::vector<HourOfOrders> seasonal_orders() {
  return seasonal_orders(at(kNow) - std::chrono::days{35}, at(kNow));
}

HourOfOrders& hour_at(std::vector<HourOfOrders>& hours, const std::string& start) {
  const auto found = std::find_if(hours.begin(), hours.end(),
                                  [&](const HourOfOrders& hour) { return hour.start == at(start); });
  REQUIRE(found != hours.end());
  return *found;
}

// Creates orders (created_at, email) holding `hours`: their counts go into a
// small table, and one INSERT … SELECT spreads each hour's rows evenly over it.
void create_orders(TestWarehouse& warehouse, const std::vector<HourOfOrders>& hours) {
  warehouse.exec(fmt::format("CREATE TABLE order_hours (hour_start {}, n INTEGER, nulls INTEGER);",
                             warehouse.instant_type()));
  warehouse.exec(fmt::format("CREATE TABLE orders (created_at {}, email {});",
                             warehouse.instant_type(), warehouse.text_type()));
  std::string sql;
  int most = 0;
  for (std::size_t i = 0; i < hours.size(); i += 200) {
    std::vector<std::string> values;
    for (std::size_t j = i; j < std::min(hours.size(), i + 200); ++j) {
      values.push_back(fmt::format(
          "({}, {}, {})",
          warehouse.instant_literal(format_wall_clock(hours[j].start, utc_zone())),
          hours[j].rows, hours[j].nulls));
      most = std::max(most, hours[j].rows);
    }
    sql += fmt::format("INSERT INTO order_hours (hour_start, n, nulls) VALUES {};\n",
                       fmt::join(values, ", "));
  }
  warehouse.exec(sql);
  warehouse.exec(fmt::format(
      "INSERT INTO orders (created_at, email)\n"
      "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {})\n"
      "SELECT {}, CASE WHEN k.i < h.nulls THEN NULL ELSE 'someone@example.com' END\n"
      "FROM order_hours h JOIN k ON k.i < h.n;",
      most, warehouse.plus_seconds("h.hour_start", "k.i * 3600 / h.n")));
}

// The rule of docs/rules.md's example, and a null_rate rule on the same data.
const std::string kRules =
    "  - name: orders_hourly\n"
    "    table: orders\n"
    "    check: row_count\n"
    "    timestamp_column: created_at\n"
    "    partition: {every: 1h, lookback: 7d, delay: 1h, timezone: Europe/Berlin}\n"
    "    baseline: {}\n"
    "    fail: {drop: 50%}\n"
    "    warn: {drop: 25%}\n"
    "  - name: order_emails\n"
    "    table: orders\n"
    "    check: null_rate\n"
    "    column: email\n"
    "    timestamp_column: created_at\n"
    "    partition: {every: 1h, lookback: 7d, delay: 1h, timezone: Europe/Berlin}\n"
    "    baseline: {}\n"
    "    fail: {rise: 5%}\n";

RuleResult evaluate(TestWarehouse& warehouse, const std::string& rule) {
  const Config config = load_test_config(config_yaml(warehouse.connection(), kRules));
  RuleResult result = evaluate_rule(config, rule, kNow);
  INFO(result.verdict.message);
  REQUIRE(result.verdict.error == std::nullopt);
  return result;
}

const BucketVerdict& bucket_at(const Verdict& verdict, const std::string& start) {
  const auto found =
      std::find_if(verdict.buckets.begin(), verdict.buckets.end(),
                   [&](const BucketVerdict& bucket) { return bucket.start == at(start); });
  REQUIRE(found != verdict.buckets.end());
  return *found;
}

std::size_t count_status(const Verdict& verdict, Status status) {
  return static_cast<std::size_t>(
      std::count_if(verdict.buckets.begin(), verdict.buckets.end(),
                    [&](const BucketVerdict& bucket) { return bucket.status == status; }));
}

// 7 days of hourly buckets: 11-18 06:00Z to 11-25 05:00Z.
constexpr std::size_t kJudged = 7 * 24 - 1;

}  // namespace

void scenario_baseline_normal_week(TestWarehouse& warehouse) {
  create_orders(warehouse, seasonal_orders());
  const RuleResult result = evaluate(warehouse, "orders_hourly");
  const Verdict& verdict = result.verdict;
  INFO(verdict.message);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.windows.empty());
  REQUIRE(verdict.buckets.size() == kJudged);
  CHECK(count_status(verdict, Status::pass) == kJudged);
  for (const BucketVerdict& bucket : verdict.buckets) {
    CAPTURE(format_rfc3339(bucket.start));
    // Four earlier weeks of every hour of the week: none is still learning.
    CHECK(bucket.learning == std::nullopt);
    REQUIRE(bucket.expected.has_value());
    CHECK(*bucket.lower < *bucket.expected);
    CHECK(*bucket.expected < *bucket.upper);
  }
  // The statement read the 28 days (and the DST hour) before the judged range
  // with it.
  CHECK(verdict.history_read_from == at("2026-10-21T05:00:00Z"));
  CHECK(verdict.message.starts_with(fmt::format("{} hourly buckets pass; worst ", kJudged)));
  CHECK(verdict.message.find("expected") != std::string::npos);
}

void scenario_baseline_peak_hour_cut(TestWarehouse& warehouse) {
  // Monday 14:00 in Berlin, the weekday peak, loses 60% of its rows.
  const std::string cut = "2026-11-23T13:00:00Z";
  std::vector<HourOfOrders> hours = seasonal_orders();
  HourOfOrders& hour = hour_at(hours, cut);
  const int usual = hour.rows;
  hour.rows = static_cast<int>(std::lround(usual * 0.4));
  hour.nulls = 0;
  create_orders(warehouse, hours);
  const RuleResult result = evaluate(warehouse, "orders_hourly");
  const Verdict& verdict = result.verdict;
  INFO(verdict.message);
  REQUIRE(verdict.status == Status::fail);
  const std::vector<Window> expected{{at(cut), at(cut) + std::chrono::hours{1}, Status::fail}};
  CHECK(verdict.windows == expected);
  CHECK(count_status(verdict, Status::fail) == 1);
  CHECK(count_status(verdict, Status::warn) == 0);
  CHECK(verdict.observed == static_cast<double>(hour.rows));
  const BucketVerdict& bucket = bucket_at(verdict, cut);
  REQUIRE(bucket.expected.has_value());
  CHECK(*bucket.expected == doctest::Approx(usual).epsilon(0.15));
  CHECK(verdict.message.starts_with(fmt::format(
      "1 of {} hourly buckets at least 50% below the expected value; worst {} rows, expected ",
      kJudged, hour.rows)));
}

void scenario_baseline_quiet_weekend_night(TestWarehouse& warehouse) {
  // Sunday 04:00 in Berlin holds its usual handful of orders: a static
  // minimum that fits the weekday peaks would fail it, the baseline passes it.
  const std::string night = "2026-11-22T03:00:00Z";
  const std::string peak = "2026-11-23T13:00:00Z";
  create_orders(warehouse, seasonal_orders());
  const RuleResult result = evaluate(warehouse, "orders_hourly");
  const Verdict& verdict = result.verdict;
  INFO(verdict.message);
  const BucketVerdict& quiet = bucket_at(verdict, night);
  CHECK(quiet.status == Status::pass);
  REQUIRE(quiet.expected.has_value());
  CHECK(*quiet.expected <= 12.0);
  CHECK(*quiet.lower <= static_cast<double>(quiet.rows));
  CHECK(static_cast<double>(quiet.rows) <= *quiet.upper);
  const BucketVerdict& busy = bucket_at(verdict, peak);
  REQUIRE(busy.expected.has_value());
  CHECK(static_cast<double>(quiet.rows) < 0.25 * *busy.lower);
  CHECK(verdict.status == Status::pass);
}

void scenario_baseline_learning(TestWarehouse& warehouse) {
  // The table began two days ago: no hour of the week has been seen before.
  create_orders(warehouse, seasonal_orders(at(kNow) - std::chrono::days{2}, at(kNow)));
  const RuleResult result = evaluate(warehouse, "orders_hourly");
  const Verdict& verdict = result.verdict;
  INFO(verdict.message);
  CHECK(verdict.status == Status::pass);
  CHECK(verdict.windows.empty());
  CHECK(verdict.message.find("(learning: 0 of 3 comparable buckets)") != std::string::npos);
  for (const BucketVerdict& bucket : verdict.buckets) {
    CAPTURE(format_rfc3339(bucket.start));
    CHECK(bucket.learning == 0);
    CHECK(bucket.expected == std::nullopt);
  }
}

void scenario_baseline_null_share_rise(TestWarehouse& warehouse) {
  // Tuesday 11:00 in Berlin: a fifth of the orders lose their email (~2% usually).
  const std::string jump = "2026-11-24T10:00:00Z";
  std::vector<HourOfOrders> hours = seasonal_orders();
  HourOfOrders& hour = hour_at(hours, jump);
  hour.nulls = hour.rows / 5;
  create_orders(warehouse, hours);
  const RuleResult result = evaluate(warehouse, "order_emails");
  const Verdict& verdict = result.verdict;
  INFO(verdict.message);
  REQUIRE(verdict.status == Status::fail);
  const std::vector<Window> expected{{at(jump), at(jump) + std::chrono::hours{1}, Status::fail}};
  CHECK(verdict.windows == expected);
  const BucketVerdict& bucket = bucket_at(verdict, jump);
  REQUIRE(bucket.expected.has_value());
  CHECK(*bucket.expected < 0.05);
  CHECK(verdict.observed == doctest::Approx(static_cast<double>(hour.nulls) / hour.rows));
}

}  // namespace gapwatch::testing
