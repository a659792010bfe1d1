#include "rules/rule_spec.h"

namespace gapwatch {

std::string_view to_string(CheckKind kind) {
  switch (kind) {
    case CheckKind::freshness:
      return "freshness";
    case CheckKind::row_count:
      return "row_count";
    case CheckKind::null_rate:
      return "null_rate";
  }
  return "?";
}

std::string_view to_string(TimestampFormat format) {
  switch (format) {
    case TimestampFormat::native:
      return "native";
    case TimestampFormat::epoch_s:
      return "epoch_s";
    case TimestampFormat::epoch_ms:
      return "epoch_ms";
    case TimestampFormat::text:
      return "text";
  }
  return "?";
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::critical:
      return "critical";
  }
  return "?";
}

std::string_view to_string(Seasonality seasonality) {
  switch (seasonality) {
    case Seasonality::none:
      return "none";
    case Seasonality::hour_of_day:
      return "hour_of_day";
    case Seasonality::day_of_week:
      return "day_of_week";
    case Seasonality::hour_of_week:
      return "hour_of_week";
  }
  return "?";
}

}  // namespace gapwatch
