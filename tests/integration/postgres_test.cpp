// The rule kinds against a real PostgreSQL server (the private cluster that the
// postgres_start fixture runs) through psqlODBC.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "scenarios.h"

namespace gapwatch::testing {

TEST_CASE("postgres: hourly row_count finds exactly the missing and thin hours") {
  scenario_hourly_gaps(*make_postgres_warehouse());
}
TEST_CASE("postgres: a row exactly on a boundary belongs to the bucket starting there") {
  scenario_boundary_rows(*make_postgres_warehouse());
}
TEST_CASE("postgres: an empty table fails every check kind, never passes") {
  scenario_empty_table(*make_postgres_warehouse());
}
TEST_CASE("postgres: only NULL timestamps fail freshness") {
  scenario_null_timestamps(*make_postgres_warehouse());
}
TEST_CASE("postgres: the where predicate filters rows before counting") {
  scenario_where_filter(*make_postgres_warehouse());
}
TEST_CASE("postgres: epoch second and millisecond columns") {
  scenario_epoch_timestamps(*make_postgres_warehouse());
}
TEST_CASE("postgres: text timestamps, and garbage in them is an error") {
  scenario_text_timestamps(*make_postgres_warehouse());
}
TEST_CASE("postgres: zone-less timestamps are read in the warehouse time zone") {
  scenario_wall_clock_zone(*make_postgres_warehouse());
}
TEST_CASE("postgres: freshness pass, warn, fail and a row in the future") {
  scenario_freshness(*make_postgres_warehouse());
}
TEST_CASE("postgres: daily null_rate buckets follow Berlin midnight across DST") {
  scenario_null_rate_daily_dst(*make_postgres_warehouse());
}
TEST_CASE("postgres: junk timestamps far in the future or before 1970 never make a rule pass") {
  scenario_extreme_timestamps(*make_postgres_warehouse());
}
TEST_CASE("postgres: an all-NULL column fails null_rate at 100%") {
  scenario_all_null_column(*make_postgres_warehouse());
}
TEST_CASE("postgres: a missing column or table is an error") {
  scenario_missing_column(*make_postgres_warehouse());
}
TEST_CASE("postgres: baseline: a normal seasonal week passes, every bucket judged against its expected value") {
  scenario_baseline_normal_week(*make_postgres_warehouse());
}
TEST_CASE("postgres: baseline: a weekday peak hour cut by 60% fails with exactly that window") {
  scenario_baseline_peak_hour_cut(*make_postgres_warehouse());
}
TEST_CASE("postgres: baseline: a quiet weekend night hour with its usual count passes") {
  scenario_baseline_quiet_weekend_night(*make_postgres_warehouse());
}
TEST_CASE("postgres: baseline: two days of history report learning and pass") {
  scenario_baseline_learning(*make_postgres_warehouse());
}
TEST_CASE("postgres: baseline: an hour whose NULL share jumps from 2% to 20% fails with that window") {
  scenario_baseline_null_share_rise(*make_postgres_warehouse());
}
TEST_CASE("postgres: a query that outlives query_timeout is cancelled (pg_sleep)") {
  scenario_query_timeout(*make_postgres_warehouse());
}

TEST_CASE("postgres: results do not depend on the server's time zone setting") {
  for (const char* zone : {"America/New_York", "Asia/Kolkata", "Pacific/Chatham"}) {
    CAPTURE(zone);
    // New sessions of the database start in `zone`.
    const auto in_zone = [&] {
      auto warehouse = make_postgres_warehouse();
      warehouse->exec(fmt::format("ALTER DATABASE {} SET timezone TO '{}';",
                                  warehouse->database_name(), zone));
      CHECK(warehouse->query_value("SELECT current_setting('TimeZone')") == zone);
      return warehouse;
    };
    scenario_hourly_gaps(*in_zone());
    scenario_freshness(*in_zone());
    scenario_wall_clock_zone(*in_zone());
    scenario_null_rate_daily_dst(*in_zone());
  }
}

TEST_CASE("postgres: a table the user may not read is an error naming the permission") {
  auto warehouse = make_postgres_warehouse();
  warehouse->exec("CREATE TABLE secret_events (ts TIMESTAMPTZ);");
  warehouse->exec("INSERT INTO secret_events VALUES (now());");
  warehouse->exec("DROP ROLE IF EXISTS gw_reader;");
  warehouse->exec("CREATE ROLE gw_reader LOGIN;");
  std::string connection = warehouse->connection();
  connection.replace(connection.find("Uid=gapwatch"), 12, "Uid=gw_reader");
  const Config config = load_test_config(config_yaml(
      connection,
      "  - name: fresh\n    table: secret_events\n    check: freshness\n    timestamp_column: ts\n"
      "    fail: {max: 1h}\n"
      "  - name: count\n    table: secret_events\n    check: row_count\n    fail: {min: 1}\n"));
  for (const char* rule : {"fresh", "count"}) {
    const RuleResult result = evaluate_rule(config, rule, "2026-11-25T06:00:00Z");
    INFO(result.verdict.message);
    CHECK(result.verdict.status == Status::error);
    CHECK(result.verdict.message.find("permission denied") != std::string::npos);
  }
  warehouse->exec("DROP OWNED BY gw_reader; DROP ROLE gw_reader;");
}

TEST_CASE("postgres: a refused connection is an error, not a fail") {
  // A port that nothing listens on: bind it, then close it.
  const Config config = load_test_config(config_yaml(
      "Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=1;Database=x;Uid=gapwatch;Pwd=x",
      "  - name: count\n    table: events\n    check: row_count\n    fail: {min: 1}\n"
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: ts\n"
      "    fail: {max: 1h}\n"));
  for (const char* rule : {"count", "fresh"}) {
    const RuleResult result = evaluate_rule(config, rule, "2026-11-25T06:00:00Z");
    INFO(result.verdict.message);
    CHECK(result.verdict.status == Status::error);
    CHECK(result.verdict.message.find("connecting failed") != std::string::npos);
    CHECK(result.verdict.windows.empty());
  }
}

TEST_CASE("postgres: segments: a dark country fails on its own while the total passes; NULL is a segment; max_segments") {
  scenario_segments_dark_country(*make_postgres_warehouse());
}

}  // namespace gapwatch::testing
