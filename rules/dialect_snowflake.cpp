// Snowflake (Snowflake's ODBC driver).
//
// Identifier case: Snowflake stores unquoted names in uppercase, so `events`
// in SQL means EVENTS. A configured name written entirely in lowercase (and
// valid unquoted) is taken the same way and quoted in uppercase, "EVENTS"; a
// name with any uppercase letter is quoted exactly as written, so "Events"
// reaches an object created with that quoted mixed-case name. Quoting always
// keeps reserved words and every other part of the name literal.
//
// Time: DATE_PART(EPOCH_SECOND, …) reads TIMESTAMP_TZ and TIMESTAMP_LTZ as
// the instants they are and TIMESTAMP_NTZ as a wall clock taken as UTC; none
// depends on the session's TIMEZONE. Bound times are converted with explicit
// formats, so TIMESTAMP_INPUT_FORMAT does not matter either: instants carry
// an explicit +00:00 offset.
//
// STATEMENT_TIMEOUT_IN_SECONDS, set a little above query_timeout on every
// session, backs up the watchdog's SQLCancel on the server.
#include <cctype>

#include <fmt/format.h>

#include "rules/dialect.h"

namespace gapwatch {

namespace {

constexpr DialectSql kSql{
    .epoch_of_time = "DATE_PART(EPOCH_SECOND, {})",
    // A DATE becomes its midnight.
    .read_wall_clock = "CAST({} AS TIMESTAMP_NTZ)",
    .read_wall_clock_text = "TRY_TO_TIMESTAMP_NTZ({}, 'YYYY-MM-DD HH24:MI:SS')",
    .instant_placeholder = "TO_TIMESTAMP_TZ(?, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')",
    .wall_clock_placeholder = "TO_TIMESTAMP_NTZ(?, 'YYYY-MM-DD HH24:MI:SS')",
};

// Would Snowflake read `identifier` unquoted, and fold it to uppercase?
bool folds_to_uppercase(std::string_view identifier) {
  if (identifier.empty()) {
    return false;
  }
  const auto first = static_cast<unsigned char>(identifier.front());
  if (!(std::islower(first) || first == '_')) {
    return false;
  }
  for (const char c : identifier) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::islower(u) || std::isdigit(u) || c == '_' || c == '$')) {
      return false;
    }
  }
  return true;
}

// The name as Snowflake stores it.
std::string stored_name(std::string_view identifier) {
  std::string name(identifier);
  if (folds_to_uppercase(identifier)) {
    for (char& c : name) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return name;
}

class SnowflakeDialect final : public Dialect {
 public:
  SnowflakeDialect() : Dialect(kSql) {}

  DialectKind kind() const override { return DialectKind::snowflake; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(stored_name(identifier), '"', '"');
  }

  Param time_param(Instant instant, TimeEncoding encoding,
                   const TimeZone* warehouse_zone) const override {
    if (encoding == TimeEncoding::instant) {
      std::string text = format_rfc3339(instant);  // "…Z", which the format cannot read
      text.pop_back();
      return Param{text + "+00:00"};
    }
    return Dialect::time_param(instant, encoding, warehouse_zone);
  }

  std::vector<std::string> session_setup(std::chrono::seconds query_timeout) const override {
    return {fmt::format("ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {}",
                        server_statement_limit(query_timeout).count())};
  }

  ColumnLocation locate_column(const QualifiedName& table, std::string_view column) const override {
    ColumnLocation location = Dialect::locate_column(table, column);
    for (std::string* part :
         {&location.catalog, &location.schema, &location.table, &location.column}) {
      *part = stored_name(*part);
    }
    return location;
  }
};

}  // namespace

const Dialect& snowflake_dialect() {
  static const SnowflakeDialect dialect;
  return dialect;
}

}  // namespace gapwatch
