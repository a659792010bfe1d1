#include "rules/bucket_judgement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>

#include <fmt/format.h>

#include "rules/baseline.h"
#include "rules/buckets.h"

namespace gapwatch {

namespace {

bool overlaps(const Window& window, Instant start, Instant end) {
  return window.start < end && start < window.end;
}

// The values a rule with a baseline learns from, by season: the kept history,
// the history this statement read, and the judged buckets as they pass.
class Comparables {
 public:
  // `kept`: the kept history of this segment (or of the rule), `read`: what
  // the statement read before the judged buckets, `judged`: the judged ones.
  Comparables(const RuleSpec& spec, const QueryPlan& plan, std::span<const CountedBucket> kept,
              std::vector<Window> excluded, std::span<const CountedBucket> read,
              std::span<const BucketVerdict> judged, const BucketMeasure& measure)
      : m_spec(spec),
        m_seasonality(effective_seasonality(*spec.baseline, *spec.partition)),
        m_measure(measure),
        m_excluded(std::move(excluded)),
        m_first_rows(first_with_rows(kept, read, judged)) {
    // What this statement read again replaces what was kept of it.
    const Instant kept_until = !read.empty()          ? read.front().start
                               : !plan.buckets.empty() ? plan.buckets.front().start
                                                       : Instant{};
    for (const CountedBucket& bucket : kept) {
      if (bucket.start < kept_until) {
        learn(bucket.start, bucket.end, bucket.rows, bucket.nulls);
      }
    }
    for (const CountedBucket& bucket : read) {
      learn(bucket.start, bucket.end, bucket.rows, bucket.nulls);
    }
  }

  // A judged bucket that did not fail: later buckets learn from it.
  void learn(const BucketVerdict& bucket) {
    if (bucket.value && bucket.start >= m_first_rows && !excluded(bucket.start, bucket.end)) {
      m_by_season[season_of(m_seasonality, bucket.start, m_spec.partition->zone)].push_back(
          Learned{bucket.start, *bucket.value});
    }
  }

  // The values of the bucket's season in the history before it.
  std::vector<double> before(const BucketVerdict& bucket) const {
    std::vector<double> values;
    const auto season =
        m_by_season.find(season_of(m_seasonality, bucket.start, m_spec.partition->zone));
    if (season == m_by_season.end()) {
      return values;
    }
    for (const Learned& learned : season->second) {
      if (in_history_of(*m_spec.baseline, learned.start, bucket.start)) {
        values.push_back(learned.value);
      }
    }
    return values;
  }

 private:
  struct Learned {
    Instant start;
    double value = 0;
  };

  void learn(Instant start, Instant end, std::int64_t rows, std::int64_t nulls) {
    BucketVerdict bucket;
    bucket.start = start;
    bucket.end = end;
    bucket.rows = rows;
    bucket.nulls = nulls;
    bucket.value = m_measure.value_of(bucket);
    learn(bucket);
  }

  // Buckets before the first one with rows are from before the table had
  // data (a new table), not from an outage: they are not learned from.
  static Instant first_with_rows(std::span<const CountedBucket> kept,
                                 std::span<const CountedBucket> read,
                                 std::span<const BucketVerdict> judged) {
    const auto has_rows = [](const auto& bucket) { return bucket.rows > 0; };
    const auto first_kept = std::find_if(kept.begin(), kept.end(), has_rows);
    if (first_kept != kept.end() && (read.empty() || first_kept->start < read.front().start)) {
      return first_kept->start;
    }
    if (const auto first = std::find_if(read.begin(), read.end(), has_rows); first != read.end()) {
      return first->start;
    }
    if (const auto first = std::find_if(judged.begin(), judged.end(), has_rows);
        first != judged.end()) {
      return first->start;
    }
    return Instant::max();
  }

  bool excluded(Instant start, Instant end) const {
    return std::any_of(m_excluded.begin(), m_excluded.end(),
                       [&](const Window& window) { return overlaps(window, start, end); });
  }

