// null_rate: the share of NULLs in one column per bucket (or in the whole table
// / lookback). Buckets with fewer than min_rows rows are not judged. With no
// rows at all the rule fails (there is nothing to judge, which is missing data);
// with rows but none in a judgeable bucket it errors (a min_rows problem, not a
// reason to backfill). Pure; thread-safe.
#pragma once

#include "rules/plan.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

Expected<QueryPlan> plan_null_rate(const RuleSpec& spec, const PlanContext& context);
Verdict judge_null_rate(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows);

}  // namespace gapwatch
