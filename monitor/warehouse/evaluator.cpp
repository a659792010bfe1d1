#include "monitor/warehouse/evaluator.h"

#include <fmt/format.h>

#include "rules/reconcile.h"
#include "rules/rule.h"

namespace gapwatch {
namespace {

// SQLSTATE class 08: the connection failed or was lost.
bool lost_connection(const Error& error) {
  return error.sqlstate.starts_with("08");
}

// How a failed metadata call or statement counts at the warehouse.
QueryOutcome failed_outcome(const Error& error) {
  if (lost_connection(error)) {
    return QueryOutcome::not_run;
  }
  return error.sqlstate == "HYT00" ? QueryOutcome::timeout : QueryOutcome::error;
}

}  // namespace

Warehouses::Warehouses(const Config& config, QueryWatchdog& watchdog) {
  for (const WarehouseConfig& warehouse : config.warehouses) {
    m_warehouses.emplace(warehouse.name, std::make_unique<Warehouse>(warehouse, watchdog));
  }
}

Expected<QueryPlan> Evaluator::plan_in(Session& session, const RuleConfig& rule, Instant now,
                                       const BaselineHistory* history, Probe probe) {
  auto encoding = session.time_encoding(rule.spec, probe);
  if (!encoding) {
    return std::unexpected(encoding.error());
  }
  Warehouse& warehouse = m_warehouses.get(rule.spec.warehouse);
  const PlanContext context{&session.dialect(), *encoding, warehouse.config().zone, now, history};
  return plan_rule(rule.spec, context);
}

Expected<QueryPlan> Evaluator::plan(const RuleConfig& rule, Instant now,
                                    const BaselineHistory* history) {
  auto session = m_warehouses.get(rule.spec.warehouse).session();
  if (!session) {
    return std::unexpected(session.error());
  }
  return plan_in(*session, rule, now, history);
}

Expected<QueryPlan> Evaluator::plan_source(const RuleConfig& rule, Instant now) {
  const RuleSpec side = source_side(rule.spec);
  Warehouse& warehouse = m_warehouses.get(side.warehouse);
  auto session = warehouse.session();
  if (!session) {
    return std::unexpected(session.error());
  }
  auto encoding = session->time_encoding(side);
  if (!encoding) {
    return std::unexpected(encoding.error());
  }
  const PlanContext context{&session->dialect(), *encoding, warehouse.config().zone, now, nullptr};
  return gapwatch::plan_source(rule.spec, context);
}

Expected<Verdict> Evaluator::reconcile(const RuleConfig& rule, Instant now, Heartbeat* heartbeat,
                                       const QueryPlan& target, const ResultRows& target_rows) {
  const RuleSpec side = source_side(rule.spec);
  Warehouse& warehouse = m_warehouses.get(side.warehouse);
  // The source's errors say they are the source's; they make the rule error,
  // never fail.
  const auto from_source = [&](const Error& error) {
    return std::unexpected(
        Error{fmt::format("source {}: {}", side.warehouse, error.message), error.sqlstate});
  };
  auto session = warehouse.session(heartbeat);
  if (!session) {
    return from_source(session.error());
  }
  Verdict verdict;
  // A verdict that may open an incident rests only on a fresh probe of the
  // source's column too (as for the target in run_in).
  for (const Probe probe : {Probe::cached, Probe::fresh}) {
    auto encoding = session->time_encoding(side, probe);
    if (!encoding) {
      session->forget_encoding(side);
      return from_source(encoding.error());
    }
    const PlanContext context{&session->dialect(), *encoding, warehouse.config().zone, now,
                              nullptr};
    auto plan = gapwatch::plan_source(rule.spec, context);
    if (!plan) {
      return from_source(plan.error());
    }
    auto rows = session->execute(*plan);
    if (!rows) {
      session->forget_encoding(side);
      return from_source(rows.error());
    }
    verdict = judge_reconciled(rule.spec, target, target_rows, *plan, *rows);
    if (verdict.status != Status::fail && verdict.status != Status::warn) {
      break;
    }
  }
  return verdict;
}

Expected<Verdict> Evaluator::run_in(Session& session, const RuleConfig& rule, Instant now,
                                    const BaselineHistory* history, Heartbeat* heartbeat,
                                    Expected<QueryPlan>& plan) {
  plan = plan_in(session, rule, now, history);
  auto rows = plan ? session.execute(*plan) : Expected<ResultRows>(std::unexpected(plan.error()));
  if (!rows) {
    return std::unexpected(rows.error());
  }
  const auto judge = [&](const QueryPlan& planned, const ResultRows& read) -> Expected<Verdict> {
    if (rule.spec.source) {
      return reconcile(rule, now, heartbeat, planned, read);
    }
    return judge_rule(rule.spec, planned, read, now);
  };
  auto verdict = judge(*plan, *rows);
  if (!verdict || (verdict->status != Status::fail && verdict->status != Status::warn)) {
    return verdict;
  }
  // The encoding the statement was planned with may be stale (the column's
  // type changed since it was probed): a verdict that may open an incident
  // rests only on a fresh probe.
  auto fresh = plan_in(session, rule, now, history, Probe::fresh);
  if (!fresh) {
    return std::unexpected(fresh.error());
  }
  if (fresh->encoding == plan->encoding && fresh->sql == plan->sql &&
      fresh->params == plan->params) {
    return verdict;
  }
  plan = std::move(fresh);
  rows = session.execute(*plan);
  if (!rows) {
    return std::unexpected(rows.error());
  }
  return judge(*plan, *rows);
}

RuleResult Evaluator::evaluate(const RuleConfig& rule, Instant now, Heartbeat* heartbeat,
                               const BaselineHistory* history) {
  const SteadyTime started = m_clock.steady_now();
  RuleResult result{RuleIdentity(rule.spec), rule.spec.labels, now, std::chrono::milliseconds{0},
                    Verdict{}, QueryOutcome::not_run};

  result.verdict = [&]() -> Verdict {
    // A pooled connection may have died while idle (the server restarted):
    // the statement is read-only, so it is retried once on a new connection.
    for (int attempt = 0;; ++attempt) {
      auto session = m_warehouses.get(rule.spec.warehouse).session(heartbeat);
      if (!session) {
        result.query = QueryOutcome::not_run;
        return error_verdict(session.error().message);
      }
      Expected<QueryPlan> plan = std::unexpected(Error{});
      auto verdict = run_in(*session, rule, now, history, heartbeat, plan);
      if (verdict) {
        result.query = QueryOutcome::ok;
        return *verdict;
      }
      // Whatever went wrong, the next evaluation learns the column afresh.
      session->forget_encoding(rule.spec);
      const Error& error = verdict.error();
      if (lost_connection(error) && session->reused() && attempt == 0) {
        continue;
      }
      // A plan refused without asking the warehouse (no SQLSTATE) still reached it.
      result.query = !plan && error.sqlstate.empty() ? QueryOutcome::ok : failed_outcome(error);
      return error_verdict(error.message);
    }
  }();
  result.duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.steady_now() - started);
  return result;
}

}  // namespace gapwatch
