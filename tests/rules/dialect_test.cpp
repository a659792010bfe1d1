#include "rules/dialect.h"

#include <chrono>
#include <cstdint>
#include <string>

#include <doctest/doctest.h>

#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::at;
using testing::value_of;
using testing::zone;

const Dialect& postgres = postgres_dialect();
const Dialect& sqlite = sqlite_dialect();

Param text(std::string value) {
  return Param{std::move(value)};
}
Param integer(std::int64_t value) {
  return Param{value};
}

TEST_CASE("dialect names round-trip") {
  for (const DialectKind kind : {DialectKind::postgres, DialectKind::sqlite, DialectKind::mysql,
                                 DialectKind::sqlserver, DialectKind::snowflake}) {
    CAPTURE(std::string(to_string(kind)));
    CHECK(dialect_from_name(to_string(kind)) == kind);
  }
  CHECK(to_string(DialectKind::postgres) == "postgres");
  CHECK(to_string(DialectKind::sqlserver) == "sqlserver");
  CHECK_FALSE(dialect_from_name("Postgres").has_value());
  CHECK_FALSE(dialect_from_name("postgresql").has_value());
  CHECK_FALSE(dialect_from_name("auto").has_value());
  CHECK_FALSE(dialect_from_name("").has_value());
}

TEST_CASE("dialect_from_dbms_name reads SQLGetInfo(SQL_DBMS_NAME)") {
  CHECK(dialect_from_dbms_name("PostgreSQL") == DialectKind::postgres);
  CHECK(dialect_from_dbms_name("POSTGRESQL") == DialectKind::postgres);
  CHECK(dialect_from_dbms_name("SQLite") == DialectKind::sqlite);
  CHECK(dialect_from_dbms_name("SQLite3") == DialectKind::sqlite);
  CHECK(dialect_from_dbms_name("MySQL") == DialectKind::mysql);
  CHECK(dialect_from_dbms_name("MariaDB") == DialectKind::mysql);
  CHECK(dialect_from_dbms_name("Microsoft SQL Server") == DialectKind::sqlserver);
  CHECK(dialect_from_dbms_name("Snowflake") == DialectKind::snowflake);
  CHECK_FALSE(dialect_from_dbms_name("Oracle").has_value());
  CHECK_FALSE(dialect_from_dbms_name("").has_value());
}

TEST_CASE("time encodings: names and which read a wall clock") {
  CHECK(to_string(TimeEncoding::instant) == "instant");
  CHECK(to_string(TimeEncoding::wall_clock) == "wall_clock");
  CHECK(to_string(TimeEncoding::wall_clock_text) == "wall_clock_text");
  CHECK(to_string(TimeEncoding::epoch_seconds) == "epoch_seconds");
  CHECK(to_string(TimeEncoding::epoch_milliseconds) == "epoch_milliseconds");
  CHECK(is_wall_clock(TimeEncoding::wall_clock));
  CHECK(is_wall_clock(TimeEncoding::wall_clock_text));
  CHECK_FALSE(is_wall_clock(TimeEncoding::instant));
  CHECK_FALSE(is_wall_clock(TimeEncoding::epoch_seconds));
  CHECK_FALSE(is_wall_clock(TimeEncoding::epoch_milliseconds));
}

TEST_CASE("Param::display quotes text as SQL and writes integers bare") {
  CHECK(text("2026-11-25T06:00:00Z").display() == "'2026-11-25T06:00:00Z'");
  CHECK(text("it's").display() == "'it''s'");
  CHECK(text("''").display() == "''''''");
  CHECK(text("").display() == "''");
  CHECK(integer(1795564800).display() == "1795564800");
  CHECK(integer(-5).display() == "-5");
  CHECK(text("42") != integer(42));
}

TEST_CASE("quote_identifier wraps in double quotes and doubles embedded ones") {
  for (const Dialect* dialect : {&postgres, &sqlite}) {
    CAPTURE(std::string(to_string(dialect->kind())));
    CHECK(dialect->quote_identifier("orders") == "\"orders\"");
    CHECK(dialect->quote_identifier("Event Time") == "\"Event Time\"");
    CHECK(dialect->quote_identifier("a\"b") == "\"a\"\"b\"");
    CHECK(dialect->quote_identifier("\"") == "\"\"\"\"");
    CHECK(dialect->quote_identifier("it's") == "\"it's\"");
  }
}

