#include "monitor/http/metrics.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using Labels = std::map<std::string, std::string>;

const Instant kNow = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + hours{12};

double epoch_seconds(Instant instant) {
  return static_cast<double>(instant.time_since_epoch().count());
}

// One sample line of the text exposition format.
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// The samples of a scrape; comment lines (HELP, TYPE) are skipped.
std::vector<Sample> parse_exposition(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() == '#') {
      continue;
    }
    Sample sample;
    std::size_t at = line.find_first_of("{ ");
    REQUIRE_MESSAGE(at != std::string::npos, line);
    sample.name = line.substr(0, at);
    if (line[at] == '{') {
      ++at;
      while (line[at] != '}') {
        const std::size_t equals = line.find('=', at);
        REQUIRE_MESSAGE(equals != std::string::npos, line);
        const std::string name = line.substr(at, equals - at);
        REQUIRE_MESSAGE(line[equals + 1] == '"', line);
        std::string value;
        at = equals + 2;
        for (; line[at] != '"'; ++at) {
          if (line[at] == '\\') {
            ++at;
            value += line[at] == 'n' ? '\n' : line[at];
          } else {
            value += line[at];
          }
        }
        sample.labels[name] = value;
        ++at;  // the closing quote
        if (line[at] == ',') {
          ++at;
        }
      }
      ++at;  // the closing brace
    }
    REQUIRE_MESSAGE(line[at] == ' ', line);
    const std::string value = line.substr(at + 1);
    sample.value = std::strtod(value.c_str(), nullptr);  // reads "+Inf" too
    samples.push_back(std::move(sample));
  }
  return samples;
}

bool has_labels(const Sample& sample, const Labels& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& label) {
    const auto found = sample.labels.find(label.first);
    return found != sample.labels.end() && found->second == label.second;
  });
}

// A scrape, queried like PromQL selectors: metric name plus label matchers.
class Scrape {
 public:
  explicit Scrape(const Metrics& metrics) : m_samples(parse_exposition(metrics.render())) {}

  std::vector<Sample> select(std::string_view name, const Labels& labels = {}) const {
    std::vector<Sample> found;
    for (const Sample& sample : m_samples) {
      if (sample.name == name && has_labels(sample, labels)) {
        found.push_back(sample);
      }
    }
    return found;
  }

  // The value of the one series matching; fails if there is not exactly one.
  double value(std::string_view name, const Labels& labels = {}) const {
    const std::vector<Sample> found = select(name, labels);
    REQUIRE_MESSAGE(found.size() == 1,
                    (std::string(name) + ": " + std::to_string(found.size()) + " series match"));
    return found.front().value;
  }

  bool has(std::string_view name, const Labels& labels = {}) const {
    return !select(name, labels).empty();
  }

  // Every sample carrying these labels, whatever its name.
  std::vector<Sample> with(const Labels& labels) const {
    std::vector<Sample> found;
    for (const Sample& sample : m_samples) {
      if (has_labels(sample, labels)) {
        found.push_back(sample);
      }
    }
    return found;
  }

 private:
  std::vector<Sample> m_samples;
};

RuleConfig rule_config(std::string name, CheckKind check = CheckKind::row_count,
                       std::map<std::string, std::string> labels = {}) {
  RuleConfig rule;
  rule.spec.name = std::move(name);
  rule.spec.check = check;
  rule.spec.warehouse = "shop";
  rule.spec.table = QualifiedName{{"analytics", "events"}};
  rule.spec.severity = Severity::critical;
  rule.spec.labels = std::move(labels);
  return rule;
}

RuleResult result_for(const std::string& rule, Status status, Instant evaluated_at = kNow) {
  RuleResult result;
  result.rule = rule;
  result.check = CheckKind::row_count;
  result.warehouse = "shop";
  result.table = "analytics.events";
  result.severity = Severity::critical;
  result.evaluated_at = evaluated_at;
  result.duration = milliseconds{250};
  result.query = status == Status::error ? QueryOutcome::error : QueryOutcome::ok;
  result.verdict.status = status;
  if (status == Status::error) {
    result.verdict.error = "boom";
  }
  return result;
}

// `pattern` has one hourly bucket per character: p pass, f fail.
void set_buckets(RuleResult& result, std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const Instant start = kNow - hours{24} + hours{static_cast<int>(i)};
    const Status status = pattern[i] == 'f' ? Status::fail : Status::pass;
    BucketVerdict& bucket = result.verdict.buckets.emplace_back();
    bucket.start = start;
    bucket.end = start + hours{1};
    bucket.status = status;
  }
  result.verdict.windows = merge_windows(result.verdict.buckets);
}

const Labels kOrders = {{"rule", "orders"}};

// ---------------------------------------------------------------------------
// Per-rule series

TEST_CASE("metrics: a configured rule has status 0 for every status before its first result") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  const Scrape scrape(metrics);
  for (const char* status : {"pass", "warn", "fail", "error"}) {
    CHECK_MESSAGE(
        scrape.value("gapwatch_rule_status", {{"rule", "orders"}, {"status", status}}) == 0,
        status);
    CHECK_MESSAGE(scrape.value("gapwatch_rule_evaluations_total",
                               {{"rule", "orders"}, {"result", status}}) == 0,
                  status);
  }
  CHECK(scrape.value("gapwatch_rule_evaluations_skipped_total", kOrders) == 0);
  CHECK(scrape.value("gapwatch_incident_open", kOrders) == 0);
  CHECK(scrape.value("gapwatch_incident_escalated", kOrders) == 0);
  CHECK(scrape.value("gapwatch_incidents_opened_total", kOrders) == 0);
}

