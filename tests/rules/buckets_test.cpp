#include "rules/buckets.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "rules/duration.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing::at;
using testing::epoch;
using testing::value_of;
using testing::wall;
using testing::zone;

PartitionSpec partition(std::string_view every, std::string_view lookback, std::string_view delay,
                        const TimeZone* time_zone) {
  PartitionSpec spec;
  spec.every = value_of(parse_duration(every));
  spec.lookback = value_of(parse_duration(lookback));
  spec.delay = value_of(parse_duration(delay));
  spec.zone = time_zone;
  return spec;
}

Bucket bucket(std::string_view start, std::string_view end) {
  return Bucket{at(start), at(end)};
}

// The local wall-clock start of each bucket, "HH:MM" separated by spaces.
std::string local_starts(const std::vector<Bucket>& buckets, const TimeZone* time_zone) {
  std::string out;
  for (const Bucket& b : buckets) {
    out += out.empty() ? "" : " ";
    out += format_wall_clock(b.start, time_zone).substr(11, 5);
  }
  return out;
}

// Each bucket's length in minutes, separated by spaces.
std::string lengths_in_minutes(const std::vector<Bucket>& buckets) {
  std::string out;
  for (const Bucket& b : buckets) {
    out += out.empty() ? "" : " ";
    out +=
        std::to_string(std::chrono::duration_cast<std::chrono::minutes>(b.end - b.start).count());
  }
  return out;
}

std::size_t count_on_local_date(const std::vector<Bucket>& buckets, const TimeZone* time_zone,
                                std::string_view date) {
  std::size_t count = 0;
  for (const Bucket& b : buckets) {
    count += format_local_date(b.start, time_zone) == date ? 1U : 0U;
  }
  return count;
}

// Buckets follow each other without gap or overlap, and none is empty.
void check_contiguous(const std::vector<Bucket>& buckets) {
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    CAPTURE(buckets[i]);
    CHECK(buckets[i].start < buckets[i].end);
    if (i + 1 < buckets.size()) {
      CHECK(buckets[i].end == buckets[i + 1].start);
    }
  }
}

const std::string kHours23 =
    "00:00 01:00 03:00 04:00 05:00 06:00 07:00 08:00 09:00 10:00 11:00 12:00 13:00 14:00 "
    "15:00 16:00 17:00 18:00 19:00 20:00 21:00 22:00 23:00";

TEST_CASE(
    "judged_buckets: UTC hourly buckets lying wholly between now - lookback and now - delay") {
  SUBCASE("now on an hour") {
    const auto buckets =
        judged_buckets(partition("1h", "6h", "2h", utc_zone()), at("2026-11-25T06:00:00Z"));
    CHECK(buckets == std::vector<Bucket>{
                         bucket("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z"),
                         bucket("2026-11-25T01:00:00Z", "2026-11-25T02:00:00Z"),
                         bucket("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"),
                         bucket("2026-11-25T03:00:00Z", "2026-11-25T04:00:00Z"),
                     });
  }
  SUBCASE("now between hours: partial buckets at either end are not judged") {
    const auto buckets =
        judged_buckets(partition("1h", "6h", "2h", utc_zone()), at("2026-11-25T06:30:00Z"));
    CHECK(buckets == std::vector<Bucket>{
                         bucket("2026-11-25T01:00:00Z", "2026-11-25T02:00:00Z"),
                         bucket("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"),
                         bucket("2026-11-25T03:00:00Z", "2026-11-25T04:00:00Z"),
                     });
  }
  SUBCASE("across midnight and a month end") {
    const auto buckets =
        judged_buckets(partition("1h", "3h", "0s", utc_zone()), at("2026-12-01T01:00:00Z"));
    CHECK(buckets == std::vector<Bucket>{
                         bucket("2026-11-30T22:00:00Z", "2026-11-30T23:00:00Z"),
                         bucket("2026-11-30T23:00:00Z", "2026-12-01T00:00:00Z"),
                         bucket("2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"),
                     });
  }
  SUBCASE("a long lookback gives one bucket per hour") {
    const auto buckets =
        judged_buckets(partition("1h", "3d", "2h", utc_zone()), at("2026-11-25T06:00:00Z"));
    CHECK(buckets.size() == 70U);
    check_contiguous(buckets);
    CHECK(buckets.front().start == at("2026-11-22T06:00:00Z"));
    CHECK(buckets.back().end == at("2026-11-25T04:00:00Z"));
  }
}

