#include "scenarios.h"

#include <chrono>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace gapwatch::testing {

namespace {

constexpr const char* kNow = "2026-11-25T06:00:00Z";

Instant at(const std::string& text) { return *parse_rfc3339(text); }

std::string wall(Instant instant) { return format_wall_clock(instant, utc_zone()); }

// INSERT statements for `values` rows, 200 per statement.
std::string inserts(const std::string& table, const std::string& columns,
                    const std::vector<std::string>& values) {
  std::string sql;
  for (std::size_t i = 0; i < values.size(); i += 200) {
    std::vector<std::string> chunk(values.begin() + static_cast<std::ptrdiff_t>(i),
                                   values.begin() + static_cast<std::ptrdiff_t>(
                                                        std::min(values.size(), i + 200)));
    sql += fmt::format("INSERT INTO {} ({}) VALUES {};\n", table, columns,
                       fmt::join(chunk, ", "));
  }
  return sql;
}

// Three rows an hour (at :00, :20, :40) from `first` to `last` hour, except
// the hours in `missing`; `single` hours get one row (at :00).
std::vector<Instant> hourly_times(const std::string& first, const std::string& last,
                                  const std::vector<std::string>& missing,
                                  const std::vector<std::string>& single) {
  std::vector<Instant> times;
  for (Instant hour = at(first); hour <= at(last); hour += std::chrono::hours{1}) {
    const std::string text = format_rfc3339(hour);
    if (std::find(missing.begin(), missing.end(), text) != missing.end()) {
      continue;
    }
    const bool one = std::find(single.begin(), single.end(), text) != single.end();
    for (int minute : {0, 20, 40}) {
      times.push_back(hour + std::chrono::minutes{minute});
      if (one) {
        break;
      }
    }
  }
  return times;
}

const std::vector<std::string> kMissing{"2026-11-24T04:00:00Z", "2026-11-24T05:00:00Z"};
const std::vector<std::string> kSingle{"2026-11-24T10:00:00Z"};

// An hourly row_count rule over events.ts with `extra` rule keys.
std::string hourly_rule(const std::string& extra) {
  return fmt::format(
    "  - name: hourly\n"
    "    table: events\n"
    "    check: row_count\n"
    "    timestamp_column: ts\n"
    "{}"
    "    partition: {{every: 1h, lookback: 2d, delay: 1h}}\n"
    "    fail: {{min: 2}}\n",
    extra);
}

void check_hourly_gaps(const RuleResult& result) {
  INFO(result.verdict.message);
  CHECK(result.verdict.error == std::nullopt);
  REQUIRE(result.verdict.status == Status::fail);
  CHECK(result.verdict.buckets.size() == 47);
  CHECK(result.verdict.observed == 0.0);
  CHECK(result.verdict.message == "3 of 47 hourly buckets below 2 rows");
  const std::vector<Window> expected{
      {at("2026-11-24T04:00:00Z"), at("2026-11-24T06:00:00Z"), Status::fail},
      {at("2026-11-24T10:00:00Z"), at("2026-11-24T11:00:00Z"), Status::fail}};
  CHECK(result.verdict.windows == expected);
}

}  // namespace

void scenario_hourly_gaps(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {}, kind {});", warehouse.instant_type(),
                             warehouse.text_type()));
  std::vector<std::string> rows;
  for (const Instant time :
       hourly_times("2026-11-22T00:00:00Z", "2026-11-25T05:00:00Z", kMissing, kSingle)) {
    rows.push_back(fmt::format("({}, 'view')", warehouse.instant_literal(wall(time))));
  }
  warehouse.exec(inserts("events", "ts, kind", rows));
  const Config config =
      load_test_config(config_yaml(warehouse.connection(), hourly_rule("")));
  check_hourly_gaps(evaluate_rule(config, "hourly", kNow));
}

