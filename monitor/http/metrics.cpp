// Metrics: the per-rule families written by hand and the rest through
// prometheus-cpp (see metrics.h).
#include "monitor/http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <prometheus/text_serializer.h>

#include "rules/segment.h"
#include "rules/utf8.h"

namespace gapwatch {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

constexpr std::array<Status, 4> kStatuses{Status::pass, Status::warn, Status::fail, Status::error};

double seconds(Instant instant) {
  return static_cast<double>(instant.time_since_epoch().count());
}

std::map<std::string, std::string> rule_labels(const RuleSpec& spec) {
  std::map<std::string, std::string> labels = {{"rule", spec.name},
                                               {"check", std::string(to_string(spec.check))},
                                               {"warehouse", spec.warehouse},
                                               {"table", spec.table.display()},
                                               {"severity", std::string(to_string(spec.severity))}};
  for (const auto& [name, value] : spec.labels) {
    labels[name] = value;
  }
  return labels;
}

// A label value as the text exposition format quotes it. Prometheus refuses
// a whole scrape over one label value that is not UTF-8, and a segment's
// value comes from the warehouse as it is (Latin-1, say): each malformed byte
// becomes U+FFFD.
void append_escaped(std::string& out, std::string_view value) {
  for (std::size_t i = 0; i < value.size();) {
    switch (value[i]) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (const std::size_t length = utf8_sequence_length(value.substr(i)); length != 0) {
          out.append(value, i, length);
          i += length;
        } else {
          out += "\xEF\xBF\xBD";
          ++i;
        }
        continue;
    }
    ++i;
  }
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
    return;
  }
  std::array<char, 32> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out.append(buffer.data(), error == std::errc{} ? end : buffer.data());
}

// The per-rule families, in the order they are rendered.
struct RuleFamily {
  std::string_view name;
  std::string_view type;
  std::string_view help;
};
constexpr RuleFamily kStatusFamily{
    "gapwatch_rule_status", "gauge",
    "1 for the rule's current status (pass, warn, fail, error), 0 for the others"};
constexpr RuleFamily kLastEvaluationFamily{"gapwatch_rule_last_evaluation_timestamp_seconds",
                                           "gauge", "When the rule was last evaluated"};
constexpr RuleFamily kLastSuccessFamily{
    "gapwatch_rule_last_success_timestamp_seconds", "gauge",
    "When the rule last passed or warned (data present and readable)"};
constexpr RuleFamily kFailingBucketsFamily{
    "gapwatch_rule_failing_buckets", "gauge",
    "Buckets (or windows, for unpartitioned rules) failing at the last evaluation"};
constexpr RuleFamily kObservedFamily{
    "gapwatch_rule_observed_value", "gauge",
    "The worst observed value at the last evaluation: seconds of age (freshness), rows "
    "(row_count) or a 0..1 ratio (null_rate)"};
constexpr RuleFamily kNewestBucketFamily{
    "gapwatch_rule_newest_bucket_value", "gauge",
    "Partitioned rules: the value of the newest judged bucket (rows or a 0..1 ratio)"};
constexpr RuleFamily kExpectedFamily{
    "gapwatch_rule_expected_value", "gauge",
    "Baseline rules: what the newest judged bucket was expected to hold (the median of its "
    "comparable buckets)"};
constexpr RuleFamily kExpectedLowerFamily{
    "gapwatch_rule_expected_lower", "gauge",
    "Baseline rules: the lower edge of the newest judged bucket's normal band"};
constexpr RuleFamily kExpectedUpperFamily{
    "gapwatch_rule_expected_upper", "gauge",
    "Baseline rules: the upper edge of the newest judged bucket's normal band"};
constexpr RuleFamily kSegmentsFamily{
    "gapwatch_rule_segments", "gauge",
    "Segmented rules: how many segments had each status (pass, warn, fail, error) at the last "
    "evaluation that was not an error"};
constexpr RuleFamily kSegmentStatusFamily{
    "gapwatch_rule_segment_status", "gauge",
    "Segmented rules: 1 for each failing or warning segment, labelled with its status; a "
    "passing segment has no series"};
constexpr RuleFamily kSegmentObservedFamily{
    "gapwatch_rule_segment_observed_value", "gauge",
    "Segmented rules: the worst bucket value of each failing or warning segment (rows or a 0..1 "
    "ratio)"};
