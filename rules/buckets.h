// Time buckets of partitioned rules and the granules a warehouse groups rows by.
//
// Buckets are aligned to the wall clock of the partition's zone (hourly buckets
// start at local minute 0, daily ones at local midnight), so a DST day has 23 or
// 25 hourly buckets. The warehouse does not know about zones: it groups rows by
// a granule (a fixed number of seconds from a base) chosen so that every granule
// lies inside exactly one bucket, and the monitor rolls granules up into
// buckets. Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "rules/dialect.h"
#include "rules/rule_spec.h"
#include "rules/time.h"

namespace gapwatch {

struct Bucket {
  Instant start;
  Instant end;
  friend bool operator==(const Bucket&, const Bucket&) = default;
};

// The buckets wholly inside [low, high), oldest first.
std::vector<Bucket> buckets_within(const PartitionSpec& partition, Instant low, Instant high);
// The buckets wholly inside [now - lookback, now - delay), oldest first.
std::vector<Bucket> judged_buckets(const PartitionSpec& partition, Instant now);

// "hourly", "daily", "15-minute", … for messages.
std::string bucket_adjective(std::chrono::seconds every);

// Row timestamps in the warehouse are reduced to granule indexes:
// floor((epoch - base) / size), where epoch is the column's seconds since the
// epoch (for wall-clock columns: the wall clock read as if it were UTC).
struct GranuleMap {
  std::int64_t base = 0;
  std::int64_t size = 1;
  // Set for wall-clock columns: granule starts are wall-clock times in this zone.
  const TimeZone* wall_zone = nullptr;

  Instant start_of(std::int64_t index) const;
};

// The coarsest granules such that each lies inside one bucket, for a column of
// `encoding` written in `warehouse_zone`. `buckets` must not be empty.
GranuleMap choose_granules(const std::vector<Bucket>& buckets, TimeEncoding encoding,
                           const TimeZone* warehouse_zone);

// The index of the bucket containing `instant`, or -1.
std::ptrdiff_t find_bucket(const std::vector<Bucket>& buckets, Instant instant);

}  // namespace gapwatch
