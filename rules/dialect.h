// Dialect: the SQL differences between warehouses, kept to the few expressions
// the rule kinds need (quoting, epoch of a timestamp, casts of bound times,
// integer division), plus how the warehouse names time types, where its
// catalog finds a column and what a new connection must set. Each warehouse
// is one small file (dialect_<name>.cpp) holding its DialectSql and the few
// overrides where it does more than fill in a format; what all share (epoch
// columns, bare placeholders, the server-side statement limit) is written
// once in dialect.cpp.
// Dialects are stateless singletons; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "rules/identifier.h"
#include "rules/time.h"

namespace gapwatch {

enum class DialectKind { postgres, sqlite, mysql, sqlserver, snowflake };

std::string_view to_string(DialectKind kind);
std::optional<DialectKind> dialect_from_name(std::string_view name);
// Maps SQLGetInfo(SQL_DBMS_NAME), e.g. "PostgreSQL", "SQLite", "MariaDB",
// "Microsoft SQL Server", "Snowflake", to a dialect.
std::optional<DialectKind> dialect_from_dbms_name(std::string_view dbms_name);

// How a timestamp column encodes time, as found by probing the column.
enum class TimeEncoding {
  instant,             // a zone-aware type (timestamptz): absolute instants
  wall_clock,          // a zone-less type (timestamp, datetime, date) in the warehouse zone
  wall_clock_text,     // text 'YYYY-MM-DD HH:MM:SS' in the warehouse zone
  epoch_seconds,       // integer seconds since 1970-01-01T00:00:00Z
  epoch_milliseconds,  // integer milliseconds since 1970-01-01T00:00:00Z
};

std::string_view to_string(TimeEncoding encoding);
bool is_wall_clock(TimeEncoding encoding);

// A bound parameter: text or a 64-bit integer.
struct Param {
  std::variant<std::string, std::int64_t> value;

  std::string display() const;  // as explain prints it: quoted text or a number
  friend bool operator==(const Param&, const Param&) = default;
};

// A column as the ODBC catalog functions (SQLColumns) address it: which name
// parts are catalog and schema (empty: any), in the case the DBMS stores them.
struct ColumnLocation {
  std::string catalog;
  std::string schema;
  std::string table;
  std::string column;
  friend bool operator==(const ColumnLocation&, const ColumnLocation&) = default;
};

// The SQL text in which the dialects differ, as format strings fmt checks at
// compile time. `{}` is the expression (a column, or an aggregate of one).
struct DialectSql {
  using ExpressionFormat = fmt::format_string<std::string_view>;

  // The seconds since the epoch of a time column are `epoch_of_time` of the
  // column read as its encoding says: a zone-aware time, a zone-less one (the
  // wall clock is read as if it were UTC) or wall-clock text (NULL for text
  // that is not a time). Each defaults to the expression as it is.
  ExpressionFormat epoch_of_time = "{}";
  ExpressionFormat read_instant = "{}";
  ExpressionFormat read_wall_clock = "{}";
  ExpressionFormat read_wall_clock_text = "{}";
  // Seconds of an integer count of milliseconds since the epoch.
  ExpressionFormat milliseconds_epoch = "({}) / 1000";
  // The placeholders for a bound time compared with an instant column and
  // with a wall-clock one. Text and epoch columns compare with a bare `?`.
  std::string_view instant_placeholder = "?";
  std::string_view wall_clock_placeholder = "?";
  // floor(`{0}` / `{1}`) for a non-negative expression, as an integer.
  fmt::format_string<std::string_view, std::int64_t> floor_divide = "FLOOR(({}) / {})";
};

class Dialect {
 public:
  virtual ~Dialect() = default;
  Dialect(const Dialect&) = delete;
  Dialect& operator=(const Dialect&) = delete;

  virtual DialectKind kind() const = 0;
  virtual std::string quote_identifier(std::string_view identifier) const = 0;
  std::string quote_name(const QualifiedName& name) const;

  // An SQL expression giving the seconds since the epoch of `expression` (a
  // column, or an aggregate of one). For wall-clock encodings this is the wall
  // clock read as if it were UTC; the monitor applies the warehouse zone. NULL
  // when the value cannot be read as a time.
  std::string epoch_seconds(std::string_view expression, TimeEncoding encoding) const;

  // The placeholder for a bound time compared with a raw column of this
  // encoding. Casts apply to the parameter, never to the column, so the
  // comparison stays sargable.
  std::string time_placeholder(TimeEncoding encoding) const;

  // The bound value for `instant` against a column of this encoding.
  virtual Param time_param(Instant instant, TimeEncoding encoding,
                           const TimeZone* warehouse_zone) const;

  // floor(expression / divisor) for a non-negative expression, as an integer.
  std::string floor_divide(std::string_view expression, std::int64_t divisor) const;

  // The GROUP BY clause grouping by the first select-list items, which are
  // `expressions` (by position where the dialect allows it).
  virtual std::string group_by(const std::vector<std::string>& expressions) const;

  // How a column whose SQLColumns TYPE_NAME is `type_name` encodes time;
  // empty when the type holds no time. By default zone-aware types
  // (timestamptz, timestamp with time zone, datetimeoffset, Snowflake's
  // TIMESTAMP_TZ and TIMESTAMP_LTZ) are instants and other timestamp and date
  // types wall clocks.
  virtual std::optional<TimeEncoding> native_encoding(std::string_view type_name) const;

  // Statements run once on every new connection before any plan: session
  // settings this dialect's SQL relies on, and server-side statement limits
  // backing up the query_timeout watchdog. Empty for most dialects.
  virtual std::vector<std::string> session_setup(std::chrono::seconds query_timeout) const;

  // Where SQLColumns finds `column` of `table`: by default the last three
  // parts of the name are catalog, schema and table.
  virtual ColumnLocation locate_column(const QualifiedName& table, std::string_view column) const;

 protected:
  explicit Dialect(const DialectSql& sql) : m_sql(sql) {}

  // The server-side limit on a statement's run time that backs up the
  // query_timeout watchdog: a little longer, so that the watchdog cancels
  // first and its clear error message wins.
  static std::chrono::seconds server_statement_limit(std::chrono::seconds query_timeout);
  // Wraps `identifier` in `open` and `close`, doubling any `close` inside it.
  static std::string quote_doubling(std::string_view identifier, char open, char close);
  // Whether `text` contains `part` (ASCII lowercase), in any case.
  static bool contains_in_any_case(std::string_view text, std::string_view part);

 private:
  DialectSql m_sql;
};

const Dialect& dialect_for(DialectKind kind);

// The per-warehouse singletons, defined in dialect_<name>.cpp.
const Dialect& postgres_dialect();
const Dialect& sqlite_dialect();
const Dialect& mysql_dialect();
const Dialect& sqlserver_dialect();
const Dialect& snowflake_dialect();

}  // namespace gapwatch
