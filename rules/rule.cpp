#include "rules/rule.h"

#include "rules/freshness.h"
#include "rules/null_rate.h"
#include "rules/row_count.h"

namespace gapwatch {

Expected<QueryPlan> plan_rule(const RuleSpec& spec, const PlanContext& context) {
  switch (spec.check) {
    case CheckKind::freshness:
      return plan_freshness(spec, context);
    case CheckKind::row_count:
      return plan_row_count(spec, context);
    case CheckKind::null_rate:
      return plan_null_rate(spec, context);
  }
  return fail("unknown check");
}

Verdict judge_rule(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows,
                   Instant now) {
  switch (spec.check) {
    case CheckKind::freshness:
      return judge_freshness(spec, plan, rows, now);
    case CheckKind::row_count:
      return judge_row_count(spec, plan, rows);
    case CheckKind::null_rate:
      return judge_null_rate(spec, plan, rows);
  }
  return error_verdict("unknown check");
}

}  // namespace gapwatch
