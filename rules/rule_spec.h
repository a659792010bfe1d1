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
#include <vector>

#include "rules/identifier.h"
#include "rules/segment.h"
#include "rules/time.h"

namespace gapwatch {

enum class CheckKind { freshness, row_count, null_rate };
enum class Seasonality { none, hour_of_day, day_of_week, hour_of_week };
enum class TimestampFormat { native, epoch_s, epoch_ms, text };
enum class Severity { info, warning, critical };

std::string_view to_string(CheckKind kind);
std::string_view to_string(TimestampFormat format);
std::string_view to_string(Severity severity);
std::string_view to_string(Seasonality seasonality);

// How many rows a reconciled bucket may lack (or have beyond) its source's:
// a number of rows, or a share of the source's rows ("0.1%").
struct Allowance {
  double value = 0;
  bool share = false;
  friend bool operator==(const Allowance&, const Allowance&) = default;
};

// One side of a threshold: a value outside [min, max] violates it. Freshness
// values are ages in seconds, row_count values are rows, null_rate ratios 0..1.
//
// With a baseline, `drop` and `rise` compare a bucket with its expected value:
// row_count as a fraction of it (drop 0.5: at least 50% below), null_rate in
// points of the ratio (rise 0.05: the share of NULLs 5 points above). They
// fire only for a bucket outside the baseline's band (rules/baseline.h).
struct Bound {
  Bound() = default;
  Bound(std::optional<double> min_value, std::optional<double> max_value)
      : min(min_value), max(max_value) {}

  std::optional<double> min;
  std::optional<double> max;
  std::optional<double> drop;
  std::optional<double> rise;
  // With a source: rows of a bucket the target lacks (`missing`) or has beyond
  // the source (`extra`, duplicated loads); more than the allowance violates.
  std::optional<Allowance> missing;
  std::optional<Allowance> extra;

  // The static part: min and max.
  bool violated_by(double value) const {
    return (min && value < *min) || (max && value > *max);
  }
  bool has_static() const { return min.has_value() || max.has_value(); }
  bool has_relative() const { return drop.has_value() || rise.has_value(); }
  bool has_reconciliation() const { return missing.has_value() || extra.has_value(); }
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

// What a partitioned rule learns its expectations from (rules/baseline.h).
struct BaselineSpec {
  std::chrono::seconds history{std::chrono::seconds{28 * 86400}};
  // Empty: hour_of_week for buckets under a day, day_of_week for daily ones.
  std::optional<Seasonality> seasonality;
  double sensitivity = 3.0;
  int min_history = 3;
  // How often the kept counts are read again in full from the warehouse.
  std::chrono::seconds refresh{std::chrono::seconds{86400}};
};

// The system a reconciled rule's target is loaded from: its rows are counted
// per bucket over the same buckets, each side in its own encoding and zone.
struct SourceSpec {
  std::string warehouse;
  QualifiedName table;
  std::string timestamp_column;
  TimestampFormat timestamp_format = TimestampFormat::native;
  std::optional<std::string> where;  // raw SQL predicate from trusted config
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
  std::optional<BaselineSpec> baseline;  // row_count and null_rate with a partition
  std::int64_t min_rows = 1;  // null_rate: buckets with fewer rows are not judged
  // Partitioned row_count and null_rate: each distinct combination of these
  // columns' values is judged on its own (rules/segment.h); more than
  // max_segments of them is an error.
  std::vector<std::string> segment_by;
  int max_segments = kDefaultMaxSegments;
  // Partitioned row_count: the source the table is reconciled with.
  std::optional<SourceSpec> source;
};

}  // namespace gapwatch
