// SQLite (through the SQLite3 ODBC driver). SQLite has no time type: "native"
// timestamps are text 'YYYY-MM-DD HH:MM:SS[.fff]' read in the warehouse zone,
// compared as text (which orders correctly for that format) and converted with
// strftime('%s'), which yields NULL for text that is not a time.
#include "rules/dialect.h"

namespace gapwatch {

namespace {

constexpr DialectSql kSql{
    .epoch_of_time = "CAST(strftime('%s', {}) AS INTEGER)",
    // Operands are non-negative here, so truncation is the floor.
    .floor_divide = "CAST(({}) / {} AS INTEGER)",
};

class SqliteDialect final : public Dialect {
 public:
  SqliteDialect() : Dialect(kSql) {}

  DialectKind kind() const override { return DialectKind::sqlite; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(identifier, '"', '"');
  }

  std::optional<TimeEncoding> native_encoding(std::string_view type_name) const override {
    // Any declared type holds text times, except an integer one: that holds
    // epochs, for which the rule must say which (timestamp_format).
    if (contains_in_any_case(type_name, "int")) {
      return std::nullopt;
    }
    return TimeEncoding::wall_clock_text;
  }
};

}  // namespace

const Dialect& sqlite_dialect() {
  static const SqliteDialect dialect;
  return dialect;
}

}  // namespace gapwatch
