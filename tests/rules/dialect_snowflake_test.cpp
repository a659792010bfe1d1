// The Snowflake dialect: identifier case, its expressions, and the exact
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

const Dialect& snowflake = snowflake_dialect();

constexpr const char* kInstant = "TO_TIMESTAMP_TZ(?, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')";
constexpr const char* kWallClock = "TO_TIMESTAMP_NTZ(?, 'YYYY-MM-DD HH24:MI:SS')";

TEST_CASE("snowflake: SQLGetInfo names Snowflake") {
  CHECK(dialect_from_dbms_name("Snowflake") == DialectKind::snowflake);
  CHECK(dialect_from_dbms_name("SNOWFLAKE") == DialectKind::snowflake);
  CHECK(snowflake.kind() == DialectKind::snowflake);
}

TEST_CASE("snowflake: a lowercase name means what it means unquoted, the uppercase object") {
  CHECK(snowflake.quote_identifier("events") == "\"EVENTS\"");
  CHECK(snowflake.quote_identifier("event_time") == "\"EVENT_TIME\"");
  CHECK(snowflake.quote_identifier("_tmp$2") == "\"_TMP$2\"");
  CHECK(snowflake.quote_identifier("EVENTS") == "\"EVENTS\"");
  // Reserved words stay literal inside the quotes.
  CHECK(snowflake.quote_identifier("order") == "\"ORDER\"");
}

TEST_CASE("snowflake: a name with an uppercase letter is quoted exactly as written") {
  CHECK(snowflake.quote_identifier("Events") == "\"Events\"");
  CHECK(snowflake.quote_identifier("eventTime") == "\"eventTime\"");
  // Names Snowflake could not read unquoted keep their case too.
  CHECK(snowflake.quote_identifier("event time") == "\"event time\"");
  CHECK(snowflake.quote_identifier("1st") == "\"1st\"");
  CHECK(snowflake.quote_identifier("a\"b") == "\"a\"\"b\"");
  CHECK(snowflake.quote_name(value_of(parse_qualified_name("analytics.public.Events"))) ==
        "\"ANALYTICS\".\"PUBLIC\".\"Events\"");
}

TEST_CASE("snowflake: SQLColumns looks for the names as Snowflake stores them") {
  CHECK(snowflake.locate_column(value_of(parse_qualified_name("analytics.public.events")),
                                "event_time") ==
        ColumnLocation{"ANALYTICS", "PUBLIC", "EVENTS", "EVENT_TIME"});
  CHECK(snowflake.locate_column(value_of(parse_qualified_name("Events")), "eventTime") ==
        ColumnLocation{"", "", "Events", "eventTime"});
}

TEST_CASE("snowflake: TIMESTAMP_TZ and TIMESTAMP_LTZ are instants, TIMESTAMP_NTZ a wall clock") {
  CHECK(snowflake.native_encoding("TIMESTAMP_TZ") == TimeEncoding::instant);
  CHECK(snowflake.native_encoding("TIMESTAMP_LTZ") == TimeEncoding::instant);
  CHECK(snowflake.native_encoding("TIMESTAMPTZ") == TimeEncoding::instant);
  CHECK(snowflake.native_encoding("TIMESTAMPLTZ") == TimeEncoding::instant);
  CHECK(snowflake.native_encoding("TIMESTAMP_NTZ") == TimeEncoding::wall_clock);
  CHECK(snowflake.native_encoding("TIMESTAMPNTZ") == TimeEncoding::wall_clock);
  CHECK(snowflake.native_encoding("DATE") == TimeEncoding::wall_clock);
  CHECK_FALSE(snowflake.native_encoding("NUMBER").has_value());
}

TEST_CASE("snowflake: epoch_seconds per encoding") {
  CHECK(snowflake.epoch_seconds("\"TS\"", TimeEncoding::instant) ==
        "DATE_PART(EPOCH_SECOND, \"TS\")");
  CHECK(snowflake.epoch_seconds("\"TS\"", TimeEncoding::wall_clock) ==
        "DATE_PART(EPOCH_SECOND, CAST(\"TS\" AS TIMESTAMP_NTZ))");
  CHECK(snowflake.epoch_seconds("\"TS\"", TimeEncoding::wall_clock_text) ==
        "DATE_PART(EPOCH_SECOND, TRY_TO_TIMESTAMP_NTZ(\"TS\", 'YYYY-MM-DD HH24:MI:SS'))");
  CHECK(snowflake.epoch_seconds("\"TS\"", TimeEncoding::epoch_seconds) == "\"TS\"");
  CHECK(snowflake.epoch_seconds("\"TS\"", TimeEncoding::epoch_milliseconds) == "(\"TS\") / 1000");
}

