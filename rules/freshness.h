// freshness: the age of the newest row, now - max(timestamp_column), against
// thresholds. Reads only rows newer than now - lookback when a lookback is
// given, and lets the warehouse answer max() from an index. No rows (or only
// NULL timestamps) fail; a newest row a little in the future (clock skew)
// counts as age 0. Rows more than the rule's future_tolerance ahead (5
// minutes unless configured) are not read: one row dated hours ahead, or a
// junk timestamp such as 9999-12-31, must not hide that real data stopped.
// The same statement counts them, and the message says how many were left
// out. Pure; thread-safe.
#pragma once

#include "rules/plan.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

Expected<QueryPlan> plan_freshness(const RuleSpec& spec, const PlanContext& context);
Verdict judge_freshness(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows,
                        Instant now);

}  // namespace gapwatch
