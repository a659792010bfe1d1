#include "rules/freshness.h"

#include <cmath>

#include <fmt/format.h>

#include "rules/counts.h"
#include "rules/duration.h"

namespace gapwatch {

namespace {

std::string format_age(double seconds) {
  return format_duration(std::chrono::seconds{static_cast<std::int64_t>(seconds)});
}

}  // namespace

Expected<QueryPlan> plan_freshness(const RuleSpec& spec, const PlanContext& context) {
  const Dialect& dialect = *context.dialect;
  QueryPlan plan;
  plan.encoding = context.encoding;
  plan.warehouse_zone = context.warehouse_zone;
  const std::string column = dialect.quote_identifier(*spec.timestamp_column);
  const std::string newest = fmt::format("MAX({})", column);
  const std::string table = dialect.quote_name(spec.table);
  const std::string placeholder = dialect.time_placeholder(context.encoding);
  plan.range_end = context.now + spec.future_tolerance;
  const Param range_end =
      dialect.time_param(*plan.range_end, context.encoding, context.warehouse_zone);
  // The raw maximum tells "no rows" apart from "a value that is not a time".
  // The rows left out for being too far ahead are counted by a subquery that
  // an index on the column answers as cheaply as the maximum.
  plan.sql = fmt::format("SELECT {}, {}, (SELECT COUNT(*) FROM {} WHERE {} >= {}{}) FROM {}",
                         newest, dialect.epoch_seconds(newest, context.encoding), table, column,
                         placeholder, spec.where ? fmt::format(" AND ({})", *spec.where) : "",
                         table);
  plan.params.push_back(range_end);
  std::vector<std::string> predicates;
  if (spec.lookback) {
    plan.range_start = context.now - *spec.lookback;
    predicates.push_back(fmt::format("{} >= {}", column, placeholder));
    plan.params.push_back(
        dialect.time_param(*plan.range_start, context.encoding, context.warehouse_zone));
  }
  predicates.push_back(fmt::format("{} < {}", column, placeholder));
  plan.params.push_back(range_end);
  if (spec.where) {
    predicates.push_back(fmt::format("({})", *spec.where));
  }
  if (!predicates.empty()) {
    plan.sql += fmt::format(" WHERE {}", fmt::join(predicates, " AND "));
  }
  return plan;
}

Verdict judge_freshness(const RuleSpec& spec, const QueryPlan& plan, const ResultRows& rows,
                        Instant now) {
  if (rows.size() != 1 || rows.front().size() != 3) {
    return error_verdict("the warehouse returned an unexpected result shape for max()");
  }
  const Cell& raw = rows.front()[0];
  const Cell& epoch_cell = rows.front()[1];
  const std::optional<std::int64_t> counted_ahead = parse_integer(rows.front()[2]);
  if (!counted_ahead || *counted_ahead < 0) {
    return error_verdict("the warehouse returned an unexpected result shape for max()");
  }
  const std::int64_t ahead = *counted_ahead;
  const std::string ahead_note =
      ahead == 0 ? std::string()
                 : fmt::format("; {} {} dated more than {} in the future and left out",
                               ahead, ahead == 1 ? "row" : "rows",
                               format_duration(spec.future_tolerance));
  Verdict verdict;
  if (!raw) {
    verdict.status = Status::fail;
    verdict.message =
        spec.lookback
            ? fmt::format("no rows with a {} in the last {}", *spec.timestamp_column,
                          format_duration(*spec.lookback))
            : fmt::format("no rows with a non-NULL {}", *spec.timestamp_column);
    verdict.message += ahead_note;
    if (plan.range_start) {
      verdict.windows.push_back(Window{*plan.range_start, now, Status::fail});
    }
    return verdict;
  }
  const auto epoch = parse_number(epoch_cell);
  if (!epoch) {
    return error_verdict(fmt::format(
        "newest {} '{}' cannot be read as a time (timestamp_format: {})", *spec.timestamp_column,
        *raw, to_string(spec.timestamp_format)));
  }
  const std::chrono::seconds seconds{static_cast<std::int64_t>(std::floor(*epoch))};
  const Instant newest = is_wall_clock(plan.encoding)
                             ? instant_from_wall_clock(seconds, plan.warehouse_zone)
                             : Instant{seconds};
  verdict.newest_row = newest;
  double age = static_cast<double>((now - newest).count());
  std::string future_note;
  if (age < 0) {
    future_note = fmt::format(" (newest row is {} in the future; counted as age 0)",
                              format_age(-age));
    age = 0;
  }
  verdict.observed = age;
  verdict.status = judge_value(spec.thresholds, age);
  verdict.message = fmt::format("newest row {} is {} old", format_rfc3339(newest), format_age(age));
  if (verdict.status == Status::fail) {
    verdict.message += fmt::format(" (fail above {})", format_age(*spec.thresholds.fail.max));
  } else if (verdict.status == Status::warn) {
    verdict.message += fmt::format(" (warn above {})", format_age(*spec.thresholds.warn->max));
  }
  verdict.message += future_note;
  verdict.message += ahead_note;
  if (verdict.status != Status::pass) {
    verdict.windows.push_back(Window{newest, now, verdict.status});
  }
  return verdict;
}

}  // namespace gapwatch
