#include "monitor/config/cron.h"

#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>
#include <doctest/doctest.h>

#include "rules/time.h"

namespace gapwatch {
namespace {

Instant at(std::string_view rfc3339) {
  const Expected<Instant> instant = parse_rfc3339(rfc3339);
  REQUIRE(instant.has_value());
  return *instant;
}

CronExpression cron(std::string_view text) {
  Expected<CronExpression> parsed = CronExpression::parse(text);
  REQUIRE_MESSAGE(parsed.has_value(), (parsed ? std::string() : parsed.error().message));
  return *parsed;
}

std::string error_of(std::string_view text) {
  const Expected<CronExpression> parsed = CronExpression::parse(text);
  REQUIRE_FALSE(parsed.has_value());
  return parsed.error().message;
}

const TimeZone* zone(std::string_view name) {
  const Expected<const TimeZone*> found = find_time_zone(name);
  REQUIRE(found.has_value());
  return *found;
}

// Every firing in (from, until], in UTC RFC 3339.
std::vector<std::string> fires(std::string_view text, std::string_view from, std::string_view until,
                               const TimeZone* time_zone = utc_zone()) {
  const CronExpression expression = cron(text);
  std::vector<std::string> result;
  for (Instant t = expression.next_after(at(from), time_zone); t <= at(until);
       t = expression.next_after(t, time_zone)) {
    result.push_back(format_rfc3339(t));
  }
  return result;
}

std::string next(std::string_view text, std::string_view after,
                 const TimeZone* time_zone = utc_zone()) {
  const Instant t = cron(text).next_after(at(after), time_zone);
  return t == Instant::max() ? "never" : format_rfc3339(t);
}

// Which values of one calendar field fire in UTC over a window, read through
// `field` from each firing.
template <typename Field>
std::vector<unsigned> fired_values(std::string_view text, std::string_view from,
                                   std::string_view until, Field field) {
  const CronExpression expression = cron(text);
  std::vector<unsigned> values;
  for (Instant t = expression.next_after(at(from), utc_zone()); t <= at(until);
       t = expression.next_after(t, utc_zone())) {
    values.push_back(field(t));
  }
  return values;
}

std::vector<unsigned> minutes_in_an_hour(std::string_view text) {
  return fired_values(text, "2025-12-31T23:59:59Z", "2026-01-01T00:59:59Z", [](Instant t) {
    return static_cast<unsigned>((t.time_since_epoch() % std::chrono::hours{1}) /
                                 std::chrono::minutes{1});
  });
}

std::vector<unsigned> hours_in_a_day(std::string_view text) {
  return fired_values(text, "2025-12-31T23:59:59Z", "2026-01-01T23:59:59Z", [](Instant t) {
    return static_cast<unsigned>((t.time_since_epoch() % std::chrono::days{1}) /
                                 std::chrono::hours{1});
  });
}

// Days of January 2026 (the 1st is a Thursday).
std::vector<unsigned> days_in_january(std::string_view text) {
  return fired_values(text, "2025-12-31T23:59:59Z", "2026-01-31T23:59:59Z", [](Instant t) {
    return static_cast<unsigned>(date::year_month_day{std::chrono::floor<date::days>(t)}.day());
  });
}

// Weekdays (Sunday = 0) of the week starting Sunday 2026-03-01.
std::vector<unsigned> weekdays_in_a_week(std::string_view text) {
  return fired_values(text, "2026-02-28T23:59:59Z", "2026-03-07T23:59:59Z", [](Instant t) {
    return date::weekday{std::chrono::floor<date::days>(t)}.c_encoding();
  });
}

std::vector<unsigned> months_in_2026(std::string_view text) {
  return fired_values(text, "2025-12-31T23:59:59Z", "2026-12-31T23:59:59Z", [](Instant t) {
    return static_cast<unsigned>(date::year_month_day{std::chrono::floor<date::days>(t)}.month());
  });
}

using Values = std::vector<unsigned>;

TEST_CASE("CronExpression::parse accepts numbers, ranges, lists and steps") {
  SUBCASE("star matches every value") {
    CHECK(minutes_in_an_hour("* * * * *").size() == 60);
  }
  SUBCASE("single number") {
    CHECK(minutes_in_an_hour("5 * * * *") == Values{5});
  }
  SUBCASE("range is inclusive") {
    CHECK(minutes_in_an_hour("10-13 * * * *") == Values{10, 11, 12, 13});
  }
  SUBCASE("list") {
    CHECK(minutes_in_an_hour("1,15,59 * * * *") == Values{1, 15, 59});
  }
  SUBCASE("step over star") {
    CHECK(minutes_in_an_hour("*/15 * * * *") == Values{0, 15, 30, 45});
  }
  SUBCASE("step over a range") {
    CHECK(minutes_in_an_hour("10-30/10 * * * *") == Values{10, 20, 30});
  }
  SUBCASE("list mixing steps, ranges and numbers") {
    CHECK(minutes_in_an_hour("0-10/4,50,55-56 * * * *") == Values{0, 4, 8, 50, 55, 56});
  }
  SUBCASE("step larger than the range keeps only its start") {
    CHECK(minutes_in_an_hour("*/59 * * * *") == Values{0, 59});
  }
  SUBCASE("hours") {
    CHECK(hours_in_a_day("0 */6 * * *") == Values{0, 6, 12, 18});
    CHECK(hours_in_a_day("0 9-17/4 * * *") == Values{9, 13, 17});
  }
  SUBCASE("days of the month") {
    CHECK(days_in_january("0 0 1,15,31 * *") == Values{1, 15, 31});
    CHECK(days_in_january("0 0 */10 * *") == Values{1, 11, 21, 31});
  }
  SUBCASE("leading zeros") {
    CHECK(minutes_in_an_hour("05 * * * *") == Values{5});
  }
  SUBCASE("surrounding and repeated whitespace, with text() kept as given") {
    const CronExpression expression = cron("  0\t0   * * *  ");
    CHECK(expression.text() == "  0\t0   * * *  ");
    CHECK(next("  0\t0   * * *  ", "2026-01-01T12:00:00Z") == "2026-01-02T00:00:00Z");
  }
}

TEST_CASE("CronExpression::parse accepts month and weekday names in any case") {
  SUBCASE("month names, lists and ranges") {
    CHECK(months_in_2026("0 0 1 jan,MAR,Jun-aug *") == Values{1, 3, 6, 7, 8});
    CHECK(months_in_2026("0 0 1 jan-dec/3 *") == Values{1, 4, 7, 10});
    CHECK(months_in_2026("0 0 1 2,dec *") == Values{2, 12});
  }
  SUBCASE("weekday names") {
    CHECK(weekdays_in_a_week("0 0 * * mon-fri") == Values{1, 2, 3, 4, 5});
    CHECK(weekdays_in_a_week("0 0 * * Sat,SUN") == Values{0, 6});
  }
  SUBCASE("both 0 and 7 mean Sunday") {
    CHECK(weekdays_in_a_week("0 0 * * 0") == Values{0});
    CHECK(weekdays_in_a_week("0 0 * * 7") == Values{0});
    CHECK(weekdays_in_a_week("0 0 * * 5-7") == Values{0, 5, 6});
    CHECK(weekdays_in_a_week("0 0 * * 0-7") == Values{0, 1, 2, 3, 4, 5, 6});
  }
  SUBCASE("a range ending on Sunday wraps to 7") {
    CHECK(weekdays_in_a_week("0 0 * * fri-sun") == Values{0, 5, 6});
  }
  SUBCASE("step over weekdays") {
    CHECK(weekdays_in_a_week("0 0 * * */2") == Values{0, 2, 4, 6});
    CHECK(weekdays_in_a_week("0 0 * * mon-fri/2") == Values{1, 3, 5});
  }
}

TEST_CASE("CronExpression::parse expands macros") {
  const std::string after = "2026-03-04T10:30:00Z";  // a Wednesday
  SUBCASE("@hourly") {
    CHECK(next("@hourly", after) == "2026-03-04T11:00:00Z");
  }
  SUBCASE("@daily and @midnight") {
    CHECK(next("@daily", after) == "2026-03-05T00:00:00Z");
    CHECK(next("@midnight", after) == "2026-03-05T00:00:00Z");
  }
  SUBCASE("@weekly fires on Sunday") {
    CHECK(next("@weekly", after) == "2026-03-08T00:00:00Z");
  }
  SUBCASE("@monthly") {
    CHECK(next("@monthly", after) == "2026-04-01T00:00:00Z");
  }
  SUBCASE("@yearly and @annually") {
    CHECK(next("@yearly", after) == "2027-01-01T00:00:00Z");
    CHECK(next("@annually", after) == "2027-01-01T00:00:00Z");
  }
  SUBCASE("macro names are case-insensitive and may be padded") {
    CHECK(next(" @DAILY ", after) == "2026-03-05T00:00:00Z");
    CHECK(cron(" @DAILY ").text() == " @DAILY ");
  }
}

TEST_CASE("CronExpression::parse rejects malformed text with a message naming the field") {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  const std::vector<Case> cases{
      {"", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
      {"   ", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
      {"0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"0 0 0 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 7"},
      {"@reboot",
       "unknown macro '@reboot' (expected @hourly, @daily, @midnight, @weekly, @monthly, "
       "@yearly or @annually)"},
      {"@daily 5", "expected 5 fields (minute hour day-of-month month day-of-week), got 2"},
      {"61 * * * *", "minute field '61': value 61 out of range 0-59"},
      {"0 24 * * *", "hour field '24': value 24 out of range 0-23"},
      {"0 0 0 * *", "day-of-month field '0': value 0 out of range 1-31"},
      {"0 0 32 * *", "day-of-month field '32': value 32 out of range 1-31"},
      {"0 0 * 13 *", "month field '13': value 13 out of range 1-12"},
      {"0 0 * 0 *", "month field '0': value 0 out of range 1-12"},
      {"0 0 * * 8", "day-of-week field '8': value 8 out of range 0-7"},
      {"99999999999 * * * *", "minute field '99999999999': value 99999999999 out of range 0-59"},
      {"1,70 * * * *", "minute field '1,70': value 70 out of range 0-59"},
      {"x * * * *", "minute field 'x': 'x' is not a number"},
      {"0 jan * * *", "hour field 'jan': 'jan' is not a number"},
      {"0 0 * foo *", "month field 'foo': 'foo' is not a month (expected 1-12 or jan-dec)"},
      {"0 0 * january *",
       "month field 'january': 'january' is not a month (expected 1-12 or jan-dec)"},
      {"0 0 * * funday",
       "day-of-week field 'funday': 'funday' is not a day of the week (expected 0-7 or sun-sat)"},
      {"+5 * * * *", "minute field '+5': '+5' is not a number"},
      {"1,,2 * * * *", "minute field '1,,2': empty list element"},
      {"1, * * * *", "minute field '1,': empty list element"},
      {",1 * * * *", "minute field ',1': empty list element"},
      {"0 5-3 * * *", "hour field '5-3': range '5-3' runs backwards (start 5 is after end 3)"},
      {"0 0 * jun-mar *",
       "month field 'jun-mar': range 'jun-mar' runs backwards (start 6 is after end 3)"},
      {"0 0 * * sat-mon",
       "day-of-week field 'sat-mon': range 'sat-mon' runs backwards (start 6 is after end 1)"},
      {"-5 * * * *", "minute field '-5': range '-5' has no start"},
      {"5- * * * *", "minute field '5-': range '5-' has no end"},
      {"1-2-3 * * * *", "minute field '1-2-3': '2-3' is not a number"},
      {"*-5 * * * *", "minute field '*-5': '*' is not a number"},
      {"*/0 * * * *", "minute field '*/0': step 0 out of range 1-59"},
      {"*/60 * * * *", "minute field '*/60': step 60 out of range 1-59"},
      {"*/ * * * *", "minute field '*/': step '' is not a number"},
      {"*/x * * * *", "minute field '*/x': step 'x' is not a number"},
      {"*/5/2 * * * *", "minute field '*/5/2': step '5/2' is not a number"},
      {"5/10 * * * *",
       "minute field '5/10': a step needs a range or * before it (write '5-59/10' or '*/10')"},
      {"0 0 ? * *", "day-of-month field '?': '?' is not a number"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(error_of(c.text) == c.message);
  }
}

TEST_CASE("day-of-month and day-of-week match with OR when both are restricted") {
  SUBCASE("the 13th or any Friday") {
    CHECK(days_in_january("0 0 13 * fri") == Values{2, 9, 13, 16, 23, 30});
  }
  SUBCASE("days 1-7 or any Monday, not the first Monday") {
    CHECK(days_in_january("0 0 1-7 * 1") == Values{1, 2, 3, 4, 5, 6, 7, 12, 19, 26});
  }
  SUBCASE("day-of-month alone when day-of-week is *") {
    CHECK(days_in_january("0 0 13 * *") == Values{13});
  }
  SUBCASE("day-of-week alone when day-of-month is *") {
    CHECK(days_in_january("0 0 * * fri") == Values{2, 9, 16, 23, 30});
  }
  SUBCASE("a step is a restriction, unlike in Vixie cron") {
    CHECK(days_in_january("0 0 */10 * fri") == Values{1, 2, 9, 11, 16, 21, 23, 30, 31});
  }
}

TEST_CASE("CronExpression::next_after in UTC") {
  SUBCASE("is strictly after the given instant") {
    CHECK(next("0 * * * *", "2026-05-01T10:00:00Z") == "2026-05-01T11:00:00Z");
    CHECK(next("0 * * * *", "2026-05-01T09:59:59Z") == "2026-05-01T10:00:00Z");
  }
  SUBCASE("fires at second 0 of the next minute") {
    CHECK(next("* * * * *", "2026-05-01T10:00:30Z") == "2026-05-01T10:01:00Z");
  }
  SUBCASE("later in the same day, the next day, the next hour") {
    CHECK(next("15 14 * * *", "2026-05-01T10:00:00Z") == "2026-05-01T14:15:00Z");
    CHECK(next("15 14 * * *", "2026-05-01T14:15:00Z") == "2026-05-02T14:15:00Z");
    CHECK(next("15,45 14,15 * * *", "2026-05-01T14:50:00Z") == "2026-05-01T15:15:00Z");
  }
  SUBCASE("month rollover") {
    CHECK(next("0 0 1 * *", "2026-01-31T12:00:00Z") == "2026-02-01T00:00:00Z");
    CHECK(next("30 23 * * *", "2026-04-30T23:30:00Z") == "2026-05-01T23:30:00Z");
  }
  SUBCASE("the 31st skips shorter months") {
    CHECK(next("0 12 31 * *", "2026-01-31T12:00:00Z") == "2026-03-31T12:00:00Z");
  }
  SUBCASE("year rollover") {
    CHECK(next("59 23 31 12 *", "2026-12-31T23:59:00Z") == "2027-12-31T23:59:00Z");
    CHECK(next("0 0 1 1 *", "2026-06-01T00:00:00Z") == "2027-01-01T00:00:00Z");
    CHECK(next("* * * * *", "2026-12-31T23:59:00Z") == "2027-01-01T00:00:00Z");
  }
  SUBCASE("a restricted month skips ahead") {
    CHECK(next("0 0 * oct mon", "2026-01-01T00:00:00Z") == "2026-10-05T00:00:00Z");
  }
  SUBCASE("leap day fires only in leap years") {
    CHECK(next("0 0 29 2 *", "2026-01-01T00:00:00Z") == "2028-02-29T00:00:00Z");
    CHECK(next("0 0 29 2 *", "2028-02-29T00:00:00Z") == "2032-02-29T00:00:00Z");
    CHECK(cron("0 0 29 2 *").fires_ever());
  }
  SUBCASE("leap day across 2100, which is not a leap year") {
    CHECK(next("0 0 29 2 *", "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00Z");
  }
}

TEST_CASE("CronExpression::next_after returns Instant::max() for impossible dates") {
  SUBCASE("February 30th") {
    const CronExpression expression = cron("0 0 30 2 *");
    CHECK_FALSE(expression.fires_ever());
    CHECK(expression.next_after(at("2026-01-01T00:00:00Z"), utc_zone()) == Instant::max());
    CHECK(expression.next_after(at("2026-01-01T00:00:00Z"), zone("Europe/Berlin")) ==
          Instant::max());
  }
  SUBCASE("the 31st of only 30-day months") {
    CHECK_FALSE(cron("0 0 31 4,6,9,11 *").fires_ever());
    CHECK(next("0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z") == "never");
  }
  SUBCASE("an impossible day-of-month still fires on its day-of-week (OR rule)") {
    CHECK(cron("0 0 30 2 mon").fires_ever());
    CHECK(next("0 0 30 2 mon", "2026-01-01T00:00:00Z") == "2026-02-02T00:00:00Z");
  }
  SUBCASE("possible dates report fires_ever") {
    CHECK(cron("* * * * *").fires_ever());
    CHECK(cron("0 0 31 * *").fires_ever());
    CHECK(cron("0 0 * 2 fri").fires_ever());
  }
  SUBCASE("the very end of time never fires") {
    CHECK(cron("* * * * *").next_after(Instant::max(), utc_zone()) == Instant::max());
  }
}

TEST_CASE("CronExpression::next_after in Europe/Berlin across daylight-saving changes") {
  const TimeZone* berlin = zone("Europe/Berlin");
  SUBCASE("winter time is UTC+1") {
    CHECK(next("30 2 * * *", "2026-03-27T12:00:00Z", berlin) == "2026-03-28T01:30:00Z");
  }
  SUBCASE("spring forward: a skipped 02:30 fires once, as the clock jumps to 03:00") {
    CHECK(next("30 2 * * *", "2026-03-28T01:30:00Z", berlin) == "2026-03-29T01:00:00Z");
    CHECK(next("30 2 * * *", "2026-03-29T00:59:59Z", berlin) == "2026-03-29T01:00:00Z");
    CHECK(next("30 2 * * *", "2026-03-29T01:00:00Z", berlin) == "2026-03-30T00:30:00Z");
  }
  SUBCASE("spring forward: several skipped and jumped-to times fire once together") {
    CHECK(fires("0,30 2,3 * * *", "2026-03-28T23:00:00Z", "2026-03-29T23:00:00Z", berlin) ==
          std::vector<std::string>{"2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"});
  }
  SUBCASE("fall back: a repeated 02:30 fires once, at its first occurrence") {
    CHECK(fires("30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z", berlin) ==
          std::vector<std::string>{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"});
  }
  SUBCASE("fall back: from inside the repeated hour, the next firing is the next day") {
    CHECK(next("30 2 * * *", "2026-10-25T01:15:00Z", berlin) == "2026-10-26T01:30:00Z");
    CHECK(next("0 3 * * *", "2026-10-25T01:15:00Z", berlin) == "2026-10-25T02:00:00Z");
  }
  SUBCASE("hourly keeps an hourly pace through both changes") {
    CHECK(fires("@hourly", "2026-03-28T23:30:00Z", "2026-03-29T02:00:00Z", berlin) ==
          std::vector<std::string>{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z",
                                   "2026-03-29T02:00:00Z"});
    CHECK(fires("@hourly", "2026-10-24T23:30:00Z", "2026-10-25T02:00:00Z", berlin) ==
          std::vector<std::string>{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z",
                                   "2026-10-25T02:00:00Z"});
  }
  SUBCASE("a star in the minute field follows elapsed time, as in cronie") {
    CHECK(fires("*/30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z", berlin) ==
          std::vector<std::string>{"2026-03-30T00:00:00Z", "2026-03-30T00:30:00Z"});
    CHECK(fires("*/30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z", berlin) ==
          std::vector<std::string>{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z",
                                   "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z"});
  }
  SUBCASE("summer time is UTC+2") {
    CHECK(next("0 9 * * *", "2026-07-01T00:00:00Z", berlin) == "2026-07-01T07:00:00Z");
  }
  SUBCASE("a daily job fires every day of the year, hourly every elapsed hour") {
    CHECK(fires("30 2 * * *", "2025-12-31T23:00:00Z", "2026-12-31T23:00:00Z", berlin).size() ==
          365);
    const CronExpression hourly = cron("0 * * * *");
    Instant previous = hourly.next_after(at("2026-01-01T00:00:00Z"), berlin);
    for (int i = 0; i < 24 * 365; ++i) {
      const Instant current = hourly.next_after(previous, berlin);
      REQUIRE(current - previous == std::chrono::hours{1});
      previous = current;
    }
  }
}

TEST_CASE("CronExpression::next_after in America/New_York across daylight-saving changes") {
  const TimeZone* new_york = zone("America/New_York");
  SUBCASE("weekday mornings") {
    CHECK(next("0 9 * * mon-fri", "2026-01-02T15:00:00Z", new_york) == "2026-01-05T14:00:00Z");
  }
  SUBCASE("spring forward on 2026-03-08: 02:30 fires as the clock jumps") {
    CHECK(next("30 2 * * *", "2026-03-07T12:00:00Z", new_york) == "2026-03-08T07:00:00Z");
    CHECK(next("30 2 * * *", "2026-03-08T07:00:00Z", new_york) == "2026-03-09T06:30:00Z");
  }
  SUBCASE("fall back on 2026-11-01: 01:30 fires once, in daylight time") {
    CHECK(fires("30 1 * * *", "2026-10-31T12:00:00Z", "2026-11-02T12:00:00Z", new_york) ==
          std::vector<std::string>{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
  }
  SUBCASE("local month start is five hours into the UTC day") {
    CHECK(next("0 0 1 * *", "2026-01-15T00:00:00Z", new_york) == "2026-02-01T05:00:00Z");
  }
}

TEST_CASE("CronExpression::next_after in Asia/Kolkata, a half-hour offset") {
  const TimeZone* kolkata = zone("Asia/Kolkata");
  CHECK(next("0 9 * * *", "2026-01-01T00:00:00Z", kolkata) == "2026-01-01T03:30:00Z");
  CHECK(next("0 * * * *", "2026-01-01T00:00:00Z", kolkata) == "2026-01-01T00:30:00Z");
  SUBCASE("local month start falls on the previous UTC day") {
    CHECK(next("0 0 1 * *", "2026-01-15T00:00:00Z", kolkata) == "2026-01-31T18:30:00Z");
  }
  SUBCASE("local new year") {
    CHECK(next("@yearly", "2026-06-01T00:00:00Z", kolkata) == "2026-12-31T18:30:00Z");
  }
}

}  // namespace
}  // namespace gapwatch
