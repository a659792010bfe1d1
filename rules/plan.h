// QueryPlan: the one SQL statement a rule runs per evaluation, its bound
// parameters, and what judging the returned rows needs to know. Rules build
// plans and read results; the monitor runs them. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/buckets.h"
#include "rules/dialect.h"
#include "rules/time.h"

namespace gapwatch {

struct BaselineHistory;

using Cell = std::optional<std::string>;  // empty: SQL NULL
using ResultRow = std::vector<Cell>;
using ResultRows = std::vector<ResultRow>;

// What the rule needs to know about the warehouse to plan its statement.
struct PlanContext {
  const Dialect* dialect = nullptr;
  TimeEncoding encoding = TimeEncoding::instant;  // of the rule's timestamp column
  const TimeZone* warehouse_zone = nullptr;       // zone of wall-clock columns
  Instant now;
  // A rule with a baseline: what the monitor kept of its history (null: nothing
  // kept, as for `check`). Decides how far back the statement reads.
  const BaselineHistory* history = nullptr;
};

struct QueryPlan {
  std::string sql;
  std::vector<Param> params;
  // The time range the statement reads, [range_start, range_end); empty ends
  // are unbounded.
  std::optional<Instant> range_start;
  std::optional<Instant> range_end;
  // Partitioned rules: the judged buckets, oldest first, and how the granule
  // index in each result row maps to an instant.
  std::vector<Bucket> buckets;
  GranuleMap granules;
  // A rule with a baseline: the buckets before the judged ones that the
  // statement reads too (history not kept yet), oldest first, and the kept
  // history the judgement learns from (owned by the caller).
  std::vector<Bucket> history_buckets;
  const BaselineHistory* history = nullptr;
  // A segmented rule: the statement's rows carry the segment_by columns after
  // the granule, and more distinct segments than max_segments are an error.
  std::size_t segment_columns = 0;
  int max_segments = 0;
  // How to read times returned by the statement.
  TimeEncoding encoding = TimeEncoding::instant;
  const TimeZone* warehouse_zone = nullptr;
};

// Numbers as drivers return them in text: "42", "42.0", "1732345200.000000".
std::optional<double> parse_number(const Cell& cell);
std::optional<std::int64_t> parse_integer(const Cell& cell);

}  // namespace gapwatch
