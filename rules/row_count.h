// row_count: rows per bucket (or in the whole table / lookback) against
// thresholds. A bucket without rows observes 0. Pure; thread-safe.
#pragma once

#include "rules/plan.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

Expected<QueryPlan> plan_row_count(const RuleSpec& spec, const PlanContext& context);
Verdict judge_row_count(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows);

}  // namespace gapwatch
