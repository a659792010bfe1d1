// The SQL Server / Azure Synapse dialect: its expressions, and the exact
// statement each rule kind runs (golden SQL).
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

const Dialect& sqlserver = sqlserver_dialect();

// The epoch of an instant (datetimeoffset) column [updated_at]'s maximum.
constexpr const char* kNewestEpoch =
    "CAST(DATEDIFF(MINUTE, '19700101', MAX([updated_at])) AS BIGINT) * 60 + DATEPART(SECOND, "
    "MAX([updated_at]))";

TEST_CASE("sqlserver: SQLGetInfo names SQL Server, Azure SQL and Synapse") {
  CHECK(dialect_from_dbms_name("Microsoft SQL Server") == DialectKind::sqlserver);
  CHECK(dialect_from_dbms_name("Microsoft SQL Azure") == DialectKind::sqlserver);
  CHECK(dialect_from_dbms_name("Microsoft SQL Azure (RTM)") == DialectKind::sqlserver);
  CHECK(dialect_from_dbms_name("Azure Synapse Analytics") == DialectKind::sqlserver);
  CHECK(sqlserver.kind() == DialectKind::sqlserver);
}

TEST_CASE("sqlserver: identifiers in brackets, a closing bracket doubled") {
  CHECK(sqlserver.quote_identifier("orders") == "[orders]");
  CHECK(sqlserver.quote_identifier("Event Time") == "[Event Time]");
  CHECK(sqlserver.quote_identifier("a]b") == "[a]]b]");
  CHECK(sqlserver.quote_identifier("a[b") == "[a[b]");
  CHECK(sqlserver.quote_identifier("say \"hi\"") == "[say \"hi\"]");
  CHECK(sqlserver.quote_name(value_of(parse_qualified_name("shop.dbo.orders"))) ==
        "[shop].[dbo].[orders]");
}

TEST_CASE("sqlserver: epoch in minutes plus seconds, which Synapse has and int holds past 2038") {
  CHECK(sqlserver.epoch_seconds("[ts]", TimeEncoding::instant) ==
        "CAST(DATEDIFF(MINUTE, '19700101', [ts]) AS BIGINT) * 60 + DATEPART(SECOND, [ts])");
  CHECK(sqlserver.epoch_seconds("[ts]", TimeEncoding::wall_clock) ==
        "CAST(DATEDIFF(MINUTE, '19700101', CAST([ts] AS DATETIME2)) AS BIGINT) * 60 + "
        "DATEPART(SECOND, CAST([ts] AS DATETIME2))");
  CHECK(sqlserver.epoch_seconds("[ts]", TimeEncoding::wall_clock_text) ==
        "CAST(DATEDIFF(MINUTE, '19700101', TRY_CAST([ts] AS DATETIME2)) AS BIGINT) * 60 + "
        "DATEPART(SECOND, TRY_CAST([ts] AS DATETIME2))");
  CHECK(sqlserver.epoch_seconds("[ts]", TimeEncoding::epoch_seconds) == "[ts]");
  CHECK(sqlserver.epoch_seconds("[ts]", TimeEncoding::epoch_milliseconds) == "([ts]) / 1000");
  CHECK(std::string(sqlserver.epoch_seconds("[ts]", TimeEncoding::instant)).find("DATEDIFF_BIG") ==
        std::string::npos);
}

TEST_CASE("sqlserver: placeholders cast the parameter, never the column") {
  CHECK(sqlserver.time_placeholder(TimeEncoding::instant) == "CAST(? AS DATETIMEOFFSET)");
  CHECK(sqlserver.time_placeholder(TimeEncoding::wall_clock) == "CAST(? AS DATETIME2)");
  CHECK(sqlserver.time_placeholder(TimeEncoding::wall_clock_text) == "?");
  CHECK(sqlserver.time_placeholder(TimeEncoding::epoch_seconds) == "?");
  CHECK(sqlserver.time_placeholder(TimeEncoding::epoch_milliseconds) == "?");
}

TEST_CASE("sqlserver: bound times are ISO 8601, instants with an explicit Z") {
  const Instant instant = at("2026-11-25T06:00:00Z");
  const TimeZone* berlin = zone("Europe/Berlin");
  CHECK(sqlserver.time_param(instant, TimeEncoding::instant, berlin) ==
        text("2026-11-25T06:00:00Z"));
  CHECK(sqlserver.time_param(instant, TimeEncoding::wall_clock, berlin) ==
        text("2026-11-25 07:00:00"));
  CHECK(sqlserver.time_param(instant, TimeEncoding::epoch_seconds, berlin) == integer(1795586400));
}