TEST_CASE("judged_buckets: Europe/Berlin has 23 hourly buckets on 2026-03-29") {
  const TimeZone* berlin = zone("Europe/Berlin");
  // The local day 2026-03-29 runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z.
  const auto buckets =
      judged_buckets(partition("1h", "23h", "0s", berlin), at("2026-03-29T22:00:00Z"));
  REQUIRE(buckets.size() == 23U);
  check_contiguous(buckets);
  CHECK(buckets.front().start == at("2026-03-28T23:00:00Z"));
  CHECK(buckets.back().end == at("2026-03-29T22:00:00Z"));
  CHECK(local_starts(buckets, berlin) == kHours23);
  CHECK(count_on_local_date(buckets, berlin, "2026-03-29") == 23U);
  SUBCASE("the hour before the jump is followed by the hour after it") {
    CHECK(buckets[1] == bucket("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z"));  // 01:00 CET
    CHECK(buckets[2] == bucket("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"));  // 03:00 CEST
  }
  SUBCASE("a longer lookback still counts 23 buckets on that local day") {
    const auto wide =
        judged_buckets(partition("1h", "3d", "0s", berlin), at("2026-03-30T12:00:00Z"));
    check_contiguous(wide);
    CHECK(count_on_local_date(wide, berlin, "2026-03-28") == 24U);
    CHECK(count_on_local_date(wide, berlin, "2026-03-29") == 23U);
  }
}

TEST_CASE("judged_buckets: Europe/Berlin has 25 hourly buckets on 2026-10-25") {
  const TimeZone* berlin = zone("Europe/Berlin");
  // The local day 2026-10-25 runs from 2026-10-24T22:00Z to 2026-10-25T23:00Z.
  const auto buckets =
      judged_buckets(partition("1h", "25h", "0s", berlin), at("2026-10-25T23:00:00Z"));
  REQUIRE(buckets.size() == 25U);
  check_contiguous(buckets);
  CHECK(buckets.front().start == at("2026-10-24T22:00:00Z"));
  CHECK(buckets.back().end == at("2026-10-25T23:00:00Z"));
  CHECK(local_starts(buckets, berlin) ==
        "00:00 01:00 02:00 02:00 03:00 04:00 05:00 06:00 07:00 08:00 09:00 10:00 11:00 12:00 "
        "13:00 14:00 15:00 16:00 17:00 18:00 19:00 20:00 21:00 22:00 23:00");
  CHECK(count_on_local_date(buckets, berlin, "2026-10-25") == 25U);
  SUBCASE("the repeated hour appears twice with distinct UTC starts") {
    CHECK(buckets[2] == bucket("2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z"));  // 02:00 CEST
    CHECK(buckets[3] == bucket("2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"));  // 02:00 CET
  }
}

