// The rule kinds against a real MariaDB server (the private server that the
// mariadb_start fixture runs, whose own time zone is America/New_York) through
// MariaDB Connector/ODBC.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "monitor/warehouse/warehouse.h"
#include "scenarios.h"

namespace gapwatch::testing {

namespace {

// Sets the server's default time zone, which every new session starts in,
// for the life of the guard.
class GlobalTimeZone {
 public:
  GlobalTimeZone(TestWarehouse& warehouse, const std::string& zone) : m_warehouse(warehouse) {
    m_warehouse.exec(fmt::format("SET GLOBAL time_zone = '{}';", zone));
  }
  ~GlobalTimeZone() { m_warehouse.exec("SET GLOBAL time_zone = 'SYSTEM';"); }
  GlobalTimeZone(const GlobalTimeZone&) = delete;
  GlobalTimeZone& operator=(const GlobalTimeZone&) = delete;

 private:
  TestWarehouse& m_warehouse;
};

// A rule, for configs that only need the warehouse.
constexpr const char* kAnyRule =
    "  - name: count\n    table: events\n    check: row_count\n    fail: {min: 1}\n";

// The first cell of `sql` run on `session`, or fails the test.
std::string session_value(Session& session, const std::string& sql) {
  QueryPlan plan;
  plan.sql = sql;
  auto rows = session.execute(plan);
  REQUIRE_MESSAGE(rows.has_value(), (rows ? "" : rows.error().message));
  REQUIRE(rows->size() == 1);
  return rows->front().front().value_or("NULL");
}

}  // namespace

TEST_CASE("mariadb: hourly row_count finds exactly the missing and thin hours") {
  scenario_hourly_gaps(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: a row exactly on a boundary belongs to the bucket starting there") {
  scenario_boundary_rows(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: an empty table fails every check kind, never passes") {
  scenario_empty_table(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: only NULL timestamps fail freshness") {
  scenario_null_timestamps(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: the where predicate filters rows before counting") {
  scenario_where_filter(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: epoch second and millisecond columns") {
  scenario_epoch_timestamps(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: text timestamps, and garbage in them is an error") {
  scenario_text_timestamps(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: DATETIME columns are read in the warehouse time zone") {
  scenario_wall_clock_zone(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: freshness pass, warn, fail and a row in the future") {
  scenario_freshness(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: daily null_rate buckets follow Berlin midnight across DST") {
  scenario_null_rate_daily_dst(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: junk DATETIME values far in the future or before 1970 never make a rule pass") {
  scenario_extreme_timestamps(*make_mariadb_warehouse(), "DATETIME(6)");
}
TEST_CASE("mariadb: an all-NULL column fails null_rate at 100%") {
  scenario_all_null_column(*make_mariadb_warehouse());
}
TEST_CASE("mariadb: a missing column or table is an error") {
  scenario_missing_column(*make_mariadb_warehouse());
}

TEST_CASE("mariadb: a query that outlives query_timeout is cancelled on the server (SLEEP)") {
  auto warehouse = make_mariadb_warehouse();
  scenario_query_timeout(*warehouse);
  // The server stopped the statement too, not just the client waiting for it.
  CHECK(warehouse->query_value("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
                               "INFO LIKE '%SLEEP(20)%' AND INFO NOT LIKE '%PROCESSLIST%'") == "0");
}

TEST_CASE("mariadb: a new connection runs in UTC with max_statement_time above query_timeout") {
  auto warehouse = make_mariadb_warehouse();
  const GlobalTimeZone in_zone(*warehouse, "Asia/Kolkata");
  const Config config =
      load_test_config(config_yaml(warehouse->connection(), kAnyRule, "    query_timeout: 5s\n"));
  QueryWatchdog watchdog;
  Warehouse pool(config.warehouses.front(), watchdog);
  auto session = pool.session();
  REQUIRE_MESSAGE(session.has_value(), (session ? "" : session.error().message));
  CHECK_FALSE(session->reused());
  CHECK(session->dialect().kind() == DialectKind::mysql);
  CHECK(session_value(*session, "SELECT @@session.time_zone") == "+00:00");
  CHECK(session_value(*session, "SELECT @@session.max_statement_time") == "15.000000");
}

TEST_CASE("mariadb: a pooled connection is not set up again") {
  auto warehouse = make_mariadb_warehouse();
  const Config config = load_test_config(config_yaml(warehouse->connection(), kAnyRule));
  QueryWatchdog watchdog;
  Warehouse pool(config.warehouses.front(), watchdog);
  std::string connection_id;
  {
    auto first = pool.session();
    REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().message));
    connection_id = session_value(*first, "SELECT CONNECTION_ID()");
    // A mark the session setup would overwrite if it ran again.
    QueryPlan mark;
    mark.sql = "SET time_zone = '+05:00'";
    REQUIRE(first->execute(mark).has_value());
  }
  auto second = pool.session();
  REQUIRE_MESSAGE(second.has_value(), (second ? "" : second.error().message));
  CHECK(second->reused());
  CHECK(session_value(*second, "SELECT CONNECTION_ID()") == connection_id);
  CHECK(session_value(*second, "SELECT @@session.time_zone") == "+05:00");
}

TEST_CASE("mariadb: results do not depend on the server's time zone setting") {
  for (const char* zone : {"America/New_York", "Asia/Kolkata", "Pacific/Chatham"}) {
    CAPTURE(zone);
    auto setter = make_mariadb_warehouse();
    const GlobalTimeZone in_zone(*setter, zone);
    // New sessions (gapwatch's among them) start in `zone`.
    CHECK(setter->query_value("SELECT @@session.time_zone") == zone);
    scenario_hourly_gaps(*make_mariadb_warehouse());
    scenario_boundary_rows(*make_mariadb_warehouse());
    scenario_freshness(*make_mariadb_warehouse());
    scenario_wall_clock_zone(*make_mariadb_warehouse());
    scenario_null_rate_daily_dst(*make_mariadb_warehouse());
  }
}

TEST_CASE("mariadb: TIMESTAMP rows in New York's repeated hour, read by a New York server") {
  // 2026-11-01 01:00-02:00 happens twice in New York (05:00Z and 06:00Z). A
  // session in that zone would read both hours as the same wall clock; one row
  // at every UTC hour must still give every UTC bucket exactly one row.
  auto warehouse = make_mariadb_warehouse();
  const GlobalTimeZone in_zone(*warehouse, "America/New_York");
  warehouse->exec("CREATE TABLE events (ts TIMESTAMP(6) NULL);");
  std::string rows;
  for (int hour = 0; hour <= 12; ++hour) {
    rows += fmt::format("{}('2026-11-01 {:02}:00:00')", rows.empty() ? "" : ", ", hour);
  }
  warehouse->exec(fmt::format("INSERT INTO events (ts) VALUES {};", rows));
  const Config config = load_test_config(config_yaml(
      warehouse->connection(),
      "  - name: exact\n    table: events\n    check: row_count\n    timestamp_column: ts\n"
      "    partition: {every: 1h, lookback: 12h, delay: 1h}\n    fail: {min: 1, max: 1}\n"
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: ts\n"
      "    lookback: 1d\n    fail: {max: 1h}\n"));
  const RuleResult exact = evaluate_rule(config, "exact", "2026-11-01T12:00:00Z");
  INFO(exact.verdict.message);
  CHECK(exact.verdict.status == Status::pass);
  REQUIRE(exact.verdict.buckets.size() == 11);
  for (const BucketVerdict& bucket : exact.verdict.buckets) {
    CAPTURE(format_rfc3339(bucket.start));
    CHECK(bucket.rows == 1);
  }
  const RuleResult fresh = evaluate_rule(config, "fresh", "2026-11-01T12:30:00Z");
  CHECK(fresh.verdict.status == Status::pass);
  CHECK(fresh.verdict.newest_row == *parse_rfc3339("2026-11-01T12:00:00Z"));
  CHECK(fresh.verdict.observed == 1800.0);
}

TEST_CASE("mariadb: a table in another database, named database.table") {
  auto other = make_mariadb_warehouse();
  other->exec(
      "CREATE TABLE events (ts DATETIME(6));\n"
      "INSERT INTO events (ts) VALUES ('2026-11-25 05:00:00');");
  auto warehouse = make_mariadb_warehouse();  // connected to a database without events
  const Config config = load_test_config(
      config_yaml(warehouse->connection(),
                  fmt::format("  - name: fresh\n    table: {}.events\n    check: freshness\n"
                              "    timestamp_column: ts\n    fail: {{max: 2h}}\n",
                              other->database_name())));
  const RuleResult fresh = evaluate_rule(config, "fresh", "2026-11-25T06:00:00Z");
  INFO(fresh.verdict.message);
  CHECK(fresh.verdict.status == Status::pass);
  CHECK(fresh.verdict.observed == 3600.0);
}

TEST_CASE("mariadb: an unqualified table is looked up in the connection's database only") {
  // Another database on the server has a table of the same name whose ts is
  // not a time; it must not decide how this database's ts is read.
  auto other = make_mariadb_warehouse();
  other->exec("CREATE TABLE events (ts VARCHAR(40));");
  auto warehouse = make_mariadb_warehouse();
  warehouse->exec(
      "CREATE TABLE events (ts TIMESTAMP(6) NULL);\n"
      "INSERT INTO events (ts) VALUES ('2026-11-25 05:00:00');");
  auto later = make_mariadb_warehouse();
  later->exec("CREATE TABLE events (ts VARCHAR(40));");
  const Config config = load_test_config(config_yaml(
      warehouse->connection(),
      "  - name: fresh\n    table: events\n    check: freshness\n    timestamp_column: ts\n"
      "    fail: {max: 2h}\n"));
  const RuleResult fresh = evaluate_rule(config, "fresh", "2026-11-25T06:00:00Z");
  INFO(fresh.verdict.message);
  CHECK(fresh.verdict.status == Status::pass);
  CHECK(fresh.verdict.observed == 3600.0);
}

TEST_CASE("mariadb: a refused connection is an error, not a fail") {
  const Config config = load_test_config(config_yaml(
      "Driver=MariaDB Unicode;Server=127.0.0.1;Port=1;Database=x;Uid=gapwatch;Pwd=x",
      "  - name: count\n    table: events\n    check: row_count\n    fail: {min: 1}\n"));
  const RuleResult result = evaluate_rule(config, "count", "2026-11-25T06:00:00Z");
  INFO(result.verdict.message);
  CHECK(result.verdict.status == Status::error);
  CHECK(result.verdict.message.find("connecting failed") != std::string::npos);
  CHECK(result.verdict.windows.empty());
}

TEST_CASE("mariadb: segments: a dark country fails on its own while the total passes; NULL is a segment; max_segments") {
  scenario_segments_dark_country(*make_mariadb_warehouse());
}

}  // namespace gapwatch::testing
