// RuleSpec: what one rule asks of one table, as validated configuration. The
// monitor builds it from YAML; the rule kinds plan SQL from it and judge results
// against it. Plain data; immutable once loaded, so safe to share across threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "rules/identifier.h"
#include "rules/time.h"

namespace gapwatch {

enum class CheckKind { freshness, row_count, null_rate };
enum class TimestampFormat { native, epoch_s, epoch_ms, text };
enum class Severity { info, warning, critical };

std::string_view to_string(CheckKind kind);
std::string_view to_string(TimestampFormat format);
std::string_view to_string(Severity severity);

// One side of a threshold: a value outside [min, max] violates it. Freshness
// values are ages in seconds, row_count values are rows, null_rate ratios 0..1.
struct Bound {
  std::optional<double> min;
  std::optional<double> max;

  bool violated_by(double value) const {
    return (min && value < *min) || (max && value > *max);
  }
};

struct Thresholds {
  Bound fail;
  std::optional<Bound> warn;
};

// Buckets [start, start + every) aligned to the wall clock of `zone`; judged are
// those wholly inside [now - lookback, now - delay).
struct PartitionSpec {
  std::chrono::seconds every{3600};
  std::chrono::seconds lookback{86400};
  std::chrono::seconds delay{0};
  const TimeZone* zone = nullptr;
};

struct RuleSpec {
  std::string name;
  std::string warehouse;
  QualifiedName table;
  CheckKind check = CheckKind::freshness;
  std::optional<std::string> timestamp_column;
  TimestampFormat timestamp_format = TimestampFormat::native;
  std::optional<std::string> column;  // null_rate: the column whose NULLs are counted
  std::optional<std::string> where;   // raw SQL predicate from trusted config
  std::optional<std::chrono::seconds> lookback;
  // freshness: rows dated further ahead of now than this are left out (and
  // counted): clock skew is minutes, a row hours ahead is a wrong timestamp.
  std::chrono::seconds future_tolerance{300};
  Thresholds thresholds;
  Severity severity = Severity::warning;
  std::map<std::string, std::string> labels;
  std::optional<PartitionSpec> partition;
  std::int64_t min_rows = 1;  // null_rate: buckets with fewer rows are not judged
};

}  // namespace gapwatch