void scenario_boundary_rows(TestWarehouse& warehouse) {
  // One row exactly at the start of every hour: each belongs to the bucket
  // that starts there, so every bucket has exactly one row.
  warehouse.exec(fmt::format("CREATE TABLE events (ts {});", warehouse.instant_type()));
  std::vector<std::string> rows;
  for (Instant hour = at("2026-11-23T00:00:00Z"); hour <= at("2026-11-25T06:00:00Z");
       hour += std::chrono::hours{1}) {
    rows.push_back(fmt::format("({})", warehouse.instant_literal(wall(hour))));
  }
  warehouse.exec(inserts("events", "ts", rows));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      "  - name: exact\n    table: events\n    check: row_count\n    timestamp_column: ts\n"
      "    partition: {every: 1h, lookback: 1d, delay: 1h}\n    fail: {min: 1, max: 1}\n"));
  const RuleResult result = evaluate_rule(config, "exact", kNow);
  INFO(result.verdict.message);
  CHECK(result.verdict.status == Status::pass);
  REQUIRE(result.verdict.buckets.size() == 23);
  for (const BucketVerdict& bucket : result.verdict.buckets) {
    CHECK(bucket.rows == 1);
  }
}

void scenario_empty_table(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {}, email {});", warehouse.instant_type(),
                             warehouse.text_type()));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      "  - name: count\n    table: events\n    check: row_count\n    timestamp_column: ts\n"
      "    partition: {every: 1d, lookback: 3d}\n    fail: {min: 1}\n"
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: ts\n"
      "    fail: {max: 1h}\n"
      "  - name: nulls\n    table: events\n    check: null_rate\n    column: email\n"
      "    fail: {max: 0.1}\n"));
  const RuleResult count = evaluate_rule(config, "count", kNow);
  CHECK(count.verdict.status == Status::fail);
  CHECK(count.verdict.message == "2 of 2 daily buckets below 1 rows");
  REQUIRE(count.verdict.windows.size() == 1);
  CHECK(count.verdict.windows[0].start == at("2026-11-23T00:00:00Z"));
  CHECK(count.verdict.windows[0].end == at("2026-11-25T00:00:00Z"));

  const RuleResult fresh = evaluate_rule(config, "fresh", kNow);
  CHECK(fresh.verdict.status == Status::fail);
  CHECK(fresh.verdict.observed == std::nullopt);
  CHECK(fresh.verdict.message == "no rows with a non-NULL ts");

  const RuleResult nulls = evaluate_rule(config, "nulls", kNow);
  CHECK(nulls.verdict.status == Status::fail);
  CHECK(nulls.verdict.message == "no rows to judge the null rate of email");
}

void scenario_null_timestamps(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {}, kind {});", warehouse.instant_type(),
                             warehouse.text_type()));
  warehouse.exec("INSERT INTO events (ts, kind) VALUES (NULL, 'a'), (NULL, 'b');");
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: ts\n"
      "    lookback: 7d\n    fail: {max: 1h}\n"
      "  - name: count\n    table: events\n    check: row_count\n    timestamp_column: ts\n"
      "    lookback: 7d\n    fail: {min: 1}\n"));
  const RuleResult fresh = evaluate_rule(config, "fresh", kNow);
  CHECK(fresh.verdict.status == Status::fail);
  CHECK(fresh.verdict.message == "no rows with a ts in the last 7d");
  REQUIRE(fresh.verdict.windows.size() == 1);
  CHECK(fresh.verdict.windows[0].start == at("2026-11-18T06:00:00Z"));
  const RuleResult count = evaluate_rule(config, "count", kNow);
  CHECK(count.verdict.status == Status::fail);
  CHECK(count.verdict.observed == 0.0);
}

void scenario_where_filter(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {}, kind {});", warehouse.instant_type(),
                             warehouse.text_type()));
  std::vector<std::string> rows;
  for (const Instant time :
       hourly_times("2026-11-22T00:00:00Z", "2026-11-25T05:00:00Z", {}, {})) {
    // The missing and thin hours hold only test rows, which the filter drops.
    const std::string text = format_rfc3339(time - std::chrono::minutes{
                                                       (time.time_since_epoch().count() / 60) % 60});
    const bool missing = std::find(kMissing.begin(), kMissing.end(), text) != kMissing.end();
    const bool thin = std::find(kSingle.begin(), kSingle.end(), text) != kSingle.end() &&
                      time.time_since_epoch().count() % 3600 != 0;
    rows.push_back(fmt::format("({}, '{}')", warehouse.instant_literal(wall(time)),
                               missing || thin ? "test" : "view"));
  }
  warehouse.exec(inserts("events", "ts, kind", rows));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(), hourly_rule("    where: \"kind <> 'test'\"\n")));
  check_hourly_gaps(evaluate_rule(config, "hourly", kNow));
}