TEST_CASE("metrics: timestamps and observations are absent before the first result") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders", CheckKind::freshness)});
  const Scrape scrape(metrics);
  for (const char* name :
       {"gapwatch_rule_last_evaluation_timestamp_seconds",
        "gapwatch_rule_last_success_timestamp_seconds", "gapwatch_rule_failing_buckets",
        "gapwatch_rule_observed_value", "gapwatch_table_newest_row_timestamp_seconds",
        "gapwatch_rule_next_evaluation_timestamp_seconds"}) {
    CHECK_MESSAGE(!scrape.has(name, kOrders), name);
  }
}

TEST_CASE("metrics: the status gauge is 1 for the current status only") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  const auto status_of = [&](const Scrape& scrape) {
    std::map<std::string, double> values;
    for (const Sample& sample : scrape.select("gapwatch_rule_status", kOrders)) {
      values[sample.labels.at("status")] = sample.value;
    }
    return values;
  };
  metrics.record_result(result_for("orders", Status::fail));
  CHECK(status_of(Scrape(metrics)) ==
        std::map<std::string, double>{{"error", 0}, {"fail", 1}, {"pass", 0}, {"warn", 0}});
  metrics.record_result(result_for("orders", Status::warn));
  CHECK(status_of(Scrape(metrics)) ==
        std::map<std::string, double>{{"error", 0}, {"fail", 0}, {"pass", 0}, {"warn", 1}});
  metrics.record_result(result_for("orders", Status::error));
  CHECK(status_of(Scrape(metrics)) ==
        std::map<std::string, double>{{"error", 1}, {"fail", 0}, {"pass", 0}, {"warn", 0}});
}

TEST_CASE("metrics: evaluations are counted by result") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  metrics.record_result(result_for("orders", Status::pass));
  metrics.record_result(result_for("orders", Status::pass));
  metrics.record_result(result_for("orders", Status::fail));
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_rule_evaluations_total", {{"rule", "orders"}, {"result", "pass"}}) ==
        2);
  CHECK(scrape.value("gapwatch_rule_evaluations_total", {{"rule", "orders"}, {"result", "fail"}}) ==
        1);
  CHECK(scrape.value("gapwatch_rule_evaluations_total", {{"rule", "orders"}, {"result", "warn"}}) ==
        0);
}

TEST_CASE("metrics: per-rule series carry the rule's identity and config labels") {
  Metrics metrics;
  metrics.set_rules(
      {rule_config("orders", CheckKind::freshness, {{"team", "growth"}, {"tier", "gold"}})});
  RuleResult result = result_for("orders", Status::pass);
  result.check = CheckKind::freshness;
  result.verdict.observed = 60;
  result.verdict.newest_row = kNow - minutes{1};
  BucketVerdict& bucket = result.verdict.buckets.emplace_back();
  bucket.value = 10;
  bucket.expected = 12;
  bucket.lower = 2;
  bucket.upper = 22;
  metrics.record_result(result);
  metrics.set_next_evaluation("orders", kNow + minutes{5});
  const Scrape scrape(metrics);

  const Labels identity = {{"rule", "orders"},       {"check", "freshness"},
                           {"warehouse", "shop"},    {"table", "analytics.events"},
                           {"severity", "critical"}, {"team", "growth"},
                           {"tier", "gold"}};
  const std::vector<Sample> series = scrape.with({{"rule", "orders"}});
  std::vector<std::string> names;
  for (const Sample& sample : series) {
    CHECK_MESSAGE(has_labels(sample, identity), sample.name);
    names.push_back(sample.name);
  }
  for (const char* name :
       {"gapwatch_rule_status", "gapwatch_rule_evaluations_total",
        "gapwatch_rule_last_evaluation_timestamp_seconds",
        "gapwatch_rule_last_success_timestamp_seconds", "gapwatch_rule_failing_buckets",
        "gapwatch_rule_observed_value", "gapwatch_table_newest_row_timestamp_seconds",
        "gapwatch_rule_next_evaluation_timestamp_seconds",
        "gapwatch_rule_evaluations_skipped_total", "gapwatch_incident_open",
        "gapwatch_incident_escalated", "gapwatch_incidents_opened_total"}) {
    CHECK_MESSAGE(std::find(names.begin(), names.end(), name) != names.end(), name);
  }
  // Only per-rule series carry rule labels.
  for (const Sample& sample : scrape.select("gapwatch_rule_evaluation_duration_seconds_count")) {
    CHECK(sample.labels == Labels{{"warehouse", "shop"}});
  }
}

