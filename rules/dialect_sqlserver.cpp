// SQL Server, Azure SQL and Azure Synapse dedicated SQL pools (T-SQL, through
// FreeTDS or Microsoft's driver).
//
// Synapse has no DATEDIFF_BIG (nor DATETRUNC), and DATEDIFF(SECOND, …) returns
// an int that overflows in 2038, so the epoch is counted in minutes (an int
// until the year 6053) plus the second of the minute. DATEDIFF counts boundaries
// crossed, which from the epoch is the floor, also before 1970. DATEDIFF reads
// a datetimeoffset as the instant it is, and offsets are whole minutes, so the
// second of the minute is the same in every offset. A date column has no
// seconds to ask for, hence the cast to datetime2 for wall clocks.
//
// Literals and bound times use the formats no LANGUAGE or DATEFORMAT setting
// reads differently: '19700101', 'YYYY-MM-DDTHH:MM:SSZ' cast to datetimeoffset
// and 'YYYY-MM-DD HH:MM:SS' cast to datetime2, on the parameter side only.
//
// T-SQL cannot GROUP BY a select-list position: the expression is repeated.
#include <fmt/format.h>

#include "rules/dialect.h"

namespace gapwatch {

namespace {

constexpr DialectSql kSql{
    // The minutes since the epoch, as a bigint, and the second of the minute.
    .epoch_of_time =
        "CAST(DATEDIFF(MINUTE, '19700101', {0}) AS BIGINT) * 60 + DATEPART(SECOND, {0})",
    .read_wall_clock = "CAST({} AS DATETIME2)",
    // TRY_CAST gives NULL for text that is not a time.
    .read_wall_clock_text = "TRY_CAST({} AS DATETIME2)",
    .instant_placeholder = "CAST(? AS DATETIMEOFFSET)",
    .wall_clock_placeholder = "CAST(? AS DATETIME2)",
    // Integer division truncates, which is the floor for the non-negative
    // operands here; FLOOR covers decimal epoch columns.
    .floor_divide = "FLOOR(({}) / {})",
};

class SqlServerDialect final : public Dialect {
 public:
  SqlServerDialect() : Dialect(kSql) {}

  DialectKind kind() const override { return DialectKind::sqlserver; }

  std::string quote_identifier(std::string_view identifier) const override {
    return quote_doubling(identifier, '[', ']');
  }

  std::optional<TimeEncoding> native_encoding(std::string_view type_name) const override {
    // T-SQL's timestamp is a row version, not a time.
    if (contains_in_any_case(type_name, "timestamp") ||
        contains_in_any_case(type_name, "rowversion")) {
      return std::nullopt;
    }
    return Dialect::native_encoding(type_name);
  }

  // SQL Server groups by expressions only, never by position.
  std::string group_by(const std::vector<std::string>& expressions) const override {
    return fmt::format("GROUP BY {}", fmt::join(expressions, ", "));
  }
};

}  // namespace

const Dialect& sqlserver_dialect() {
  static const SqlServerDialect dialect;
  return dialect;
}

}  // namespace gapwatch
