#include "rules/baseline.h"

#include <algorithm>
#include <cmath>

#include <date/date.h>
#include <fmt/format.h>

#include "rules/stable_hash.h"

namespace gapwatch {

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
// The MAD of a normal distribution times this is its standard deviation.
constexpr double kMadToDeviation = 1.4826;

// Each rule refreshes after 75% to 100% of `refresh`, by a fraction fixed by
// its name: rules started together spread their full reads apart.
std::chrono::seconds spread_refresh(const RuleSpec& spec) {
  const auto refresh = spec.baseline->refresh.count();
  const auto share = static_cast<std::int64_t>(stable_hash(spec.name) % 1000);
  return std::chrono::seconds{refresh - refresh / 4 * share / 1000};
}

}  // namespace

Seasonality effective_seasonality(const BaselineSpec& baseline, const PartitionSpec& partition) {
  if (baseline.seasonality) {
    return *baseline.seasonality;
  }
  return partition.every.count() < kSecondsPerDay ? Seasonality::hour_of_week
                                                  : Seasonality::day_of_week;
}

std::int64_t season_of(Seasonality seasonality, Instant start, const TimeZone* zone) {
  const date::local_seconds wall = zone->to_local(start);
  const date::local_days day = date::floor<date::days>(wall);
  const std::int64_t second_of_day = (wall - day).count();
  const std::int64_t weekday = date::weekday{day}.c_encoding();  // Sunday 0
  switch (seasonality) {
    case Seasonality::none:
      return 0;
    case Seasonality::hour_of_day:
      return second_of_day;
    case Seasonality::day_of_week:
      return weekday;
    case Seasonality::hour_of_week:
      return weekday * kSecondsPerDay + second_of_day;
  }
  return 0;
}

std::string baseline_fingerprint(const RuleSpec& spec) {
  const std::string identity = fmt::format(
      "{}|{}|{}|{}|{}|{}|{}|{}|{}", spec.table.display(), to_string(spec.check),
      spec.timestamp_column.value_or(""), to_string(spec.timestamp_format),
      spec.column.value_or(""), spec.where.value_or(""),
      spec.partition ? spec.partition->every.count() : 0,
      spec.partition ? zone_name(spec.partition->zone) : "", spec.where.has_value());
  return fmt::format("{:016x}", stable_hash(identity));
}

Instant history_start(const BaselineSpec& baseline, Instant judged_start) {
  return judged_start - baseline.history - std::chrono::hours{1};
}

bool in_history_of(const BaselineSpec& baseline, Instant start, Instant judged) {
  return start < judged && start >= history_start(baseline, judged);
}

std::optional<Instant> history_read_from(const RuleSpec& spec, const BaselineHistory* history,
                                         Instant judged_start, Instant now) {
  const Instant needed = history_start(*spec.baseline, judged_start);
  if (history == nullptr || history->fingerprint != baseline_fingerprint(spec) ||
      !history->covered_from || !history->covered_to || !history->full_read_at) {
    return needed;
  }
  if (now >= *history->full_read_at + spread_refresh(spec)) {
    return needed;
  }
  // Bucket boundaries ≥ needed may lie up to one bucket later (a DST day).
  if (*history->covered_from > needed + spec.partition->every) {
    return needed;  // the history grew longer than what was kept
  }
  if (*history->covered_to >= judged_start) {
    return std::nullopt;
  }
  return std::max(*history->covered_to, needed);
}

double median(std::vector<double>& values) {
  const std::size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle),
                   values.end());
  const double upper = values[middle];
  if (values.size() % 2 == 1) {
    return upper;
  }
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle));
  return (lower + upper) / 2.0;
}

Expectation expect(std::vector<double>& values, double sensitivity, double noise_variance,
                   double min_half_width) {
  const double expected = median(values);
  for (double& value : values) {
    value = std::abs(value - expected);
  }
  const double deviation = kMadToDeviation * median(values);
  const double half_width =
      std::max(sensitivity * std::sqrt(deviation * deviation + noise_variance), min_half_width);
  return Expectation{expected, expected - half_width, expected + half_width};
}

}  // namespace gapwatch
