// Dialect's shared parts: names of dialects and encodings, bound parameters,
// and the SQL every dialect writes the same way around its DialectSql.
#include "rules/dialect.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

namespace gapwatch {

namespace {

// How much longer than query_timeout the server-side statement limit is.
constexpr std::chrono::seconds kServerLimitSlack{10};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view to_string(DialectKind kind) {
  switch (kind) {
    case DialectKind::postgres:
      return "postgres";
    case DialectKind::sqlite:
      return "sqlite";
    case DialectKind::mysql:
      return "mysql";
    case DialectKind::sqlserver:
      return "sqlserver";
    case DialectKind::snowflake:
      return "snowflake";
  }
  return "?";
}

std::optional<DialectKind> dialect_from_name(std::string_view name) {
  for (const DialectKind kind : {DialectKind::postgres, DialectKind::sqlite, DialectKind::mysql,
                                 DialectKind::sqlserver, DialectKind::snowflake}) {
    if (to_string(kind) == name) {
      return kind;
    }
  }
  return std::nullopt;
}

std::optional<DialectKind> dialect_from_dbms_name(std::string_view dbms_name) {
  const std::string name = lower(dbms_name);
  if (name.find("postgres") != std::string::npos) {
    return DialectKind::postgres;
  }
  if (name.find("sqlite") != std::string::npos) {
    return DialectKind::sqlite;
  }
  if (name.find("mysql") != std::string::npos || name.find("mariadb") != std::string::npos) {
    return DialectKind::mysql;
  }
  // SQL Server names itself "Microsoft SQL Server"; Azure SQL and Synapse
  // answer the same through most drivers, or "Microsoft SQL Azure".
  if (name.find("sql server") != std::string::npos || name.find("sql azure") != std::string::npos ||
      name.find("synapse") != std::string::npos) {
    return DialectKind::sqlserver;
  }
  if (name.find("snowflake") != std::string::npos) {
    return DialectKind::snowflake;
  }
  return std::nullopt;
}

std::string_view to_string(TimeEncoding encoding) {
  switch (encoding) {
    case TimeEncoding::instant:
      return "instant";
    case TimeEncoding::wall_clock:
      return "wall_clock";
    case TimeEncoding::wall_clock_text:
      return "wall_clock_text";
    case TimeEncoding::epoch_seconds:
      return "epoch_seconds";
    case TimeEncoding::epoch_milliseconds:
      return "epoch_milliseconds";
  }
  return "?";
}

bool is_wall_clock(TimeEncoding encoding) {
  return encoding == TimeEncoding::wall_clock || encoding == TimeEncoding::wall_clock_text;
}

std::string Param::display() const {
  if (const auto* text = std::get_if<std::string>(&value)) {
    std::string quoted = "'";
    for (const char c : *text) {
      quoted += c;
      if (c == '\'') {
        quoted += '\'';
      }
    }
    return quoted + "'";
  }
  return std::to_string(std::get<std::int64_t>(value));
}

std::string Dialect::quote_name(const QualifiedName& name) const {
  std::string out;
  for (const std::string& part : name.parts) {
    if (!out.empty()) {
      out += '.';
    }
    out += quote_identifier(part);
  }
  return out;
}

std::string Dialect::epoch_seconds(std::string_view expression, TimeEncoding encoding) const {
  const auto apply = [](DialectSql::ExpressionFormat format, std::string_view argument) {
    return fmt::vformat(format, fmt::make_format_args(argument));
  };
  switch (encoding) {
    case TimeEncoding::instant:
      return apply(m_sql.epoch_of_time, apply(m_sql.read_instant, expression));
    case TimeEncoding::wall_clock:
      return apply(m_sql.epoch_of_time, apply(m_sql.read_wall_clock, expression));
    case TimeEncoding::wall_clock_text:
      return apply(m_sql.epoch_of_time, apply(m_sql.read_wall_clock_text, expression));
    case TimeEncoding::epoch_seconds:
      return std::string(expression);
    case TimeEncoding::epoch_milliseconds:
      return apply(m_sql.milliseconds_epoch, expression);
  }
  return std::string(expression);
}

std::string Dialect::time_placeholder(TimeEncoding encoding) const {
  switch (encoding) {
    case TimeEncoding::instant:
      return std::string(m_sql.instant_placeholder);
    case TimeEncoding::wall_clock:
      return std::string(m_sql.wall_clock_placeholder);
    case TimeEncoding::wall_clock_text:
    case TimeEncoding::epoch_seconds:
    case TimeEncoding::epoch_milliseconds:
      return "?";
  }
  return "?";
}

std::string Dialect::floor_divide(std::string_view expression, std::int64_t divisor) const {
  return fmt::vformat(m_sql.floor_divide, fmt::make_format_args(expression, divisor));
}

std::chrono::seconds Dialect::server_statement_limit(std::chrono::seconds query_timeout) {
  return query_timeout + kServerLimitSlack;
}

Param Dialect::time_param(Instant instant, TimeEncoding encoding,
                          const TimeZone* warehouse_zone) const {
  const std::int64_t epoch = instant.time_since_epoch().count();
  switch (encoding) {
    case TimeEncoding::instant:
      return Param{format_rfc3339(instant)};
    case TimeEncoding::wall_clock:
    case TimeEncoding::wall_clock_text:
      return Param{format_wall_clock(instant, warehouse_zone)};
    case TimeEncoding::epoch_seconds:
      return Param{epoch};
    case TimeEncoding::epoch_milliseconds:
      return Param{epoch * 1000};
  }
  throw std::logic_error("unknown time encoding");
}

std::string Dialect::quote_doubling(std::string_view identifier, char open, char close) {
  std::string out(1, open);
  for (const char c : identifier) {
    out += c;
    if (c == close) {
      out += close;
    }
  }
  out += close;
  return out;
}

bool Dialect::contains_in_any_case(std::string_view text, std::string_view part) {
  return lower(text).find(part) != std::string::npos;
}

std::string Dialect::group_by(const std::vector<std::string>& expressions) const {
  std::string clause = "GROUP BY ";
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    clause += fmt::format("{}{}", i == 0 ? "" : ", ", i + 1);
  }
  return clause;
}

std::optional<TimeEncoding> Dialect::native_encoding(std::string_view type_name) const {
  const auto has = [&](std::string_view part) { return contains_in_any_case(type_name, part); };
  // Snowflake's drivers name its types with or without the underscore.
  if (has("timestamptz") || has("with time zone") || has("with local time zone") ||
      has("datetimeoffset") || has("timestamp_tz") || has("timestamp_ltz") ||
      has("timestampltz")) {
    return TimeEncoding::instant;
  }
  if (has("timestamp") || has("date")) {
    return TimeEncoding::wall_clock;
  }
  return std::nullopt;
}

std::vector<std::string> Dialect::session_setup(std::chrono::seconds /*query_timeout*/) const {
  return {};
}

ColumnLocation Dialect::locate_column(const QualifiedName& table, std::string_view column) const {
  const auto part_from_end = [&](std::size_t from_end) -> std::string {
    if (table.parts.size() <= from_end) {
      return {};
    }
    return table.parts[table.parts.size() - 1 - from_end];
  };
  return ColumnLocation{part_from_end(2), part_from_end(1), part_from_end(0), std::string(column)};
}

const Dialect& dialect_for(DialectKind kind) {
  switch (kind) {
    case DialectKind::postgres:
      return postgres_dialect();
    case DialectKind::sqlite:
      return sqlite_dialect();
    case DialectKind::mysql:
      return mysql_dialect();
    case DialectKind::sqlserver:
      return sqlserver_dialect();
    case DialectKind::snowflake:
      return snowflake_dialect();
  }
  throw std::logic_error(fmt::format("unknown dialect {}", static_cast<int>(kind)));
}

}  // namespace gapwatch
