#include "rules/reconcile.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "rules/bucket_judgement.h"
#include "rules/buckets.h"
#include "rules/counts.h"

namespace gapwatch {

namespace {

// Consecutive judged buckets [first, last) compared as one.
struct Unit {
  std::size_t first = 0;
  std::size_t last = 0;
  bool judged = true;
};

// One bucket per unit, except where a repeated wall-clock hour of a side
// that reads wall clocks spans several: those are one unit.
std::vector<Unit> units_of(const std::vector<Bucket>& buckets, const QueryPlan& target,
                           const QueryPlan& source) {
  std::vector<Unit> units;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    units.push_back(Unit{i, i + 1, true});
  }
  if (buckets.empty()) {
    return units;
  }
  const Instant from = buckets.front().start;
  const Instant to = buckets.back().end;
  std::vector<Interval> repeated;
  for (const QueryPlan* side : {&target, &source}) {
    if (is_wall_clock(side->encoding) && side->warehouse_zone != nullptr) {
      const auto found = repeated_wall_clock(side->warehouse_zone, from, to);
      repeated.insert(repeated.end(), found.begin(), found.end());
    }
  }
  for (const Interval& interval : repeated) {
    std::size_t first = buckets.size(), last = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      if (buckets[i].start < interval.end && interval.start < buckets[i].end) {
        first = std::min(first, i);
        last = std::max(last, i + 1);
      }
    }
    if (first >= last) {
      continue;
    }
    const bool inside = interval.start >= from && interval.end <= to;
    // Merge every unit touching [first, last) into one.
    std::vector<Unit> merged;
    Unit joined{first, last, inside};
    for (const Unit& unit : units) {
      if (unit.last <= first || unit.first >= last) {
        merged.push_back(unit);
        continue;
      }
      joined.first = std::min(joined.first, unit.first);
      joined.last = std::max(joined.last, unit.last);
      joined.judged = joined.judged && unit.judged;
    }
    merged.push_back(joined);
    std::sort(merged.begin(), merged.end(),
              [](const Unit& a, const Unit& b) { return a.first < b.first; });
    units = std::move(merged);
  }
  return units;
}

bool exceeds(const std::optional<Allowance>& allowance, std::int64_t amount,
             std::int64_t source_rows) {
  if (!allowance) {
    return false;
  }
  const double allowed =
      allowance->share ? allowance->value * static_cast<double>(source_rows) : allowance->value;
  return static_cast<double>(amount) > allowed;
}

struct UnitCounts {
  std::int64_t rows = 0;
  std::int64_t source = 0;
  std::int64_t missing() const { return std::max<std::int64_t>(source - rows, 0); }
  std::int64_t extra() const { return std::max<std::int64_t>(rows - source, 0); }
};

Status judge_unit(const Thresholds& thresholds, const UnitCounts& counts) {
  const auto violates = [&](const Bound& bound) {
    return bound.violated_by(static_cast<double>(counts.rows)) ||
           exceeds(bound.missing, counts.missing(), counts.source) ||
           exceeds(bound.extra, counts.extra(), counts.source);
  };
  if (violates(thresholds.fail)) {
    return Status::fail;
  }
  if (thresholds.warn && violates(*thresholds.warn)) {
    return Status::warn;
  }
  return Status::pass;
}

std::string describe_allowance(const char* what, const Allowance& allowance) {
  return allowance.share ? fmt::format("more than {} of the source's rows {}",
                                       format_percent(allowance.value), what)
                         : fmt::format("more than {} rows {}", format_number(allowance.value), what);
}

std::string describe_reconciliation(const Bound& bound) {
  std::vector<std::string> parts;
  if (bound.has_static()) {
    parts.push_back(describe_violation(bound, format_number, "rows"));
  }
  if (bound.missing) {
    parts.push_back(describe_allowance("missing", *bound.missing));
  }
  if (bound.extra) {
    parts.push_back(describe_allowance("extra", *bound.extra));
  }
  return fmt::format("{}", fmt::join(parts, " or "));
}

