#include "monitor/warehouse/rule_result.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace gapwatch {

namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
  if (!value) {
    return nullptr;
  }
  if (std::abs(*value) < 9e15 && *value == std::floor(*value)) {
    return static_cast<std::int64_t>(*value);
  }
  return *value;
}

}  // namespace

RuleIdentity::RuleIdentity(const RuleSpec& spec)
    : rule(spec.name),
      check(spec.check),
      warehouse(spec.warehouse),
      table(spec.table.display()),
      severity(spec.severity) {}

std::string_view to_string(QueryOutcome outcome) {
  switch (outcome) {
    case QueryOutcome::not_run:
      return "not_run";
    case QueryOutcome::ok:
      return "ok";
    case QueryOutcome::error:
      return "error";
    case QueryOutcome::timeout:
      return "timeout";
    case QueryOutcome::abandoned:
      return "abandoned";
  }
  return "?";
}

nlohmann::json result_to_json(const RuleResult& result) {
  const Verdict& verdict = result.verdict;
  nlohmann::json windows = nlohmann::json::array();
  for (const Window& window : verdict.windows) {
    windows.push_back({{"start", format_rfc3339(window.start)},
                       {"end", format_rfc3339(window.end)},
                       {"status", to_string(window.status)}});
  }
  nlohmann::json buckets = nlohmann::json::array();
  for (const BucketVerdict& bucket : verdict.buckets) {
    nlohmann::json entry{{"start", format_rfc3339(bucket.start)},
                         {"end", format_rfc3339(bucket.end)},
                         {"rows", bucket.rows},
                         {"nulls", bucket.nulls},
                         {"status", bucket.status ? to_string(*bucket.status) : "unjudged"}};
    // With a baseline: the expected value and its band, or how many
    // comparable buckets the bucket still lacks them for.
    if (bucket.expected) {
      entry["expected"] = *bucket.expected;
      entry["lower"] = *bucket.lower;
      entry["upper"] = *bucket.upper;
    }
    if (bucket.learning) {
      entry["learning"] = *bucket.learning;
    }
    buckets.push_back(std::move(entry));
  }
  nlohmann::json json = {
      {"rule", result.rule},
      {"check", to_string(result.check)},
      {"warehouse", result.warehouse},
      {"table", result.table},
      {"severity", to_string(result.severity)},
      {"status", to_string(verdict.status)},
      {"observed", optional_number(verdict.observed)},
      {"message", verdict.message},
      {"windows", windows},
      {"buckets", buckets},
      {"labels", result.labels},
      {"evaluated_at", format_rfc3339(result.evaluated_at)},
      {"duration_ms", result.duration.count()},
      {"error", verdict.error ? nlohmann::json(*verdict.error) : nlohmann::json(nullptr)},
  };
  if (result.check == CheckKind::freshness) {
    json["newest_row"] =
        verdict.newest_row ? nlohmann::json(format_rfc3339(*verdict.newest_row)) : nullptr;
  }
  return json;
}

RuleResult redacted(RuleResult result, const Redactor& redactor) {
  result.verdict.message = redactor.redact(std::move(result.verdict.message));
  if (result.verdict.error) {
    result.verdict.error = redactor.redact(std::move(*result.verdict.error));
  }
  return result;
}

}  // namespace gapwatch
