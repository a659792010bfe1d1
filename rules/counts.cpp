#include "rules/counts.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <unordered_map>
#include <utility>

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
    // Segment columns are selected and grouped by as quoted identifiers; their
    // values come back as data and never enter SQL.
    std::vector<std::string> grouped{granule};
    std::string segments;
    for (const std::string& column : spec.segment_by) {
      grouped.push_back(dialect.quote_identifier(column));
      segments += fmt::format(", {}", grouped.back());
    }
    plan.segment_columns = spec.segment_by.size();
    plan.max_segments = spec.max_segments;
    plan.sql = fmt::format("SELECT {} AS granule{}, {} FROM {}{} {}", granule, segments, counts,
                           dialect.quote_name(spec.table), where_clause(predicates),
                           dialect.group_by(grouped));
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

namespace {

struct Counts {
  std::int64_t rows = 0;
  std::int64_t nulls = 0;
};

// Hashes and compares a segment's cells in a result row without copying them.
struct CellsHash {
  using is_transparent = void;
  std::size_t operator()(std::span<const Cell> cells) const {
    return SegmentKeyHash{}(cells);
  }
  std::size_t operator()(const SegmentKey& key) const { return SegmentKeyHash{}(key); }
};
struct CellsEqual {
  using is_transparent = void;
  static bool equal(std::span<const Cell> a, std::span<const Cell> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  bool operator()(const SegmentKey& a, const SegmentKey& b) const { return a == b; }
  bool operator()(std::span<const Cell> a, const SegmentKey& b) const { return equal(a, b); }
  bool operator()(const SegmentKey& a, std::span<const Cell> b) const { return equal(a, b); }
};

// Counts per segment (one for an unsegmented plan) and bucket of the range
// read, gathered from one or two statements over the same buckets.
class Accumulator {
 public:
  Accumulator(const QueryPlan& plan, std::size_t sides)
      : m_plan(plan), m_sides(sides) {
    m_read = plan.history_buckets;
    m_read.insert(m_read.end(), plan.buckets.begin(), plan.buckets.end());
    if (plan.segment_columns == 0) {
      add_segment(SegmentKey{});
    }
  }

  Expected<void> add(std::size_t side, const QueryPlan& plan, const ResultRows& rows,
                     Counted counted) {
    const bool with_nulls = counted == Counted::rows_and_non_nulls;
    const std::size_t segment_columns = plan.segment_columns;
    const std::size_t columns = 1 + segment_columns + (with_nulls ? 2 : 1);
    std::vector<std::int32_t> bucket_of_granule;  // -2: not looked up yet
    std::int64_t unreadable = 0;
    for (const ResultRow& row : rows) {
      if (row.size() != columns) {
        return fail(fmt::format("the warehouse returned {} columns, expected {}", row.size(),
                                columns));
      }
      const Cell& count_cell = row[1 + segment_columns];
      const auto count = parse_integer(count_cell);
      const auto non_null = with_nulls ? parse_integer(row[2 + segment_columns]) : count;
      if (!count || !non_null) {
        return fail("the warehouse returned a count that is not a number");
      }
      if (*count < 0 || *non_null < 0 || *non_null > *count) {
        return fail(fmt::format(
            "the warehouse returned inconsistent counts ({} rows, {} non-NULL)", *count,
            *non_null));
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
      const auto index = static_cast<std::int64_t>(std::floor(*granule));
      std::ptrdiff_t bucket = -1;
      // Granules repeat across segments: each is mapped to its bucket once.
      if (index >= 0 && index < kMaxCachedGranules) {
        const auto slot = static_cast<std::size_t>(index);
        if (slot >= bucket_of_granule.size()) {
          bucket_of_granule.resize(slot + 1, -2);
        }
        if (bucket_of_granule[slot] == -2) {
          bucket_of_granule[slot] = static_cast<std::int32_t>(
              find_bucket(m_read, plan.granules.start_of(index)));
        }
        bucket = bucket_of_granule[slot];
      } else {
        bucket = find_bucket(m_read, plan.granules.start_of(index));
      }
      if (bucket < 0) {
        continue;  // a wall-clock row in a repeated hour mapped just outside the range
      }
      std::size_t segment = 0;
      if (segment_columns > 0) {
        auto found = segment_of(std::span<const Cell>(row).subspan(1, segment_columns));
        if (!found) {
          return std::unexpected(found.error());
        }
        segment = *found;
      }
      Counts& counts = m_counts[segment][side * m_read.size() + static_cast<std::size_t>(bucket)];
      if (__builtin_add_overflow(counts.rows, *count, &counts.rows) ||
          __builtin_add_overflow(counts.nulls, *count - *non_null, &counts.nulls)) {
        return fail("the warehouse returned counts too large to add up");
      }
    }
    if (unreadable > 0) {
      return fail(fmt::format(
          "{} row(s) in the judged range have a timestamp that cannot be read as a time "
          "(text timestamps must look like 'YYYY-MM-DD HH:MM:SS')",
          unreadable));
    }
    return {};
  }

  // Segments known from elsewhere (a baseline's kept history).
  Expected<void> know(const std::vector<SegmentKey>& segments) {
    for (const SegmentKey& key : segments) {
      if (key.size() == m_plan.segment_columns) {
        auto found = segment_of(std::span<const Cell>(key));
        if (!found) {
          return std::unexpected(found.error());
        }
      }
    }
    return {};
  }

  // Side `side`'s counts, segments ordered by their values.
  RolledUp rolled_up(std::size_t side) const {
    RolledUp rolled;
    std::vector<std::size_t> order(m_keys.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return m_keys[a] < m_keys[b]; });
    if (m_plan.segment_columns > 0) {
      rolled.segments.reserve(order.size());
      for (const std::size_t index : order) {
        rolled.segments.push_back(m_keys[index]);
      }
    }
    const std::size_t history = m_plan.history_buckets.size();
    // No segment at all: the whole table's buckets, empty, are judged (a
    // table gone dark is not a pass for want of segments).
    const std::vector<Counts> none(order.empty() ? m_read.size() : 0);
    const std::size_t ranges = std::max<std::size_t>(order.size(), 1);
    rolled.judged.reserve(ranges * (m_read.size() - history));
    rolled.history.reserve(ranges * history);
    for (std::size_t position = 0; position < ranges; ++position) {
      const Counts* counts = order.empty() ? none.data()
                                           : m_counts[order[position]].data() + side * m_read.size();
      const auto segment = static_cast<std::uint32_t>(position);
      for (std::size_t i = 0; i < m_read.size(); ++i) {
        const Bucket& bucket = m_read[i];
        if (i < history) {
          rolled.history.emplace_back(bucket.start, bucket.end, counts[i].rows, counts[i].nulls,
                                      segment);
          continue;
        }
        BucketVerdict& verdict = rolled.judged.emplace_back();
        verdict.start = bucket.start;
        verdict.end = bucket.end;
        verdict.rows = counts[i].rows;
        verdict.nulls = counts[i].nulls;
        verdict.segment = segment;
      }
    }
    return rolled;
  }

