#include "rules/time.h"

#include <chrono>
#include <string>

#include <doctest/doctest.h>

#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::seconds;
using testing::at;
using testing::error_of;
using testing::value_of;
using testing::wall;
using testing::zone;

Instant from_epoch(std::int64_t value) {
  return Instant{seconds{value}};
}

TEST_CASE("format_rfc3339 writes UTC with a Z") {
  CHECK(format_rfc3339(from_epoch(0)) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(from_epoch(1767225600)) == "2026-01-01T00:00:00Z");
  CHECK(format_rfc3339(from_epoch(1795575601)) == "2026-11-25T03:00:01Z");
  CHECK(format_rfc3339(from_epoch(-1)) == "1969-12-31T23:59:59Z");
}

TEST_CASE("parse_rfc3339 reads UTC instants") {
  CHECK(value_of(parse_rfc3339("2026-11-25T03:00:01Z")) == from_epoch(1795575601));
  CHECK(value_of(parse_rfc3339("1970-01-01T00:00:00Z")) == from_epoch(0));
  SUBCASE("lower-case t and z, or a space for the T") {
    CHECK(value_of(parse_rfc3339("2026-11-25t03:00:01z")) == from_epoch(1795575601));
    CHECK(value_of(parse_rfc3339("2026-11-25 03:00:01Z")) == from_epoch(1795575601));
  }
  SUBCASE("fractions of a second are truncated") {
    CHECK(value_of(parse_rfc3339("2026-11-25T03:00:01.999Z")) == from_epoch(1795575601));
    CHECK(value_of(parse_rfc3339("2026-11-25T03:00:01.000000001+00:00")) == from_epoch(1795575601));
  }
  SUBCASE("a leap second reads as the next second") {
    CHECK(value_of(parse_rfc3339("2016-12-31T23:59:60Z")) == at("2017-01-01T00:00:00Z"));
  }
  SUBCASE("a bare date is midnight UTC") {
    CHECK(value_of(parse_rfc3339("2026-11-25")) == from_epoch(1795564800));
    CHECK(value_of(parse_rfc3339("2024-02-29")) == at("2024-02-29T00:00:00Z"));
  }
}

TEST_CASE("parse_rfc3339 applies numeric offsets") {
  CHECK(value_of(parse_rfc3339("2026-11-25T08:30:00+05:30")) == at("2026-11-25T03:00:00Z"));
  CHECK(value_of(parse_rfc3339("2026-11-24T22:00:00-05:00")) == at("2026-11-25T03:00:00Z"));
  CHECK(value_of(parse_rfc3339("2026-11-25T03:00:00+00:00")) == at("2026-11-25T03:00:00Z"));
  CHECK(value_of(parse_rfc3339("2026-11-25T03:00:00-00:00")) == at("2026-11-25T03:00:00Z"));
  SUBCASE("an offset can move the instant into another day") {
    CHECK(value_of(parse_rfc3339("2026-01-01T00:30:00+01:00")) == at("2025-12-31T23:30:00Z"));
  }
}