TEST_CASE("quote_name quotes each part of a dotted name") {
  CHECK(postgres.quote_name(value_of(parse_qualified_name("orders"))) == "\"orders\"");
  CHECK(postgres.quote_name(value_of(parse_qualified_name("public.orders"))) ==
        "\"public\".\"orders\"");
  CHECK(sqlite.quote_name(value_of(parse_qualified_name("shop.public.Orders"))) ==
        "\"shop\".\"public\".\"Orders\"");
}

TEST_CASE("postgres: epoch_seconds per encoding") {
  CHECK(postgres.epoch_seconds("\"ts\"", TimeEncoding::instant) == "EXTRACT(EPOCH FROM \"ts\")");
  CHECK(postgres.epoch_seconds("\"ts\"", TimeEncoding::wall_clock) == "EXTRACT(EPOCH FROM \"ts\")");
  CHECK(postgres.epoch_seconds("\"ts\"", TimeEncoding::wall_clock_text) ==
        "EXTRACT(EPOCH FROM CAST(\"ts\" AS TIMESTAMP))");
  CHECK(postgres.epoch_seconds("\"ts\"", TimeEncoding::epoch_seconds) == "\"ts\"");
  CHECK(postgres.epoch_seconds("\"ts\"", TimeEncoding::epoch_milliseconds) == "(\"ts\") / 1000.0");
  CHECK(postgres.epoch_seconds("MAX(\"ts\")", TimeEncoding::instant) ==
        "EXTRACT(EPOCH FROM MAX(\"ts\"))");
}

TEST_CASE("sqlite: epoch_seconds per encoding") {
  for (const TimeEncoding encoding :
       {TimeEncoding::instant, TimeEncoding::wall_clock, TimeEncoding::wall_clock_text}) {
    CAPTURE(std::string(to_string(encoding)));
    CHECK(sqlite.epoch_seconds("\"ts\"", encoding) == "CAST(strftime('%s', \"ts\") AS INTEGER)");
  }
  CHECK(sqlite.epoch_seconds("\"ts\"", TimeEncoding::epoch_seconds) == "\"ts\"");
  CHECK(sqlite.epoch_seconds("\"ts\"", TimeEncoding::epoch_milliseconds) == "(\"ts\") / 1000");
}

TEST_CASE("postgres: placeholders cast the parameter, never the column") {
  CHECK(postgres.time_placeholder(TimeEncoding::instant) == "CAST(? AS TIMESTAMPTZ)");
  CHECK(postgres.time_placeholder(TimeEncoding::wall_clock) == "CAST(? AS TIMESTAMP)");
  CHECK(postgres.time_placeholder(TimeEncoding::wall_clock_text) == "?");
  CHECK(postgres.time_placeholder(TimeEncoding::epoch_seconds) == "?");
  CHECK(postgres.time_placeholder(TimeEncoding::epoch_milliseconds) == "?");
}

TEST_CASE("sqlite: placeholders are bare") {
  for (const TimeEncoding encoding :
       {TimeEncoding::instant, TimeEncoding::wall_clock, TimeEncoding::wall_clock_text,
        TimeEncoding::epoch_seconds, TimeEncoding::epoch_milliseconds}) {
    CAPTURE(std::string(to_string(encoding)));
    CHECK(sqlite.time_placeholder(encoding) == "?");
  }
}

TEST_CASE("time_param: the bound value per encoding") {
  const Instant instant = at("2026-11-25T06:00:00Z");
  const TimeZone* berlin = zone("Europe/Berlin");
  for (const Dialect* dialect : {&postgres, &sqlite}) {
    CAPTURE(std::string(to_string(dialect->kind())));
    SUBCASE("instants as RFC 3339 with an explicit Z") {
      CHECK(dialect->time_param(instant, TimeEncoding::instant, berlin) ==
            text("2026-11-25T06:00:00Z"));
    }
    SUBCASE("wall clocks as text in the warehouse zone") {
      CHECK(dialect->time_param(instant, TimeEncoding::wall_clock, berlin) ==
            text("2026-11-25 07:00:00"));
      CHECK(dialect->time_param(instant, TimeEncoding::wall_clock_text, berlin) ==
            text("2026-11-25 07:00:00"));
      CHECK(dialect->time_param(at("2026-07-01T06:00:00Z"), TimeEncoding::wall_clock, berlin) ==
            text("2026-07-01 08:00:00"));
      CHECK(dialect->time_param(instant, TimeEncoding::wall_clock_text, zone("America/New_York")) ==
            text("2026-11-25 01:00:00"));
      CHECK(dialect->time_param(instant, TimeEncoding::wall_clock, utc_zone()) ==
            text("2026-11-25 06:00:00"));
    }
    SUBCASE("epochs as integers, whatever the zone") {
      CHECK(dialect->time_param(instant, TimeEncoding::epoch_seconds, berlin) ==
            integer(1795586400));
      CHECK(dialect->time_param(instant, TimeEncoding::epoch_milliseconds, berlin) ==
            integer(1795586400000));
    }
  }
}

