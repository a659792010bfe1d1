// The rule kinds against a real SQLite database through the SQLite3 ODBC driver.
#include <atomic>
#include <chrono>

#include <doctest/doctest.h>

#include "rules/clock.h"
#include "scenarios.h"

namespace gapwatch::testing {

namespace {

// A fixed wall time, and monotonic time that moves 1.5 s at every reading.
class SteppingClock final : public Clock {
 public:
  explicit SteppingClock(Instant now) : m_now(now) {}
  PreciseInstant precise_now() const override { return m_now; }
  SteadyTime steady_now() const override {
    return SteadyTime{std::chrono::milliseconds{1500} * m_readings++};
  }

 private:
  Instant m_now;
  mutable std::atomic<int> m_readings{0};
};

}  // namespace

TEST_CASE("sqlite: hourly row_count finds exactly the missing and thin hours") {
  scenario_hourly_gaps(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: a row exactly on a boundary belongs to the bucket starting there") {
  scenario_boundary_rows(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: an empty table fails every check kind, never passes") {
  scenario_empty_table(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: only NULL timestamps fail freshness") {
  scenario_null_timestamps(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: the where predicate filters rows before counting") {
  scenario_where_filter(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: epoch second and millisecond columns") {
  scenario_epoch_timestamps(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: text timestamps, and garbage in them is an error") {
  scenario_text_timestamps(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: zone-less timestamps are read in the warehouse time zone") {
  scenario_wall_clock_zone(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: freshness pass, warn, fail and a row in the future") {
  scenario_freshness(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: daily null_rate buckets follow Berlin midnight across DST") {
  scenario_null_rate_daily_dst(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: junk timestamps far in the future or before 1970 never make a rule pass") {
  scenario_extreme_timestamps(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: an all-NULL column fails null_rate at 100%") {
  scenario_all_null_column(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: a missing column or table is an error") {
  scenario_missing_column(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: baseline: a normal seasonal week passes, every bucket judged against its expected value") {
  scenario_baseline_normal_week(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: baseline: a weekday peak hour cut by 60% fails with exactly that window") {
  scenario_baseline_peak_hour_cut(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: baseline: a quiet weekend night hour with its usual count passes") {
  scenario_baseline_quiet_weekend_night(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: baseline: two days of history report learning and pass") {
  scenario_baseline_learning(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: baseline: an hour whose NULL share jumps from 2% to 20% fails with that window") {
  scenario_baseline_null_share_rise(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: a query that outlives query_timeout is cancelled (the driver ignores "
          "SQL_ATTR_QUERY_TIMEOUT)") {
  scenario_query_timeout(*make_sqlite_warehouse());
}
TEST_CASE("sqlite: a database that cannot be opened is an error") {
  const Config config = load_test_config(config_yaml(
      "Driver=SQLite3;Database=/nonexistent/dir/warehouse.db;NoCreat=1",
      "  - name: count\n    table: events\n    check: row_count\n    fail: {min: 1}\n"));
  const RuleResult result = evaluate_rule(config, "count", "2026-11-25T06:00:00Z");
  CHECK(result.verdict.status == Status::error);
  CHECK(result.verdict.message.find("connecting failed") != std::string::npos);
}

TEST_CASE("sqlite: an evaluation's duration is measured on the clock's monotonic time") {
  auto warehouse = make_sqlite_warehouse();
  warehouse->exec("CREATE TABLE events (id INTEGER)");
  const Config config = load_test_config(config_yaml(
      warehouse->connection(),
      "  - name: count\n    table: events\n    check: row_count\n    fail: {min: 0}\n"));
  const Instant now = parse_rfc3339("2026-11-25T06:00:00Z").value();
  const SteppingClock clock(now);
  QueryWatchdog watchdog;
  Warehouses warehouses(config, watchdog);
  Evaluator evaluator(warehouses, clock);
  const RuleResult result = evaluator.evaluate(*config.find_rule("count"), now);
  CHECK(result.query == QueryOutcome::ok);
  CHECK(result.duration == std::chrono::milliseconds{1500});  // one step: start to end
}

TEST_CASE("sqlite: segments: a dark country fails on its own while the total passes; NULL is a segment; max_segments") {
  scenario_segments_dark_country(*make_sqlite_warehouse());
}

}  // namespace gapwatch::testing
