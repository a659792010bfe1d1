// The MySQL/MariaDB dialect: its expressions, and the exact statement each rule
// kind runs (golden SQL).
#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "rules/dialect.h"
#include "tests/rules/golden_rules.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;
using testing::value_of;
using testing::zone;
using namespace testing::golden;

const Dialect& mysql = mysql_dialect();

TEST_CASE("mysql: SQLGetInfo names MySQL and MariaDB") {
  CHECK(dialect_from_dbms_name("MySQL") == DialectKind::mysql);
  CHECK(dialect_from_dbms_name("MariaDB") == DialectKind::mysql);
  CHECK(dialect_from_dbms_name("mariadb") == DialectKind::mysql);
  CHECK(mysql.kind() == DialectKind::mysql);
}

TEST_CASE("mysql: identifiers in backticks, embedded backticks doubled") {
  CHECK(mysql.quote_identifier("orders") == "`orders`");
  CHECK(mysql.quote_identifier("Event Time") == "`Event Time`");
  CHECK(mysql.quote_identifier("a`b") == "`a``b`");
  CHECK(mysql.quote_identifier("say \"hi\"") == "`say \"hi\"`");
  CHECK(mysql.quote_name(value_of(parse_qualified_name("shop.orders"))) == "`shop`.`orders`");
}

TEST_CASE("mysql: epoch_seconds does not depend on the session time zone") {
  CHECK(mysql.epoch_seconds("`ts`", TimeEncoding::instant) == "UNIX_TIMESTAMP(`ts`)");
  CHECK(mysql.epoch_seconds("`ts`", TimeEncoding::wall_clock) ==
        "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', `ts`)");
  CHECK(mysql.epoch_seconds("`ts`", TimeEncoding::wall_clock_text) ==
        "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', STR_TO_DATE(`ts`, '%Y-%m-%d %H:%i:%s'))");
  CHECK(mysql.epoch_seconds("`ts`", TimeEncoding::epoch_seconds) == "`ts`");
  CHECK(mysql.epoch_seconds("`ts`", TimeEncoding::epoch_milliseconds) == "(`ts`) / 1000");
  CHECK(mysql.epoch_seconds("MAX(`ts`)", TimeEncoding::wall_clock) ==
        "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', MAX(`ts`))");
}

TEST_CASE("mysql: placeholders cast the parameter to DATETIME, never the column") {
  CHECK(mysql.time_placeholder(TimeEncoding::instant) == "CAST(? AS DATETIME)");
  CHECK(mysql.time_placeholder(TimeEncoding::wall_clock) == "CAST(? AS DATETIME)");
  CHECK(mysql.time_placeholder(TimeEncoding::wall_clock_text) == "?");
  CHECK(mysql.time_placeholder(TimeEncoding::epoch_seconds) == "?");
  CHECK(mysql.time_placeholder(TimeEncoding::epoch_milliseconds) == "?");
}

TEST_CASE("mysql: TIMESTAMP parameters are UTC wall clocks, for the UTC session") {
  const Instant instant = at("2026-11-25T06:00:00Z");
  const TimeZone* berlin = zone("Europe/Berlin");
  CHECK(mysql.time_param(instant, TimeEncoding::instant, berlin) == text("2026-11-25 06:00:00"));
  CHECK(mysql.time_param(instant, TimeEncoding::wall_clock, berlin) == text("2026-11-25 07:00:00"));
  CHECK(mysql.time_param(instant, TimeEncoding::wall_clock_text, berlin) ==
        text("2026-11-25 07:00:00"));
  CHECK(mysql.time_param(instant, TimeEncoding::epoch_seconds, berlin) == integer(1795586400));
  CHECK(mysql.time_param(instant, TimeEncoding::epoch_milliseconds, berlin) ==
        integer(1795586400000));
}

TEST_CASE("mysql: TIMESTAMP is an instant (the session is UTC), DATETIME and DATE wall clocks") {
  CHECK(mysql.native_encoding("timestamp") == TimeEncoding::instant);
  CHECK(mysql.native_encoding("TIMESTAMP") == TimeEncoding::instant);
  CHECK(mysql.native_encoding("datetime") == TimeEncoding::wall_clock);
  CHECK(mysql.native_encoding("date") == TimeEncoding::wall_clock);
  CHECK_FALSE(mysql.native_encoding("bigint").has_value());
  CHECK_FALSE(mysql.native_encoding("varchar").has_value());
}

TEST_CASE("mysql: integer floor division with DIV, grouped by position") {
  CHECK(mysql.floor_divide("`ts` - 1795564800", 3600) == "(`ts` - 1795564800) DIV 3600");
  CHECK(mysql.group_by({"x"}) == "GROUP BY 1");
}

