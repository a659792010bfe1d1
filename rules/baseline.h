// Baselines: what a partitioned rule learns to expect of each bucket from the
// comparable buckets of its history (the same local hour of the week, say),
// and how a bucket is judged against that expectation.
//
// The expected value is the median of the comparable values; the band around
// it is sensitivity × the scaled median absolute deviation (1.4826 × MAD, the
// standard deviation of a normal distribution with that MAD), never narrower
// than a floor that one row cannot cross:
//   row_count: sensitivity × sqrt(expected) (the Poisson noise of a count), at least 1 row;
//   null_rate: sensitivity × sqrt(p (1 - p) / n) (the binomial noise of the
//              bucket's n rows), at least one row's worth, 1 / n.
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
  std::vector<CountedBucket> buckets;  // oldest first
  std::optional<Instant> covered_from;
  std::optional<Instant> covered_to;
  std::optional<Instant> full_read_at;  // the last time the whole history was read
  std::vector<Window> excluded;
};

// Identifies what the counts of a rule depend on (table, columns, filter,
// partition); kept counts read under another fingerprint are read again.
std::string baseline_fingerprint(const RuleSpec& spec);

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

// Median and band of `values` (not empty; reordered). `floor` is the least
// half-width of the band.
Expectation expect(std::vector<double>& values, double sensitivity, double floor);

// The median of `values` (not empty; reordered).
double median(std::vector<double>& values);

}  // namespace gapwatch