constexpr RuleFamily kNewestRowFamily{"gapwatch_table_newest_row_timestamp_seconds", "gauge",
                                      "The newest timestamp a freshness rule read"};
constexpr RuleFamily kNextEvaluationFamily{
    "gapwatch_rule_next_evaluation_timestamp_seconds", "gauge",
    "When the rule is due next; an evaluation overdue by much means gapwatch is stuck or "
    "overloaded"};
constexpr RuleFamily kEvaluationsFamily{"gapwatch_rule_evaluations_total", "counter",
                                        "Evaluations by result"};
constexpr RuleFamily kSkippedFamily{
    "gapwatch_rule_evaluations_skipped_total", "counter",
    "Scheduled evaluations skipped because the previous one still ran"};
constexpr RuleFamily kIncidentOpenFamily{"gapwatch_incident_open", "gauge",
                                         "1 while the rule has an active (not resolved) incident"};
constexpr RuleFamily kIncidentEscalatedFamily{
    "gapwatch_incident_escalated", "gauge",
    "1 while the rule's incident is escalated: backfills failed max_attempts times, an "
    "operator must act"};
constexpr RuleFamily kIncidentsOpenedFamily{"gapwatch_incidents_opened_total", "counter",
                                            "Incidents opened"};

void append_header(std::string& out, const RuleFamily& family) {
  out += "# HELP ";
  out += family.name;
  out += ' ';
  out += family.help;
  out += "\n# TYPE ";
  out += family.name;
  out += ' ';
  out += family.type;
  out += '\n';
}

}  // namespace