void scenario_epoch_timestamps(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events_s (ts {});", warehouse.bigint_type()));
  warehouse.exec(fmt::format("CREATE TABLE events_ms (ts {});", warehouse.bigint_type()));
  std::vector<std::string> seconds, milliseconds;
  for (const Instant time :
       hourly_times("2026-11-22T00:00:00Z", "2026-11-25T05:00:00Z", kMissing, kSingle)) {
    const std::int64_t epoch = time.time_since_epoch().count();
    seconds.push_back(fmt::format("({})", epoch));
    milliseconds.push_back(fmt::format("({})", epoch * 1000 + 999));
  }
  warehouse.exec(inserts("events_s", "ts", seconds));
  warehouse.exec(inserts("events_ms", "ts", milliseconds));
  const std::string rules =
      "  - name: seconds\n    table: events_s\n    check: row_count\n    timestamp_column: ts\n"
      "    timestamp_format: epoch_s\n    partition: {every: 1h, lookback: 2d, delay: 1h}\n"
      "    fail: {min: 2}\n"
      "  - name: millis\n    table: events_ms\n    check: row_count\n    timestamp_column: ts\n"
      "    timestamp_format: epoch_ms\n    partition: {every: 1h, lookback: 2d, delay: 1h}\n"
      "    fail: {min: 2}\n"
      "  - name: fresh\n    table: events_ms\n    check: freshness\n    timestamp_column: ts\n"
      "    timestamp_format: epoch_ms\n    lookback: 1d\n    fail: {max: 1h}\n";
  const Config config = load_test_config(config_yaml(warehouse.connection(), rules));
  check_hourly_gaps(evaluate_rule(config, "seconds", kNow));
  check_hourly_gaps(evaluate_rule(config, "millis", kNow));
  const RuleResult fresh = evaluate_rule(config, "fresh", kNow);
  CHECK(fresh.verdict.status == Status::pass);
  CHECK(fresh.verdict.newest_row == at("2026-11-25T05:40:00Z"));
  CHECK(fresh.verdict.observed == 1200.0);
}

void scenario_text_timestamps(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {});", warehouse.text_type()));
  std::vector<std::string> rows;
  for (const Instant time :
       hourly_times("2026-11-22T00:00:00Z", "2026-11-25T05:00:00Z", kMissing, kSingle)) {
    rows.push_back(fmt::format("('{}')", wall(time)));
  }
  warehouse.exec(inserts("events", "ts", rows));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(), hourly_rule("    timestamp_format: text\n")));
  check_hourly_gaps(evaluate_rule(config, "hourly", kNow));

  // A value that is not a time is an error, never a pass.
  warehouse.exec("INSERT INTO events (ts) VALUES ('2026-11-24 12:xx:00');");
  const RuleResult garbage = evaluate_rule(config, "hourly", kNow);
  CHECK(garbage.verdict.status == Status::error);
}

void scenario_wall_clock_zone(TestWarehouse& warehouse) {
  // A zone-less column written in New York time: buckets still align to UTC
  // hours and find the same gaps.
  warehouse.exec(fmt::format("CREATE TABLE events (ts {});", warehouse.wall_clock_type()));
  const TimeZone* new_york = *find_time_zone("America/New_York");
  std::vector<std::string> rows;
  for (const Instant time :
       hourly_times("2026-11-22T00:00:00Z", "2026-11-25T05:00:00Z", kMissing, kSingle)) {
    rows.push_back(fmt::format("('{}')", format_wall_clock(time, new_york)));
  }
  warehouse.exec(inserts("events", "ts", rows));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(), hourly_rule(""), "    timezone: America/New_York\n"));
  check_hourly_gaps(evaluate_rule(config, "hourly", kNow));
}

