// bench/judge_baseline: the CPU one baseline judgement costs, and the memory a
// rule's kept history takes. A rule with 28 days of hourly history (672 kept
// buckets, hour_of_week: 4 comparable buckets each) judges 48 buckets; a rule
// with seasonality none compares each of them with all 672. Prints KEY=VALUE
// lines for bench/run's report. Pure CPU: no warehouse, no I/O.
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench/bench_support.h"
#include "rules/baseline.h"
#include "rules/buckets.h"
#include "rules/row_count.h"

namespace {

using gapwatch::Instant;

using gapwatch::bench::cpu_seconds;

gapwatch::RuleSpec hourly_rule(gapwatch::Seasonality seasonality) {
  gapwatch::RuleSpec spec = gapwatch::bench::hourly_orders("orders_hourly", std::chrono::hours{49});
  spec.baseline = gapwatch::BaselineSpec{};
  spec.baseline->seasonality = seasonality;
  spec.thresholds.fail.drop = 0.5;
  return spec;
}

std::int64_t rows_at(Instant start) {
  return 50 + (start.time_since_epoch().count() / 3600) % 24 * 5;
}

// Seconds of CPU per judgement, over enough repetitions to read a clock.
double judge_seconds(gapwatch::Seasonality seasonality, std::size_t& judged, std::size_t& kept) {
  const gapwatch::RuleSpec spec = hourly_rule(seasonality);
  const Instant now{std::chrono::seconds{1795586400}};
  gapwatch::PlanContext context;
  context.dialect = &gapwatch::postgres_dialect();
  context.now = now;
  const auto judged_buckets = gapwatch::judged_buckets(*spec.partition, now);
  const Instant judged_start = judged_buckets.front().start;
  gapwatch::BaselineHistory history;
  history.fingerprint = gapwatch::baseline_fingerprint(spec);
  for (const auto& bucket : gapwatch::buckets_within(*spec.partition,
                                                     judged_start - spec.baseline->history,
                                                     judged_start)) {
    history.buckets.push_back({bucket.start, bucket.end, rows_at(bucket.start), 0});
  }
  history.covered_from = judged_start - spec.baseline->history;
  history.covered_to = judged_start;
  history.full_read_at = now;
  context.history = &history;
  const gapwatch::QueryPlan plan = *gapwatch::plan_row_count(spec, context);
  gapwatch::ResultRows rows;
  for (const auto& bucket : plan.buckets) {
    const auto granule =
        (bucket.start.time_since_epoch().count() - plan.granules.base) / plan.granules.size;
    rows.push_back({std::to_string(granule), std::to_string(rows_at(bucket.start))});
  }
  judged = plan.buckets.size();
  kept = history.buckets.size();
  constexpr int kRepetitions = 2000;
  const double started = cpu_seconds();
  std::size_t failing = 0;
  for (int i = 0; i < kRepetitions; ++i) {
    failing += gapwatch::judge_row_count(spec, plan, rows).windows.size();
  }
  const double took = cpu_seconds() - started;
  if (failing != 0) {
    std::fprintf(stderr, "judge_baseline: a regular history failed\n");
  }
  return took / kRepetitions;
}

}  // namespace

int main() {
  std::size_t judged = 0, kept = 0;
  const double hour_of_week = judge_seconds(gapwatch::Seasonality::hour_of_week, judged, kept);
  const double none = judge_seconds(gapwatch::Seasonality::none, judged, kept);
  std::printf("baseline_judged_buckets=%zu\n", judged);
  std::printf("baseline_kept_buckets=%zu\n", kept);
  std::printf("baseline_judge_ms_hour_of_week=%.4f\n", hour_of_week * 1e3);
  std::printf("baseline_judge_ms_none=%.4f\n", none * 1e3);
  std::printf("baseline_kept_bytes_per_rule=%zu\n", kept * sizeof(gapwatch::CountedBucket));
  return 0;
}
