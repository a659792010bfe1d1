// Evaluator: one evaluation of one rule, start to finish: lease a warehouse
// session, learn the column's time encoding, plan the statement, run it, judge
// the rows. Every failure along the way becomes a Verdict with status error;
// nothing here ever turns a warehouse problem into a fail.
//
// Thread-safe: evaluations of different rules may run concurrently (each
// warehouse bounds its own concurrency). The result's duration is measured on
// the clock's monotonic time.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "monitor/config/config.h"
#include "monitor/warehouse/query_watchdog.h"
#include "monitor/warehouse/rule_result.h"
#include "monitor/warehouse/warehouse.h"
#include "rules/clock.h"
#include "rules/plan.h"
#include "rules/verdict.h"

namespace gapwatch {

// The warehouses of one config, by name.
class Warehouses {
 public:
  Warehouses(const Config& config, QueryWatchdog& watchdog);
  Warehouse& get(const std::string& name) { return *m_warehouses.at(name); }

 private:
  std::map<std::string, std::unique_ptr<Warehouse>> m_warehouses;
};

class Evaluator {
 public:
  Evaluator(Warehouses& warehouses, const Clock& clock)
      : m_warehouses(warehouses), m_clock(clock) {}

  // `heartbeat` (may be null) hears of every call that waits on the warehouse,
  // so that the evaluation pool can abandon one the server never answers.
  //
  // A failing or warning verdict is never trusted to a cached column
  // encoding: the column is probed again and, if its type changed (a table
  // rebuilt under the daemon), the statement is planned and run again. Any
  // error drops the cached encoding of the rule's column.
  //
  // `history` (may be null): what the monitor kept of a baseline rule's
  // history; it decides how far back the statement reads (rules/baseline.h).
  RuleResult evaluate(const RuleConfig& rule, Instant now, Heartbeat* heartbeat = nullptr,
                      const BaselineHistory* history = nullptr);

  // The statement the rule would run at `now` with `history` kept (connects
  // to learn the dialect and the column's encoding, runs nothing else).
  Expected<QueryPlan> plan(const RuleConfig& rule, Instant now,
                           const BaselineHistory* history = nullptr);
  // A rule with a source: the statement its source warehouse would run.
  Expected<QueryPlan> plan_source(const RuleConfig& rule, Instant now);

 private:
  Expected<QueryPlan> plan_in(Session& session, const RuleConfig& rule, Instant now,
                              const BaselineHistory* history, Probe probe = Probe::cached);
  // One try on one session: the verdict, or the error the warehouse gave.
  Expected<Verdict> run_in(Session& session, const RuleConfig& rule, Instant now,
                           const BaselineHistory* history, Heartbeat* heartbeat,
                           Expected<QueryPlan>& plan);
  // A rule with a source: counts the source over the target's buckets and
  // judges the two (rules/reconcile.h).
  Expected<Verdict> reconcile(const RuleConfig& rule, Instant now, Heartbeat* heartbeat,
                              const QueryPlan& target, const ResultRows& target_rows);

  Warehouses& m_warehouses;
  const Clock& m_clock;
};

}  // namespace gapwatch
