// Verdict: what a rule concluded from one evaluation: a status, the observed
// value, the buckets it judged and the windows (runs of non-passing buckets)
// that a backfill would be asked for. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_spec.h"
#include "rules/time.h"

namespace gapwatch {

// `error` means the rule could not be evaluated; it never means missing data.
enum class Status { pass, warn, fail, error };

std::string_view to_string(Status status);
// pass < warn < fail < error: the worse of two statuses is the larger.
Status worse(Status a, Status b);

// fail if the value violates the fail bound, else warn if it violates the warn
// bound, else pass.
Status judge_value(const Thresholds& thresholds, double value);

struct BucketVerdict {
  Instant start;
  Instant end;
  std::int64_t rows = 0;
  std::int64_t nulls = 0;
  std::optional<double> value;    // rows for row_count, null ratio for null_rate
  std::optional<Status> status;   // empty: not judged (null_rate with too few rows)
  // With a baseline: the expected value and its band, when enough comparable
  // buckets were known; else how many were (the bucket is still learning).
  std::optional<double> expected;
  std::optional<double> lower;
  std::optional<double> upper;
  std::optional<int> learning;
};

// The counts of one bucket, as read from the warehouse (baseline history).
struct CountedBucket {
  Instant start;
  Instant end;
  std::int64_t rows = 0;
  std::int64_t nulls = 0;
  friend bool operator==(const CountedBucket&, const CountedBucket&) = default;
};

struct Window {
  Instant start;
  Instant end;
  Status status = Status::fail;
  friend bool operator==(const Window&, const Window&) = default;
};

struct Verdict {
  Status status = Status::error;
  std::optional<double> observed;
  std::string message;
  std::vector<Window> windows;
  std::vector<BucketVerdict> buckets;
  std::optional<Instant> newest_row;  // freshness: the newest timestamp read
  // With a baseline: the buckets before the judged range that this
  // evaluation's statement read (from history_read_from on), for the monitor
  // to keep.
  std::optional<Instant> history_read_from;
  std::vector<CountedBucket> history_read;
  std::optional<std::string> error;   // set when status is error
};

Verdict error_verdict(std::string message);

// The maximal runs of consecutive non-passing judged buckets of equal status,
// oldest first. Unjudged buckets and gaps between buckets end a run.
std::vector<Window> merge_windows(const std::vector<BucketVerdict>& buckets);

}  // namespace gapwatch
