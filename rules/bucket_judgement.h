// Judging the buckets of a partitioned rule: each bucket's value against the
// thresholds, the rule's status (its worst bucket's), the observed value (the
// worst bucket's), the windows and a one-line summary. Shared by row_count and
// null_rate. Pure; thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

struct BucketMeasure {
  // The value judged for a bucket, or empty when the bucket is not judged.
  std::function<std::optional<double>(const BucketVerdict&)> value_of;
  // Formats values and names their unit in messages ("rows", "NULL in email").
  std::string (*format)(double) = nullptr;
  std::string unit;
  // Among equally bad buckets, the lowest value is the worst (row counts) or
  // the highest (null rates).
  bool lower_is_worse = true;
};

Verdict judge_buckets(const RuleSpec& spec, std::vector<BucketVerdict> buckets,
                      const BucketMeasure& measure);

}  // namespace gapwatch
