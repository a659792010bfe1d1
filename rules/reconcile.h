// Reconciliation of a partitioned row_count rule with its source system: the
// rows of each bucket (and segment) are counted on both sides, each side by
// one sargable statement of its own dialect, read in its own time encoding
// and zone, and bucketed in the partition's zone. A bucket fails (or warns)
// when the target lacks more rows than `missing` allows, or has more beyond
// the source than `extra` allows; `min`/`max` still apply to the target's rows.
//
// A side that stores naive local time cannot place rows of the repeated hour
// of an autumn clock change on one instant: every bucket overlapping that
// hour's two occurrences is compared as one unit (both sides summed), so such
// a side is never reported as a loss or a duplicate there. A unit that
// reaches outside the judged range is not judged.
// Pure; thread-safe.
#pragma once

#include "rules/plan.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

// The source side of a reconciled rule as a rule of its own: the source's
// table, timestamp column and format and filter, the rule's partition and
// segments.
RuleSpec source_side(const RuleSpec& spec);

// The source's statement; `context` is the source warehouse's.
Expected<QueryPlan> plan_source(const RuleSpec& spec, const PlanContext& context);

Verdict judge_reconciled(const RuleSpec& spec, const QueryPlan& target,
                         const ResultRows& target_rows, const QueryPlan& source,
                         const ResultRows& source_rows);

// The instants [start, end) at which a zone's wall clock reads a time it
// reads twice (the two occurrences of an autumn repeated hour), overlapping
// [from, to).
struct Interval {
  Instant start;
  Instant end;
  friend bool operator==(const Interval&, const Interval&) = default;
};
std::vector<Interval> repeated_wall_clock(const TimeZone* zone, Instant from, Instant to);

}  // namespace gapwatch
