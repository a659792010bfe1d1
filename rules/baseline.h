// Baselines: what a partitioned rule learns to expect of each bucket from the
// comparable buckets of its history (the same local hour of the week, say),
// and how a bucket is judged against that expectation.
//
// The expected value is the median of the comparable values. The band around
// it is sensitivity × sqrt(σ² + ν²): σ is the scaled median absolute deviation
// of the comparable values (1.4826 × MAD, the standard deviation of a normal
// distribution with that MAD), ν the counting noise of the bucket itself, so
// that a perfectly regular history (σ = 0) does not fail on one row:
//   row_count: ν² = expected (a count's Poisson variance); at least 1 row;
//   null_rate: ν² = (n p (1 - p) + 1) / n² for the bucket's n rows (the
//              binomial variance of the share, and one NULL's worth more, as
//              a normal band is too narrow for a count expected below one), p
//              the larger of the median and the mean of the comparable shares
//              (a median of 0 from small buckets is no estimate of a rare
//              NULL); at least one row's worth, 1 / n.
// A bucket fails (or warns) against the baseline only when it is outside the
// band and its drop/rise condition holds.
//
// Never learned from: the bucket under judgement and later ones; buckets of
// this evaluation that fail; buckets overlapping an excluded window (incidents
// that were not healed). Pure functions and plain data; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_spec.h"
#include "rules/time.h"
#include "rules/verdict.h"

namespace gapwatch {

// The seasonality in force for a partition (the configured one or the default).
Seasonality effective_seasonality(const BaselineSpec& baseline, const PartitionSpec& partition);

// The season of a bucket starting at `start`: buckets are comparable when
// their seasons are equal. Read on the zone's wall clock, so a repeated
// autumn hour is compared by its local hour and a skipped spring hour has no
// bucket at all.
std::int64_t season_of(Seasonality seasonality, Instant start, const TimeZone* zone);

// What the monitor keeps of a rule's history between evaluations (see
// BaselineBook): settled bucket counts, the range they cover completely (a
// bucket of that range without rows is kept with 0), and the windows that must
// not be learned from.
struct BaselineHistory {
  std::string fingerprint;  // of what the counts were read with (baseline_fingerprint)
  // Oldest first; a segmented rule's by segment, then oldest first, with
  // CountedBucket::segment indexing `segments`.
  std::vector<CountedBucket> buckets;
  std::vector<SegmentKey> segments;
  std::optional<Instant> covered_from;
  std::optional<Instant> covered_to;
  std::optional<Instant> full_read_at;  // the last time the whole history was read
  std::vector<Window> excluded;
};

// Identifies what the counts of a rule depend on (table, columns, filter,
// partition); kept counts read under another fingerprint are read again.
std::string baseline_fingerprint(const RuleSpec& spec);

// Where the history of a judged range starting at `judged_start` begins:
// `history` before it, and one hour more, so that the same local hour
// `history` ago is inside it across a DST change (28 days before a bucket
// after the autumn change is 28 days and an hour of elapsed time).
Instant history_start(const BaselineSpec& baseline, Instant judged_start);
// Whether a bucket starting at `start` lies in the history of a bucket
// starting at `judged`: before it, and at most `history` (and the DST hour)
// earlier.
bool in_history_of(const BaselineSpec& baseline, Instant start, Instant judged);

// From when the statement of an evaluation whose judged buckets start at
// `judged_start` must read: the whole history (no usable kept counts, another
// fingerprint, or the periodic refresh due), the part after the kept counts,
// or nothing before the judged range (std::nullopt).
std::optional<Instant> history_read_from(const RuleSpec& spec, const BaselineHistory* history,
                                         Instant judged_start, Instant now);

// The normal range learned for one bucket.
struct Expectation {
  double expected = 0;
  double lower = 0;
  double upper = 0;
};

// Median and band of `values` (not empty; reordered): expected ±
// sensitivity × sqrt(σ² + noise_variance), and at least ± min_half_width.
Expectation expect(std::vector<double>& values, double sensitivity, double noise_variance = 0,
                   double min_half_width = 0);

// The median of `values` (not empty; reordered).
double median(std::vector<double>& values);

}  // namespace gapwatch
