#include "rules/row_count.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "rules/bucket_judgement.h"
#include "rules/counts.h"
#include "rules/duration.h"

namespace gapwatch {

namespace {

// A count's Poisson variance is its expected value; the band is never under
// one row.
double count_noise(double expected, double /*mean*/, std::int64_t /*rows*/) {
  return std::max(expected, 0.0);
}
double one_row(std::int64_t /*rows*/) { return 1.0; }

}  // namespace

Expected<QueryPlan> plan_row_count(const RuleSpec& spec, const PlanContext& context) {
  return plan_counts(spec, context, std::nullopt);
}

Verdict judge_row_count(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows) {
  if (spec.partition) {
    auto buckets = roll_up_counts(plan, rows, Counted::rows);
    if (!buckets) {
      return error_verdict(buckets.error().message);
    }
    const BucketMeasure measure{
        .value_of = [](const BucketVerdict& bucket) -> std::optional<double> {
          return static_cast<double>(bucket.rows);
        },
        .format = format_number,
        .unit = "rows",
        .lower_is_worse = spec.thresholds.fail.min.has_value() ||
                          spec.thresholds.fail.drop.has_value(),
        .change = Change::fraction,
        .whole = true,
        .noise_variance = count_noise,
        .min_half_width = one_row,
    };
    return judge_buckets(spec, plan, std::move(*buckets), measure);
  }

  auto totals = read_total_counts(rows, Counted::rows);
  if (!totals) {
    return error_verdict(totals.error().message);
  }
  Verdict verdict;
  const double value = static_cast<double>(totals->rows);
  verdict.observed = value;
  verdict.status = judge_value(spec.thresholds, value);
  const std::string scope =
      plan.range_start ? fmt::format(" in the last {}", format_duration(*spec.lookback)) : "";
  verdict.message = fmt::format("{} rows{}", totals->rows, scope);
  if (verdict.status == Status::fail) {
    verdict.message += fmt::format(
        " ({})", describe_violation(spec.thresholds.fail, format_number, "rows"));
  } else if (verdict.status == Status::warn) {
    verdict.message += fmt::format(
        " ({})", describe_violation(*spec.thresholds.warn, format_number, "rows"));
  }
  if (verdict.status != Status::pass && plan.range_start) {
    verdict.windows.push_back(Window{*plan.range_start, *plan.range_end, verdict.status});
  }
  return verdict;
}

}  // namespace gapwatch
