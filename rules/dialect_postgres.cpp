// PostgreSQL (and psqlODBC). EXTRACT(EPOCH FROM timestamptz) is absolute and
// EXTRACT(EPOCH FROM timestamp) reads the wall clock as UTC; neither depends on
// the session's TimeZone setting. Bound times carry an explicit offset (or none,
// for zone-less columns) and are cast on the parameter side only.
#include <fmt/format.h>

#include "rules/dialect.h"

namespace gapwatch {

namespace {

class PostgresDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::postgres; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(identifier, '"');
  }

  std::string epoch_seconds(std::string_view expression, TimeEncoding encoding) const override {
    switch (encoding) {
      case TimeEncoding::instant:
      case TimeEncoding::wall_clock:
        return fmt::format("EXTRACT(EPOCH FROM {})", expression);
      case TimeEncoding::wall_clock_text:
        return fmt::format("EXTRACT(EPOCH FROM CAST({} AS TIMESTAMP))", expression);
      case TimeEncoding::epoch_seconds:
        return std::string(expression);
      case TimeEncoding::epoch_milliseconds:
        return fmt::format("({}) / 1000.0", expression);
    }
    return std::string(expression);
  }

  std::string time_placeholder(TimeEncoding encoding) const override {
    switch (encoding) {
      case TimeEncoding::instant:
        return "CAST(? AS TIMESTAMPTZ)";
      case TimeEncoding::wall_clock:
        return "CAST(? AS TIMESTAMP)";
      case TimeEncoding::wall_clock_text:
      case TimeEncoding::epoch_seconds:
      case TimeEncoding::epoch_milliseconds:
        return "?";
    }
    return "?";
  }

  std::string floor_divide(std::string_view expression, std::int64_t divisor) const override {
    return fmt::format("FLOOR(({}) / {})", expression, divisor);
  }
};

}  // namespace

const Dialect& postgres_dialect() {
  static const PostgresDialect dialect;
  return dialect;
}

}  // namespace gapwatch
