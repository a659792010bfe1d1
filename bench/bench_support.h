// What the judgement benches (judge_baseline, judge_segments) share: the
// process's CPU clock, and the hourly row_count rule over public.orders in
// Europe/Berlin that each of them judges in its own shape. Header-only.
#pragma once

#include <time.h>

#include <chrono>

#include "rules/row_count.h"

namespace gapwatch::bench {

// Seconds of CPU this process has used.
inline double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Rows per Berlin hour of public.orders by created_at over `lookback`, the
// last hour left to settle; `name` and the thresholds are the caller's.
inline RuleSpec hourly_orders(const char* name, std::chrono::hours lookback) {
  RuleSpec spec;
  spec.name = name;
  spec.table = *parse_qualified_name("public.orders");
  spec.check = CheckKind::row_count;
  spec.timestamp_column = "created_at";
  PartitionSpec partition;
  partition.every = std::chrono::hours{1};
  partition.lookback = lookback;
  partition.delay = std::chrono::hours{1};
  partition.zone = *find_time_zone("Europe/Berlin");
  spec.partition = partition;
  return spec;
}

}  // namespace gapwatch::bench