TEST_CASE("metrics: label values are escaped and status/result labels sit in name order") {
  Metrics metrics;
  // "a" sorts before every gapwatch label, "zone" after them all, "quote"
  // between result and status.
  metrics.set_rules(
      {rule_config("orders", CheckKind::row_count,
                   {{"a", "back\\slash"}, {"quote", "say \"hi\""}, {"zone", "line\nbreak"}})});
  metrics.record_result(result_for("orders", Status::fail));
  const std::string text = metrics.render();
  const Scrape scrape(metrics);
  const Labels expected = {{"a", "back\\slash"}, {"quote", "say \"hi\""}, {"zone", "line\nbreak"}};
  CHECK(scrape.value("gapwatch_rule_status", {{"rule", "orders"}, {"status", "fail"}}) == 1);
  CHECK(has_labels(scrape.select("gapwatch_rule_status", {{"status", "fail"}}).front(), expected));
  CHECK(scrape.value("gapwatch_rule_evaluations_total", {{"rule", "orders"}, {"result", "fail"}}) ==
        1);
  CHECK(text.find("gapwatch_rule_status{a=\"back\\\\slash\",check=\"row_count\",quote=\"say "
                  "\\\"hi\\\"\",rule=\"orders\",severity=\"critical\",status=\"fail\",table="
                  "\"analytics.events\",warehouse=\"shop\",zone=\"line\\nbreak\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("gapwatch_rule_evaluations_total{a=\"back\\\\slash\",check=\"row_count\","
                  "quote=\"say \\\"hi\\\"\",result=\"fail\",rule=\"orders\",") !=
        std::string::npos);
}

TEST_CASE("metrics: the newest judged bucket's value, expected value and band") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders", CheckKind::row_count)});
  RuleResult result = result_for("orders", Status::fail);
  for (int i = 0; i < 3; ++i) {
    BucketVerdict& bucket = result.verdict.buckets.emplace_back();
    bucket.start = kNow - hours{3 - i};
    bucket.end = bucket.start + hours{1};
    bucket.rows = 100 + i;
    bucket.value = 100.0 + i;
    bucket.status = Status::pass;
    bucket.expected = 120.0 + i;
    bucket.lower = 90.0 + i;
    bucket.upper = 150.0 + i;
  }
  result.verdict.buckets.back().value.reset();  // not judged: the newest judged is the middle one
  metrics.record_result(result);
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_rule_newest_bucket_value", kOrders) == 101);
  CHECK(scrape.value("gapwatch_rule_expected_value", kOrders) == 121);
  CHECK(scrape.value("gapwatch_rule_expected_lower", kOrders) == 91);
  CHECK(scrape.value("gapwatch_rule_expected_upper", kOrders) == 151);
  // The newest bucket learning: no expectation shown rather than an older one.
  result.verdict.buckets[1].expected.reset();
  result.verdict.buckets[1].lower.reset();
  result.verdict.buckets[1].upper.reset();
  metrics.record_result(result);
  const Scrape learning(metrics);
  CHECK(learning.value("gapwatch_rule_newest_bucket_value", kOrders) == 101);
  CHECK_FALSE(learning.has("gapwatch_rule_expected_value", kOrders));
}

TEST_CASE("metrics: a passing result sets the timestamps, observed value and newest row") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders", CheckKind::freshness)});
  RuleResult result = result_for("orders", Status::pass);
  result.check = CheckKind::freshness;
  result.verdict.observed = 90;
  result.verdict.newest_row = kNow - minutes{3};
  metrics.record_result(result);
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_rule_last_evaluation_timestamp_seconds", kOrders) ==
        epoch_seconds(kNow));
  CHECK(scrape.value("gapwatch_rule_last_success_timestamp_seconds", kOrders) ==
        epoch_seconds(kNow));
  CHECK(scrape.value("gapwatch_rule_observed_value", kOrders) == 90);
  CHECK(scrape.value("gapwatch_table_newest_row_timestamp_seconds", kOrders) ==
        epoch_seconds(kNow - minutes{3}));
  CHECK(scrape.value("gapwatch_rule_failing_buckets", kOrders) == 0);
}

TEST_CASE("metrics: a failing result sets no last success") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  RuleResult result = result_for("orders", Status::fail);
  set_buckets(result, "pffpf");
  metrics.record_result(result);
  Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_rule_last_evaluation_timestamp_seconds", kOrders) ==
        epoch_seconds(kNow));
  CHECK_FALSE(scrape.has("gapwatch_rule_last_success_timestamp_seconds", kOrders));
  CHECK(scrape.value("gapwatch_rule_failing_buckets", kOrders) == 3);

  SUBCASE("a later warn sets it and clears the failing buckets") {
    metrics.record_result(result_for("orders", Status::warn, kNow + minutes{5}));
    scrape = Scrape(metrics);
    CHECK(scrape.value("gapwatch_rule_last_success_timestamp_seconds", kOrders) ==
          epoch_seconds(kNow + minutes{5}));
    CHECK(scrape.value("gapwatch_rule_failing_buckets", kOrders) == 0);
  }
}

TEST_CASE("metrics: failing buckets are counted from windows when a rule has no buckets") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  RuleResult result = result_for("orders", Status::fail);
  result.verdict.windows = {Window{kNow - hours{1}, kNow, Status::fail}};
  metrics.record_result(result);
  CHECK(Scrape(metrics).value("gapwatch_rule_failing_buckets", kOrders) == 1);
}

TEST_CASE(
    "metrics: an error result keeps the failing buckets and observation of the last "
    "judgement") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  RuleResult failing = result_for("orders", Status::fail);
  set_buckets(failing, "ffpf");
  failing.verdict.observed = 2;
  metrics.record_result(failing);
  metrics.record_result(result_for("orders", Status::error, kNow + minutes{5}));
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_rule_failing_buckets", kOrders) == 3);
  CHECK(scrape.value("gapwatch_rule_observed_value", kOrders) == 2);
  CHECK(scrape.value("gapwatch_rule_status", {{"rule", "orders"}, {"status", "error"}}) == 1);
  CHECK(scrape.value("gapwatch_rule_last_evaluation_timestamp_seconds", kOrders) ==
        epoch_seconds(kNow + minutes{5}));
}

TEST_CASE("metrics: an error as first result creates no failing buckets series") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  metrics.record_result(result_for("orders", Status::error));
  const Scrape scrape(metrics);
  CHECK_FALSE(scrape.has("gapwatch_rule_failing_buckets", kOrders));
  CHECK_FALSE(scrape.has("gapwatch_rule_observed_value", kOrders));
  CHECK_FALSE(scrape.has("gapwatch_rule_last_success_timestamp_seconds", kOrders));
  CHECK(scrape.has("gapwatch_rule_last_evaluation_timestamp_seconds", kOrders));
}