TEST_CASE("parse_rfc3339 rejects what is not RFC 3339 or a date") {
  const char* const invalid[] = {
      "",
      "2026",
      "2026-11",
      "26-11-25",
      "2026/11/25",
      "2026-11-25T",
      "2026-13-01",
      "2026-00-10",
      "2026-02-29",  // not a leap year
      "2026-04-31",
      "2026-11-25T24:00:00Z",
      "2026-11-25T23:60:00Z",
      "2026-11-25T23:59:61Z",
      "2026-11-25T06:00:00",  // no zone: ambiguous
      "2026-11-25T06:00Z",    // seconds are required
      "2026-11-25T6:00:00Z",
      "2026-11-25T06:00:00+0530",
      "2026-11-25T06:00:00+05",
      "2026-11-25T06:00:00+24:00",
      "2026-11-25T06:00:00.Z",
      "2026-11-25T06:00:00ZZ",
      "2026-11-25T06:00:00Z ",
      " 2026-11-25T06:00:00Z",
      "2026-11-25X06:00:00Z",
      "2026-11-25 ",
  };
  for (const char* text : invalid) {
    CAPTURE(text);
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
  CHECK(error_of(parse_rfc3339("yesterday")) ==
        "invalid time 'yesterday': expected RFC 3339 such as 2026-11-25T06:00:00Z or a date "
        "2026-11-25");
}

TEST_CASE("format_rfc3339 and parse_rfc3339 round-trip") {
  for (const std::int64_t value : {0LL, 1LL, 951782400LL, 1774746000LL, 1792890000LL}) {
    CAPTURE(value);
    CHECK(value_of(parse_rfc3339(format_rfc3339(from_epoch(value)))) == from_epoch(value));
  }
}

TEST_CASE("find_time_zone knows IANA names and says what it expected otherwise") {
  CHECK(zone_name(value_of(find_time_zone("Europe/Berlin"))) == "Europe/Berlin");
  CHECK(zone_name(value_of(find_time_zone("Asia/Kolkata"))) == "Asia/Kolkata");
  CHECK(zone_name(utc_zone()) == "UTC");
  // Twice the same zone: the same object.
  CHECK(value_of(find_time_zone("Europe/Berlin")) == value_of(find_time_zone("Europe/Berlin")));
  CHECK(error_of(find_time_zone("Mars/Olympus")) ==
        "unknown time zone 'Mars/Olympus' (expected an IANA name such as UTC, Europe/Berlin or "
        "America/New_York)");
  CHECK_FALSE(find_time_zone("").has_value());
  CHECK_FALSE(find_time_zone("europe/berlin").has_value());
}

TEST_CASE("format_wall_clock and format_local_date read an instant in a zone") {
  const Instant winter = at("2026-11-24T23:30:00Z");
  CHECK(format_wall_clock(winter, utc_zone()) == "2026-11-24 23:30:00");
  CHECK(format_wall_clock(winter, zone("Europe/Berlin")) == "2026-11-25 00:30:00");
  CHECK(format_wall_clock(winter, zone("Asia/Kolkata")) == "2026-11-25 05:00:00");
  CHECK(format_wall_clock(winter, zone("America/New_York")) == "2026-11-24 18:30:00");
  CHECK(format_local_date(winter, utc_zone()) == "2026-11-24");
  CHECK(format_local_date(winter, zone("Europe/Berlin")) == "2026-11-25");
  SUBCASE("summer time") {
    const Instant summer = at("2026-07-01T22:15:00Z");
    CHECK(format_wall_clock(summer, zone("Europe/Berlin")) == "2026-07-02 00:15:00");
    CHECK(format_wall_clock(summer, zone("America/New_York")) == "2026-07-01 18:15:00");
    CHECK(format_local_date(summer, zone("Europe/Berlin")) == "2026-07-02");
  }
  SUBCASE("the repeated hour reads the same twice") {
    CHECK(format_wall_clock(at("2026-10-25T00:30:00Z"), zone("Europe/Berlin")) ==
          "2026-10-25 02:30:00");
    CHECK(format_wall_clock(at("2026-10-25T01:30:00Z"), zone("Europe/Berlin")) ==
          "2026-10-25 02:30:00");
  }
}

TEST_CASE("utc_offset changes exactly at the DST transition") {
  const TimeZone* berlin = zone("Europe/Berlin");
  CHECK(utc_offset(at("2026-03-29T00:59:59Z"), berlin) == seconds{3600});
  CHECK(utc_offset(at("2026-03-29T01:00:00Z"), berlin) == seconds{7200});
  CHECK(utc_offset(at("2026-10-25T00:59:59Z"), berlin) == seconds{7200});
  CHECK(utc_offset(at("2026-10-25T01:00:00Z"), berlin) == seconds{3600});
  const TimeZone* new_york = zone("America/New_York");
  CHECK(utc_offset(at("2026-03-08T06:59:59Z"), new_york) == seconds{-18000});
  CHECK(utc_offset(at("2026-03-08T07:00:00Z"), new_york) == seconds{-14400});
  CHECK(utc_offset(at("2026-07-01T00:00:00Z"), zone("Asia/Kolkata")) == seconds{19800});
  CHECK(utc_offset(at("2026-07-01T00:00:00Z"), utc_zone()) == seconds{0});
}

TEST_CASE("instant_from_wall_clock inverts the zone's wall clock") {
  const TimeZone* berlin = zone("Europe/Berlin");
  SUBCASE("an ordinary time") {
    CHECK(instant_from_wall_clock(wall("2026-11-25 07:00:00"), berlin) ==
          at("2026-11-25T06:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-07-01 12:00:00"), berlin) ==
          at("2026-07-01T10:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-11-25 08:30:00"), zone("Asia/Kolkata")) ==
          at("2026-11-25T03:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-11-25 08:30:00"), utc_zone()) ==
          at("2026-11-25T08:30:00Z"));
  }
  SUBCASE("a repeated time gives its first occurrence") {
    CHECK(instant_from_wall_clock(wall("2026-10-25 02:00:00"), berlin) ==
          at("2026-10-25T00:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-10-25 02:30:00"), berlin) ==
          at("2026-10-25T00:30:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-10-25 03:00:00"), berlin) ==
          at("2026-10-25T02:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-11-01 01:30:00"), zone("America/New_York")) ==
          at("2026-11-01T05:30:00Z"));
  }
  SUBCASE("a skipped time gives the instant the clock jumps") {
    CHECK(instant_from_wall_clock(wall("2026-03-29 02:00:00"), berlin) ==
          at("2026-03-29T01:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-03-29 02:59:59"), berlin) ==
          at("2026-03-29T01:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-03-29 03:00:00"), berlin) ==
          at("2026-03-29T01:00:00Z"));
    CHECK(instant_from_wall_clock(wall("2026-03-08 02:30:00"), zone("America/New_York")) ==
          at("2026-03-08T07:00:00Z"));
  }
  SUBCASE("round trip through format_wall_clock outside the repeated hour") {
    for (Instant t = at("2026-10-24T20:00:00Z"); t < at("2026-10-25T04:00:00Z");
         t += std::chrono::minutes{20}) {
      CAPTURE(t);
      const Instant back = instant_from_wall_clock(wall(format_wall_clock(t, berlin)), berlin);
      if (t >= at("2026-10-25T01:00:00Z") && t < at("2026-10-25T02:00:00Z")) {
        CHECK(back == t - std::chrono::hours{1});  // read as the first occurrence
      } else {
        CHECK(back == t);
      }
    }
  }
}

