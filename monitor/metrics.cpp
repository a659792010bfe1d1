#include "monitor/metrics.h"

#include <set>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace gapwatch {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

constexpr std::array<Status, 4> kStatuses{Status::pass, Status::warn, Status::fail, Status::error};

double seconds(Instant instant) { return static_cast<double>(instant.time_since_epoch().count()); }

prometheus::Labels with(prometheus::Labels labels, const std::string& name,
                        const std::string& value) {
  labels[name] = value;
  return labels;
}

prometheus::Labels rule_labels(const RuleSpec& spec) {
  prometheus::Labels labels = {{"rule", spec.name},
                               {"check", std::string(to_string(spec.check))},
                               {"warehouse", spec.warehouse},
                               {"table", spec.table.display()},
                               {"severity", std::string(to_string(spec.severity))}};
  for (const auto& [name, value] : spec.labels) {
    labels[name] = value;
  }
  return labels;
}

}  // namespace

Metrics::Metrics()
    : m_registry(std::make_shared<prometheus::Registry>()),
      m_status(BuildGauge()
                   .Name("gapwatch_rule_status")
                   .Help("1 for the rule's current status (pass, warn, fail, error), 0 for the "
                         "others")
                   .Register(*m_registry)),
      m_last_evaluation(BuildGauge()
                            .Name("gapwatch_rule_last_evaluation_timestamp_seconds")
                            .Help("When the rule was last evaluated")
                            .Register(*m_registry)),
      m_last_success(BuildGauge()
                         .Name("gapwatch_rule_last_success_timestamp_seconds")
                         .Help("When the rule last passed or warned (data present and readable)")
                         .Register(*m_registry)),
      m_failing_buckets(BuildGauge()
                            .Name("gapwatch_rule_failing_buckets")
                            .Help("Buckets (or windows, for unpartitioned rules) failing at the "
                                  "last evaluation")
                            .Register(*m_registry)),
      m_observed(BuildGauge()
                     .Name("gapwatch_rule_observed_value")
                     .Help("The worst observed value at the last evaluation: seconds of age "
                           "(freshness), rows (row_count) or a 0..1 ratio (null_rate)")
                     .Register(*m_registry)),
      m_newest_row(BuildGauge()
                       .Name("gapwatch_table_newest_row_timestamp_seconds")
                       .Help("The newest timestamp a freshness rule read")
                       .Register(*m_registry)),
      m_next_evaluation(BuildGauge()
                            .Name("gapwatch_rule_next_evaluation_timestamp_seconds")
                            .Help("When the rule is due next; an evaluation overdue by much "
                                  "means gapwatch is stuck or overloaded")
                            .Register(*m_registry)),
      m_duration(BuildHistogram()
                     .Name("gapwatch_rule_evaluation_duration_seconds")
                     .Help("How long evaluations took, by warehouse")
                     .Register(*m_registry)),
      m_evaluations(BuildCounter()
                        .Name("gapwatch_rule_evaluations_total")
                        .Help("Evaluations by result")
                        .Register(*m_registry)),
      m_skipped(BuildCounter()
                    .Name("gapwatch_rule_evaluations_skipped_total")
                    .Help("Scheduled evaluations skipped because the previous one still ran")
                    .Register(*m_registry)),
      m_incident_open(BuildGauge()
                          .Name("gapwatch_incident_open")
                          .Help("1 while the rule has an active (not resolved) incident")
                          .Register(*m_registry)),
      m_incident_escalated(BuildGauge()
                               .Name("gapwatch_incident_escalated")
                               .Help("1 while the rule's incident is escalated: backfills "
                                     "failed max_attempts times, an operator must act")
                               .Register(*m_registry)),
      m_incidents_opened(BuildCounter()
                             .Name("gapwatch_incidents_opened_total")
                             .Help("Incidents opened")
                             .Register(*m_registry)),
      m_requests(BuildCounter()
                     .Name("gapwatch_backfill_requests_total")
                     .Help("Backfill deliveries by executor and outcome (ran, accepted, retry, "
                           "rejected)")
                     .Register(*m_registry)),
      m_in_flight(BuildGauge()
                      .Name("gapwatch_backfill_requests_in_flight")
                      .Help("Deliveries under way")
                      .Register(*m_registry)),
      m_outbox_pending(BuildGauge()
                           .Name("gapwatch_backfill_outbox_pending")
                           .Help("Requests committed and waiting to be sent or resent")
                           .Register(*m_registry)),
      m_warehouse_up(BuildGauge()
                         .Name("gapwatch_warehouse_up")
                         .Help("1 if the last connection to the warehouse succeeded")
                         .Register(*m_registry)),
      m_queries(BuildCounter()
                    .Name("gapwatch_queries_total")
                    .Help("Statements run, by warehouse and result (ok, error, timeout, "
                          "not_run)")
                    .Register(*m_registry)),
      m_reload_successful(BuildGauge()
                              .Name("gapwatch_config_last_reload_successful")
                              .Help("1 if the last configuration (re)load succeeded")
                              .Register(*m_registry)),
      m_reload_timestamp(BuildGauge()
                             .Name("gapwatch_config_last_reload_success_timestamp_seconds")
                             .Help("When the configuration was last loaded successfully")
                             .Register(*m_registry)),
      m_build_info(BuildGauge()
                       .Name("gapwatch_build_info")
                       .Help("Always 1; the version is a label")
                       .Register(*m_registry)) {
  m_build_info.Add({{"version", GAPWATCH_VERSION}}).Set(1);
  m_outbox_pending.Add({}).Set(0);
}