TEST_CASE("metrics: a result for a rule that is not configured adds no rule series") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  metrics.record_result(result_for("gone", Status::fail));
  const Scrape scrape(metrics);
  CHECK(scrape.with({{"rule", "gone"}}).empty());
  // Nor a warehouse_up that nothing would clear; the query still counts.
  CHECK_FALSE(scrape.has("gapwatch_warehouse_up"));
  CHECK(metrics.warehouses_up().empty());
  CHECK(scrape.value("gapwatch_queries_total", {{"warehouse", "shop"}, {"result", "ok"}}) == 1);
}

TEST_CASE("metrics: the next evaluation appears when known and stays while the rule runs") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  metrics.set_next_evaluation("orders", kNow + minutes{5});
  CHECK(Scrape(metrics).value("gapwatch_rule_next_evaluation_timestamp_seconds", kOrders) ==
        epoch_seconds(kNow + minutes{5}));
  metrics.set_next_evaluation("orders", std::nullopt);
  CHECK(Scrape(metrics).value("gapwatch_rule_next_evaluation_timestamp_seconds", kOrders) ==
        epoch_seconds(kNow + minutes{5}));
  metrics.set_next_evaluation("unknown", kNow);
  CHECK(Scrape(metrics).with({{"rule", "unknown"}}).empty());
}

TEST_CASE("metrics: skipped evaluations and opened incidents are counted per rule") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders"), rule_config("events")});
  metrics.record_skipped("orders");
  metrics.record_skipped("orders");
  metrics.record_incident_opened("events");
  metrics.record_skipped("unknown");
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_rule_evaluations_skipped_total", kOrders) == 2);
  CHECK(scrape.value("gapwatch_rule_evaluations_skipped_total", {{"rule", "events"}}) == 0);
  CHECK(scrape.value("gapwatch_incidents_opened_total", {{"rule", "events"}}) == 1);
  CHECK(scrape.value("gapwatch_incidents_opened_total", kOrders) == 0);
}

// ---------------------------------------------------------------------------
// Segments

RuleConfig segmented_config(std::string name, std::vector<std::string> segment_by = {"country"}) {
  RuleConfig rule = rule_config(std::move(name));
  rule.spec.segment_by = std::move(segment_by);
  return rule;
}

// A result whose segments (by country) have these statuses; a segment's
// observed value is its index.
RuleResult segmented_result(const std::string& rule,
                            const std::vector<std::pair<SegmentValue, Status>>& segments) {
  RuleResult result = result_for(rule, Status::pass);
  for (const auto& [value, status] : segments) {
    const auto index = static_cast<double>(result.verdict.segments.size());
    result.verdict.segments.push_back(SegmentVerdict{{value}, status, index, "message"});
    result.verdict.status = worse(result.verdict.status, status);
  }
  return result;
}

std::map<std::string, double> segment_counts(const Scrape& scrape, const std::string& rule) {
  std::map<std::string, double> counts;
  for (const Sample& sample : scrape.select("gapwatch_rule_segments", {{"rule", rule}})) {
    counts[sample.labels.at("status")] = sample.value;
  }
  return counts;
}

// segment → status of the per-segment series of `rule`.
std::map<std::string, std::string> segment_statuses(const Scrape& scrape,
                                                    const std::string& rule) {
  std::map<std::string, std::string> statuses;
  for (const Sample& sample : scrape.select("gapwatch_rule_segment_status", {{"rule", rule}})) {
    CHECK(sample.value == 1);
    statuses[sample.labels.at("segment")] = sample.labels.at("status");
  }
  return statuses;
}

TEST_CASE("metrics: a segmented rule counts 0 segments of every status before its first result") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  const Scrape scrape(metrics);
  CHECK(segment_counts(scrape, "orders") ==
        std::map<std::string, double>{{"error", 0}, {"fail", 0}, {"pass", 0}, {"warn", 0}});
  CHECK_FALSE(scrape.has("gapwatch_rule_segment_status"));
}

TEST_CASE("metrics: a rule without segment_by has no segment series") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  metrics.record_result(result_for("orders", Status::fail));
  const Scrape scrape(metrics);
  CHECK_FALSE(scrape.has("gapwatch_rule_segments"));
  CHECK_FALSE(scrape.has("gapwatch_rule_segment_status"));
  CHECK_FALSE(scrape.has("gapwatch_rule_segment_observed_value"));
}

TEST_CASE("metrics: segments are counted per status and only failing or warning ones have series") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  metrics.record_result(segmented_result("orders", {{"AT", Status::pass},
                                                    {"DE", Status::pass},
                                                    {"FR", Status::fail},
                                                    {std::nullopt, Status::fail},
                                                    {"IT", Status::warn}}));
  const Scrape scrape(metrics);
  CHECK(segment_counts(scrape, "orders") ==
        std::map<std::string, double>{{"error", 0}, {"fail", 2}, {"pass", 2}, {"warn", 1}});
  CHECK(segment_statuses(scrape, "orders") ==
        std::map<std::string, std::string>{{"FR", "fail"}, {"IT", "warn"}, {"null", "fail"}});
  CHECK(scrape.value("gapwatch_rule_segment_observed_value", {{"rule", "orders"}, {"segment", "FR"}}) ==
        2);
  CHECK(scrape.value("gapwatch_rule_segment_observed_value", {{"rule", "orders"}, {"segment", "IT"}}) ==
        4);
  CHECK(scrape.select("gapwatch_rule_segment_observed_value").size() == 3);
  // Per-segment series carry the rule's labels too.
  for (const Sample& sample : scrape.select("gapwatch_rule_segment_status")) {
    CHECK(has_labels(sample, {{"check", "row_count"}, {"warehouse", "shop"},
                              {"table", "analytics.events"}, {"severity", "critical"}}));
  }
}

