// Metrics: gapwatch's Prometheus series, rendered by the HTTP server at
// /metrics. Names follow Prometheus conventions (base units, _total,
// _seconds, timestamps rather than ages); no label takes unbounded values (no
// windows, no request ids). Per-rule series carry the rule's config labels and
// disappear when a reload removes the rule. A segmented rule's per-segment
// series exist only for its failing or warning segments, at most
// max_segments of them (docs/metrics.md gives the worst case). Per-rule families are kept and
// rendered here (see RuleSeries); the few others live in a prometheus-cpp
// registry.
//
// Thread-safe: prometheus-cpp metrics are; the rule table is guarded by
// m_mutex.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "monitor/config/config.h"
#include "monitor/warehouse/evaluator.h"
#include "rules/mutex.h"
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
  // The orchestrator runs being followed (accepted requests with a run), by
  // executor and state (run_state_name): every state of every executor in
  // `executors`, 0 included, from `counts` (executor, state, count).
  void set_runs(const std::vector<std::string>& executors,
                const std::vector<std::tuple<std::string, std::string, std::int64_t>>& counts);

  void set_config_reload(bool successful, Instant at);
  // When the rule is due next (empty while it runs).
  void set_next_evaluation(const std::string& rule, std::optional<Instant> at);

  // Whether each warehouse was reached at its last attempt.
  std::map<std::string, bool> warehouses_up() const;

  // The Prometheus text exposition format, whole (tests, small configs) or
  // written in pieces of a few hundred KiB as it is produced (the HTTP
  // server: the page of 10,000 rules is about 25 MiB).
  std::string render() const;
  // `write` returns false to stop (the scraper went away).
  void render(const std::function<bool(std::string_view)>& write) const;
  // The size a piece grows to before it is written (a piece may exceed it by
  // one rule's samples, and the last by the few non-rule families).
  static constexpr std::size_t kRenderPieceSize = std::size_t{256} * 1024;

  // One rule's series. Per-rule families are rendered by this class rather
  // than kept as prometheus-cpp series: with thousands of rules, a labelled
  // series object per family and rule (each with its own copy of every
  // label) cost hundreds of megabytes and made a scrape take most of a
  // second. The rule's labels are escaped and joined once, here.
  // A failing or warning segment of a segmented rule.
  struct SegmentSeries {
    std::string label;  // `segment="FR"`, escaped
    Status status = Status::fail;
    std::optional<double> observed;
  };
  struct RuleSeries {
    std::string labels;  // `name="value",...` sorted by name, as Prometheus prints them
    // Where the `result`, `segment` and `status` labels go into `labels`: a
    // byte offset at a comma or at the end, or 0 when they sort first.
    std::uint32_t result_at = 0;
    std::uint32_t segment_at = 0;
    std::uint32_t status_at = 0;
    std::optional<Status> status;  // none before the first evaluation
    std::array<double, 4> evaluations{};
    // Gauges that appear with their first value.
    std::optional<double> last_evaluation;
    std::optional<double> last_success;
    std::optional<double> failing_buckets;
    std::optional<double> observed;
    std::optional<double> newest_row;  // freshness rules only
    // Partitioned rules: the newest judged bucket's value and, with a
    // baseline, its expected value and band.
    std::optional<double> newest_bucket;
    std::optional<double> expected;
    std::optional<double> expected_lower;
    std::optional<double> expected_upper;
    std::optional<double> next_evaluation;
    double skipped = 0;
    bool incident_open = false;
    bool incident_escalated = false;
    double incidents_opened = 0;
    // Segmented rules: their columns (a reload that changes them forgets the
    // segments), how many segments had each status at the last judgement
    // (none for a rule without segments), and the failing or warning ones.
    std::vector<std::string> segment_by;
    std::optional<std::array<double, 4>> segment_counts;
    std::vector<SegmentSeries> segments;
  };

 private:
  static RuleSeries make_series(const RuleConfig& rule);
  static void record_newest_bucket(RuleSeries& series, const Verdict& verdict);
  // A verdict's segments as series: every segment counted by status, the
  // failing and warning ones kept. Built before the rule table is locked.
  struct SegmentState {
    std::array<double, 4> counts{};
    std::vector<SegmentSeries> segments;
  };
  static SegmentState segment_state(const Verdict& verdict);

  std::shared_ptr<prometheus::Registry> m_registry;
  prometheus::Family<prometheus::Histogram>& m_duration;
  prometheus::Family<prometheus::Counter>& m_requests;
  prometheus::Family<prometheus::Gauge>& m_in_flight;
  prometheus::Family<prometheus::Gauge>& m_runs;
  prometheus::Family<prometheus::Gauge>& m_outbox_pending;
  prometheus::Family<prometheus::Gauge>& m_warehouse_up;
  prometheus::Family<prometheus::Counter>& m_queries;
  prometheus::Family<prometheus::Gauge>& m_reload_successful;
  prometheus::Family<prometheus::Gauge>& m_reload_timestamp;
  prometheus::Family<prometheus::Gauge>& m_build_info;

  mutable Mutex m_mutex;
  std::map<std::string, RuleSeries> m_rules GUARDED_BY(m_mutex);
  std::map<std::string, bool> m_warehouses_up GUARDED_BY(m_mutex);
};

}  // namespace gapwatch
