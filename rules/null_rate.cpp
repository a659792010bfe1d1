#include "rules/null_rate.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "rules/bucket_judgement.h"
#include "rules/buckets.h"
#include "rules/counts.h"

namespace gapwatch {

namespace {

Verdict no_rows_verdict(const RuleSpec& spec, const QueryPlan& plan) {
  Verdict verdict;
  verdict.status = Status::fail;
  verdict.message = fmt::format("no rows to judge the null rate of {}", *spec.column);
  if (plan.range_start) {
    verdict.windows.push_back(Window{*plan.range_start, *plan.range_end, Status::fail});
  }
  return verdict;
}

Verdict too_few_rows_verdict(const RuleSpec& spec, std::int64_t rows) {
  return error_verdict(fmt::format(
      "cannot judge the null rate of {}: {} row(s) in all, no bucket reaches min_rows ({})",
      *spec.column, rows, spec.min_rows));
}

// A share's binomial variance over the bucket's n rows, (n p (1 - p) + 1) / n²,
// with p the larger of the median and the mean of the comparable shares: a
// rare NULL makes most small buckets' shares 0, and a median of 0 would expect
// none. The one NULL's worth of variance added keeps the normal approximation
// from failing a bucket that expects a fraction of a NULL and got two.
double share_noise(double expected, double mean, std::int64_t rows) {
  const double n = static_cast<double>(std::max<std::int64_t>(rows, 1));
  const double p = std::clamp(std::max(expected, mean), 0.0, 1.0);
  return (n * p * (1.0 - p) + 1.0) / (n * n);
}
// Never under one row's worth.
double one_row_of(std::int64_t rows) {
  return 1.0 / static_cast<double>(std::max<std::int64_t>(rows, 1));
}

}  // namespace

Expected<QueryPlan> plan_null_rate(const RuleSpec& spec, const PlanContext& context) {
  return plan_counts(spec, context, spec.column);
}

Verdict judge_null_rate(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows) {
  const std::string unit = fmt::format("NULL in {}", *spec.column);
  if (spec.partition) {
    auto rolled = roll_up_counts(plan, rows, Counted::rows_and_non_nulls);
    if (!rolled) {
      return error_verdict(rolled.error().message);
    }
    std::vector<BucketVerdict>* buckets = &rolled->judged;
    std::int64_t total_rows = 0;
    bool any_judged = false;
    for (const BucketVerdict& bucket : *buckets) {
      total_rows += bucket.rows;
      any_judged = any_judged || bucket.rows >= spec.min_rows;
    }
    if (total_rows == 0) {
      Verdict verdict = no_rows_verdict(spec, plan);
      verdict.message += fmt::format(" in {} {} buckets", buckets->size(),
                                     bucket_adjective(spec.partition->every));
      verdict.buckets = std::move(*buckets);
      return verdict;
    }
    if (!any_judged) {
      Verdict verdict = too_few_rows_verdict(spec, total_rows);
      verdict.buckets = std::move(*buckets);
      return verdict;
    }
    const std::int64_t min_rows = spec.min_rows;
    const BucketMeasure measure{
        .value_of = [min_rows](const BucketVerdict& bucket) -> std::optional<double> {
          if (bucket.rows < min_rows || bucket.rows == 0) {
            return std::nullopt;
          }
          return static_cast<double>(bucket.nulls) / static_cast<double>(bucket.rows);
        },
        .format = format_percent,
        .unit = unit,
        .lower_is_worse = false,
        .change = Change::points,
        .noise_variance = share_noise,
        .min_half_width = one_row_of,
    };
    return judge_buckets(spec, plan, std::move(*rolled), measure);
  }

  auto totals = read_total_counts(rows, Counted::rows_and_non_nulls);
  if (!totals) {
    return error_verdict(totals.error().message);
  }
  if (totals->rows == 0) {
    return no_rows_verdict(spec, plan);
  }
  if (totals->rows < spec.min_rows) {
    return too_few_rows_verdict(spec, totals->rows);
  }
  Verdict verdict;
  const double ratio = static_cast<double>(totals->nulls) / static_cast<double>(totals->rows);
  verdict.observed = ratio;
  verdict.status = judge_value(spec.thresholds, ratio);
  verdict.message = fmt::format("{} {} ({} of {} rows)", format_percent(ratio), unit,
                                totals->nulls, totals->rows);
  if (verdict.status == Status::fail) {
    verdict.message += fmt::format(
        ", {}", describe_violation(spec.thresholds.fail, format_percent, ""));
  } else if (verdict.status == Status::warn) {
    verdict.message += fmt::format(
        ", {}", describe_violation(*spec.thresholds.warn, format_percent, ""));
  }
  if (verdict.status != Status::pass && plan.range_start) {
    verdict.windows.push_back(Window{*plan.range_start, *plan.range_end, verdict.status});
  }
  return verdict;
}

}  // namespace gapwatch
