#include "rules/counts.h"

#include <cmath>

#include <fmt/format.h>

#include "rules/baseline.h"
#include "rules/buckets.h"

namespace gapwatch {

namespace {

// " WHERE a AND b" from the non-empty predicates.
std::string where_clause(const std::vector<std::string>& predicates) {
  if (predicates.empty()) {
    return {};
  }
  return fmt::format(" WHERE {}", fmt::join(predicates, " AND "));
}

std::string user_predicate(const RuleSpec& spec) { return fmt::format("({})", *spec.where); }

}  // namespace

Expected<QueryPlan> plan_counts(const RuleSpec& spec, const PlanContext& context,
                                const std::optional<std::string>& null_column) {
  const Dialect& dialect = *context.dialect;
  QueryPlan plan;
  plan.encoding = context.encoding;
  plan.warehouse_zone = context.warehouse_zone;

  std::string counts = "COUNT(*)";
  if (null_column) {
    counts += fmt::format(", COUNT({})", dialect.quote_identifier(*null_column));
  }
  std::vector<std::string> predicates;
  const auto add_range = [&](Instant start, Instant end) {
    const std::string column = dialect.quote_identifier(*spec.timestamp_column);
    const std::string placeholder = dialect.time_placeholder(context.encoding);
    predicates.push_back(fmt::format("{} >= {}", column, placeholder));
    predicates.push_back(fmt::format("{} < {}", column, placeholder));
    plan.params.push_back(dialect.time_param(start, context.encoding, context.warehouse_zone));
    plan.params.push_back(dialect.time_param(end, context.encoding, context.warehouse_zone));
    plan.range_start = start;
    plan.range_end = end;
  };

  if (spec.partition) {
    plan.buckets = judged_buckets(*spec.partition, context.now);
    if (plan.buckets.empty()) {
      return fail(fmt::format(
          "no whole {} bucket lies between now - lookback ({}) and now - delay; increase "
          "partition.lookback",
          bucket_adjective(spec.partition->every), format_rfc3339(context.now - spec.partition->lookback)));
    }
    Instant range_start = plan.buckets.front().start;
    if (spec.baseline) {
      plan.history = context.history;
      if (const auto from = history_read_from(spec, context.history, range_start, context.now)) {
        plan.history_buckets = buckets_within(*spec.partition, *from, range_start);
      }
      if (!plan.history_buckets.empty()) {
        range_start = plan.history_buckets.front().start;
      }
    }
    std::vector<Bucket> read = plan.history_buckets;
    read.insert(read.end(), plan.buckets.begin(), plan.buckets.end());
    plan.granules = choose_granules(read, context.encoding, context.warehouse_zone);
    add_range(range_start, plan.buckets.back().end);
    if (spec.where) {
      predicates.push_back(user_predicate(spec));
    }
    const std::string epoch =
        dialect.epoch_seconds(dialect.quote_identifier(*spec.timestamp_column), context.encoding);
    const std::string granule =
        dialect.floor_divide(fmt::format("{} - {}", epoch, plan.granules.base), plan.granules.size);
    plan.sql = fmt::format("SELECT {} AS granule, {} FROM {}{} {}", granule, counts,
                           dialect.quote_name(spec.table), where_clause(predicates),
                           dialect.group_by({granule}));
    return plan;
  }

  if (spec.lookback && spec.timestamp_column) {
    add_range(context.now - *spec.lookback, context.now);
  }
  if (spec.where) {
    predicates.push_back(user_predicate(spec));
  }
  plan.sql = fmt::format("SELECT {} FROM {}{}", counts, dialect.quote_name(spec.table),
                         where_clause(predicates));
  return plan;
}

Expected<RolledUp> roll_up_counts(const QueryPlan& plan, const ResultRows& rows, Counted counted) {
  const bool with_nulls = counted == Counted::rows_and_non_nulls;
  // The history buckets (if any) come first: together they are the range read.
  std::vector<Bucket> read = plan.history_buckets;
  read.insert(read.end(), plan.buckets.begin(), plan.buckets.end());
  std::vector<BucketVerdict> buckets;
  buckets.reserve(read.size());
  for (const Bucket& bucket : read) {
    BucketVerdict verdict;
    verdict.start = bucket.start;
    verdict.end = bucket.end;
    buckets.push_back(verdict);
  }
  const std::size_t columns = with_nulls ? 3 : 2;
  std::int64_t unreadable = 0;
  for (const ResultRow& row : rows) {
    if (row.size() != columns) {
      return fail(fmt::format("the warehouse returned {} columns, expected {}", row.size(),
                              columns));
    }
    const auto count = parse_integer(row[1]);
    const auto non_null = with_nulls ? parse_integer(row[2]) : count;
    if (!count || !non_null) {
      return fail("the warehouse returned a count that is not a number");
    }
    if (*count < 0 || *non_null < 0 || *non_null > *count) {
      return fail(fmt::format("the warehouse returned inconsistent counts ({} rows, {} non-NULL)",
                              *count, *non_null));
    }
    if (!row[0]) {
      if (__builtin_add_overflow(unreadable, *count, &unreadable)) {
        return fail("the warehouse returned counts too large to add up");
      }
      continue;
    }
    const auto granule = parse_number(row[0]);
    // Granules of the range read are small non-negative numbers; anything
    // else (and anything too large to convert) is not one of ours.
    if (!granule || *granule < -1.0 || *granule > 1e12) {
      return fail(fmt::format("the warehouse returned a granule '{}' that is not a number",
                              *row[0]));
    }
    const Instant start = plan.granules.start_of(static_cast<std::int64_t>(std::floor(*granule)));
    const std::ptrdiff_t index = find_bucket(read, start);
    if (index < 0) {
      continue;  // a wall-clock row in a repeated hour mapped just outside the range
    }
    BucketVerdict& bucket = buckets[static_cast<std::size_t>(index)];
    if (__builtin_add_overflow(bucket.rows, *count, &bucket.rows) ||
        __builtin_add_overflow(bucket.nulls, *count - *non_null, &bucket.nulls)) {
      return fail("the warehouse returned counts too large to add up");
    }
  }
  if (unreadable > 0) {
    return fail(fmt::format(
        "{} row(s) in the judged range have a timestamp that cannot be read as a time "
        "(text timestamps must look like 'YYYY-MM-DD HH:MM:SS')",
        unreadable));
  }
  RolledUp rolled;
  const auto judged_from = buckets.begin() + static_cast<std::ptrdiff_t>(plan.history_buckets.size());
  rolled.history.reserve(plan.history_buckets.size());
  for (auto bucket = buckets.begin(); bucket != judged_from; ++bucket) {
    rolled.history.emplace_back(bucket->start, bucket->end, bucket->rows, bucket->nulls);
  }
  rolled.judged.assign(std::make_move_iterator(judged_from), std::make_move_iterator(buckets.end()));
  return rolled;
}

Expected<TotalCounts> read_total_counts(const ResultRows& rows, Counted counted) {
  const bool with_nulls = counted == Counted::rows_and_non_nulls;
  const std::size_t columns = with_nulls ? 2 : 1;
  if (rows.size() != 1 || rows.front().size() != columns) {
    return fail("the warehouse returned an unexpected result shape for a count");
  }
  const auto count = parse_integer(rows.front()[0]);
  const auto non_null = with_nulls ? parse_integer(rows.front()[1]) : count;
  if (!count || !non_null) {
    return fail("the warehouse returned a count that is not a number");
  }
  if (*count < 0 || *non_null < 0 || *non_null > *count) {
    return fail(fmt::format("the warehouse returned inconsistent counts ({} rows, {} non-NULL)",
                            *count, *non_null));
  }
  return TotalCounts{*count, *count - *non_null};
}

std::string format_number(double value) {
  if (std::abs(value) < 1e15 && value == std::floor(value)) {
    return fmt::format("{}", static_cast<std::int64_t>(value));
  }
  return fmt::format("{:.4g}", value);
}

std::string format_percent(double ratio) { return fmt::format("{:.4g}%", ratio * 100.0); }

std::string describe_violation(const Bound& bound, std::string (*format)(double),
                               const std::string& unit) {
  const std::string suffix = unit.empty() ? "" : " " + unit;
  if (bound.min && bound.max) {
    return fmt::format("outside {}..{}{}", format(*bound.min), format(*bound.max), suffix);
  }
  if (bound.min) {
    return fmt::format("below {}{}", format(*bound.min), suffix);
  }
  if (bound.max) {
    return fmt::format("above {}{}", format(*bound.max), suffix);
  }
  return "out of bounds";
}

}  // namespace gapwatch
