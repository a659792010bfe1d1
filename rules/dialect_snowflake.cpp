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

constexpr std::chrono::seconds kServerLimitSlack{10};

constexpr const char* kInstantFormat = "'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM'";
constexpr const char* kWallClockFormat = "'YYYY-MM-DD HH24:MI:SS'";

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
  DialectKind kind() const override { return DialectKind::snowflake; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(stored_name(identifier), '"');
  }

  std::string epoch_seconds(std::string_view expression, TimeEncoding encoding) const override {
    switch (encoding) {
      case TimeEncoding::instant:
        return fmt::format("DATE_PART(EPOCH_SECOND, {})", expression);
      case TimeEncoding::wall_clock:
        // A DATE becomes its midnight.
        return fmt::format("DATE_PART(EPOCH_SECOND, CAST({} AS TIMESTAMP_NTZ))", expression);
      case TimeEncoding::wall_clock_text:
        return fmt::format("DATE_PART(EPOCH_SECOND, TRY_TO_TIMESTAMP_NTZ({}, {}))", expression,
                           kWallClockFormat);
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
        return fmt::format("TO_TIMESTAMP_TZ(?, {})", kInstantFormat);
      case TimeEncoding::wall_clock:
        return fmt::format("TO_TIMESTAMP_NTZ(?, {})", kWallClockFormat);
      case TimeEncoding::wall_clock_text:
      case TimeEncoding::epoch_seconds:
      case TimeEncoding::epoch_milliseconds:
        return "?";
    }
    return "?";
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

  std::string floor_divide(std::string_view expression, std::int64_t divisor) const override {
    return fmt::format("FLOOR(({}) / {})", expression, divisor);
  }

  std::vector<std::string> session_setup(std::chrono::seconds query_timeout) const override {
    return {fmt::format("ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {}",
                        (query_timeout + kServerLimitSlack).count())};
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
