// SQLite (through the SQLite3 ODBC driver). SQLite has no time type: "native"
// timestamps are text 'YYYY-MM-DD HH:MM:SS[.fff]' read in the warehouse zone,
// compared as text (which orders correctly for that format) and converted with
// strftime('%s'), which yields NULL for text that is not a time.
#include <fmt/format.h>

#include "rules/dialect.h"

namespace gapwatch {

namespace {

class SqliteDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::sqlite; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(identifier, '"');
  }

  std::string epoch_seconds(std::string_view expression, TimeEncoding encoding) const override {
    switch (encoding) {
      case TimeEncoding::instant:
      case TimeEncoding::wall_clock:
      case TimeEncoding::wall_clock_text:
        return fmt::format("CAST(strftime('%s', {}) AS INTEGER)", expression);
      case TimeEncoding::epoch_seconds:
        return std::string(expression);
      case TimeEncoding::epoch_milliseconds:
        return fmt::format("({}) / 1000", expression);
    }
    return std::string(expression);
  }

  std::string time_placeholder(TimeEncoding /*encoding*/) const override { return "?"; }

  std::optional<TimeEncoding> native_encoding(std::string_view type_name) const override {
    // Any declared type holds text times, except an integer one: that holds
    // epochs, for which the rule must say which (timestamp_format).
    if (contains_in_any_case(type_name, "int")) {
      return std::nullopt;
    }
    return TimeEncoding::wall_clock_text;
  }

  std::string floor_divide(std::string_view expression, std::int64_t divisor) const override {
    // Operands are non-negative here, so truncation is the floor.
    return fmt::format("CAST(({}) / {} AS INTEGER)", expression, divisor);
  }
};

}  // namespace

const Dialect& sqlite_dialect() {
  static const SqliteDialect dialect;
  return dialect;
}

}  // namespace gapwatch
