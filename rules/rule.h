// The rule kinds behind one interface: plan the statement, judge its rows.
// Pure; thread-safe.
#pragma once

#include "rules/plan.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

Expected<QueryPlan> plan_rule(const RuleSpec& spec, const PlanContext& context);
Verdict judge_rule(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows,
                   Instant now);

}  // namespace gapwatch
