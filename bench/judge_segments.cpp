// bench/judge_segments: the CPU gapwatch spends judging a segmented rule's
// result: 1,000 segments × 720 hourly buckets (30 days), every segment with
// rows in every bucket but one dark segment, as the warehouse returns them
// (720,000 rows of text cells). Measures the roll-up (segments looked up,
// absent buckets filled with 0) and the judgement together, and the verdict's
// size, and the page faults of the fastest judgement (the verdict is written
// into fresh pages unless the heap kept them from the last repetition: bench/run
// runs it with glibc's default heap and with one that keeps freed memory).
// Prints KEY=VALUE lines for bench/run's report. Pure CPU: no warehouse, no I/O.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "rules/row_count.h"

namespace {

using gapwatch::bench::cpu_seconds;

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

constexpr int kSegments = 1000;

gapwatch::RuleSpec segmented_rule() {
  gapwatch::RuleSpec spec =
      gapwatch::bench::hourly_orders("orders_by_store", std::chrono::hours{721});
  spec.segment_by = {"store"};
  spec.max_segments = kSegments;
  spec.thresholds.fail.min = 1;
  return spec;
}

}  // namespace

int main() {
  const gapwatch::RuleSpec spec = segmented_rule();
  gapwatch::PlanContext context;
  context.dialect = &gapwatch::postgres_dialect();
  context.now = gapwatch::Instant{std::chrono::seconds{1795586400}};
  const gapwatch::QueryPlan plan = *gapwatch::plan_row_count(spec, context);
  gapwatch::ResultRows rows;
  rows.reserve(plan.buckets.size() * kSegments);
  for (int segment = 0; segment < kSegments; ++segment) {
    const std::string store = "store-" + std::to_string(segment);
    for (const auto& bucket : plan.buckets) {
      const auto granule =
          (bucket.start.time_since_epoch().count() - plan.granules.base) / plan.granules.size;
      // Store 7 is dark for the last 20 hours.
      if (segment == 7 && bucket.start >= plan.buckets.back().end - std::chrono::hours{20}) {
        continue;
      }
      rows.push_back({std::to_string(granule), store, std::to_string(3 + segment % 40)});
    }
  }
  constexpr int kRepetitions = 5;
  double best = 1e9;
  long best_faults = 0;
  std::size_t buckets = 0, windows = 0;
  for (int i = 0; i < kRepetitions; ++i) {
    const long faults_before = minor_faults();
    const double started = cpu_seconds();
    const gapwatch::Verdict verdict = gapwatch::judge_row_count(spec, plan, rows);
    const double spent = cpu_seconds() - started;
    if (spent < best) {
      best = spent;
      best_faults = minor_faults() - faults_before;
    }
    buckets = verdict.buckets.size();
    windows = verdict.windows.size();
    if (verdict.status != gapwatch::Status::fail || windows != 1) {
      std::fprintf(stderr, "judge_segments: expected one failing window, got %zu: %s\n", windows,
                   verdict.message.c_str());
      return 1;
    }
  }
  std::printf("segments=%d\n", kSegments);
  std::printf("segment_result_rows=%zu\n", rows.size());
  std::printf("segment_judged_buckets=%zu\n", buckets);
  std::printf("segment_judge_ms=%.2f\n", best * 1e3);
  std::printf("segment_judge_minor_faults=%ld\n", best_faults);
  std::printf("segment_verdict_bytes=%zu\n", buckets * sizeof(gapwatch::BucketVerdict));
  return 0;
}
