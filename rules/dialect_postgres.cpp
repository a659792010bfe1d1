// PostgreSQL (and psqlODBC). EXTRACT(EPOCH FROM timestamptz) is absolute and
// EXTRACT(EPOCH FROM timestamp) reads the wall clock as UTC; neither depends on
// the session's TimeZone setting. Bound times carry an explicit offset (or none,
// for zone-less columns) and are cast on the parameter side only.
#include "rules/dialect.h"

namespace gapwatch {

namespace {

constexpr DialectSql kSql{
    .epoch_of_time = "EXTRACT(EPOCH FROM {})",
    .read_wall_clock_text = "CAST({} AS TIMESTAMP)",
    .milliseconds_epoch = "({}) / 1000.0",
    .instant_placeholder = "CAST(? AS TIMESTAMPTZ)",
    .wall_clock_placeholder = "CAST(? AS TIMESTAMP)",
};

class PostgresDialect final : public Dialect {
 public:
  PostgresDialect() : Dialect(kSql) {}

  DialectKind kind() const override { return DialectKind::postgres; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(identifier, '"', '"');
  }
};

}  // namespace

const Dialect& postgres_dialect() {
  static const PostgresDialect dialect;
  return dialect;
}

}  // namespace gapwatch
