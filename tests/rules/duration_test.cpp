#include "rules/duration.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::seconds;
using testing::error_of;
using testing::value_of;

TEST_CASE("parse_duration reads one unit") {
  CHECK(value_of(parse_duration("30s")) == seconds{30});
  CHECK(value_of(parse_duration("5m")) == seconds{300});
  CHECK(value_of(parse_duration("2h")) == seconds{7200});
  CHECK(value_of(parse_duration("1d")) == seconds{86400});
  CHECK(value_of(parse_duration("0s")) == seconds{0});
  CHECK(value_of(parse_duration("0d")) == seconds{0});
}

TEST_CASE("parse_duration adds parts written in descending units") {
  CHECK(value_of(parse_duration("1h30m")) == seconds{5400});
  CHECK(value_of(parse_duration("1d2h3m4s")) == seconds{93784});
  CHECK(value_of(parse_duration("1d30s")) == seconds{86430});
  SUBCASE("a part may exceed the next unit") {
    CHECK(value_of(parse_duration("90m")) == seconds{5400});
    CHECK(value_of(parse_duration("1h90m")) == seconds{9000});
    CHECK(value_of(parse_duration("48h")) == seconds{172800});
  }
  SUBCASE("leading zeros are digits like any other") {
    CHECK(value_of(parse_duration("05m")) == seconds{300});
  }
}

TEST_CASE("parse_duration rejects malformed text with a message naming it") {
  SUBCASE("empty") {
    CHECK(error_of(parse_duration("")).find("empty duration") == 0);
  }
  SUBCASE("a number without unit") {
    CHECK(error_of(parse_duration("30")) ==
          "invalid duration '30': missing unit (d, h, m or s) after 30");
    CHECK(error_of(parse_duration("1h30")).find("missing unit") != std::string::npos);
  }
  SUBCASE("a unit without number") {
    CHECK(error_of(parse_duration("h")) == "invalid duration 'h': expected a number at position 1");
    CHECK(error_of(parse_duration("1hm")) ==
          "invalid duration '1hm': expected a number at position 3");
  }
  SUBCASE("signs, spaces and fractions are not numbers") {
    CHECK(error_of(parse_duration("-5m")).find("expected a number at position 1") !=
          std::string::npos);
    CHECK(error_of(parse_duration(" 5m")).find("expected a number at position 1") !=
          std::string::npos);
    CHECK(error_of(parse_duration("1h 30m")).find("expected a number at position 3") !=
          std::string::npos);
    CHECK_FALSE(parse_duration("5m ").has_value());
    CHECK_FALSE(parse_duration("1.5h").has_value());
  }
  SUBCASE("unknown units, upper case and words") {
    CHECK(error_of(parse_duration("1w")) ==
          "invalid duration '1w': unit 'w' is unknown or out of order (use d, h, m, s in that "
          "order)");
    CHECK_FALSE(parse_duration("1H").has_value());
    CHECK_FALSE(parse_duration("5min").has_value());
    CHECK_FALSE(parse_duration("1ms").has_value());
  }
  SUBCASE("units out of order or repeated") {
    CHECK(error_of(parse_duration("30m1h")).find("unit 'h' is unknown or out of order") !=
          std::string::npos);
    CHECK(error_of(parse_duration("1h1h")).find("unit 'h' is unknown or out of order") !=
          std::string::npos);
    CHECK_FALSE(parse_duration("1s1d").has_value());
  }
}

TEST_CASE("parse_duration refuses values that overflow 64-bit seconds") {
  CHECK(error_of(parse_duration("99999999999999999999s")) ==
        "duration '99999999999999999999s' is too large");
  // Fits as a number of days but not once multiplied into seconds.
  CHECK(error_of(parse_duration("106751991167301d")) == "duration '106751991167301d' is too large");
  CHECK(value_of(parse_duration("106751991167300d")) == seconds{106751991167300LL * 86400});
}

TEST_CASE("parse_duration reads back the largest duration it formats (found by fuzzing)") {
  // 106751991167300d15h30m7s: the smaller units must still fit once the days
  // have nearly filled the 64 bits.
  const seconds largest{std::numeric_limits<std::int64_t>::max()};
  CHECK(format_duration(largest) == "106751991167300d15h30m7s");
  CHECK(value_of(parse_duration(format_duration(largest))) == largest);
  CHECK(error_of(parse_duration("106751991167300d15h30m8s")) ==
        "duration '106751991167300d15h30m8s' is too large");
}

TEST_CASE("format_duration writes the shortest form, largest unit first") {
  CHECK(format_duration(seconds{0}) == "0s");
  CHECK(format_duration(seconds{45}) == "45s");
  CHECK(format_duration(seconds{60}) == "1m");
  CHECK(format_duration(seconds{3600}) == "1h");
  CHECK(format_duration(seconds{5400}) == "1h30m");
  CHECK(format_duration(seconds{3660}) == "1h1m");
  CHECK(format_duration(seconds{86400}) == "1d");
  CHECK(format_duration(seconds{90000}) == "1d1h");
  CHECK(format_duration(seconds{90061}) == "1d1h1m1s");
  CHECK(format_duration(seconds{30 * 86400}) == "30d");
  SUBCASE("negative durations keep their sign") {
    CHECK(format_duration(seconds{-90}) == "-1m30s");
  }
}

TEST_CASE("format_duration output reads back through parse_duration") {
  for (const std::int64_t value :
       {0LL, 1LL, 59LL, 60LL, 61LL, 3599LL, 3600LL, 5400LL, 86399LL, 86400LL, 93784LL, 2592000LL}) {
    CAPTURE(value);
    CHECK(value_of(parse_duration(format_duration(seconds{value}))) == seconds{value});
  }
}

}  // namespace
}  // namespace gapwatch