Metrics::Metrics()
    : m_registry(std::make_shared<prometheus::Registry>()),
      m_duration(BuildHistogram()
                     .Name("gapwatch_rule_evaluation_duration_seconds")
                     .Help("How long evaluations took, by warehouse")
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
      m_runs(BuildGauge()
                 .Name("gapwatch_backfill_runs")
                 .Help("Orchestrator runs of accepted backfill requests being followed, by "
                       "executor and state (unknown: not answered yet; queued; running; "
                       "succeeded: awaiting verification; not_found)")
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

Metrics::RuleSeries Metrics::make_series(const RuleConfig& rule) {
  RuleSeries series;
  std::optional<std::uint32_t> result_at;
  std::optional<std::uint32_t> segment_at;
  std::optional<std::uint32_t> status_at;
  // The labels sorted by name (std::map), as prometheus-cpp printed them;
  // `result`, `segment` and `status` are reserved, so no config label takes
  // their place.
  for (const auto& [name, value] : rule_labels(rule.spec)) {
    const auto end = static_cast<std::uint32_t>(series.labels.size());
    if (!result_at && name > "result") {
      result_at = end;
    }
    if (!segment_at && name > "segment") {
      segment_at = end;
    }
    if (!status_at && name > "status") {
      status_at = end;
    }
    if (!series.labels.empty()) {
      series.labels += ',';
    }
    series.labels += name;
    series.labels += "=\"";
    append_escaped(series.labels, value);
    series.labels += '"';
  }
  const auto end = static_cast<std::uint32_t>(series.labels.size());
  series.result_at = result_at.value_or(end);
  series.segment_at = segment_at.value_or(end);
  series.status_at = status_at.value_or(end);
  series.segment_by = rule.spec.segment_by;
  if (!series.segment_by.empty()) {
    series.segment_counts.emplace();  // 0 of every status until the first judgement
  }
  return series;
}

void Metrics::set_rules(const std::vector<RuleConfig>& rules) {
  MutexLock lock(m_mutex);
  std::map<std::string, RuleSeries> next;
  for (const RuleConfig& rule : rules) {
    RuleSeries series = make_series(rule);
    const auto existing = m_rules.find(rule.spec.name);
    // Same labels (so the same check): keep the series and counters' history.
    if (existing != m_rules.end() && existing->second.labels == series.labels) {
      RuleSeries& kept = existing->second;
      if (kept.segment_by != series.segment_by) {
        // Other columns: the segments judged so far are not this rule's any more.
        kept.segment_by = std::move(series.segment_by);
        kept.segment_counts = series.segment_counts;
        kept.segments.clear();
      }
      next.emplace(rule.spec.name, std::move(kept));
      m_rules.erase(existing);
      continue;
    }
    next.emplace(rule.spec.name, std::move(series));
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

Metrics::SegmentState Metrics::segment_state(const Verdict& verdict) {
  SegmentState state;
  // Distinct segments can share a name (a NULL and the text "null"; "a, b"
  // and "a" then "b"): they make one series, with the worse status.
  std::unordered_map<std::string, std::size_t> named;
  for (const SegmentVerdict& segment : verdict.segments) {
    state.counts[static_cast<std::size_t>(segment.status)] += 1;
    if (segment.status != Status::warn && segment.status != Status::fail) {
      continue;
    }
    std::string label = "segment=\"";
    append_escaped(label, segment_name(segment.key));
    label += '"';
    const auto [found, added] = named.try_emplace(label, state.segments.size());
    if (added) {
      state.segments.push_back(SegmentSeries{std::move(label), segment.status, segment.observed});
      continue;
    }
    SegmentSeries& same = state.segments[found->second];
    if (worse(same.status, segment.status) != same.status) {
      same.status = segment.status;
      same.observed = segment.observed;
    }
  }
  return state;
}

void Metrics::record_result(const RuleResult& result) {
  const Verdict& verdict = result.verdict;
  SegmentState segments = segment_state(verdict);
  m_duration
      .Add({{"warehouse", result.warehouse}},
           prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                   5, 10, 30, 60, 300})
      .Observe(static_cast<double>(result.duration.count()) / 1000.0);
  m_queries.Add({{"warehouse", result.warehouse}, {"result", std::string(to_string(result.query))}})
      .Increment();

  MutexLock lock(m_mutex);
  const auto found = m_rules.find(result.rule);
  if (found == m_rules.end()) {
    // The rule was removed by a reload while it ran; its warehouse may have
    // gone with it, and an up gauge set now would never be cleared.
    return;
  }
  const bool reached =
      result.query != QueryOutcome::not_run && result.query != QueryOutcome::abandoned;
  m_warehouse_up.Add({{"warehouse", result.warehouse}}).Set(reached ? 1 : 0);
  m_warehouses_up[result.warehouse] = reached;
  RuleSeries& series = found->second;
  series.status = verdict.status;
  series.evaluations[static_cast<std::size_t>(verdict.status)] += 1;
  series.last_evaluation = seconds(result.evaluated_at);
  if (verdict.status == Status::pass || verdict.status == Status::warn) {
    series.last_success = seconds(result.evaluated_at);
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
    series.failing_buckets = failing;
    if (verdict.observed) {
      series.observed = *verdict.observed;
    }
    if (verdict.newest_row) {
      series.newest_row = seconds(*verdict.newest_row);
    }
    record_newest_bucket(series, verdict);
    // A segment that passes now loses its series here; an error keeps the
    // last judgement's, as it keeps the failing buckets.
    if (series.segment_counts) {
      series.segment_counts = segments.counts;
      series.segments = std::move(segments.segments);
    }
  }
}

void Metrics::record_newest_bucket(RuleSeries& series, const Verdict& verdict) {
  const auto newest = std::find_if(verdict.buckets.rbegin(), verdict.buckets.rend(),
                                   [](const BucketVerdict& bucket) { return bucket.value; });
  if (newest == verdict.buckets.rend()) {
    return;
  }
  series.newest_bucket = *newest->value;
  // A learning bucket has no expectation: the gauges go, rather than show an
  // older bucket's.
  series.expected = newest->expected;
  series.expected_lower = newest->lower;
  series.expected_upper = newest->upper;
}

void Metrics::record_skipped(const std::string& rule) {
  MutexLock lock(m_mutex);
  if (const auto found = m_rules.find(rule); found != m_rules.end()) {
    found->second.skipped += 1;
  }
}

void Metrics::record_incident_opened(const std::string& rule) {
  MutexLock lock(m_mutex);
  if (const auto found = m_rules.find(rule); found != m_rules.end()) {
    found->second.incidents_opened += 1;
  }
}

void Metrics::set_incidents(const std::map<std::string, bool>& active) {
  MutexLock lock(m_mutex);
  for (auto& [name, series] : m_rules) {
    const auto found = active.find(name);
    series.incident_open = found != active.end();
    series.incident_escalated = found != active.end() && found->second;
  }
}

void Metrics::record_delivery(const std::string& executor, DispatchOutcome::Kind outcome) {
  m_requests.Add({{"executor", executor}, {"outcome", std::string(to_string(outcome))}})
      .Increment();
}

void Metrics::set_in_flight(const std::string& executor, int count) {
  m_in_flight.Add({{"executor", executor}}).Set(count);
}

void Metrics::set_runs(
    const std::vector<std::string>& executors,
    const std::vector<std::tuple<std::string, std::string, std::int64_t>>& counts) {
  static constexpr std::array<std::string_view, 5> kStates{"unknown", "queued", "running",
                                                           "succeeded", "not_found"};
  for (const std::string& executor : executors) {
    for (const std::string_view state : kStates) {
      std::int64_t count = 0;
      for (const auto& [of, in, n] : counts) {
        if (of == executor && in == state) {
          count = n;
        }
      }
      m_runs.Add({{"executor", executor}, {"state", std::string(state)}})
          .Set(static_cast<double>(count));
    }
  }
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
  MutexLock lock(m_mutex);
  const auto found = m_rules.find(rule);
  if (found == m_rules.end() || !at) {
    return;  // while it runs, the last due time stays
  }
  found->second.next_evaluation = seconds(*at);
}

std::map<std::string, bool> Metrics::warehouses_up() const {
  MutexLock lock(m_mutex);
  return m_warehouses_up;
}

namespace {

using RuleSeries = Metrics::RuleSeries;

// Appends `family`'s samples of one rule's series.
using SampleWriter = void (*)(std::string& out, const RuleSeries& series);

// A label (`status="fail"`) to splice into a rule's labels at a byte offset
// (RuleSeries::status_at and the like).
struct Splice {
  std::uint32_t at = 0;
  std::string_view label;
};

// sample NAME LABELS VALUE, with the rule's labels and the spliced ones,
// given in the order of their offsets.
void sample(std::string& out, const RuleFamily& family, const RuleSeries& series, double value,
            std::initializer_list<Splice> splices = {}) {
  out += family.name;
  out += '{';
  std::uint32_t from = 0;
  for (const Splice& splice : splices) {
    out.append(series.labels, from, splice.at - from);
    if (splice.at == 0) {
      out += splice.label;
      out += ',';
    } else {
      out += ',';
      out += splice.label;
    }
    from = splice.at;
  }
  out.append(series.labels, from);
  out += "} ";
  append_value(out, value);
  out += '\n';
}

// `status="pass"` and so on, by Status.
constexpr std::array<std::string_view, 4> kStatusLabels{
    R"(status="pass")", R"(status="warn")", R"(status="fail")", R"(status="error")"};

template <const RuleFamily& family, std::optional<double> RuleSeries::*member>
void optional_gauge(std::string& out, const RuleSeries& series) {
  if (const std::optional<double>& value = series.*member) {
    sample(out, family, series, *value);
  }
}

// One sample per status, labelled `label="pass"` and so on.
template <const RuleFamily& family, std::uint32_t RuleSeries::*at>
void by_status(std::string& out, const RuleSeries& series,
               double (*value_of)(const RuleSeries&, std::size_t), std::string_view label) {
  std::string extra;
  for (std::size_t i = 0; i < kStatuses.size(); ++i) {
    extra.assign(label);
    extra += "=\"";
    extra += to_string(kStatuses[i]);
    extra += '"';
    sample(out, family, series, value_of(series, i), {Splice{series.*at, extra}});
  }
}

struct RuleFamilyWriter {
  const RuleFamily& family;
  SampleWriter write;
};

const RuleFamilyWriter kRuleFamilies[] = {
    {kStatusFamily,
     [](std::string& out, const RuleSeries& series) {
       by_status<kStatusFamily, &RuleSeries::status_at>(
           out, series,
           [](const RuleSeries& s, std::size_t i) { return s.status == kStatuses[i] ? 1.0 : 0.0; },
           "status");
     }},
    {kLastEvaluationFamily,
     optional_gauge<kLastEvaluationFamily, &RuleSeries::last_evaluation>},
    {kLastSuccessFamily, optional_gauge<kLastSuccessFamily, &RuleSeries::last_success>},
    {kFailingBucketsFamily, optional_gauge<kFailingBucketsFamily, &RuleSeries::failing_buckets>},
    {kObservedFamily, optional_gauge<kObservedFamily, &RuleSeries::observed>},
    {kSegmentsFamily,
     [](std::string& out, const RuleSeries& series) {
       if (series.segment_counts) {
         by_status<kSegmentsFamily, &RuleSeries::status_at>(
             out, series,
             [](const RuleSeries& s, std::size_t i) { return (*s.segment_counts)[i]; }, "status");
       }
     }},
    {kSegmentStatusFamily,
     [](std::string& out, const RuleSeries& series) {
       for (const Metrics::SegmentSeries& segment : series.segments) {
         sample(out, kSegmentStatusFamily, series, 1,
                {Splice{series.segment_at, segment.label},
                 Splice{series.status_at, kStatusLabels[static_cast<std::size_t>(segment.status)]}});
       }
     }},
    {kSegmentObservedFamily,
     [](std::string& out, const RuleSeries& series) {
       for (const Metrics::SegmentSeries& segment : series.segments) {
         if (segment.observed) {
           sample(out, kSegmentObservedFamily, series, *segment.observed,
                  {Splice{series.segment_at, segment.label}});
         }
       }
     }},
    {kNewestRowFamily, optional_gauge<kNewestRowFamily, &RuleSeries::newest_row>},
    {kNewestBucketFamily, optional_gauge<kNewestBucketFamily, &RuleSeries::newest_bucket>},
    {kExpectedFamily, optional_gauge<kExpectedFamily, &RuleSeries::expected>},
    {kExpectedLowerFamily, optional_gauge<kExpectedLowerFamily, &RuleSeries::expected_lower>},
    {kExpectedUpperFamily, optional_gauge<kExpectedUpperFamily, &RuleSeries::expected_upper>},
    {kNextEvaluationFamily,
     optional_gauge<kNextEvaluationFamily, &RuleSeries::next_evaluation>},
    {kEvaluationsFamily,
     [](std::string& out, const RuleSeries& series) {
       by_status<kEvaluationsFamily, &RuleSeries::result_at>(
           out, series, [](const RuleSeries& s, std::size_t i) { return s.evaluations[i]; },
           "result");
     }},
    {kSkippedFamily,
     [](std::string& out, const RuleSeries& series) {
       sample(out, kSkippedFamily, series, series.skipped);
     }},
    {kIncidentOpenFamily,
     [](std::string& out, const RuleSeries& series) {
       sample(out, kIncidentOpenFamily, series, series.incident_open ? 1.0 : 0.0);
     }},
    {kIncidentEscalatedFamily,
     [](std::string& out, const RuleSeries& series) {
       sample(out, kIncidentEscalatedFamily, series, series.incident_escalated ? 1.0 : 0.0);
     }},
    {kIncidentsOpenedFamily,
     [](std::string& out, const RuleSeries& series) {
       sample(out, kIncidentsOpenedFamily, series, series.incidents_opened);
     }},
};

// Pieces of the body are about this large: small next to the whole body of
// thousands of rules, large enough that the lock is taken a few hundred times
// per scrape at most.
constexpr std::size_t kPieceSize = Metrics::kRenderPieceSize;

}  // namespace

void Metrics::render(const std::function<bool(std::string_view)>& write) const {
  std::string piece;
  piece.reserve(kPieceSize + std::size_t{8} * 1024);
  for (const RuleFamilyWriter& family : kRuleFamilies) {
    append_header(piece, family.family);
    // The rule table is locked for one piece at a time, so that a slow
    // scraper never holds up evaluations; a piece resumes after the last rule
    // written (a rule a reload removed meanwhile is simply not found).
    std::optional<std::string> after;
    bool done = false;
    while (!done) {
      if (piece.size() >= kPieceSize) {
        if (!write(piece)) {
          return;
        }
        piece.clear();
      }
      MutexLock lock(m_mutex);
      auto rule = after ? m_rules.upper_bound(*after) : m_rules.begin();
      for (; rule != m_rules.end() && piece.size() < kPieceSize; ++rule) {
        family.write(piece, rule->second);
        after = rule->first;
      }
      done = rule == m_rules.end();
    }
  }
  std::ostringstream registry;
  prometheus::TextSerializer().Serialize(registry, m_registry->Collect());
  piece += registry.str();
  write(piece);
}

std::string Metrics::render() const {
  std::string out;
  render([&out](std::string_view piece) {
    out += piece;
    return true;
  });
  return out;
}

}  // namespace gapwatch