  const RuleSpec& m_spec;
  Seasonality m_seasonality;
  const BucketMeasure& m_measure;
  std::vector<Window> m_excluded;
  Instant m_first_rows;
  std::map<std::int64_t, std::vector<Learned>> m_by_season;
};

// Whether a bound's drop or rise fires for `value` against `expectation`.
bool changed_beyond(const Bound& bound, double value, const Expectation& expectation,
                    Change change) {
  const double expected = expectation.expected;
  if (bound.drop && value < expectation.lower) {
    const double limit =
        change == Change::fraction ? expected * (1.0 - *bound.drop) : expected - *bound.drop;
    if (value <= limit) {
      return true;
    }
  }
  if (bound.rise && value > expectation.upper) {
    const double limit =
        change == Change::fraction ? expected * (1.0 + *bound.rise) : expected + *bound.rise;
    if (value >= limit) {
      return true;
    }
  }
  return false;
}

Status judge_bucket(const Thresholds& thresholds, double value,
                    const std::optional<Expectation>& expectation, Change change) {
  const auto violates = [&](const Bound& bound) {
    return bound.violated_by(value) ||
           (expectation && changed_beyond(bound, value, *expectation, change));
  };
  if (violates(thresholds.fail)) {
    return Status::fail;
  }
  if (thresholds.warn && violates(*thresholds.warn)) {
    return Status::warn;
  }
  return Status::pass;
}

// "at least 50% below the expected value", "at least 5 points above the
// expected value".
std::string describe_change(const Bound& bound, Change change) {
  const auto amount = [&](double value) {
    return change == Change::fraction ? format_percent(value)
                                      : fmt::format("{} points", format_number(value * 100.0));
  };
  std::vector<std::string> parts;
  if (bound.drop) {
    parts.push_back(fmt::format("at least {} below", amount(*bound.drop)));
  }
  if (bound.rise) {
    parts.push_back(fmt::format("at least {} above", amount(*bound.rise)));
  }
  return fmt::format("{} the expected value", fmt::join(parts, " or "));
}

std::string describe_bound(const Bound& bound, const BucketMeasure& measure) {
  std::vector<std::string> parts;
  if (bound.has_static()) {
    parts.push_back(describe_violation(bound, measure.format, measure.unit));
  }
  if (bound.has_relative()) {
    parts.push_back(describe_change(bound, measure.change));
  }
  return fmt::format("{}", fmt::join(parts, " or "));
}

// How far a bucket lies outside its band, in band half-widths (0 inside).
double distance_outside(const BucketVerdict& bucket) {
  if (!bucket.expected || !bucket.value) {
    return 0.0;
  }
  const double value = *bucket.value;
  if (value < *bucket.lower) {
    return (*bucket.lower - value) / std::max(*bucket.expected - *bucket.lower, 1e-12);
  }
  if (value > *bucket.upper) {
    return (value - *bucket.upper) / std::max(*bucket.upper - *bucket.expected, 1e-12);
  }
  return 0.0;
}

bool worse_bucket(const BucketVerdict& bucket, const BucketVerdict* worst,
                  const BucketMeasure& measure) {
  if (worst == nullptr || static_cast<int>(*bucket.status) > static_cast<int>(*worst->status)) {
    return true;
  }
  if (*bucket.status != *worst->status) {
    return false;
  }
  const double outside = distance_outside(bucket), worst_outside = distance_outside(*worst);
  if (outside != worst_outside) {
    return outside > worst_outside;
  }
  return measure.lower_is_worse ? *bucket.value < *worst->value : *bucket.value > *worst->value;
}

// "17 rows, expected 129 (band 94..164)".
std::string describe_bucket(const BucketVerdict& bucket, const BucketMeasure& measure) {
  std::string text = fmt::format("{} {}", measure.format(*bucket.value), measure.unit);
  if (bucket.expected) {
    // Counts are whole: the band holds the whole numbers ceil(lower)..floor(upper).
    const double lower = std::max(*bucket.lower, 0.0);
    const double upper = *bucket.upper;
    text += fmt::format(", expected {} (band {}..{})", measure.format(*bucket.expected),
                        measure.format(measure.whole ? std::ceil(lower) : lower),
                        measure.format(measure.whole ? std::floor(upper) : upper));
  }
  return text;
}

// How one range of buckets (a segment's, or the rule's) fared.
struct Outcome {
  Status status = Status::pass;
  const BucketVerdict* worst = nullptr;
  std::string message;
};

Outcome judge_range(const RuleSpec& spec, std::optional<Comparables>& comparables,
                    std::span<BucketVerdict> buckets, const BucketMeasure& measure) {
  Outcome outcome;
  const BucketVerdict*& worst = outcome.worst;
  std::size_t judged = 0, failing = 0, warning = 0, learning = 0;
  int fewest_comparables = spec.baseline ? spec.baseline->min_history : 0;
  for (BucketVerdict& bucket : buckets) {
    bucket.value = measure.value_of(bucket);
    if (!bucket.value) {
      continue;
    }
    ++judged;
    std::optional<Expectation> expectation;
    if (comparables) {
      std::vector<double> values = comparables->before(bucket);
      if (std::cmp_less(values.size(), spec.baseline->min_history)) {
        bucket.learning = static_cast<int>(values.size());
        fewest_comparables = std::min(fewest_comparables, *bucket.learning);
        ++learning;
      } else {
        double sum = 0;
        for (const double value : values) {
          sum += value;
        }
        const double mean = sum / static_cast<double>(values.size());
        const double middle = median(values);  // reorders values; expect() takes them so
        expectation = expect(values, spec.baseline->sensitivity,
                             measure.noise_variance(middle, mean, bucket.rows),
                             measure.min_half_width(bucket.rows));
        bucket.expected = expectation->expected;
        bucket.lower = std::max(expectation->lower, 0.0);  // no value lies below 0
        bucket.upper = expectation->upper;
      }
    }
    const Status status = judge_bucket(spec.thresholds, *bucket.value, expectation, measure.change);
    bucket.status = status;
    if (comparables && status != Status::fail) {
      comparables->learn(bucket);
    }
    failing += status == Status::fail ? 1 : 0;
    warning += status == Status::warn ? 1 : 0;
    outcome.status = worse(outcome.status, status);
    if (worse_bucket(bucket, worst, measure)) {
      worst = &bucket;
    }
  }
  std::string& message = outcome.message;
  const std::string adjective = bucket_adjective(spec.partition->every);
  const std::string total = fmt::format("{} {} buckets", buckets.size(), adjective);
  if (failing > 0) {
    message = fmt::format("{} of {} {}", failing, total, describe_bound(spec.thresholds.fail, measure));
  } else if (warning > 0) {
    message = fmt::format("{} of {} {}", warning, total, describe_bound(*spec.thresholds.warn, measure));
  } else if (worst != nullptr) {
    message = fmt::format("{} {} buckets pass; worst {}", judged, adjective,
                          describe_bucket(*worst, measure));
  }
  if (failing > 0 && warning > 0) {
    message += fmt::format("; {} more {}", warning, describe_bound(*spec.thresholds.warn, measure));
  }
  if ((failing > 0 || warning > 0) && worst != nullptr && worst->expected) {
    message += fmt::format("; worst {}", describe_bucket(*worst, measure));
  }
  if (learning > 0) {
    message += fmt::format(" (learning: {} of {} comparable buckets{})", fewest_comparables,
                           spec.baseline->min_history,
                           learning < judged ? fmt::format(" for {} of them", learning) : "");
  }
  if (judged < buckets.size() && worst != nullptr) {
    message += fmt::format(" ({} not judged: fewer than {} rows)", buckets.size() - judged,
                           spec.min_rows);
  }
  return outcome;
}

// The kept history of each segment: BaselineBook keeps it segment by
// segment, so each is one run of the kept buckets.
class KeptBySegment {
 public:
  explicit KeptBySegment(const BaselineHistory* history) {
    if (history == nullptr) {
      return;
    }
    m_buckets = history->buckets;
    std::stable_sort(m_buckets.begin(), m_buckets.end(),
                     [](const CountedBucket& a, const CountedBucket& b) { return a.segment < b.segment; });
    for (std::size_t i = 0; i < history->segments.size(); ++i) {
      const auto index = static_cast<std::uint32_t>(i);
      const auto first = std::lower_bound(
          m_buckets.begin(), m_buckets.end(), index,
          [](const CountedBucket& bucket, std::uint32_t value) { return bucket.segment < value; });
      const auto last = std::upper_bound(
          first, m_buckets.end(), index,
          [](std::uint32_t value, const CountedBucket& bucket) { return value < bucket.segment; });
      m_runs.emplace(history->segments[i], std::span<const CountedBucket>(first, last));
    }
  }