TEST_CASE("UTC is built in and reads as the tz database's Etc/UTC does") {
  for (const char* name : {"UTC", "Etc/UTC", "Etc/Universal", "Zulu"}) {
    CAPTURE(name);
    CHECK(value_of(find_time_zone(name)) == utc_zone());
  }
  const TimeZone database(date::locate_zone("Etc/UTC"));
  for (const std::int64_t value : {-2208988800LL, 0LL, 951782400LL, 1774746000LL, 4102444800LL}) {
    CAPTURE(value);
    const Instant instant = from_epoch(value);
    const date::sys_info built_in = utc_zone()->get_info(instant);
    CHECK(built_in.offset == database.get_info(instant).offset);
    CHECK(built_in.begin <= instant);
    CHECK(instant < built_in.end);
    const date::local_info local =
        utc_zone()->get_info(date::local_seconds{instant.time_since_epoch()});
    CHECK(local.result == date::local_info::unique);
    CHECK(local.first.offset == std::chrono::seconds{0});
    CHECK(utc_offset(instant, utc_zone()) == std::chrono::seconds{0});
    CHECK(format_wall_clock(instant, utc_zone()) == format_wall_clock(instant, &database));
    CHECK(instant_from_wall_clock(instant.time_since_epoch(), utc_zone()) == instant);
  }
}

}  // namespace
}  // namespace gapwatch