TEST_CASE("metrics: a segment that recovers loses its series at the next evaluation") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  metrics.record_result(
      segmented_result("orders", {{"DE", Status::warn}, {"FR", Status::fail}}));
  REQUIRE(segment_statuses(Scrape(metrics), "orders").size() == 2);

  metrics.record_result(
      segmented_result("orders", {{"DE", Status::fail}, {"FR", Status::pass}}));
  const Scrape scrape(metrics);
  CHECK(segment_statuses(scrape, "orders") ==
        std::map<std::string, std::string>{{"DE", "fail"}});
  CHECK(scrape.with({{"segment", "FR"}}).empty());
  CHECK(segment_counts(scrape, "orders") ==
        std::map<std::string, double>{{"error", 0}, {"fail", 1}, {"pass", 1}, {"warn", 0}});

  SUBCASE("and all of them once every segment passes") {
    metrics.record_result(
        segmented_result("orders", {{"DE", Status::pass}, {"FR", Status::pass}}));
    const Scrape passing(metrics);
    CHECK(passing.with({{"rule", "orders"}, {"segment", "DE"}}).empty());
    CHECK(segment_counts(passing, "orders").at("pass") == 2);
  }
}

TEST_CASE("metrics: an error result keeps the segment series of the last judgement") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  metrics.record_result(segmented_result("orders", {{"FR", Status::fail}}));
  metrics.record_result(result_for("orders", Status::error, kNow + minutes{5}));
  const Scrape scrape(metrics);
  CHECK(segment_statuses(scrape, "orders") ==
        std::map<std::string, std::string>{{"FR", "fail"}});
  CHECK(segment_counts(scrape, "orders").at("fail") == 1);
  CHECK(segment_counts(scrape, "orders").at("error") == 0);
}

TEST_CASE("metrics: segments of several columns are one label, their values joined") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders", {"country", "channel"})});
  RuleResult result = result_for("orders", Status::fail);
  result.verdict.segments = {SegmentVerdict{{"FR", std::nullopt}, Status::fail, 0, "dark"}};
  metrics.record_result(result);
  CHECK(segment_statuses(Scrape(metrics), "orders") ==
        std::map<std::string, std::string>{{"FR, null", "fail"}});
}

TEST_CASE("metrics: segments whose names coincide make one series with the worse status") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  // A NULL country and the text "null" are both named null.
  metrics.record_result(
      segmented_result("orders", {{std::nullopt, Status::warn}, {"null", Status::fail}}));
  const Scrape scrape(metrics);
  CHECK(segment_statuses(scrape, "orders") ==
        std::map<std::string, std::string>{{"null", "fail"}});
  CHECK(scrape.select("gapwatch_rule_segment_observed_value").size() == 1);
  CHECK(segment_counts(scrape, "orders").at("fail") == 1);
  CHECK(segment_counts(scrape, "orders").at("warn") == 1);
}

TEST_CASE("metrics: segment values are escaped label values and sit in name order") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  const std::string nasty = "a \"quoted\" \\ back\nslash {} }{ ,= #";
  metrics.record_result(segmented_result("orders", {{nasty, Status::fail}}));
  const std::string text = metrics.render();
  const Scrape scrape(metrics);
  CHECK(segment_statuses(scrape, "orders") == std::map<std::string, std::string>{{nasty, "fail"}});
  CHECK(text.find("gapwatch_rule_segment_status{check=\"row_count\",rule=\"orders\",segment=\"a "
                  "\\\"quoted\\\" \\\\ back\\nslash {} }{ ,= #\",severity=\"critical\","
                  "status=\"fail\",table=\"analytics.events\",warehouse=\"shop\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("gapwatch_rule_segment_observed_value{check=\"row_count\",rule=\"orders\","
                  "segment=\"a \\\"quoted\\\" \\\\ back\\nslash {} }{ ,= #\",severity=") !=
        std::string::npos);
  // Every line is a whole sample or comment: the newline did not split one.
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    CHECK_MESSAGE((line.starts_with("#") || line.starts_with("gapwatch_")), line);
  }
}

TEST_CASE("metrics: a rule whose every segment fails has two series per segment, plus four") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  std::vector<std::pair<SegmentValue, Status>> segments;
  for (int i = 0; i < kDefaultMaxSegments; ++i) {
    segments.emplace_back(fmt::format("segment {}", i), Status::fail);
  }
  metrics.record_result(segmented_result("orders", segments));
  const Scrape scrape(metrics);
  CHECK(scrape.select("gapwatch_rule_segment_status").size() == 1000);
  CHECK(scrape.select("gapwatch_rule_segment_observed_value").size() == 1000);
  CHECK(scrape.select("gapwatch_rule_segments").size() == 4);
  CHECK(segment_counts(scrape, "orders").at("fail") == 1000);
}