TEST_CASE("snowflake: parameters are converted with explicit formats, never the column") {
  CHECK(snowflake.time_placeholder(TimeEncoding::instant) == kInstant);
  CHECK(snowflake.time_placeholder(TimeEncoding::wall_clock) == kWallClock);
  CHECK(snowflake.time_placeholder(TimeEncoding::wall_clock_text) == "?");
  CHECK(snowflake.time_placeholder(TimeEncoding::epoch_seconds) == "?");
  CHECK(snowflake.time_placeholder(TimeEncoding::epoch_milliseconds) == "?");
}

TEST_CASE("snowflake: instants are bound with an explicit +00:00 offset") {
  const Instant instant = at("2026-11-25T06:00:00Z");
  const TimeZone* berlin = zone("Europe/Berlin");
  CHECK(snowflake.time_param(instant, TimeEncoding::instant, berlin) ==
        text("2026-11-25T06:00:00+00:00"));
  CHECK(snowflake.time_param(instant, TimeEncoding::wall_clock, berlin) ==
        text("2026-11-25 07:00:00"));
  CHECK(snowflake.time_param(instant, TimeEncoding::epoch_milliseconds, berlin) ==
        integer(1795586400000));
}

TEST_CASE("snowflake: FLOOR division, GROUP BY position, STATEMENT_TIMEOUT_IN_SECONDS") {
  CHECK(snowflake.floor_divide("\"TS\" - 1795564800", 3600) ==
        "FLOOR((\"TS\" - 1795564800) / 3600)");
  CHECK(snowflake.group_by({"x", "\"c\""}) == "GROUP BY 1, 2");
  CHECK(snowflake.session_setup(std::chrono::seconds{60}) ==
        std::vector<std::string>{"ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 70"});
}

TEST_CASE("snowflake golden SQL: freshness with lookback and where") {
  const QueryPlan plan =
      value_of(plan_freshness(orders_fresh(), context(snowflake, TimeEncoding::instant)));
  CHECK(plan.sql == std::string("SELECT MAX(\"UPDATED_AT\"), DATE_PART(EPOCH_SECOND, "
                                "MAX(\"UPDATED_AT\")), (SELECT COUNT(*) FROM \"SALES\".\"ORDERS\" "
                                "WHERE \"UPDATED_AT\" >= ") +
                        kInstant + " AND (status <> 'test')) FROM \"SALES\".\"ORDERS\" WHERE "
                        "\"UPDATED_AT\" >= " + kInstant + " AND \"UPDATED_AT\" < " + kInstant +
                        " AND (status <> 'test')");
  CHECK(plan.params == std::vector<Param>{text("2026-11-25T06:05:00+00:00"),
                                          text("2026-11-24T06:00:00+00:00"),
                                          text("2026-11-25T06:05:00+00:00")});
}

TEST_CASE("snowflake golden SQL: partitioned row_count") {
  const QueryPlan plan =
      value_of(plan_row_count(events_hourly(), context(snowflake, TimeEncoding::instant)));
  CHECK(plan.sql == std::string("SELECT FLOOR((DATE_PART(EPOCH_SECOND, \"EVENT_TIME\") - "
                                "1795572000) / 3600) AS granule, COUNT(*) FROM \"RAW\".\"EVENTS\" "
                                "WHERE \"EVENT_TIME\" >= ") +
                        kInstant + " AND \"EVENT_TIME\" < " + kInstant + " GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-25T02:00:00+00:00"), text("2026-11-25T05:00:00+00:00")});
}

TEST_CASE("snowflake golden SQL: partitioned row_count over a TIMESTAMP_NTZ column") {
  const QueryPlan plan = value_of(plan_row_count(
      events_hourly(), context(snowflake, TimeEncoding::wall_clock, zone("America/New_York"))));
  CHECK(plan.sql ==
        std::string("SELECT FLOOR((DATE_PART(EPOCH_SECOND, CAST(\"EVENT_TIME\" AS TIMESTAMP_NTZ)) "
                    "- 1795554000) / 3600) AS granule, COUNT(*) FROM \"RAW\".\"EVENTS\" WHERE "
                    "\"EVENT_TIME\" >= ") +
            kWallClock + " AND \"EVENT_TIME\" < " + kWallClock + " GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-24 21:00:00"), text("2026-11-25 00:00:00")});
}

TEST_CASE("snowflake golden SQL: partitioned null_rate") {
  const QueryPlan plan =
      value_of(plan_null_rate(customers_email(), context(snowflake, TimeEncoding::instant)));
  CHECK(plan.sql == std::string("SELECT FLOOR((DATE_PART(EPOCH_SECOND, \"CREATED_AT\") - "
                                "1795388400) / 86400) AS granule, COUNT(*), COUNT(\"EMAIL\") FROM "
                                "\"CRM\".\"CUSTOMERS\" WHERE \"CREATED_AT\" >= ") +
                        kInstant + " AND \"CREATED_AT\" < " + kInstant + " GROUP BY 1");
  CHECK(plan.params ==
        std::vector<Param>{text("2026-11-22T23:00:00+00:00"), text("2026-11-24T23:00:00+00:00")});
}

}  // namespace
}  // namespace gapwatch
