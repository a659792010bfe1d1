#include "rules/buckets.h"

#include <algorithm>
#include <numeric>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace gapwatch {

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

// Every instant at which the zone's wall clock reads a multiple of `every`
// since local midnight, for local days [first_day, last_day].
std::vector<Instant> aligned_boundaries(date::local_days first_day, date::local_days last_day,
                                        std::chrono::seconds every, const TimeZone* zone) {
  std::vector<Instant> boundaries;
  const std::int64_t per_day = std::max<std::int64_t>(1, kSecondsPerDay / every.count());
  for (date::local_days day = first_day; day <= last_day; day += date::days{1}) {
    for (std::int64_t k = 0; k < per_day; ++k) {
      const date::local_seconds wall = day + every * k;
      const date::local_info info = zone->get_info(wall);
      switch (info.result) {
        case date::local_info::unique:
          boundaries.push_back(Instant{wall.time_since_epoch() - info.first.offset});
          break;
        case date::local_info::ambiguous:
          // A repeated wall time: sub-day buckets start at both occurrences (so a
          // 25-hour day has 25 hourly buckets); a day starts at the first.
          boundaries.push_back(Instant{wall.time_since_epoch() - info.first.offset});
          if (every.count() < kSecondsPerDay) {
            boundaries.push_back(Instant{wall.time_since_epoch() - info.second.offset});
          }
          break;
        case date::local_info::nonexistent:
          // A skipped wall time: the bucket starts when the clock jumps.
          boundaries.push_back(info.first.end);
          break;
      }
    }
  }
  std::sort(boundaries.begin(), boundaries.end());
  boundaries.erase(std::unique(boundaries.begin(), boundaries.end()), boundaries.end());
  return boundaries;
}

}  // namespace

std::vector<Bucket> buckets_within(const PartitionSpec& partition, Instant low, Instant high) {
  std::vector<Bucket> buckets;
  if (high <= low) {
    return buckets;
  }
  const auto local_day = [&](Instant instant) {
    return date::floor<date::days>(partition.zone->to_local(instant));
  };
  const std::vector<Instant> boundaries =
      aligned_boundaries(local_day(low) - date::days{1}, local_day(high) + date::days{1},
                         partition.every, partition.zone);
  for (std::size_t i = 0; i + 1 < boundaries.size(); ++i) {
    if (boundaries[i] >= low && boundaries[i + 1] <= high) {
      buckets.push_back(Bucket{boundaries[i], boundaries[i + 1]});
    }
  }
  return buckets;
}

std::vector<Bucket> judged_buckets(const PartitionSpec& partition, Instant now) {
  return buckets_within(partition, now - partition.lookback, now - partition.delay);
}

std::string bucket_adjective(std::chrono::seconds every) {
  switch (every.count()) {
    case 60:
      return "minutely";
    case 3600:
      return "hourly";
    case kSecondsPerDay:
      return "daily";
    default:
      break;
  }
  // "3 of 96 15-minute buckets", not "3 of 96 15m buckets".
  if (every.count() % 3600 == 0) {
    return fmt::format("{}-hour", every.count() / 3600);
  }
  if (every.count() % 60 == 0) {
    return fmt::format("{}-minute", every.count() / 60);
  }
  return fmt::format("{}-second", every.count());
}

Instant GranuleMap::start_of(std::int64_t index) const {
  const std::chrono::seconds epoch{base + index * size};
  if (wall_zone != nullptr) {
    return instant_from_wall_clock(epoch, wall_zone);
  }
  return Instant{epoch};
}

GranuleMap choose_granules(const std::vector<Bucket>& buckets, TimeEncoding encoding,
                           const TimeZone* warehouse_zone) {
  const Instant first = buckets.front().start;
  const Instant last = buckets.back().end;
  std::int64_t size = (last - first).count();
  for (const Bucket& bucket : buckets) {
    size = std::gcd(size, (bucket.start - first).count());
    size = std::gcd(size, (bucket.end - first).count());
  }
  GranuleMap map;
  map.base = first.time_since_epoch().count();
  if (is_wall_clock(encoding)) {
    // Wall-clock granules map onto instants by the warehouse zone's offset; they
    // stay aligned if the size also divides every change of that offset.
    const std::chrono::seconds first_offset = utc_offset(first, warehouse_zone);
    for (Instant at = first; at < last;) {
      const date::sys_info info = warehouse_zone->get_info(at);
      size = std::gcd(size, (info.offset - first_offset).count());
      at = std::max(info.end, at + std::chrono::seconds{1});
    }
    map.base += first_offset.count();
    map.wall_zone = warehouse_zone;
  }
  map.size = std::max<std::int64_t>(size, 1);
  return map;
}

std::ptrdiff_t find_bucket(const std::vector<Bucket>& buckets, Instant instant) {
  const auto after = std::upper_bound(
      buckets.begin(), buckets.end(), instant,
      [](Instant value, const Bucket& bucket) { return value < bucket.start; });
  if (after == buckets.begin()) {
    return -1;
  }
  const auto bucket = std::prev(after);
  if (instant >= bucket->end) {
    return -1;
  }
  return bucket - buckets.begin();
}

}  // namespace gapwatch