TEST_CASE("judged_buckets: Europe/Berlin daily buckets are 23 and 25 hours on DST days") {
  const TimeZone* berlin = zone("Europe/Berlin");
  SUBCASE("spring forward") {
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", berlin), at("2026-03-30T22:00:00Z"));
    CHECK(buckets == std::vector<Bucket>{
                         bucket("2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z"),
                         bucket("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
                         bucket("2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z"),
                     });
    CHECK(lengths_in_minutes(buckets) == "1440 1380 1440");
    CHECK(local_starts(buckets, berlin) == "00:00 00:00 00:00");
  }
  SUBCASE("fall back") {
    // now - lookback is 2026-10-23T23:00Z, after the 2026-10-24 local day began
    // (22:00Z): that bucket is not judged.
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", berlin), at("2026-10-26T23:00:00Z"));
    CHECK(buckets == std::vector<Bucket>{
                         bucket("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
                         bucket("2026-10-25T23:00:00Z", "2026-10-26T23:00:00Z"),
                     });
    CHECK(lengths_in_minutes(buckets) == "1500 1440");
  }
}

TEST_CASE("judged_buckets: America/New_York across 2026-03-08 and 2026-11-01") {
  const TimeZone* new_york = zone("America/New_York");
  SUBCASE("hourly, spring forward: 23 buckets, 01:00 EST then 03:00 EDT") {
    const auto buckets =
        judged_buckets(partition("1h", "23h", "0s", new_york), at("2026-03-09T04:00:00Z"));
    REQUIRE(buckets.size() == 23U);
    check_contiguous(buckets);
    CHECK(buckets.front().start == at("2026-03-08T05:00:00Z"));
    CHECK(local_starts(buckets, new_york) == kHours23);
    CHECK(buckets[1] == bucket("2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"));
    CHECK(buckets[2] == bucket("2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"));
  }
  SUBCASE("hourly, fall back: 25 buckets, 01:00 twice") {
    const auto buckets =
        judged_buckets(partition("1h", "25h", "0s", new_york), at("2026-11-02T05:00:00Z"));
    REQUIRE(buckets.size() == 25U);
    check_contiguous(buckets);
    CHECK(buckets.front().start == at("2026-11-01T04:00:00Z"));
    CHECK(local_starts(buckets, new_york).substr(0, 23) == "00:00 01:00 01:00 02:00");
    CHECK(buckets[1] == bucket("2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z"));  // 01:00 EDT
    CHECK(buckets[2] == bucket("2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"));  // 01:00 EST
  }
  SUBCASE("daily") {
    CHECK(judged_buckets(partition("1d", "2d", "0s", new_york), at("2026-03-09T04:00:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-03-07T05:00:00Z", "2026-03-08T05:00:00Z"),
              bucket("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"),
          });
    CHECK(judged_buckets(partition("1d", "2d1h", "0s", new_york), at("2026-11-02T05:00:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-10-31T04:00:00Z", "2026-11-01T04:00:00Z"),
              bucket("2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"),
          });
  }
}

TEST_CASE("judged_buckets: Asia/Kolkata buckets start at UTC minute 30") {
  const TimeZone* kolkata = zone("Asia/Kolkata");
  SUBCASE("hourly") {
    CHECK(judged_buckets(partition("1h", "3h", "0s", kolkata), at("2026-11-25T06:00:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-11-25T03:30:00Z", "2026-11-25T04:30:00Z"),
              bucket("2026-11-25T04:30:00Z", "2026-11-25T05:30:00Z"),
          });
  }
  SUBCASE("daily at local midnight, 18:30Z") {
    CHECK(judged_buckets(partition("1d", "3d", "0s", kolkata), at("2026-11-25T06:00:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-11-22T18:30:00Z", "2026-11-23T18:30:00Z"),
              bucket("2026-11-23T18:30:00Z", "2026-11-24T18:30:00Z"),
          });
  }
}

TEST_CASE("judged_buckets: a daily bucket whose local midnight is skipped starts at the jump") {
  // America/Santiago moves from 2026-09-06 00:00 -04 straight to 01:00 -03 (04:00Z).
  const TimeZone* santiago = zone("America/Santiago");
  CHECK(judged_buckets(partition("1d", "2d", "0s", santiago), at("2026-09-07T03:00:00Z")) ==
        std::vector<Bucket>{
            bucket("2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z"),
            bucket("2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"),
        });
}

TEST_CASE("judged_buckets: sub-hour and multi-hour sizes align to local midnight") {
  SUBCASE("15 minutes") {
    CHECK(judged_buckets(partition("15m", "1h", "0s", utc_zone()), at("2026-11-25T06:00:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-11-25T05:00:00Z", "2026-11-25T05:15:00Z"),
              bucket("2026-11-25T05:15:00Z", "2026-11-25T05:30:00Z"),
              bucket("2026-11-25T05:30:00Z", "2026-11-25T05:45:00Z"),
              bucket("2026-11-25T05:45:00Z", "2026-11-25T06:00:00Z"),
          });
  }
  SUBCASE("15 minutes in Kolkata") {
    CHECK(judged_buckets(partition("15m", "40m", "0s", zone("Asia/Kolkata")),
                         at("2026-11-25T06:05:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-11-25T05:30:00Z", "2026-11-25T05:45:00Z"),
              bucket("2026-11-25T05:45:00Z", "2026-11-25T06:00:00Z"),
          });
  }
  SUBCASE("15 minutes on Berlin's DST days: 92 and 100 buckets") {
    const TimeZone* berlin = zone("Europe/Berlin");
    const auto spring =
        judged_buckets(partition("15m", "2d", "0s", berlin), at("2026-03-30T12:00:00Z"));
    check_contiguous(spring);
    CHECK(count_on_local_date(spring, berlin, "2026-03-29") == 92U);
    const auto fall =
        judged_buckets(partition("15m", "2d", "0s", berlin), at("2026-10-26T12:00:00Z"));
    check_contiguous(fall);
    CHECK(count_on_local_date(fall, berlin, "2026-10-25") == 100U);
  }
  SUBCASE("90 minutes") {
    CHECK(judged_buckets(partition("90m", "6h", "0s", utc_zone()), at("2026-11-25T06:00:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-11-25T00:00:00Z", "2026-11-25T01:30:00Z"),
              bucket("2026-11-25T01:30:00Z", "2026-11-25T03:00:00Z"),
              bucket("2026-11-25T03:00:00Z", "2026-11-25T04:30:00Z"),
              bucket("2026-11-25T04:30:00Z", "2026-11-25T06:00:00Z"),
          });
  }
  SUBCASE("90 minutes across midnight restart at local midnight") {
    CHECK(judged_buckets(partition("90m", "3h", "0s", utc_zone()), at("2026-11-25T01:30:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-11-24T22:30:00Z", "2026-11-25T00:00:00Z"),
              bucket("2026-11-25T00:00:00Z", "2026-11-25T01:30:00Z"),
          });
  }
  SUBCASE("90 minutes in Berlin: the bucket holding the repeated hour lasts 150 minutes") {
    const TimeZone* berlin = zone("Europe/Berlin");
    const auto buckets =
        judged_buckets(partition("90m", "6h", "0s", berlin), at("2026-10-25T03:30:00Z"));
    CHECK(local_starts(buckets, berlin) == "00:00 01:30 03:00");
    CHECK(lengths_in_minutes(buckets) == "90 150 90");
  }
}

TEST_CASE(
    "judged_buckets: a bucket is judged only if it starts at or after now - lookback and ends at "
    "or before now - delay") {
  const PartitionSpec hourly = partition("1h", "3h", "1h", utc_zone());
  SUBCASE("a bucket ending exactly at now - delay is judged") {
    CHECK(judged_buckets(hourly, at("2026-11-25T06:00:00Z")) ==
          std::vector<Bucket>{
              bucket("2026-11-25T03:00:00Z", "2026-11-25T04:00:00Z"),
              bucket("2026-11-25T04:00:00Z", "2026-11-25T05:00:00Z"),
          });
  }
  SUBCASE("a bucket ending one second after now - delay is not") {
    CHECK(judged_buckets(hourly, at("2026-11-25T05:59:59Z")) ==
          std::vector<Bucket>{bucket("2026-11-25T03:00:00Z", "2026-11-25T04:00:00Z")});
  }
  SUBCASE("a bucket starting one second before now - lookback is not") {
    CHECK(judged_buckets(hourly, at("2026-11-25T06:00:01Z")) ==
          std::vector<Bucket>{bucket("2026-11-25T04:00:00Z", "2026-11-25T05:00:00Z")});
  }
  SUBCASE("without delay the bucket ending at now is judged") {
    CHECK(judged_buckets(partition("1h", "1h", "0s", utc_zone()), at("2026-11-25T06:00:00Z")) ==
          std::vector<Bucket>{bucket("2026-11-25T05:00:00Z", "2026-11-25T06:00:00Z")});
  }
  SUBCASE("no whole bucket fits: nothing is judged") {
    CHECK(judged_buckets(partition("1h", "1h", "0s", utc_zone()), at("2026-11-25T06:30:00Z"))
              .empty());
    CHECK(judged_buckets(partition("1d", "1d", "0s", utc_zone()), at("2026-11-25T06:00:00Z"))
              .empty());
  }
  SUBCASE("lookback not beyond delay: nothing is judged") {
    CHECK(judged_buckets(partition("1h", "2h", "2h", utc_zone()), at("2026-11-25T06:00:00Z"))
              .empty());
    CHECK(judged_buckets(partition("1h", "1h", "2h", utc_zone()), at("2026-11-25T06:00:00Z"))
              .empty());
  }
}

TEST_CASE("judged_buckets are contiguous and oldest first in every zone and size") {
  for (const char* name : {"Etc/UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                           "Australia/Lord_Howe", "Pacific/Chatham"}) {
    for (const char* every : {"1m", "15m", "30m", "1h", "90m", "2h", "12h", "1d"}) {
      for (const char* now : {"2026-03-29T12:00:00Z", "2026-10-25T12:00:00Z",
                              "2026-04-05T12:00:00Z", "2026-09-27T12:00:00Z"}) {
        CAPTURE(name);
        CAPTURE(every);
        CAPTURE(now);
        const auto buckets = judged_buckets(partition(every, "3d", "1h", zone(name)), at(now));
        REQUIRE_FALSE(buckets.empty());
        check_contiguous(buckets);
        CHECK(buckets.front().start >= at(now) - hours{72});
        CHECK(buckets.back().end <= at(now) - hours{1});
      }
    }
  }
}

TEST_CASE("bucket_adjective names the bucket size for messages") {
  CHECK(bucket_adjective(seconds{60}) == "minutely");
  CHECK(bucket_adjective(seconds{3600}) == "hourly");
  CHECK(bucket_adjective(seconds{86400}) == "daily");
  CHECK(bucket_adjective(seconds{900}) == "15-minute");
  CHECK(bucket_adjective(seconds{5400}) == "90-minute");
  CHECK(bucket_adjective(seconds{7200}) == "2-hour");
  CHECK(bucket_adjective(seconds{43200}) == "12-hour");
}

TEST_CASE("choose_granules: the coarsest granule dividing every bucket boundary") {
  SUBCASE("UTC hourly: 3600 from the first bucket") {
    const auto buckets =
        judged_buckets(partition("1h", "6h", "0s", utc_zone()), at("2026-11-25T06:00:00Z"));
    const GranuleMap map = choose_granules(buckets, TimeEncoding::instant, utc_zone());
    CHECK(map.size == 3600);
    CHECK(map.base == epoch("2026-11-25T00:00:00Z"));
    CHECK(map.wall_zone == nullptr);
  }
  SUBCASE("UTC daily: 86400") {
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", utc_zone()), at("2026-11-25T06:00:00Z"));
    CHECK(choose_granules(buckets, TimeEncoding::instant, utc_zone()).size == 86400);
  }
  SUBCASE("Berlin daily across DST: 3600") {
    const TimeZone* berlin = zone("Europe/Berlin");
    const auto spring =
        judged_buckets(partition("1d", "3d", "0s", berlin), at("2026-03-30T22:00:00Z"));
    const GranuleMap map = choose_granules(spring, TimeEncoding::instant, utc_zone());
    CHECK(map.size == 3600);
    CHECK(map.base == epoch("2026-03-27T23:00:00Z"));
    const auto fall =
        judged_buckets(partition("1d", "3d", "0s", berlin), at("2026-10-26T23:00:00Z"));
    CHECK(choose_granules(fall, TimeEncoding::instant, utc_zone()).size == 3600);
  }
  SUBCASE("Berlin daily away from DST: 86400") {
    const auto buckets = judged_buckets(partition("1d", "3d", "0s", zone("Europe/Berlin")),
                                        at("2026-11-25T23:00:00Z"));
    const GranuleMap map = choose_granules(buckets, TimeEncoding::instant, utc_zone());
    CHECK(map.size == 86400);
    CHECK(map.base == epoch("2026-11-22T23:00:00Z"));
  }
  SUBCASE("Kolkata daily: 86400 from 18:30Z") {
    const auto buckets = judged_buckets(partition("1d", "3d", "0s", zone("Asia/Kolkata")),
                                        at("2026-11-25T06:00:00Z"));
    const GranuleMap map = choose_granules(buckets, TimeEncoding::instant, utc_zone());
    CHECK(map.size == 86400);
    CHECK(map.base == epoch("2026-11-22T18:30:00Z"));
  }
  SUBCASE("Kolkata hourly: 3600 from minute 30") {
    const auto buckets = judged_buckets(partition("1h", "3h", "0s", zone("Asia/Kolkata")),
                                        at("2026-11-25T06:00:00Z"));
    const GranuleMap map = choose_granules(buckets, TimeEncoding::instant, utc_zone());
    CHECK(map.size == 3600);
    CHECK(map.base == epoch("2026-11-25T03:30:00Z"));
  }
  SUBCASE("15 and 90 minutes") {
    CHECK(choose_granules(
              judged_buckets(partition("15m", "1h", "0s", utc_zone()), at("2026-11-25T06:00:00Z")),
              TimeEncoding::instant, utc_zone())
              .size == 900);
    CHECK(choose_granules(
              judged_buckets(partition("90m", "6h", "0s", utc_zone()), at("2026-11-25T06:00:00Z")),
              TimeEncoding::instant, utc_zone())
              .size == 5400);
  }
  SUBCASE("a single bucket is one granule") {
    const std::vector<Bucket> one{bucket("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")};
    CHECK(choose_granules(one, TimeEncoding::instant, utc_zone()).size == 86400);
  }
  SUBCASE("epoch encodings ignore the warehouse zone") {
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", utc_zone()), at("2026-10-26T00:00:00Z"));
    for (const TimeEncoding encoding :
         {TimeEncoding::instant, TimeEncoding::epoch_seconds, TimeEncoding::epoch_milliseconds}) {
      const GranuleMap map = choose_granules(buckets, encoding, zone("Europe/Berlin"));
      CHECK(map.size == 86400);
      CHECK(map.base == epoch("2026-10-23T00:00:00Z"));
      CHECK(map.wall_zone == nullptr);
    }
  }
}

TEST_CASE("choose_granules: wall-clock columns count in the warehouse zone's wall clock") {
  const TimeZone* berlin = zone("Europe/Berlin");
  const TimeEncoding wall_encodings[] = {TimeEncoding::wall_clock, TimeEncoding::wall_clock_text};
  SUBCASE("UTC daily in a Berlin winter: whole days from the wall clock of the first start") {
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", utc_zone()), at("2026-11-25T00:00:00Z"));
    for (const TimeEncoding encoding : wall_encodings) {
      const GranuleMap map = choose_granules(buckets, encoding, berlin);
      CHECK(map.size == 86400);
      CHECK(map.base == wall("2026-11-22 01:00:00").count());
      CHECK(map.wall_zone == berlin);
    }
  }
  SUBCASE("UTC daily across Berlin's fall back: the offset change divides the granule") {
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", utc_zone()), at("2026-10-26T00:00:00Z"));
    for (const TimeEncoding encoding : wall_encodings) {
      const GranuleMap map = choose_granules(buckets, encoding, berlin);
      CHECK(map.size == 3600);
      CHECK(map.base == wall("2026-10-23 02:00:00").count());
      CHECK(map.wall_zone == berlin);
    }
  }
  SUBCASE("UTC hourly across Berlin's spring forward: 3600") {
    const auto buckets =
        judged_buckets(partition("1h", "6h", "0s", utc_zone()), at("2026-03-29T04:00:00Z"));
    for (const TimeEncoding encoding : wall_encodings) {
      const GranuleMap map = choose_granules(buckets, encoding, berlin);
      CHECK(map.size == 3600);
      CHECK(map.base == wall("2026-03-28 23:00:00").count());
    }
  }
  SUBCASE("UTC 15-minute buckets with a Berlin warehouse: 900") {
    const auto buckets =
        judged_buckets(partition("15m", "2h", "0s", utc_zone()), at("2026-10-25T02:00:00Z"));
    for (const TimeEncoding encoding : wall_encodings) {
      CHECK(choose_granules(buckets, encoding, berlin).size == 900);
    }
  }
  SUBCASE("Berlin daily with a Berlin warehouse across DST: 3600") {
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", berlin), at("2026-03-30T22:00:00Z"));
    for (const TimeEncoding encoding : wall_encodings) {
      const GranuleMap map = choose_granules(buckets, encoding, berlin);
      CHECK(map.size == 3600);
      CHECK(map.base == wall("2026-03-28 00:00:00").count());
    }
  }
  SUBCASE("a zone without DST keeps whole days, shifted by its offset") {
    const auto buckets =
        judged_buckets(partition("1d", "3d", "0s", utc_zone()), at("2026-10-26T00:00:00Z"));
    for (const TimeEncoding encoding : wall_encodings) {
      const GranuleMap map = choose_granules(buckets, encoding, zone("Asia/Kolkata"));
      CHECK(map.size == 86400);
      CHECK(map.base == wall("2026-10-23 05:30:00").count());
    }
  }
  SUBCASE("America/New_York wall clock across 2026-11-01, hourly UTC buckets") {
    const auto buckets =
        judged_buckets(partition("1h", "4h", "0s", utc_zone()), at("2026-11-01T08:00:00Z"));
    for (const TimeEncoding encoding : wall_encodings) {
      const GranuleMap map = choose_granules(buckets, encoding, zone("America/New_York"));
      CHECK(map.size == 3600);
      CHECK(map.base == wall("2026-11-01 00:00:00").count());
    }
  }
}

TEST_CASE("choose_granules: every granule of an instant column lies inside one bucket") {
  for (const char* name :
       {"Etc/UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"}) {
    for (const char* every : {"15m", "1h", "90m", "1d"}) {
      for (const char* now :
           {"2026-03-30T06:00:00Z", "2026-10-26T06:00:00Z", "2026-04-06T06:00:00Z"}) {
        CAPTURE(name);
        CAPTURE(every);
        CAPTURE(now);
        const auto buckets = judged_buckets(partition(every, "3d", "0s", zone(name)), at(now));
        REQUIRE_FALSE(buckets.empty());
        const GranuleMap map = choose_granules(buckets, TimeEncoding::instant, utc_zone());
        const std::int64_t granules =
            (buckets.back().end - buckets.front().start).count() / map.size;
        CHECK(granules * map.size == (buckets.back().end - buckets.front().start).count());
        for (std::int64_t k = 0; k < granules; ++k) {
          const std::ptrdiff_t index = find_bucket(buckets, map.start_of(k));
          REQUIRE(index >= 0);
          CHECK(map.start_of(k + 1) <= buckets[static_cast<std::size_t>(index)].end);
        }
      }
    }
  }
}

TEST_CASE("GranuleMap::start_of maps a granule index to its first instant") {
  SUBCASE("absolute granules") {
    GranuleMap map;
    map.base = epoch("2026-11-25T00:00:00Z");
    map.size = 3600;
    CHECK(map.start_of(0) == at("2026-11-25T00:00:00Z"));
    CHECK(map.start_of(5) == at("2026-11-25T05:00:00Z"));
    CHECK(map.start_of(-1) == at("2026-11-24T23:00:00Z"));
  }
  SUBCASE("Kolkata daily granules") {
    GranuleMap map;
    map.base = epoch("2026-11-22T18:30:00Z");
    map.size = 86400;
    CHECK(map.start_of(2) == at("2026-11-24T18:30:00Z"));
  }
  const TimeZone* berlin = zone("Europe/Berlin");
  SUBCASE("wall-clock granules read in the warehouse zone") {
    GranuleMap map;
    map.base = wall("2026-11-25 00:00:00").count();
    map.size = 3600;
    map.wall_zone = berlin;
    CHECK(map.start_of(0) == at("2026-11-24T23:00:00Z"));
    CHECK(map.start_of(7) == at("2026-11-25T06:00:00Z"));
  }
  SUBCASE("a wall-clock granule in the repeated hour starts at its first occurrence") {
    GranuleMap map;
    map.base = wall("2026-10-25 00:00:00").count();
    map.size = 3600;
    map.wall_zone = berlin;
    CHECK(map.start_of(0) == at("2026-10-24T22:00:00Z"));
    CHECK(map.start_of(2) == at("2026-10-25T00:00:00Z"));
    CHECK(map.start_of(3) == at("2026-10-25T02:00:00Z"));
  }
  SUBCASE("a wall-clock granule in the skipped hour starts when the clock jumps") {
    GranuleMap map;
    map.base = wall("2026-03-29 00:00:00").count();
    map.size = 3600;
    map.wall_zone = berlin;
    CHECK(map.start_of(1) == at("2026-03-29T00:00:00Z"));
    CHECK(map.start_of(2) == at("2026-03-29T01:00:00Z"));
    CHECK(map.start_of(3) == at("2026-03-29T01:00:00Z"));
  }
}

TEST_CASE("find_bucket: the index of the bucket holding an instant, or -1") {
  const std::vector<Bucket> buckets{
      bucket("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z"),
      bucket("2026-11-25T01:00:00Z", "2026-11-25T02:00:00Z"),
      bucket("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"),
  };
  CHECK(find_bucket(buckets, at("2026-11-24T23:59:59Z")) == -1);
  CHECK(find_bucket(buckets, at("2026-11-25T00:00:00Z")) == 0);
  CHECK(find_bucket(buckets, at("2026-11-25T00:59:59Z")) == 0);
  CHECK(find_bucket(buckets, at("2026-11-25T01:00:00Z")) == 1);  // a boundary starts a bucket
  CHECK(find_bucket(buckets, at("2026-11-25T02:59:59Z")) == 2);
  CHECK(find_bucket(buckets, at("2026-11-25T03:00:00Z")) == -1);  // ends are exclusive
  CHECK(find_bucket({}, at("2026-11-25T00:00:00Z")) == -1);
  SUBCASE("an instant in a gap between buckets") {
    const std::vector<Bucket> gapped{
        bucket("2026-11-25T00:00:00Z", "2026-11-25T01:00:00Z"),
        bucket("2026-11-25T02:00:00Z", "2026-11-25T03:00:00Z"),
    };
    CHECK(find_bucket(gapped, at("2026-11-25T01:30:00Z")) == -1);
    CHECK(find_bucket(gapped, at("2026-11-25T02:00:00Z")) == 1);
  }
}

}  // namespace
}  // namespace gapwatch
