// The counting statement shared by row_count and null_rate: rows (and NULLs of
// one column) per granule of the judged range, or over the whole table. One
// statement whatever the number of buckets; the range predicate is a plain
// comparison on the raw timestamp column so indexes and partition pruning work.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rules/plan.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

// Partitioned: SELECT granule[, segment columns], COUNT(*)[, COUNT(column)] …
// GROUP BY granule[, segment columns].
// Whole table: SELECT COUNT(*)[, COUNT(column)] [WHERE ts in lookback].
// With `null_column`, NULLs of that column are counted too.
Expected<QueryPlan> plan_counts(const RuleSpec& spec, const PlanContext& context,
                                const std::optional<std::string>& null_column);

// What a count statement selects: COUNT(*) alone, or COUNT(*) and the
// COUNT(column) of a null_column too (plan_counts with a null_column).
enum class Counted { rows, rows_and_non_nulls };

// The partitioned statement's rows rolled up into the plan's buckets: the
// judged ones (rows and nulls filled in, nothing judged yet) and the history
// buckets read before them (a rule with a baseline).
//
// A segmented plan: every known segment (one with rows in what was read, or
// in the kept history of a baseline), ordered by values, NULL first; judged
// and history hold every bucket of every segment, segment by segment, and a
// known segment without rows in a bucket counts 0 there (a dark segment).
struct RolledUp {
  std::vector<BucketVerdict> judged;
  std::vector<CountedBucket> history;
  std::vector<SegmentKey> segments;
};
Expected<RolledUp> roll_up_counts(const QueryPlan& plan, const ResultRows& rows, Counted counted);

// Two statements over the same buckets (a target and its source), rolled up
// with one list of segments: a segment known on either side is known on both.
Expected<std::pair<RolledUp, RolledUp>> roll_up_pair(const QueryPlan& target,
                                                     const ResultRows& target_rows,
                                                     const QueryPlan& source,
                                                     const ResultRows& source_rows);

struct TotalCounts {
  std::int64_t rows = 0;
  std::int64_t nulls = 0;
};
Expected<TotalCounts> read_total_counts(const ResultRows& rows, Counted counted);

// Formatting for messages: "100", "2.5", "2%".
std::string format_number(double value);
std::string format_percent(double ratio);
// "below 100 rows", "above 2%", "outside 100..900 rows".
std::string describe_violation(const Bound& bound, std::string (*format)(double),
                               const std::string& unit);

}  // namespace gapwatch