 private:
  // A row's granule index maps to its bucket through a table up to this many
  // granules (a year of minutes), and by search beyond.
  static constexpr std::int64_t kMaxCachedGranules = 1 << 19;

  Expected<std::size_t> segment_of(std::span<const Cell> cells) {
    if (const auto found = m_index.find(cells); found != m_index.end()) {
      return found->second;
    }
    if (std::cmp_greater_equal(m_keys.size(), m_plan.max_segments)) {
      return fail(fmt::format(
          "more than max_segments ({}) distinct segments; raise max_segments or segment by "
          "fewer columns",
          m_plan.max_segments));
    }
    return add_segment(SegmentKey(cells.begin(), cells.end()));
  }

  std::size_t add_segment(SegmentKey key) {
    const std::size_t index = m_keys.size();
    m_index.emplace(key, index);
    m_keys.push_back(std::move(key));
    m_counts.emplace_back(m_sides * m_read.size());
    return index;
  }

  const QueryPlan& m_plan;
  std::size_t m_sides;
  std::vector<Bucket> m_read;
  std::vector<SegmentKey> m_keys;
  std::unordered_map<SegmentKey, std::size_t, CellsHash, CellsEqual> m_index;
  std::vector<std::vector<Counts>> m_counts;  // by segment, then side and bucket
};

}  // namespace

Expected<RolledUp> roll_up_counts(const QueryPlan& plan, const ResultRows& rows, Counted counted) {
  Accumulator accumulator(plan, 1);
  if (auto added = accumulator.add(0, plan, rows, counted); !added) {
    return std::unexpected(added.error());
  }
  if (plan.history != nullptr && plan.segment_columns > 0) {
    if (auto known = accumulator.know(plan.history->segments); !known) {
      return std::unexpected(known.error());
    }
  }
  return accumulator.rolled_up(0);
}

Expected<std::pair<RolledUp, RolledUp>> roll_up_pair(const QueryPlan& target,
                                                     const ResultRows& target_rows,
                                                     const QueryPlan& source,
                                                     const ResultRows& source_rows) {
  if (target.buckets != source.buckets || target.segment_columns != source.segment_columns ||
      !target.history_buckets.empty() || !source.history_buckets.empty()) {
    return fail("the source and the target were planned over different buckets");
  }
  Accumulator accumulator(target, 2);
  if (auto added = accumulator.add(0, target, target_rows, Counted::rows); !added) {
    return std::unexpected(added.error());
  }
  if (auto added = accumulator.add(1, source, source_rows, Counted::rows); !added) {
    return std::unexpected(Error::of("source: " + added.error().message));
  }
  return std::pair{accumulator.rolled_up(0), accumulator.rolled_up(1)};
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