TEST_CASE("metrics: bytes of a segment value that are not UTF-8 become U+FFFD in its label") {
  // Prometheus rejects the whole scrape over one label value that is not
  // UTF-8; a Latin-1 warehouse hands such values over.
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  metrics.record_result(segmented_result(
      "orders", {{"caf\xe9", Status::fail}, {"\xc3", Status::fail}, {"\xe2\x82", Status::warn},
                 {"ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", Status::fail}}));
  CHECK(segment_statuses(Scrape(metrics), "orders") ==
        std::map<std::string, std::string>{{"caf\xef\xbf\xbd", "fail"},
                                           {"\xef\xbf\xbd", "fail"},
                                           {"\xef\xbf\xbd\xef\xbf\xbd", "warn"},
                                           {"ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "fail"}});
}

TEST_CASE("metrics: a reload that changes a rule's segment_by drops its segment series") {
  Metrics metrics;
  metrics.set_rules({segmented_config("orders")});
  metrics.record_result(segmented_result("orders", {{"FR", Status::fail}}));
  REQUIRE(Scrape(metrics).has("gapwatch_rule_segment_status"));

  SUBCASE("to other columns") {
    metrics.set_rules({segmented_config("orders", {"channel"})});
    const Scrape scrape(metrics);
    CHECK_FALSE(scrape.has("gapwatch_rule_segment_status"));
    CHECK(segment_counts(scrape, "orders").at("fail") == 0);
  }
  SUBCASE("to none") {
    metrics.set_rules({rule_config("orders")});
    const Scrape scrape(metrics);
    CHECK_FALSE(scrape.has("gapwatch_rule_segment_status"));
    CHECK_FALSE(scrape.has("gapwatch_rule_segments"));
  }
  SUBCASE("but an unchanged rule keeps them") {
    metrics.set_rules({segmented_config("orders")});
    CHECK(segment_statuses(Scrape(metrics), "orders") ==
          std::map<std::string, std::string>{{"FR", "fail"}});
  }
  SUBCASE("and a removed rule loses them") {
    metrics.set_rules({rule_config("events")});
    CHECK(Scrape(metrics).with(kOrders).empty());
  }
}

// ---------------------------------------------------------------------------
// Reloads

TEST_CASE("metrics: set_rules removing a rule removes every one of its series") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders", CheckKind::freshness), rule_config("events")});
  RuleResult result = result_for("orders", Status::fail);
  result.check = CheckKind::freshness;
  result.verdict.observed = 9000;
  result.verdict.newest_row = kNow - hours{3};
  result.verdict.windows = {Window{kNow - hours{3}, kNow, Status::fail}};
  metrics.record_result(result);
  metrics.record_result(result_for("orders", Status::pass));
  metrics.set_next_evaluation("orders", kNow + minutes{5});
  metrics.record_skipped("orders");
  metrics.record_incident_opened("orders");
  metrics.set_incidents({{"orders", true}});
  REQUIRE(Scrape(metrics).with(kOrders).size() == 18);

  metrics.set_rules({rule_config("events")});
  const Scrape scrape(metrics);
  CHECK(scrape.with(kOrders).empty());
  CHECK(scrape.value("gapwatch_rule_status", {{"rule", "events"}, {"status", "pass"}}) == 0);
  // Per-warehouse series stay: the warehouse is still there.
  CHECK(scrape.value("gapwatch_warehouse_up", {{"warehouse", "shop"}}) == 1);
}

TEST_CASE("metrics: a warehouse no rule uses any more loses its up series") {
  Metrics metrics;
  RuleConfig on_lake = rule_config("events");
  on_lake.spec.warehouse = "lake";
  metrics.set_rules({rule_config("orders"), on_lake});
  RuleResult down = result_for("events", Status::error);
  down.warehouse = "lake";
  down.query = QueryOutcome::not_run;
  metrics.record_result(down);
  metrics.record_result(result_for("orders", Status::pass));
  REQUIRE(Scrape(metrics).value("gapwatch_warehouse_up", {{"warehouse", "lake"}}) == 0);

  metrics.set_rules({rule_config("orders")});
  const Scrape scrape(metrics);
  CHECK_FALSE(scrape.has("gapwatch_warehouse_up", {{"warehouse", "lake"}}));
  CHECK(scrape.value("gapwatch_warehouse_up", {{"warehouse", "shop"}}) == 1);
  CHECK(metrics.warehouses_up() == std::map<std::string, bool>{{"shop", true}});

  SUBCASE("and a late result of the removed rule does not bring it back") {
    metrics.record_result(down);
    CHECK_FALSE(Scrape(metrics).has("gapwatch_warehouse_up", {{"warehouse", "lake"}}));
    CHECK(metrics.warehouses_up() == std::map<std::string, bool>{{"shop", true}});
  }
}

TEST_CASE("metrics: a rule whose labels change gets new series and loses the old ones") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders", CheckKind::row_count, {{"team", "a"}})});
  metrics.record_result(result_for("orders", Status::fail));
  metrics.set_rules({rule_config("orders", CheckKind::row_count, {{"team", "b"}})});
  const Scrape scrape(metrics);
  CHECK(scrape.with({{"team", "a"}}).empty());
  CHECK(scrape.value("gapwatch_rule_status",
                     {{"rule", "orders"}, {"team", "b"}, {"status", "fail"}}) == 0);
  CHECK(scrape.value("gapwatch_rule_evaluations_total",
                     {{"rule", "orders"}, {"team", "b"}, {"result", "fail"}}) == 0);
  CHECK_FALSE(scrape.has("gapwatch_rule_last_evaluation_timestamp_seconds", kOrders));
}

TEST_CASE("metrics: a rule whose check or severity changes gets new series") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders")});
  RuleConfig changed = rule_config("orders");
  changed.spec.severity = Severity::info;
  metrics.set_rules({changed});
  const Scrape scrape(metrics);
  CHECK(scrape.select("gapwatch_rule_status", kOrders).size() == 4);
  CHECK(scrape.select("gapwatch_rule_status", {{"rule", "orders"}, {"severity", "info"}}).size() ==
        4);
}

