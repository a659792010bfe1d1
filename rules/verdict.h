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
#include "rules/segment.h"
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
  // A segmented rule: the index of the bucket's segment in Verdict::segments.
  std::uint32_t segment = 0;
  // A reconciled rule: the source's rows in the bucket.
  std::optional<std::int64_t> source_rows;
};

// The counts of one bucket, as read from the warehouse (baseline history).
// A segmented rule: `segment` indexes the segments of whatever holds the
// buckets (Verdict::segments, BaselineHistory::segments).
struct CountedBucket {
  CountedBucket() = default;
  CountedBucket(Instant start_at, Instant end_at, std::int64_t row_count,
                std::int64_t null_count, std::uint32_t segment_index = 0)
      : start(start_at), end(end_at), rows(row_count), nulls(null_count),
        segment(segment_index) {}

  Instant start;
  Instant end;
  std::int64_t rows = 0;
  std::int64_t nulls = 0;
  std::uint32_t segment = 0;
  friend bool operator==(const CountedBucket&, const CountedBucket&) = default;
};

// A time range of one segment of a rule (the whole table when `segment` is
// empty), as judged, kept with an incident and requested from a backfill.
struct Window {
  Window() = default;
  Window(Instant start_at, Instant end_at, Status window_status, SegmentKey segment_key = {})
      : start(start_at), end(end_at), status(window_status), segment(std::move(segment_key)) {}

  Instant start;
  Instant end;
  Status status = Status::fail;
  SegmentKey segment;
  friend bool operator==(const Window&, const Window&) = default;
};

// How one segment of a segmented rule fared: its status, its worst bucket's
// value and a one-line summary ("20 of 46 hourly buckets below 1 rows").
struct SegmentVerdict {
  SegmentKey key;
  Status status = Status::pass;
  std::optional<double> observed;
  std::string message;
};

struct Verdict {
  Status status = Status::error;
  std::optional<double> observed;
  std::string message;
  std::vector<Window> windows;
  // Every judged bucket; for a segmented rule, segment by segment (in the
  // order of `segments`), each segment's oldest first.
  std::vector<BucketVerdict> buckets;
  // A segmented rule: every known segment, ordered by
  // values (NULL first).
  std::vector<SegmentVerdict> segments;
  std::optional<Instant> newest_row;  // freshness: the newest timestamp read
  // With a baseline: the buckets before the judged range that this
  // evaluation's statement read (from history_read_from on), for the monitor
  // to keep.
  std::optional<Instant> history_read_from;
  std::vector<CountedBucket> history_read;
  std::optional<std::string> error;   // set when status is error
};

Verdict error_verdict(std::string message);

// The maximal runs of consecutive non-passing judged buckets of equal status
// and segment, oldest first within a segment, segments in the buckets' order.
// Unjudged buckets and gaps between buckets end a run. `segments` names the
// buckets' segments (empty for a rule without segments).
std::vector<Window> merge_windows(const std::vector<BucketVerdict>& buckets,
                                  const std::vector<SegmentVerdict>& segments = {});

}  // namespace gapwatch