void scenario_freshness(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {});", warehouse.instant_type()));
  warehouse.exec(fmt::format("INSERT INTO events (ts) VALUES ({}), ({});",
                             warehouse.instant_literal("2026-11-25 04:30:00"),
                             warehouse.instant_literal("2026-11-20 00:00:00")));
  const std::string rules =
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: ts\n"
      "    lookback: 30d\n    warn: {max: 1h}\n    fail: {max: 2h}\n";
  const Config config = load_test_config(config_yaml(warehouse.connection(), rules));
  const RuleResult warn = evaluate_rule(config, "fresh", kNow);
  CHECK(warn.verdict.status == Status::warn);
  CHECK(warn.verdict.observed == 5400.0);
  CHECK(warn.verdict.newest_row == at("2026-11-25T04:30:00Z"));
  REQUIRE(warn.verdict.windows.size() == 1);
  CHECK(warn.verdict.windows[0] ==
        Window{at("2026-11-25T04:30:00Z"), at(kNow), Status::warn});

  CHECK(evaluate_rule(config, "fresh", "2026-11-25T07:00:00Z").verdict.status == Status::fail);
  CHECK(evaluate_rule(config, "fresh", "2026-11-25T05:00:00Z").verdict.status == Status::pass);
  // The newest row 3 minutes ahead (clock skew): age 0.
  const RuleResult skewed = evaluate_rule(config, "fresh", "2026-11-25T04:27:00Z");
  CHECK(skewed.verdict.status == Status::pass);
  CHECK(skewed.verdict.observed == 0.0);
  CHECK(skewed.verdict.message.find("in the future") != std::string::npos);
  // 30 minutes ahead, past the default future_tolerance of 5m: left out and
  // counted, so the real newest row (five days old) fails the rule. One row
  // dated 20 h ahead once passed such a rule through a real outage.
  const RuleResult ahead = evaluate_rule(config, "fresh", "2026-11-25T04:00:00Z");
  CHECK(ahead.verdict.status == Status::fail);
  CHECK(ahead.verdict.newest_row == at("2026-11-20T00:00:00Z"));
  CHECK(ahead.verdict.message.find("1 row dated more than 5m in the future and left out") !=
        std::string::npos);
}

void scenario_null_rate_daily_dst(TestWarehouse& warehouse) {
  // Daily buckets at Berlin midnight across the end of summer time
  // (2026-10-25 is 25 hours long). Each day has 10 rows; on 10-25 two of them
  // have no email, one of them in the extra hour.
  warehouse.exec(fmt::format("CREATE TABLE customers (created_at {}, email {});",
                             warehouse.instant_type(), warehouse.text_type()));
  const TimeZone* berlin = *find_time_zone("Europe/Berlin");
  std::vector<std::string> rows;
  for (int day = 20; day <= 28; ++day) {
    const Instant midnight =
        instant_from_wall_clock(std::chrono::seconds{(*parse_rfc3339(fmt::format(
                                                          "2026-10-{:02}T00:00:00Z", day)))
                                                         .time_since_epoch()},
                                berlin);
    for (int i = 0; i < 10; ++i) {
      // Spread over the day; on the 25th the last row sits at 24h30m, which
      // only a 25-hour day contains.
      const auto offset = day == 25 && i == 9 ? std::chrono::minutes{24 * 60 + 30}
                                              : std::chrono::minutes{i * 140};
      const bool missing = day == 25 && (i == 0 || i == 9);
      rows.push_back(fmt::format("({}, {})", warehouse.instant_literal(wall(midnight + offset)),
                                 missing ? "NULL" : "'a@example.com'"));
    }
  }
  warehouse.exec(inserts("customers", "created_at, email", rows));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      "  - name: emails\n    table: customers\n    check: null_rate\n    column: email\n"
      "    timestamp_column: created_at\n"
      "    partition: {every: 1d, lookback: 7d, delay: 0s, timezone: Europe/Berlin}\n"
      "    fail: {max: 10%}\n    min_rows: 5\n"));
  const RuleResult result = evaluate_rule(config, "emails", "2026-10-28T12:00:00Z");
  INFO(result.verdict.message);
  REQUIRE(result.verdict.status == Status::fail);
  CHECK(result.verdict.observed == doctest::Approx(0.2));
  REQUIRE(result.verdict.windows.size() == 1);
  // 2026-10-25 00:00 CEST = 10-24T22:00Z; 10-26 00:00 CET = 10-25T23:00Z.
  CHECK(result.verdict.windows[0].start == at("2026-10-24T22:00:00Z"));
  CHECK(result.verdict.windows[0].end == at("2026-10-25T23:00:00Z"));
  for (const BucketVerdict& bucket : result.verdict.buckets) {
    CHECK(bucket.rows == 10);
  }
}

