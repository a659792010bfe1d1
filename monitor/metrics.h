// Metrics: gapwatch's Prometheus series, in a prometheus-cpp registry that the
// HTTP server renders at /metrics. Names follow Prometheus conventions (base
// units, _total, _seconds, timestamps rather than ages); no label takes
// unbounded values (no windows, no request ids). Per-rule series carry the
// rule's config labels and disappear when a reload removes the rule.
//
// Thread-safe: prometheus-cpp metrics are; the rule table is guarded by
// m_mutex.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "monitor/config.h"
#include "monitor/evaluator.h"
#include "triggers/executor.h"

namespace gapwatch {

class Metrics {
 public:
  Metrics();

  // Creates the series of new rules, keeps those of unchanged ones and drops
  // those of rules no longer configured.
  void set_rules(const std::vector<RuleConfig>& rules);

  void record_result(const RuleResult& result);
  void record_skipped(const std::string& rule);
  void record_incident_opened(const std::string& rule);
  // The active incidents, as rule → escalated; every other rule has none.
  void set_incidents(const std::map<std::string, bool>& active);

  void record_delivery(const std::string& executor, DispatchOutcome::Kind outcome);
  void set_in_flight(const std::string& executor, int count);
  void set_outbox_pending(std::int64_t count);

  void set_config_reload(bool successful, Instant at);
  // When the rule is due next (empty while it runs).
  void set_next_evaluation(const std::string& rule, std::optional<Instant> at);

  // Whether each warehouse was reached at its last attempt.
  std::map<std::string, bool> warehouses_up() const;

  // The Prometheus text exposition format.
  std::string render() const;

 private:
  struct RuleSeries {
    prometheus::Labels labels;
    std::array<prometheus::Gauge*, 4> status{};
    std::array<prometheus::Counter*, 4> evaluations{};
    prometheus::Gauge* last_evaluation = nullptr;
    prometheus::Gauge* last_success = nullptr;
    prometheus::Gauge* failing_buckets = nullptr;
    prometheus::Gauge* observed = nullptr;
    prometheus::Gauge* newest_row = nullptr;  // freshness rules only
    prometheus::Gauge* next_evaluation = nullptr;
    // The gauges above are created with their first value.
    prometheus::Counter* skipped = nullptr;
    prometheus::Gauge* incident_open = nullptr;
    prometheus::Gauge* incident_escalated = nullptr;
    prometheus::Counter* incidents_opened = nullptr;
  };

  RuleSeries add_series(const RuleConfig& rule);
  void remove_series(const RuleSeries& series);

  std::shared_ptr<prometheus::Registry> m_registry;
  prometheus::Family<prometheus::Gauge>& m_status;
  prometheus::Family<prometheus::Gauge>& m_last_evaluation;
  prometheus::Family<prometheus::Gauge>& m_last_success;
  prometheus::Family<prometheus::Gauge>& m_failing_buckets;
  prometheus::Family<prometheus::Gauge>& m_observed;
  prometheus::Family<prometheus::Gauge>& m_newest_row;
  prometheus::Family<prometheus::Gauge>& m_next_evaluation;
  prometheus::Family<prometheus::Histogram>& m_duration;
  prometheus::Family<prometheus::Counter>& m_evaluations;
  prometheus::Family<prometheus::Counter>& m_skipped;
  prometheus::Family<prometheus::Gauge>& m_incident_open;
  prometheus::Family<prometheus::Gauge>& m_incident_escalated;
  prometheus::Family<prometheus::Counter>& m_incidents_opened;
  prometheus::Family<prometheus::Counter>& m_requests;
  prometheus::Family<prometheus::Gauge>& m_in_flight;
  prometheus::Family<prometheus::Gauge>& m_outbox_pending;
  prometheus::Family<prometheus::Gauge>& m_warehouse_up;
  prometheus::Family<prometheus::Counter>& m_queries;
  prometheus::Family<prometheus::Gauge>& m_reload_successful;
  prometheus::Family<prometheus::Gauge>& m_reload_timestamp;
  prometheus::Family<prometheus::Gauge>& m_build_info;

  mutable std::mutex m_mutex;
  std::map<std::string, RuleSeries> m_rules;          // guarded by m_mutex
  std::map<std::string, bool> m_warehouses_up;        // guarded by m_mutex
};

}  // namespace gapwatch