Metrics::RuleSeries Metrics::add_series(const RuleConfig& rule) {
  const RuleSpec& spec = rule.spec;
  RuleSeries series;
  series.labels = rule_labels(spec);
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    const std::string status(to_string(kStatuses[i]));
    series.status[i] = &m_status.Add(with(series.labels, "status", status));
    series.evaluations[i] = &m_evaluations.Add(with(series.labels, "result", status));
  }
  // Timestamps and observations appear with the first value: a 0 would read
  // as "last evaluated in 1970".
  series.skipped = &m_skipped.Add(series.labels);
  series.incident_open = &m_incident_open.Add(series.labels);
  series.incident_escalated = &m_incident_escalated.Add(series.labels);
  series.incidents_opened = &m_incidents_opened.Add(series.labels);
  return series;
}

void Metrics::remove_series(const RuleSeries& series) {
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    m_status.Remove(series.status[i]);
    m_evaluations.Remove(series.evaluations[i]);
  }
  for (auto [family, gauge] :
       {std::pair{&m_last_evaluation, series.last_evaluation},
        std::pair{&m_last_success, series.last_success},
        std::pair{&m_failing_buckets, series.failing_buckets},
        std::pair{&m_observed, series.observed}, std::pair{&m_newest_row, series.newest_row},
        std::pair{&m_next_evaluation, series.next_evaluation}}) {
    if (gauge != nullptr) {
      family->Remove(gauge);
    }
  }
  m_skipped.Remove(series.skipped);
  m_incident_open.Remove(series.incident_open);
  m_incident_escalated.Remove(series.incident_escalated);
  m_incidents_opened.Remove(series.incidents_opened);
}

void Metrics::set_rules(const std::vector<RuleConfig>& rules) {
  std::lock_guard lock(m_mutex);
  std::map<std::string, RuleSeries> next;
  for (const RuleConfig& rule : rules) {
    const auto existing = m_rules.find(rule.spec.name);
    // Same labels (so the same check): keep the series and counters' history.
    if (existing != m_rules.end() && existing->second.labels == rule_labels(rule.spec)) {
      next.emplace(rule.spec.name, existing->second);
      m_rules.erase(existing);
      continue;
    }
    next.emplace(rule.spec.name, add_series(rule));
  }
  for (const auto& [name, series] : m_rules) {
    remove_series(series);
  }
  m_rules = std::move(next);
  // A warehouse no rule uses any more is never reached again: a stale
  // warehouse_up 0 would keep GapwatchWarehouseDown firing.
  std::set<std::string> used;
  for (const RuleConfig& rule : rules) {
    used.insert(rule.spec.warehouse);
  }
  for (auto it = m_warehouses_up.begin(); it != m_warehouses_up.end();) {
    if (used.contains(it->first)) {
      ++it;
      continue;
    }
    m_warehouse_up.Remove(&m_warehouse_up.Add({{"warehouse", it->first}}));
    it = m_warehouses_up.erase(it);
  }
}