// "2026-12-06 14:00-15:00" on the partition zone's wall clock.
std::string describe_range(Instant start, Instant end, const TimeZone* zone) {
  const std::string from = format_wall_clock(start, zone);
  const std::string to = format_wall_clock(end, zone);
  if (from.substr(0, 10) == to.substr(0, 10)) {
    return fmt::format("{}-{}", from.substr(0, 16), to.substr(11, 5));
  }
  return fmt::format("{} to {}", from.substr(0, 16), to.substr(0, 16));
}

// "2026-12-06 14:00-15:00: 115 of 120 source rows", "…: 125 rows, 120 in
// the source (5 extra)".
std::string describe_unit(Instant start, Instant end, const UnitCounts& counts,
                          const TimeZone* zone) {
  const std::string range = describe_range(start, end, zone);
  if (counts.extra() > 0) {
    return fmt::format("{}: {} rows, {} in the source ({} extra)", range, counts.rows,
                       counts.source, counts.extra());
  }
  return fmt::format("{}: {} of {} source rows", range, counts.rows, counts.source);
}

struct Outcome {
  Status status = Status::pass;
  std::int64_t worst_amount = -1;
  std::string message;
};

// Judges the units of one segment (or of the rule), writing each bucket's
// status; `source` holds the source's buckets in the same order.
Outcome judge_units(const RuleSpec& spec, const std::vector<Unit>& units,
                    std::span<BucketVerdict> buckets, std::span<const BucketVerdict> source) {
  Outcome outcome;
  std::size_t failing = 0, warning = 0;
  UnitCounts worst;
  const Unit* worst_unit = nullptr;
  Status worst_status = Status::pass;
  for (const Unit& unit : units) {
    UnitCounts counts;
    for (std::size_t i = unit.first; i < unit.last; ++i) {
      BucketVerdict& bucket = buckets[i];
      bucket.source_rows = source[i].rows;
      bucket.value = static_cast<double>(bucket.rows);
      counts.rows += bucket.rows;
      counts.source += source[i].rows;
    }
    if (!unit.judged) {
      continue;
    }
    const Status status = judge_unit(spec.thresholds, counts);
    for (std::size_t i = unit.first; i < unit.last; ++i) {
      buckets[i].status = status;
    }
    const std::size_t width = unit.last - unit.first;
    failing += status == Status::fail ? width : 0U;
    warning += status == Status::warn ? width : 0U;
    outcome.status = worse(outcome.status, status);
    const std::int64_t amount = std::max(counts.missing(), counts.extra());
    if (worst_unit == nullptr || static_cast<int>(status) > static_cast<int>(worst_status) ||
        (status == worst_status && amount > outcome.worst_amount)) {
      worst_unit = &unit;
      worst_status = status;
      worst = counts;
      outcome.worst_amount = amount;
    }
  }
  const std::string adjective = bucket_adjective(spec.partition->every);
  const std::string total = fmt::format("{} {} buckets", buckets.size(), adjective);
  if (failing > 0) {
    outcome.message =
        fmt::format("{} of {} {}", failing, total, describe_reconciliation(spec.thresholds.fail));
  } else if (warning > 0) {
    outcome.message =
        fmt::format("{} of {} {}", warning, total, describe_reconciliation(*spec.thresholds.warn));
  } else {
    outcome.message = fmt::format("{} match the source", total);
  }
  if (worst_unit != nullptr && outcome.worst_amount > 0) {
    outcome.message += fmt::format(
        "; worst {}", describe_unit(buckets[worst_unit->first].start,
                                    buckets[worst_unit->last - 1].end, worst, spec.partition->zone));
  }
  const auto unjudged = std::count_if(units.begin(), units.end(),
                                      [](const Unit& unit) { return !unit.judged; });
  if (unjudged > 0) {
    outcome.message += " (a repeated wall-clock hour at the edge of the range is not judged)";
  }
  return outcome;
}

}  // namespace