TEST_CASE("floor_divide per dialect") {
  CHECK(postgres.floor_divide("\"ts\" - 1795564800", 3600) ==
        "FLOOR((\"ts\" - 1795564800) / 3600)");
  CHECK(sqlite.floor_divide("\"ts\" - 1795564800", 3600) ==
        "CAST((\"ts\" - 1795564800) / 3600 AS INTEGER)");
  CHECK(postgres.floor_divide("x", 1) == "FLOOR((x) / 1)");
}

TEST_CASE("group_by groups by the first select-list items, by position") {
  CHECK(postgres.group_by({"FLOOR(x)"}) == "GROUP BY 1");
  CHECK(postgres.group_by({"FLOOR(x)", "\"country\"", "\"channel\""}) == "GROUP BY 1, 2, 3");
  CHECK(sqlite.group_by({"CAST(x AS INTEGER)"}) == "GROUP BY 1");
}

TEST_CASE("dialect_for gives the singleton of every dialect") {
  CHECK(&dialect_for(DialectKind::postgres) == &postgres);
  CHECK(&dialect_for(DialectKind::sqlite) == &sqlite);
  CHECK(&dialect_for(DialectKind::mysql) == &mysql_dialect());
  CHECK(&dialect_for(DialectKind::sqlserver) == &sqlserver_dialect());
  CHECK(&dialect_for(DialectKind::snowflake) == &snowflake_dialect());
  for (const DialectKind kind : {DialectKind::postgres, DialectKind::sqlite, DialectKind::mysql,
                                 DialectKind::sqlserver, DialectKind::snowflake}) {
    CAPTURE(std::string(to_string(kind)));
    CHECK(dialect_for(kind).kind() == kind);
  }
}

TEST_CASE("postgres: timestamptz is an instant, timestamp and date are wall clocks") {
  CHECK(postgres.native_encoding("timestamptz") == TimeEncoding::instant);
  CHECK(postgres.native_encoding("timestamp with time zone") == TimeEncoding::instant);
  CHECK(postgres.native_encoding("timestamp") == TimeEncoding::wall_clock);
  CHECK(postgres.native_encoding("timestamp without time zone") == TimeEncoding::wall_clock);
  CHECK(postgres.native_encoding("date") == TimeEncoding::wall_clock);
  CHECK_FALSE(postgres.native_encoding("int8").has_value());
  CHECK_FALSE(postgres.native_encoding("text").has_value());
}

TEST_CASE("sqlite: every declared type holds text times except an integer one") {
  CHECK(sqlite.native_encoding("TEXT") == TimeEncoding::wall_clock_text);
  CHECK(sqlite.native_encoding("TIMESTAMP") == TimeEncoding::wall_clock_text);
  CHECK(sqlite.native_encoding("") == TimeEncoding::wall_clock_text);
  CHECK_FALSE(sqlite.native_encoding("INTEGER").has_value());
  CHECK_FALSE(sqlite.native_encoding("bigint").has_value());
}

TEST_CASE("postgres and sqlite need no session setup") {
  CHECK(postgres.session_setup(std::chrono::seconds{60}).empty());
  CHECK(sqlite.session_setup(std::chrono::seconds{60}).empty());
}

TEST_CASE("locate_column: the last three name parts are catalog, schema and table") {
  CHECK(postgres.locate_column(value_of(parse_qualified_name("orders")), "ts") ==
        ColumnLocation{"", "", "orders", "ts"});
  CHECK(postgres.locate_column(value_of(parse_qualified_name("public.orders")), "ts") ==
        ColumnLocation{"", "public", "orders", "ts"});
  CHECK(sqlite.locate_column(value_of(parse_qualified_name("shop.public.Orders")), "Ts") ==
        ColumnLocation{"shop", "public", "Orders", "Ts"});
}

}  // namespace
}  // namespace gapwatch
