#include "rules/bucket_judgement.h"

#include <fmt/format.h>

#include "rules/buckets.h"
#include "rules/counts.h"

namespace gapwatch {

Verdict judge_buckets(const RuleSpec& spec, std::vector<BucketVerdict> buckets,
                      const BucketMeasure& measure) {
  Verdict verdict;
  verdict.status = Status::pass;
  const BucketVerdict* worst = nullptr;
  std::size_t judged = 0, failing = 0, warning = 0;
  for (BucketVerdict& bucket : buckets) {
    bucket.value = measure.value_of(bucket);
    if (!bucket.value) {
      continue;
    }
    ++judged;
    const Status status = judge_value(spec.thresholds, *bucket.value);
    bucket.status = status;
    failing += status == Status::fail ? 1 : 0;
    warning += status == Status::warn ? 1 : 0;
    verdict.status = worse(verdict.status, status);
    const bool worse_bucket =
        worst == nullptr || static_cast<int>(status) > static_cast<int>(*worst->status) ||
        (status == *worst->status &&
         (measure.lower_is_worse ? *bucket.value < *worst->value : *bucket.value > *worst->value));
    if (worse_bucket) {
      worst = &bucket;
    }
  }
  if (worst != nullptr) {
    verdict.observed = worst->value;
  }
  const std::string adjective = bucket_adjective(spec.partition->every);
  const std::string total = fmt::format("{} {} buckets", buckets.size(), adjective);
  if (failing > 0) {
    verdict.message = fmt::format("{} of {} {}", failing, total,
                                  describe_violation(spec.thresholds.fail, measure.format,
                                                     measure.unit));
  } else if (warning > 0) {
    verdict.message = fmt::format("{} of {} {}", warning, total,
                                  describe_violation(*spec.thresholds.warn, measure.format,
                                                     measure.unit));
  } else if (worst != nullptr) {
    verdict.message = fmt::format("{} {} buckets pass; worst {} {}", judged, adjective,
                                  measure.format(*worst->value), measure.unit);
  }
  if (failing > 0 && warning > 0) {
    verdict.message += fmt::format("; {} more {}", warning,
                                   describe_violation(*spec.thresholds.warn, measure.format,
                                                      measure.unit));
  }
  if (judged < buckets.size() && worst != nullptr) {
    verdict.message += fmt::format(" ({} not judged: fewer than {} rows)", buckets.size() - judged,
                                   spec.min_rows);
  }
  verdict.windows = merge_windows(buckets);
  verdict.buckets = std::move(buckets);
  return verdict;
}

}  // namespace gapwatch
