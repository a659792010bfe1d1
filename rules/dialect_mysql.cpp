// MySQL and MariaDB (MariaDB Connector/ODBC, MySQL Connector/ODBC).
//
// MySQL converts TIMESTAMP columns between UTC and the session's time_zone
// on every read and comparison, so a session in a zone with DST would read an
// hour twice and compare it ambiguously. Every connection therefore sets
// time_zone = '+00:00' first (session_setup): TIMESTAMP columns are then
// instants compared with UTC wall-clock parameters, and DATETIME and DATE
// columns, which no setting converts, are wall clocks in the warehouse zone.
// TIMESTAMPDIFF from the epoch reads a DATETIME as a wall clock and
// UNIX_TIMESTAMP a TIMESTAMP as the instant it stores.
//
// The watchdog's SQLCancel cancels at query_timeout (MariaDB Connector/ODBC
// sends it as a KILL QUERY over a second connection). MariaDB's
// max_statement_time, set a little above query_timeout in a MariaDB-only
// executable comment that MySQL skips, stops the statement on the server even
// when that cancel cannot reach it.
#include <fmt/format.h>

#include "rules/dialect.h"

namespace gapwatch {

namespace {

// Slack for the server-side limit: the watchdog cancels first, and its clear
// error message wins.
constexpr std::chrono::seconds kServerLimitSlack{10};

constexpr const char* kEpochStart = "'1970-01-01 00:00:00'";

class MysqlDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::mysql; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(identifier, '`');
  }

  std::string epoch_seconds(std::string_view expression, TimeEncoding encoding) const override {
    switch (encoding) {
      case TimeEncoding::instant:
        return fmt::format("UNIX_TIMESTAMP({})", expression);
      case TimeEncoding::wall_clock:
        return fmt::format("TIMESTAMPDIFF(SECOND, {}, {})", kEpochStart, expression);
      case TimeEncoding::wall_clock_text:
        // STR_TO_DATE gives NULL for text that is not a time, where CAST
        // would read '12:xx:00' as 12:00:00.
        return fmt::format("TIMESTAMPDIFF(SECOND, {}, STR_TO_DATE({}, '%Y-%m-%d %H:%i:%s'))",
                           kEpochStart, expression);
      case TimeEncoding::epoch_seconds:
        return std::string(expression);
      case TimeEncoding::epoch_milliseconds:
        return fmt::format("({}) / 1000", expression);
    }
    return std::string(expression);
  }

  std::string time_placeholder(TimeEncoding encoding) const override {
    switch (encoding) {
      case TimeEncoding::instant:
      case TimeEncoding::wall_clock:
        return "CAST(? AS DATETIME)";
      case TimeEncoding::wall_clock_text:
      case TimeEncoding::epoch_seconds:
      case TimeEncoding::epoch_milliseconds:
        return "?";
    }
    return "?";
  }

  Param time_param(Instant instant, TimeEncoding encoding,
                   const TimeZone* warehouse_zone) const override {
    // MySQL reads no offset in a DATETIME literal; the session is UTC.
    if (encoding == TimeEncoding::instant) {
      return Param{format_wall_clock(instant, utc_zone())};
    }
    return Dialect::time_param(instant, encoding, warehouse_zone);
  }

  std::optional<TimeEncoding> native_encoding(std::string_view type_name) const override {
    // TIMESTAMP stores an instant, read in the session's zone: UTC here.
    if (contains_in_any_case(type_name.substr(0, 9), "timestamp")) {
      return TimeEncoding::instant;
    }
    return Dialect::native_encoding(type_name);
  }

  std::string floor_divide(std::string_view expression, std::int64_t divisor) const override {
    // DIV truncates, which is the floor for the non-negative operands here.
    return fmt::format("({}) DIV {}", expression, divisor);
  }

  std::vector<std::string> session_setup(std::chrono::seconds query_timeout) const override {
    return {fmt::format("SET time_zone = '+00:00' /*M!100108 , max_statement_time = {} */",
                        (query_timeout + kServerLimitSlack).count())};
  }

  ColumnLocation locate_column(const QualifiedName& table, std::string_view column) const override {
    // A MySQL "schema" is a database, which ODBC calls a catalog.
    ColumnLocation location = Dialect::locate_column(table, column);
    location.catalog = location.schema;
    location.schema.clear();
    return location;
  }
};

}  // namespace

const Dialect& mysql_dialect() {
  static const MysqlDialect dialect;
  return dialect;
}

}  // namespace gapwatch