TEST_CASE("sqlserver: datetimeoffset is an instant; timestamp is a row version, not a time") {
  CHECK(sqlserver.native_encoding("datetimeoffset") == TimeEncoding::instant);
  CHECK(sqlserver.native_encoding("datetime2") == TimeEncoding::wall_clock);
  CHECK(sqlserver.native_encoding("datetime") == TimeEncoding::wall_clock);
  CHECK(sqlserver.native_encoding("smalldatetime") == TimeEncoding::wall_clock);
  CHECK(sqlserver.native_encoding("date") == TimeEncoding::wall_clock);
  CHECK_FALSE(sqlserver.native_encoding("timestamp").has_value());
  CHECK_FALSE(sqlserver.native_encoding("rowversion").has_value());
  CHECK_FALSE(sqlserver.native_encoding("bigint").has_value());
}

TEST_CASE("sqlserver: GROUP BY repeats the expression (T-SQL has no ordinal GROUP BY)") {
  CHECK(sqlserver.floor_divide("[ts] - 1795564800", 3600) == "FLOOR(([ts] - 1795564800) / 3600)");
  CHECK(sqlserver.group_by({"FLOOR(([ts] - 1) / 60)", "[c]"}) == "GROUP BY FLOOR(([ts] - 1) / 60), [c]");
}

TEST_CASE("sqlserver: no session setup; the driver and the watchdog enforce query_timeout") {
  CHECK(sqlserver.session_setup(std::chrono::seconds{60}).empty());
  CHECK(sqlserver.locate_column(value_of(parse_qualified_name("shop.dbo.orders")), "ts") ==
        ColumnLocation{"shop", "dbo", "orders", "ts"});
}

TEST_CASE("sqlserver golden SQL: freshness with lookback and where") {
  const QueryPlan plan =
      value_of(plan_freshness(orders_fresh(), context(sqlserver, TimeEncoding::instant)));
  CHECK(plan.sql == std::string("SELECT MAX([updated_at]), ") + kNewestEpoch +
                        ", (SELECT COUNT(*) FROM [sales].[orders] WHERE [updated_at] >= CAST(? AS "
                        "DATETIMEOFFSET) AND (status <> 'test')) FROM [sales].[orders] WHERE "
                        "[updated_at] >= CAST(? AS DATETIMEOFFSET) AND [updated_at] < CAST(? AS "
                        "DATETIMEOFFSET) AND (status <> 'test')");
  CHECK(plan.params == std::vector<Param>{text("2026-11-25T06:05:00Z"), text("2026-11-24T06:00:00Z"),
                                          text("2026-11-25T06:05:00Z")});
}

TEST_CASE("sqlserver golden SQL: partitioned row_count groups by the repeated expression") {
  const QueryPlan plan =
      value_of(plan_row_count(events_hourly(), context(sqlserver, TimeEncoding::instant)));
  const std::string granule =
      "FLOOR((CAST(DATEDIFF(MINUTE, '19700101', [event_time]) AS BIGINT) * 60 + DATEPART(SECOND, "
      "[event_time]) - 1795572000) / 3600)";
  CHECK(plan.sql == "SELECT " + granule +
                        " AS granule, COUNT(*) FROM [raw].[events] WHERE [event_time] >= CAST(? AS "
                        "DATETIMEOFFSET) AND [event_time] < CAST(? AS DATETIMEOFFSET) GROUP BY " +
                        granule);
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-25T02:00:00Z"), text("2026-11-25T05:00:00Z")});
}

TEST_CASE("sqlserver golden SQL: partitioned row_count over a datetime2 column") {
  const QueryPlan plan = value_of(plan_row_count(
      events_hourly(), context(sqlserver, TimeEncoding::wall_clock, zone("America/New_York"))));
  const std::string granule =
      "FLOOR((CAST(DATEDIFF(MINUTE, '19700101', CAST([event_time] AS DATETIME2)) AS BIGINT) * 60 "
      "+ DATEPART(SECOND, CAST([event_time] AS DATETIME2)) - 1795554000) / 3600)";
  CHECK(plan.sql == "SELECT " + granule +
                        " AS granule, COUNT(*) FROM [raw].[events] WHERE [event_time] >= CAST(? AS "
                        "DATETIME2) AND [event_time] < CAST(? AS DATETIME2) GROUP BY " +
                        granule);
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-24 21:00:00"), text("2026-11-25 00:00:00")});
}

TEST_CASE("sqlserver golden SQL: partitioned null_rate") {
  const QueryPlan plan =
      value_of(plan_null_rate(customers_email(), context(sqlserver, TimeEncoding::instant)));
  const std::string granule =
      "FLOOR((CAST(DATEDIFF(MINUTE, '19700101', [created_at]) AS BIGINT) * 60 + DATEPART(SECOND, "
      "[created_at]) - 1795388400) / 86400)";
  CHECK(plan.sql == "SELECT " + granule +
                        " AS granule, COUNT(*), COUNT([email]) FROM [crm].[customers] WHERE "
                        "[created_at] >= CAST(? AS DATETIMEOFFSET) AND [created_at] < CAST(? AS "
                        "DATETIMEOFFSET) GROUP BY " +
                        granule);
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-22T23:00:00Z"), text("2026-11-24T23:00:00Z")});
}

}  // namespace
}  // namespace gapwatch