TEST_CASE("metrics: an unchanged rule keeps its series and counters across set_rules") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders", CheckKind::row_count, {{"team", "a"}})});
  metrics.record_result(result_for("orders", Status::fail));
  metrics.set_rules(
      {rule_config("orders", CheckKind::row_count, {{"team", "a"}}), rule_config("events")});
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_rule_evaluations_total", {{"rule", "orders"}, {"result", "fail"}}) ==
        1);
  CHECK(scrape.value("gapwatch_rule_status", {{"rule", "orders"}, {"status", "fail"}}) == 1);
  CHECK(scrape.has("gapwatch_rule_last_evaluation_timestamp_seconds", kOrders));
}

// ---------------------------------------------------------------------------
// Incidents, deliveries, warehouses, config, build

TEST_CASE("metrics: set_incidents marks open and escalated rules and clears the others") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders"), rule_config("events"), rule_config("users")});
  metrics.set_incidents({{"orders", false}, {"events", true}, {"not_configured", true}});
  Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_incident_open", kOrders) == 1);
  CHECK(scrape.value("gapwatch_incident_escalated", kOrders) == 0);
  CHECK(scrape.value("gapwatch_incident_open", {{"rule", "events"}}) == 1);
  CHECK(scrape.value("gapwatch_incident_escalated", {{"rule", "events"}}) == 1);
  CHECK(scrape.value("gapwatch_incident_open", {{"rule", "users"}}) == 0);
  CHECK(scrape.with({{"rule", "not_configured"}}).empty());

  metrics.set_incidents({});
  scrape = Scrape(metrics);
  for (const Sample& sample : scrape.select("gapwatch_incident_open")) {
    CHECK_MESSAGE(sample.value == 0, sample.labels.at("rule"));
  }
  for (const Sample& sample : scrape.select("gapwatch_incident_escalated")) {
    CHECK_MESSAGE(sample.value == 0, sample.labels.at("rule"));
  }
}

TEST_CASE("metrics: deliveries are counted by executor and outcome") {
  Metrics metrics;
  metrics.record_delivery("reload", DispatchOutcome::Kind::ran);
  metrics.record_delivery("reload", DispatchOutcome::Kind::ran);
  metrics.record_delivery("reload", DispatchOutcome::Kind::retry);
  metrics.record_delivery("hook", DispatchOutcome::Kind::accepted);
  metrics.record_delivery("hook", DispatchOutcome::Kind::rejected);
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_backfill_requests_total",
                     {{"executor", "reload"}, {"outcome", "ran"}}) == 2);
  CHECK(scrape.value("gapwatch_backfill_requests_total",
                     {{"executor", "reload"}, {"outcome", "retry"}}) == 1);
  CHECK(scrape.value("gapwatch_backfill_requests_total",
                     {{"executor", "hook"}, {"outcome", "accepted"}}) == 1);
  CHECK(scrape.value("gapwatch_backfill_requests_total",
                     {{"executor", "hook"}, {"outcome", "rejected"}}) == 1);
  CHECK(scrape.select("gapwatch_backfill_requests_total").size() == 4);
}

TEST_CASE("metrics: in-flight deliveries and the outbox are gauges") {
  Metrics metrics;
  CHECK(Scrape(metrics).value("gapwatch_backfill_outbox_pending") == 0);
  metrics.set_in_flight("reload", 2);
  metrics.set_outbox_pending(5);
  Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_backfill_requests_in_flight", {{"executor", "reload"}}) == 2);
  CHECK(scrape.value("gapwatch_backfill_outbox_pending") == 5);
  metrics.set_in_flight("reload", 0);
  CHECK(Scrape(metrics).value("gapwatch_backfill_requests_in_flight", {{"executor", "reload"}}) ==
        0);
}

TEST_CASE("metrics: warehouse_up follows whether the last evaluation reached the warehouse") {
  Metrics metrics;
  RuleConfig on_lake = rule_config("events");
  on_lake.spec.warehouse = "lake";
  metrics.set_rules({rule_config("orders"), on_lake});
  CHECK(metrics.warehouses_up().empty());
  CHECK_FALSE(Scrape(metrics).has("gapwatch_warehouse_up"));

  RuleResult down = result_for("orders", Status::error);
  down.query = QueryOutcome::not_run;
  metrics.record_result(down);
  CHECK(metrics.warehouses_up() == std::map<std::string, bool>{{"shop", false}});
  CHECK(Scrape(metrics).value("gapwatch_warehouse_up", {{"warehouse", "shop"}}) == 0);

  SUBCASE("a query error still means the warehouse was reached") {
    metrics.record_result(result_for("orders", Status::error));  // QueryOutcome::error
    CHECK(metrics.warehouses_up() == std::map<std::string, bool>{{"shop", true}});
    CHECK(Scrape(metrics).value("gapwatch_warehouse_up", {{"warehouse", "shop"}}) == 1);
  }
  SUBCASE("warehouses are tracked separately") {
    RuleResult other = result_for("events", Status::pass);
    other.warehouse = "lake";
    metrics.record_result(other);
    CHECK(metrics.warehouses_up() == std::map<std::string, bool>{{"lake", true}, {"shop", false}});
  }
}

TEST_CASE("metrics: queries and durations are recorded per warehouse") {
  Metrics metrics;
  metrics.record_result(result_for("orders", Status::pass));
  metrics.record_result(result_for("orders", Status::pass));
  RuleResult timeout = result_for("orders", Status::error);
  timeout.query = QueryOutcome::timeout;
  timeout.duration = milliseconds{1500};
  metrics.record_result(timeout);
  const Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_queries_total", {{"warehouse", "shop"}, {"result", "ok"}}) == 2);
  CHECK(scrape.value("gapwatch_queries_total", {{"warehouse", "shop"}, {"result", "timeout"}}) ==
        1);
  CHECK(scrape.value("gapwatch_rule_evaluation_duration_seconds_count", {{"warehouse", "shop"}}) ==
        3);
  CHECK(scrape.value("gapwatch_rule_evaluation_duration_seconds_sum", {{"warehouse", "shop"}}) ==
        doctest::Approx(2.0));
  CHECK(scrape.value("gapwatch_rule_evaluation_duration_seconds_bucket",
                     {{"warehouse", "shop"}, {"le", "0.25"}}) == 2);
  CHECK(scrape.value("gapwatch_rule_evaluation_duration_seconds_bucket",
                     {{"warehouse", "shop"}, {"le", "1"}}) == 2);
  CHECK(scrape.value("gapwatch_rule_evaluation_duration_seconds_bucket",
                     {{"warehouse", "shop"}, {"le", "+Inf"}}) == 3);
}