  std::span<const CountedBucket> of(const SegmentKey& key) const {
    const auto found = m_runs.find(key);
    return found == m_runs.end() ? std::span<const CountedBucket>{} : found->second;
  }

 private:
  std::vector<CountedBucket> m_buckets;
  std::map<SegmentKey, std::span<const CountedBucket>> m_runs;
};

// The unhealed windows that concern a segment: its own and the whole table's.
std::vector<Window> excluded_for(const BaselineHistory* history, const SegmentKey& key) {
  std::vector<Window> excluded;
  if (history == nullptr) {
    return excluded;
  }
  for (const Window& window : history->excluded) {
    if (window.segment.empty() || window.segment == key) {
      excluded.push_back(window);
    }
  }
  return excluded;
}

// The message of a segmented rule: the failing (or warning) segments, worst
// first (name_bad_segments), or the worst bucket of all when all pass.
std::string segments_message(const std::vector<SegmentVerdict>& segments,
                             const std::vector<const BucketVerdict*>& worst,
                             const BucketMeasure& measure) {
  std::vector<std::size_t> bad;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].status == Status::fail || segments[i].status == Status::warn) {
      bad.push_back(i);
    }
  }
  if (bad.empty()) {
    std::size_t worst_index = segments.size();
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (worst[i] != nullptr &&
          (worst_index == segments.size() || worse_bucket(*worst[i], worst[worst_index], measure))) {
        worst_index = i;
      }
    }
    const bool named = worst_index < segments.size();
    return name_passing_segments(
        fmt::format("{} segment{} pass", segments.size(), segments.size() == 1 ? "" : "s"),
        named ? &segments[worst_index] : nullptr,
        named ? describe_bucket(*worst[worst_index], measure) : std::string());
  }
  std::stable_sort(bad.begin(), bad.end(), [&](std::size_t a, std::size_t b) {
    if (segments[a].status != segments[b].status) {
      return segments[a].status == Status::fail;
    }
    return worst[a] != nullptr && worst[b] != nullptr && worse_bucket(*worst[a], worst[b], measure) &&
           !worse_bucket(*worst[b], worst[a], measure);
  });
  return name_bad_segments(segments, bad);
}

}  // namespace