void scenario_missing_column(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {});", warehouse.instant_type()));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: updated\n"
      "    fail: {max: 1h}\n"
      "  - name: nowhere\n    table: no_such_table\n    check: row_count\n    fail: {min: 1}\n"));
  const RuleResult fresh = evaluate_rule(config, "fresh", kNow);
  CHECK(fresh.verdict.status == Status::error);
  CHECK(fresh.verdict.message.find("column updated not found in events") != std::string::npos);
  const RuleResult nowhere = evaluate_rule(config, "nowhere", kNow);
  CHECK(nowhere.verdict.status == Status::error);
  CHECK(nowhere.verdict.message.find("no_such_table") != std::string::npos);
}

void scenario_query_timeout(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE events (ts {});", warehouse.instant_type()));
  warehouse.exec(fmt::format("INSERT INTO events (ts) VALUES ({});",
                             warehouse.instant_literal("2026-11-25 05:00:00")));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      fmt::format("  - name: slow\n    table: events\n    check: row_count\n"
                  "    where: \"{}\"\n    fail: {{min: 1}}\n",
                  warehouse.slow_predicate(20)),
      "    query_timeout: 1s\n"));
  const auto started = std::chrono::steady_clock::now();
  const RuleResult result = evaluate_rule(config, "slow", kNow);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  INFO(result.verdict.message);
  CHECK(result.verdict.status == Status::error);
  CHECK(result.verdict.message == "query timed out after 1s and was cancelled");
  // Cancelled at the timeout, not when the 20-second statement would finish.
  CHECK(elapsed < std::chrono::seconds{10});
}

void scenario_extreme_timestamps(TestWarehouse& warehouse) {
  scenario_extreme_timestamps(warehouse, warehouse.instant_type());
}

void scenario_extreme_timestamps(TestWarehouse& warehouse, const std::string& column_type) {
  // Real data stopped on 11-20; junk rows claim 9999 and 1900. Neither may
  // make a rule pass.
  warehouse.exec(fmt::format("CREATE TABLE events (ts {});", column_type));
  warehouse.exec(fmt::format("INSERT INTO events (ts) VALUES ({}), ({}), ({}), ({});",
                             warehouse.instant_literal("1900-01-01 00:00:00"),
                             warehouse.instant_literal("1969-12-31 23:59:59"),
                             warehouse.instant_literal("2026-11-20 00:00:00"),
                             warehouse.instant_literal("9999-12-31 00:00:00")));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: ts\n"
      "    fail: {max: 2h}\n"
      "  - name: hourly\n    table: events\n    check: row_count\n    timestamp_column: ts\n"
      "    partition: {every: 1h, lookback: 1d}\n    fail: {min: 1}\n"));
  const RuleResult fresh = evaluate_rule(config, "fresh", kNow);
  INFO(fresh.verdict.message);
  CHECK(fresh.verdict.status == Status::fail);
  CHECK(fresh.verdict.newest_row == at("2026-11-20T00:00:00Z"));
  const RuleResult hourly = evaluate_rule(config, "hourly", kNow);
  CHECK(hourly.verdict.status == Status::fail);
  CHECK(hourly.verdict.observed == 0.0);
}

void scenario_all_null_column(TestWarehouse& warehouse) {
  warehouse.exec(fmt::format("CREATE TABLE customers (ts {}, email {});", warehouse.instant_type(),
                             warehouse.text_type()));
  std::vector<std::string> rows;
  for (Instant time = at("2026-11-24T00:00:00Z"); time < at("2026-11-25T06:00:00Z");
       time += std::chrono::minutes{30}) {
    rows.push_back(fmt::format("({}, NULL)", warehouse.instant_literal(wall(time))));
  }
  warehouse.exec(inserts("customers", "ts, email", rows));
  const Config config = load_test_config(config_yaml(
      warehouse.connection(),
      "  - name: emails\n    table: customers\n    check: null_rate\n    column: email\n"
      "    timestamp_column: ts\n    partition: {every: 1d, lookback: 2d}\n    fail: {max: 5%}\n"));
  const RuleResult result = evaluate_rule(config, "emails", kNow);
  INFO(result.verdict.message);
  CHECK(result.verdict.status == Status::fail);
  CHECK(result.verdict.observed == 1.0);
  CHECK(result.verdict.message == "1 of 1 daily buckets above 5% NULL in email");
}

}  // namespace gapwatch::testing
