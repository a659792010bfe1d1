// Judging the buckets of a partitioned rule: each bucket's value against the
// thresholds (and, with a baseline, against what its comparable buckets lead
// to expect: rules/baseline.h), the rule's status (its worst bucket's), the
// observed value (the worst bucket's), the windows and a one-line summary.
// Shared by row_count and null_rate. Pure; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/counts.h"
#include "rules/plan.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

// How drop and rise measure a change from the expected value.
enum class Change {
  fraction,  // of the expected value (row counts: drop 50%)
  points,    // of the ratio itself (null rates: rise 5 points)
};

struct BucketMeasure {
  // The value judged for a bucket, or empty when the bucket is not judged.
  std::function<std::optional<double>(const BucketVerdict&)> value_of;
  // Formats values and names their unit in messages ("rows", "NULL in email").
  std::string (*format)(double) = nullptr;
  std::string unit;
  // Among equally bad buckets, the lowest value is the worst (row counts) or
  // the highest (null rates).
  bool lower_is_worse = true;
  Change change = Change::fraction;
  bool whole = false;  // values are whole numbers (row counts)
  // A baseline's band for a bucket of `rows` rows: the variance of its own
  // counting noise given the comparable values (their median `expected` and
  // mean `mean`), and the least half-width.
  double (*noise_variance)(double expected, double mean, std::int64_t rows) = nullptr;
  double (*min_half_width)(std::int64_t rows) = nullptr;
};

// The message of a segmented rule with failing or warning segments: `bad`
// indexes them, worst first; at most kNamedSegments are named with their own
// messages ("FR: 20 of 46 hourly buckets below 1 rows; … (2 failing of 40
// segments)").
inline constexpr std::size_t kNamedSegments = 3;
std::string name_bad_segments(const std::vector<SegmentVerdict>& segments,
                              const std::vector<std::size_t>& bad);
// The message of a segmented rule whose segments all pass: `all` ("40
// segments pass"), then the segment closest to failing with `worst_text`
// when there is one ("; worst FR: 12 rows").
std::string name_passing_segments(std::string all, const SegmentVerdict* worst,
                                  std::string_view worst_text);

Verdict judge_buckets(const RuleSpec& spec, const QueryPlan& plan, RolledUp rolled,
                      const BucketMeasure& measure);

}  // namespace gapwatch