std::string name_passing_segments(std::string all, const SegmentVerdict* worst,
                                  std::string_view worst_text) {
  if (worst != nullptr) {
    all += fmt::format("; worst {}: {}", segment_name(worst->key), worst_text);
  }
  return all;
}

std::string name_bad_segments(const std::vector<SegmentVerdict>& segments,
                              const std::vector<std::size_t>& bad) {
  std::size_t failing = 0, warning = 0;
  for (const std::size_t index : bad) {
    failing += segments[index].status == Status::fail ? 1U : 0U;
    warning += segments[index].status == Status::warn ? 1U : 0U;
  }
  std::vector<std::string> named;
  for (std::size_t i = 0; i < bad.size() && i < kNamedSegments; ++i) {
    named.push_back(
        fmt::format("{}: {}", segment_name(segments[bad[i]].key), segments[bad[i]].message));
  }
  std::string message = fmt::format("{}", fmt::join(named, "; "));
  if (bad.size() > kNamedSegments) {
    message += fmt::format("; and {} more", bad.size() - kNamedSegments);
  }
  std::vector<std::string> counts;
  if (failing > 0) {
    counts.push_back(fmt::format("{} failing", failing));
  }
  if (warning > 0) {
    counts.push_back(fmt::format("{} warning", warning));
  }
  message += fmt::format(" ({} of {} segments)", fmt::join(counts, ", "), segments.size());
  return message;
}