std::vector<Interval> repeated_wall_clock(const TimeZone* zone, Instant from, Instant to) {
  std::vector<Interval> repeated;
  // Start a day early: a repeated hour may begin before `from` and overlap it.
  for (Instant at = from - std::chrono::hours{24}; at < to;) {
    const date::sys_info info = zone->get_info(at);
    if (info.end >= to + std::chrono::hours{24} || info.end <= at) {
      break;
    }
    const date::sys_info next = zone->get_info(info.end);
    if (next.offset < info.offset) {
      const std::chrono::seconds back = info.offset - next.offset;
      const Interval interval{info.end - back, info.end + back};
      if (interval.start < to && from < interval.end) {
        repeated.push_back(interval);
      }
    }
    at = info.end;
  }
  return repeated;
}

RuleSpec source_side(const RuleSpec& spec) {
  RuleSpec side = spec;
  side.source.reset();
  side.baseline.reset();
  if (spec.source) {
    side.warehouse = spec.source->warehouse;
    side.table = spec.source->table;
    side.timestamp_column = spec.source->timestamp_column;
    side.timestamp_format = spec.source->timestamp_format;
    side.where = spec.source->where;
  }
  return side;
}

Expected<QueryPlan> plan_source(const RuleSpec& spec, const PlanContext& context) {
  return plan_counts(source_side(spec), context, std::nullopt);
}

Verdict judge_reconciled(const RuleSpec& spec, const QueryPlan& target,
                         const ResultRows& target_rows, const QueryPlan& source,
                         const ResultRows& source_rows) {
  auto rolled = roll_up_pair(target, target_rows, source, source_rows);
  if (!rolled) {
    return error_verdict(rolled.error().message);
  }
  RolledUp& ours = rolled->first;
  const RolledUp& theirs = rolled->second;
  const std::vector<Unit> units = units_of(target.buckets, target, source);
  const std::size_t per_range = target.buckets.size();
  const std::size_t ranges = ours.judged.size() / std::max<std::size_t>(per_range, 1);

  Verdict verdict;
  verdict.status = Status::pass;
  std::vector<std::int64_t> amounts;
  for (std::size_t index = 0; index < ranges; ++index) {
    const std::span<BucketVerdict> buckets(ours.judged.data() + index * per_range, per_range);
    const std::span<const BucketVerdict> sources(theirs.judged.data() + index * per_range,
                                                 per_range);
    Outcome outcome = judge_units(spec, units, buckets, sources);
    verdict.status = worse(verdict.status, outcome.status);
    if (ours.segments.empty()) {
      verdict.message = std::move(outcome.message);
      verdict.observed = static_cast<double>(std::max<std::int64_t>(outcome.worst_amount, 0));
      if (target.segment_columns > 0) {
        verdict.message = "no segment has rows on either side: " + verdict.message;
      }
      continue;
    }
    SegmentVerdict& segment = verdict.segments.emplace_back();
    segment.key = std::move(ours.segments[index]);
    segment.status = outcome.status;
    segment.message = std::move(outcome.message);
    segment.observed = static_cast<double>(std::max<std::int64_t>(outcome.worst_amount, 0));
    amounts.push_back(outcome.worst_amount);
  }
  if (!verdict.segments.empty()) {
    std::vector<std::size_t> order(verdict.segments.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    const auto rank = [&](std::size_t a, std::size_t b) {
      const auto status_a = static_cast<int>(verdict.segments[a].status);
      const auto status_b = static_cast<int>(verdict.segments[b].status);
      return status_a != status_b ? status_a > status_b : amounts[a] > amounts[b];
    };
    std::stable_sort(order.begin(), order.end(), rank);
    verdict.observed = verdict.segments[order.front()].observed;
    std::vector<std::size_t> bad;
    for (const std::size_t index : order) {
      const Status status = verdict.segments[index].status;
      if (status == Status::fail || status == Status::warn) {
        bad.push_back(index);
      }
    }
    if (bad.empty()) {
      const SegmentVerdict& closest = verdict.segments[order.front()];
      verdict.message = name_passing_segments(
          fmt::format("{} segments match the source", verdict.segments.size()),
          amounts[order.front()] > 0 ? &closest : nullptr, closest.message);
    } else {
      verdict.message = name_bad_segments(verdict.segments, bad);
    }
  }
  verdict.windows = merge_windows(ours.judged, verdict.segments);
  verdict.buckets = std::move(ours.judged);
  return verdict;
}

}  // namespace gapwatch
