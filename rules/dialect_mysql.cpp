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

constexpr DialectSql kSql{
    // No one function gives the epoch of both types (see above), so each
    // reading is the whole expression.
    .read_instant = "UNIX_TIMESTAMP({})",
    .read_wall_clock = "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {})",
    // STR_TO_DATE gives NULL for text that is not a time, where CAST would
    // read '12:xx:00' as 12:00:00.
    .read_wall_clock_text =
        "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', STR_TO_DATE({}, '%Y-%m-%d %H:%i:%s'))",
    .instant_placeholder = "CAST(? AS DATETIME)",
    .wall_clock_placeholder = "CAST(? AS DATETIME)",
    // DIV truncates, which is the floor for the non-negative operands here.
    .floor_divide = "({}) DIV {}",
};

class MysqlDialect final : public Dialect {
 public:
  MysqlDialect() : Dialect(kSql) {}

  DialectKind kind() const override { return DialectKind::mysql; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(identifier, '`', '`');
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

  std::vector<std::string> session_setup(std::chrono::seconds query_timeout) const override {
    return {fmt::format("SET time_zone = '+00:00' /*M!100108 , max_statement_time = {} */",
                        server_statement_limit(query_timeout).count())};
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