Verdict judge_buckets(const RuleSpec& spec, const QueryPlan& plan, RolledUp rolled,
                      const BucketMeasure& measure) {
  std::vector<BucketVerdict>& buckets = rolled.judged;
  Verdict verdict;
  verdict.status = Status::pass;
  if (rolled.segments.empty()) {
    std::optional<Comparables> comparables;
    if (spec.baseline) {
      const std::span<const CountedBucket> kept =
          plan.history != nullptr ? std::span<const CountedBucket>(plan.history->buckets)
                                  : std::span<const CountedBucket>{};
      comparables.emplace(spec, plan, kept, excluded_for(plan.history, {}), rolled.history,
                          buckets, measure);
    }
    Outcome outcome = judge_range(spec, comparables, buckets, measure);
    verdict.status = outcome.status;
    verdict.message = std::move(outcome.message);
    if (plan.segment_columns > 0) {
      verdict.message = "no segment has rows: " + verdict.message;
    }
    if (outcome.worst != nullptr) {
      verdict.observed = outcome.worst->value;
    }
  } else {
    const std::size_t judged_per_segment = plan.buckets.size();
    const std::size_t read_per_segment = plan.history_buckets.size();
    std::optional<KeptBySegment> kept;
    if (spec.baseline) {
      kept.emplace(plan.history);
    }
    std::vector<const BucketVerdict*> worst(rolled.segments.size(), nullptr);
    verdict.segments.reserve(rolled.segments.size());
    for (std::size_t index = 0; index < rolled.segments.size(); ++index) {
      SegmentKey& key = rolled.segments[index];
      const std::span<BucketVerdict> judged(buckets.data() + index * judged_per_segment,
                                            judged_per_segment);
      std::optional<Comparables> comparables;
      if (spec.baseline) {
        const std::span<const CountedBucket> read(rolled.history.data() + index * read_per_segment,
                                                  read_per_segment);
        comparables.emplace(spec, plan, kept->of(key), excluded_for(plan.history, key), read,
                            judged, measure);
      }
      Outcome outcome = judge_range(spec, comparables, judged, measure);
      worst[index] = outcome.worst;
      SegmentVerdict& segment = verdict.segments.emplace_back();
      segment.key = std::move(key);
      segment.status = outcome.status;
      segment.message = std::move(outcome.message);
      if (outcome.worst != nullptr) {
        segment.observed = outcome.worst->value;
      }
      verdict.status = worse(verdict.status, outcome.status);
    }
    const BucketVerdict* worst_of_all = nullptr;
    for (const BucketVerdict* candidate : worst) {
      if (candidate != nullptr && worse_bucket(*candidate, worst_of_all, measure)) {
        worst_of_all = candidate;
      }
    }
    if (worst_of_all != nullptr) {
      verdict.observed = worst_of_all->value;
    }
    verdict.message = segments_message(verdict.segments, worst, measure);
  }
  verdict.windows = merge_windows(buckets, verdict.segments);
  verdict.buckets = std::move(buckets);
  if (!plan.history_buckets.empty()) {
    verdict.history_read_from = plan.history_buckets.front().start;
  }
  verdict.history_read = std::move(rolled.history);
  return verdict;
}

}  // namespace gapwatch