void Metrics::record_result(const RuleResult& result) {
  const Verdict& verdict = result.verdict;
  m_duration
      .Add({{"warehouse", result.warehouse}},
           prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                    5, 10, 30, 60, 300})
      .Observe(static_cast<double>(result.duration.count()) / 1000.0);
  m_queries.Add({{"warehouse", result.warehouse}, {"result", std::string(to_string(result.query))}})
      .Increment();

  std::lock_guard lock(m_mutex);
  const auto found = m_rules.find(result.rule);
  if (found == m_rules.end()) {
    // The rule was removed by a reload while it ran; its warehouse may have
    // gone with it, and an up gauge set now would never be cleared.
    return;
  }
  const bool reached = result.query != QueryOutcome::not_run;
  m_warehouse_up.Add({{"warehouse", result.warehouse}}).Set(reached ? 1 : 0);
  m_warehouses_up[result.warehouse] = reached;
  RuleSeries& series = found->second;
  const auto gauge = [&](prometheus::Family<prometheus::Gauge>& family,
                         prometheus::Gauge*& slot) -> prometheus::Gauge& {
    if (slot == nullptr) {
      slot = &family.Add(series.labels);
    }
    return *slot;
  };
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    series.status[i]->Set(kStatuses[i] == verdict.status ? 1 : 0);
  }
  series.evaluations[static_cast<std::size_t>(verdict.status)]->Increment();
  gauge(m_last_evaluation, series.last_evaluation).Set(seconds(result.evaluated_at));
  if (verdict.status == Status::pass || verdict.status == Status::warn) {
    gauge(m_last_success, series.last_success).Set(seconds(result.evaluated_at));
  }
  if (verdict.status != Status::error) {
    double failing = 0;
    if (!verdict.buckets.empty()) {
      for (const BucketVerdict& bucket : verdict.buckets) {
        failing += bucket.status == Status::fail ? 1 : 0;
      }
    } else {
      for (const Window& window : verdict.windows) {
        failing += window.status == Status::fail ? 1 : 0;
      }
    }
    gauge(m_failing_buckets, series.failing_buckets).Set(failing);
    if (verdict.observed) {
      gauge(m_observed, series.observed).Set(*verdict.observed);
    }
    if (verdict.newest_row) {
      gauge(m_newest_row, series.newest_row).Set(seconds(*verdict.newest_row));
    }
  }
}

void Metrics::record_skipped(const std::string& rule) {
  std::lock_guard lock(m_mutex);
  if (const auto found = m_rules.find(rule); found != m_rules.end()) {
    found->second.skipped->Increment();
  }
}

void Metrics::record_incident_opened(const std::string& rule) {
  std::lock_guard lock(m_mutex);
  if (const auto found = m_rules.find(rule); found != m_rules.end()) {
    found->second.incidents_opened->Increment();
  }
}

void Metrics::set_incidents(const std::map<std::string, bool>& active) {
  std::lock_guard lock(m_mutex);
  for (const auto& [name, series] : m_rules) {
    const auto found = active.find(name);
    series.incident_open->Set(found != active.end() ? 1 : 0);
    series.incident_escalated->Set(found != active.end() && found->second ? 1 : 0);
  }
}

void Metrics::record_delivery(const std::string& executor, DispatchOutcome::Kind outcome) {
  m_requests.Add({{"executor", executor}, {"outcome", std::string(to_string(outcome))}})
      .Increment();
}

void Metrics::set_in_flight(const std::string& executor, int count) {
  m_in_flight.Add({{"executor", executor}}).Set(count);
}

void Metrics::set_outbox_pending(std::int64_t count) {
  m_outbox_pending.Add({}).Set(static_cast<double>(count));
}

void Metrics::set_config_reload(bool successful, Instant at) {
  m_reload_successful.Add({}).Set(successful ? 1 : 0);
  if (successful) {
    m_reload_timestamp.Add({}).Set(seconds(at));
  }
}

void Metrics::set_next_evaluation(const std::string& rule, std::optional<Instant> at) {
  std::lock_guard lock(m_mutex);
  const auto found = m_rules.find(rule);
  if (found == m_rules.end() || !at) {
    return;  // while it runs, the last due time stays
  }
  RuleSeries& series = found->second;
  if (series.next_evaluation == nullptr) {
    series.next_evaluation = &m_next_evaluation.Add(series.labels);
  }
  series.next_evaluation->Set(seconds(*at));
}

std::map<std::string, bool> Metrics::warehouses_up() const {
  std::lock_guard lock(m_mutex);
  return m_warehouses_up;
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, m_registry->Collect());
  return out.str();
}

}  // namespace gapwatch
