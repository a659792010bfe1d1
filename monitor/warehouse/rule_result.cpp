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
      severity(spec.severity),
      segment_by(spec.segment_by),
      reconciled(spec.source.has_value()) {}

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

nlohmann::json segment_to_json(const std::vector<std::string>& columns, const SegmentKey& segment) {
  if (segment.empty()) {
    return nullptr;
  }
  nlohmann::json json = nlohmann::json::object();
  for (std::size_t i = 0; i < segment.size(); ++i) {
    // A key longer than the columns would be a bug upstream; its extra
    // values still show, by position.
    const std::string column = i < columns.size() ? columns[i] : std::to_string(i);
    json[column] = segment[i] ? nlohmann::json(*segment[i]) : nlohmann::json(nullptr);
  }
  return json;
}

nlohmann::json result_to_json(const RuleResult& result, BucketList list) {
  const Verdict& verdict = result.verdict;
  const bool segmented = !result.segment_by.empty();
  // Each segment's object is built once: a segment has hundreds of buckets.
  std::vector<nlohmann::json> segment_keys;
  nlohmann::json segments = nlohmann::json::array();
  if (segmented) {
    segment_keys.reserve(verdict.segments.size());
    for (const SegmentVerdict& segment : verdict.segments) {
      segment_keys.push_back(segment_to_json(result.segment_by, segment.key));
      segments.push_back({{"segment", segment_keys.back()},
                          {"status", to_string(segment.status)},
                          {"observed", optional_number(segment.observed)},
                          {"message", segment.message}});
    }
  }
  nlohmann::json windows = nlohmann::json::array();
  for (const Window& window : verdict.windows) {
    nlohmann::json entry{{"start", format_rfc3339(window.start)},
                         {"end", format_rfc3339(window.end)},
                         {"status", to_string(window.status)}};
    if (segmented) {
      entry["segment"] = segment_to_json(result.segment_by, window.segment);
    }
    windows.push_back(std::move(entry));
  }
  nlohmann::json buckets = nlohmann::json::array();
  std::int64_t omitted = 0;
  for (const BucketVerdict& bucket : verdict.buckets) {
    if (segmented && list == BucketList::of_failing_segments &&
        bucket.segment < verdict.segments.size() &&
        verdict.segments[bucket.segment].status == Status::pass) {
      ++omitted;
      continue;
    }
    nlohmann::json entry{{"start", format_rfc3339(bucket.start)},
                         {"end", format_rfc3339(bucket.end)},
                         {"rows", bucket.rows},
                         {"nulls", bucket.nulls},
                         {"status", bucket.status ? to_string(*bucket.status) : "unjudged"}};
    if (segmented) {
      entry["segment"] =
          bucket.segment < segment_keys.size() ? segment_keys[bucket.segment] : nullptr;
    }
    if (result.reconciled || bucket.source_rows) {
      entry["source_rows"] =
          bucket.source_rows ? nlohmann::json(*bucket.source_rows) : nlohmann::json(nullptr);
    }
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
      {"labels", result.labels},
      {"evaluated_at", format_rfc3339(result.evaluated_at)},
      {"duration_ms", result.duration.count()},
      {"error", verdict.error ? nlohmann::json(*verdict.error) : nlohmann::json(nullptr)},
  };
  // Moved in, not copied through the initializer list above.
  json["windows"] = std::move(windows);
  json["buckets"] = std::move(buckets);
  if (segmented && list == BucketList::of_failing_segments) {
    json["omitted_buckets"] = omitted;
  }
  if (segmented) {
    json["segments"] = std::move(segments);
  }
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