TEST_CASE("metrics: config reloads set the success gauge and, when successful, the timestamp") {
  Metrics metrics;
  metrics.set_config_reload(true, kNow);
  Scrape scrape(metrics);
  CHECK(scrape.value("gapwatch_config_last_reload_successful") == 1);
  CHECK(scrape.value("gapwatch_config_last_reload_success_timestamp_seconds") ==
        epoch_seconds(kNow));
  metrics.set_config_reload(false, kNow + minutes{1});
  scrape = Scrape(metrics);
  CHECK(scrape.value("gapwatch_config_last_reload_successful") == 0);
  CHECK(scrape.value("gapwatch_config_last_reload_success_timestamp_seconds") ==
        epoch_seconds(kNow));
}

TEST_CASE("metrics: build_info is 1 with the version as a label") {
  const Metrics metrics;
  const Scrape scrape(metrics);
  const std::vector<Sample> info = scrape.select("gapwatch_build_info");
  REQUIRE(info.size() == 1);
  CHECK(info.front().labels == Labels{{"version", GAPWATCH_VERSION}});
  CHECK(info.front().value == 1);
}

TEST_CASE("metrics: the page written in pieces is the whole page, each family in one run") {
  Metrics metrics;
  std::vector<RuleConfig> rules;
  for (int i = 0; i < 3000; ++i) {
    rules.push_back(
        rule_config(fmt::format("rule_{:05}", i), CheckKind::row_count, {{"team", "growth"}}));
  }
  metrics.set_rules(rules);
  for (const RuleConfig& rule : rules) {
    metrics.record_result(result_for(rule.spec.name, Status::pass));
  }
  std::vector<std::string> pieces;
  metrics.render([&](std::string_view piece) {
    pieces.emplace_back(piece);
    return true;
  });
  REQUIRE(pieces.size() > 1);
  std::string whole;
  for (const std::string& piece : pieces) {
    CHECK(piece.size() <= Metrics::kRenderPieceSize + 64 * 1024);
    CHECK(piece.back() == '\n');  // pieces end between lines
    whole += piece;
  }
  CHECK(whole == metrics.render());
  // The text format wants a family's samples together: once a name ends, it
  // does not come back.
  std::set<std::string> ended;
  std::string current;
  for (const Sample& sample : parse_exposition(whole)) {
    if (sample.name != current) {
      CHECK_MESSAGE(!ended.contains(sample.name), sample.name);
      if (!current.empty()) {
        ended.insert(current);
      }
      current = sample.name;
    }
  }
  const Scrape scrape(metrics);
  CHECK(scrape.select("gapwatch_rule_status").size() == 3000 * 4);
  SUBCASE("a writer that fails stops the rendering") {
    int calls = 0;
    metrics.render([&](std::string_view) {
      ++calls;
      return false;
    });
    CHECK(calls == 1);
  }
  CHECK(scrape.value("gapwatch_rule_status", {{"rule", "rule_02999"}, {"status", "pass"}}) == 1);
}

TEST_CASE("metrics: every family has HELP and TYPE and a gapwatch_ name") {
  Metrics metrics;
  metrics.set_rules({rule_config("orders", CheckKind::freshness)});
  RuleResult result = result_for("orders", Status::pass);
  result.check = CheckKind::freshness;
  result.verdict.observed = 60;
  result.verdict.newest_row = kNow - minutes{1};
  BucketVerdict& bucket = result.verdict.buckets.emplace_back();
  bucket.value = 10;
  bucket.expected = 12;
  bucket.lower = 2;
  bucket.upper = 22;
  metrics.record_result(result);
  metrics.set_next_evaluation("orders", kNow + minutes{5});
  metrics.record_delivery("reload", DispatchOutcome::Kind::ran);
  metrics.set_in_flight("reload", 1);
  metrics.set_config_reload(true, kNow);
  const std::string text = metrics.render();
  std::istringstream lines(text);
  std::string line;
  std::map<std::string, std::string> types;
  std::map<std::string, bool> helped;
  while (std::getline(lines, line)) {
    if (line.starts_with("# TYPE ")) {
      const std::string rest = line.substr(7);
      types[rest.substr(0, rest.find(' '))] = rest.substr(rest.find(' ') + 1);
    } else if (line.starts_with("# HELP ")) {
      const std::string rest = line.substr(7);
      helped[rest.substr(0, rest.find(' '))] = true;
    }
  }
  CHECK(types.size() == 28);  // every family, now that each has a series
  for (const auto& [name, type] : types) {
    CHECK_MESSAGE(name.starts_with("gapwatch_"), name);
    CHECK_MESSAGE(helped[name], name);
    if (type == "counter") {
      CHECK_MESSAGE(name.ends_with("_total"), name);
    }
  }
  CHECK(types["gapwatch_rule_evaluation_duration_seconds"] == "histogram");
  CHECK(types["gapwatch_rule_status"] == "gauge");
}

}  // namespace
}  // namespace gapwatch
