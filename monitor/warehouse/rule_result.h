// RuleResult: what one evaluation of one rule came to, and the identity of the
// rule it belongs to (shared with the status board's RuleStatus). Plain data;
// result_to_json is its one JSON form, used by `check --output json`, the HTTP
// API and the status page alike.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "rules/rule_spec.h"
#include "rules/verdict.h"
#include "triggers/redaction.h"

namespace gapwatch {

// What happened at the warehouse during one evaluation.
enum class QueryOutcome {
  not_run,   // no connection: the warehouse is down, refused us or dropped us
  ok,        // the statement ran
  error,     // the statement or a metadata call failed
  timeout,   // cancelled at query_timeout
  abandoned, // a call the warehouse never answered, not even its cancel: the
             // evaluation was given up (see Heartbeat); the warehouse counts as down
};
std::string_view to_string(QueryOutcome outcome);

// Which rule a result or a status is about.
struct RuleIdentity {
  RuleIdentity() = default;
  explicit RuleIdentity(const RuleSpec& spec);

  std::string rule;
  CheckKind check = CheckKind::freshness;
  std::string warehouse;
  std::string table;  // as displayed: schema.table
  Severity severity = Severity::warning;
  // A segmented rule: the columns its segments' values belong to, in key
  // order (RuleSpec::segment_by); empty for a rule without segments.
  std::vector<std::string> segment_by;
  // A reconciled rule (RuleSpec::source): its buckets carry source_rows.
  bool reconciled = false;
};

struct RuleResult : RuleIdentity {
  std::map<std::string, std::string> labels;
  Instant evaluated_at;
  std::chrono::milliseconds duration{0};
  Verdict verdict;
  QueryOutcome query = QueryOutcome::not_run;
};

// A rule without segments renders as it did before segments existed; a
// segmented one adds `segment` to every bucket and window and a `segments`
// list; a reconciled one adds `source_rows` to every bucket.
//
// A segmented rule has a bucket per segment and hour (1,000 segments × 720
// hours is a document of some 150 MB): the HTTP API, built per request,
// lists only the buckets of failing and warning segments and counts the rest
// (`omitted_buckets`); `check --output json` lists them all.
enum class BucketList { every, of_failing_segments };
nlohmann::json result_to_json(const RuleResult& result, BucketList list = BucketList::every);

// A segment as JSON, one member per column: {"country": "FR"}, null for a
// NULL value; null for the whole table (an empty key).
nlohmann::json segment_to_json(const std::vector<std::string>& columns, const SegmentKey& segment);

// `result` with secrets masked in its verdict's message and error: a driver's
// message may quote what the configuration gave it.
RuleResult redacted(RuleResult result, const Redactor& redactor);

}  // namespace gapwatch