TEST_CASE("mysql: every session runs in UTC, with a MariaDB-only server-side limit") {
  CHECK(
      mysql.session_setup(std::chrono::seconds{60}) ==
      std::vector<std::string>{"SET time_zone = '+00:00' /*M!100108 , max_statement_time = 70 */"});
  CHECK(
      mysql.session_setup(std::chrono::seconds{1}) ==
      std::vector<std::string>{"SET time_zone = '+00:00' /*M!100108 , max_statement_time = 11 */"});
}

TEST_CASE("mysql: a database.table name is an ODBC catalog and table") {
  CHECK(mysql.locate_column(value_of(parse_qualified_name("orders")), "ts") ==
        ColumnLocation{"", "", "orders", "ts"});
  CHECK(mysql.locate_column(value_of(parse_qualified_name("shop.orders")), "ts") ==
        ColumnLocation{"shop", "", "orders", "ts"});
}

TEST_CASE("mysql golden SQL: freshness with lookback and where") {
  const QueryPlan plan =
      value_of(plan_freshness(orders_fresh(), context(mysql, TimeEncoding::instant)));
  CHECK(plan.sql ==
        "SELECT MAX(`updated_at`), UNIX_TIMESTAMP(MAX(`updated_at`)), (SELECT COUNT(*) FROM "
        "`sales`.`orders` WHERE `updated_at` >= CAST(? AS DATETIME) AND (status <> 'test')) FROM "
        "`sales`.`orders` WHERE `updated_at` >= CAST(? AS DATETIME) AND `updated_at` < CAST(? AS "
        "DATETIME) AND (status <> 'test')");
  CHECK(plan.params == std::vector<Param>{text("2026-11-25 06:05:00"), text("2026-11-24 06:00:00"),
                                          text("2026-11-25 06:05:00")});
}

TEST_CASE("mysql golden SQL: freshness of a DATETIME column in the warehouse zone") {
  const QueryPlan plan = value_of(plan_freshness(
      orders_fresh(), context(mysql, TimeEncoding::wall_clock, zone("America/New_York"))));
  CHECK(plan.sql ==
        "SELECT MAX(`updated_at`), TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', MAX(`updated_at`)), "
        "(SELECT COUNT(*) FROM `sales`.`orders` WHERE `updated_at` >= CAST(? AS DATETIME) AND "
        "(status <> 'test')) FROM `sales`.`orders` WHERE `updated_at` >= CAST(? AS DATETIME) AND "
        "`updated_at` < CAST(? AS DATETIME) AND (status <> 'test')");
  CHECK(plan.params == std::vector<Param>{text("2026-11-25 01:05:00"), text("2026-11-24 01:00:00"),
                                          text("2026-11-25 01:05:00")});
}

TEST_CASE("mysql golden SQL: partitioned row_count, one grouped statement") {
  const QueryPlan plan =
      value_of(plan_row_count(events_hourly(), context(mysql, TimeEncoding::instant)));
  CHECK(plan.sql ==
        "SELECT (UNIX_TIMESTAMP(`event_time`) - 1795572000) DIV 3600 AS granule, COUNT(*) FROM "
        "`raw`.`events` WHERE `event_time` >= CAST(? AS DATETIME) AND `event_time` < CAST(? AS "
        "DATETIME) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-25 02:00:00"), text("2026-11-25 05:00:00")});
}

TEST_CASE("mysql golden SQL: partitioned row_count over a DATETIME column") {
  const QueryPlan plan = value_of(plan_row_count(
      events_hourly(), context(mysql, TimeEncoding::wall_clock, zone("America/New_York"))));
  CHECK(plan.sql ==
        "SELECT (TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', `event_time`) - 1795554000) DIV "
        "3600 AS granule, COUNT(*) FROM `raw`.`events` WHERE `event_time` >= CAST(? AS DATETIME) "
        "AND `event_time` < CAST(? AS DATETIME) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-24 21:00:00"), text("2026-11-25 00:00:00")});
}

TEST_CASE("mysql golden SQL: partitioned null_rate") {
  const QueryPlan plan =
      value_of(plan_null_rate(customers_email(), context(mysql, TimeEncoding::instant)));
  CHECK(plan.sql ==
        "SELECT (UNIX_TIMESTAMP(`created_at`) - 1795388400) DIV 86400 AS granule, COUNT(*), "
        "COUNT(`email`) FROM `crm`.`customers` WHERE `created_at` >= CAST(? AS DATETIME) AND "
        "`created_at` < CAST(? AS DATETIME) GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-22 23:00:00"), text("2026-11-24 23:00:00")});
}

}  // namespace
}  // namespace gapwatch
