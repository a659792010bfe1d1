// Fuzz target: the schedule parsers on arbitrary text — parse_duration,
// parse_rfc3339 and CronExpression::parse — and, for an expression that
// parses, next_after from a few instants (around DST changes, a leap day, the
// epoch, the end of a century) in UTC and Europe/Berlin. Properties: what
// parses formats back to the same value; next_after is strictly later, at
// second 0, within the eight-year search window, found for every expression
// that fires_ever(), and stable (asking again just before it gives it again).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "monitor/config/cron.h"
#include "rules/duration.h"
#include "rules/time.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using gapwatch::Instant;
using namespace std::chrono;

constexpr Instant at(year_month_day day, seconds time_of_day) {
  return Instant{sys_days{day}} + time_of_day;
}

// Before Berlin's spring-forward and fall-back of 2026, before a leap day,
// the epoch, and just before 2100 (not a leap year).
constexpr std::array<Instant, 5> kInstants{
    at(2026y / March / 29, minutes{30}),
    at(2026y / October / 25, minutes{59} + seconds{59}),
    at(2024y / February / 28, hours{23} + minutes{59} + seconds{30}),
    at(1970y / January / 1, seconds{0}),
    at(2099y / December / 31, hours{23} + minutes{59} + seconds{59}),
};

void check_duration(std::string_view text) {
  const auto parsed = gapwatch::parse_duration(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  FUZZ_CHECK(parsed->count() >= 0);
  const auto again = gapwatch::parse_duration(gapwatch::format_duration(*parsed));
  FUZZ_CHECK(again && *again == *parsed);
}

void check_time(std::string_view text) {
  const auto parsed = gapwatch::parse_rfc3339(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  const year_month_day day{floor<days>(*parsed)};
  if (day.year() >= year{1} && day.year() <= year{9999}) {
    const auto again = gapwatch::parse_rfc3339(gapwatch::format_rfc3339(*parsed));
    FUZZ_CHECK(again && *again == *parsed);
  }
}

void check_cron(std::string_view text) {
  const auto parsed = gapwatch::CronExpression::parse(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return;
  }
  FUZZ_CHECK(parsed->text() == text);
  static const gapwatch::TimeZone* const berlin = *gapwatch::find_time_zone("Europe/Berlin");
  for (const gapwatch::TimeZone* zone : {gapwatch::utc_zone(), berlin}) {
    for (const Instant after : kInstants) {
      const Instant next = parsed->next_after(after, zone);
      if (!parsed->fires_ever()) {
        FUZZ_CHECK(next == Instant::max());
        continue;
      }
      FUZZ_CHECK(next != Instant::max());
      FUZZ_CHECK(next > after);
      FUZZ_CHECK(next - after <= days{8 * 366});
      FUZZ_CHECK(next.time_since_epoch() % minutes{1} == seconds{0});
      FUZZ_CHECK(parsed->next_after(next - seconds{1}, zone) == next);
      FUZZ_CHECK(parsed->next_after(next, zone) > next);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_duration(text);
  check_time(text);
  check_cron(text);
  return 0;
}
