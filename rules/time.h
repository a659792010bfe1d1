// Instants, RFC 3339 text and IANA time zones. All instants inside gapwatch are
// UTC (std::chrono::sys_seconds); a time zone appears only where a user's
// calendar matters. Pure functions; thread-safe (the tz database is read-only
// once loaded).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <date/tz.h>

#include "rules/error.h"

namespace gapwatch {

using Instant = std::chrono::sys_seconds;

// A zone of the tz database, or UTC built in: UTC (the default everywhere)
// never loads the database, whose first lookup lists the whole zoneinfo
// directory (milliseconds at every start, and some 0.3 MiB kept resident).
class TimeZone {
 public:
  TimeZone() = default;  // UTC; use utc_zone()
  explicit TimeZone(const date::time_zone* zone) : m_zone(zone) {}

  std::string_view name() const;
  date::sys_info get_info(Instant instant) const;
  date::local_info get_info(date::local_seconds wall) const;
  // The wall clock's reading at an instant.
  date::local_seconds to_local(Instant instant) const {
    return date::local_seconds{(instant + get_info(instant).offset).time_since_epoch()};
  }

 private:
  const date::time_zone* m_zone = nullptr;  // nullptr: UTC
};

// "2026-11-23T04:00:00Z".
std::string format_rfc3339(Instant instant);

// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (a space may replace the
// T; fractions are truncated) and a bare date "YYYY-MM-DD" meaning midnight UTC.
Expected<Instant> parse_rfc3339(std::string_view text);

// Looks up an IANA zone such as "Europe/Berlin".
Expected<const TimeZone*> find_time_zone(std::string_view name);
const TimeZone* utc_zone();
std::string zone_name(const TimeZone* zone);

// Wall-clock text of an instant in a zone: "YYYY-MM-DD HH:MM:SS".
std::string format_wall_clock(Instant instant, const TimeZone* zone);
// The calendar date of an instant in a zone: "YYYY-MM-DD".
std::string format_local_date(Instant instant, const TimeZone* zone);

// Seconds east of UTC in force at an instant.
std::chrono::seconds utc_offset(Instant instant, const TimeZone* zone);

// The instant at which a zone's wall clock reads `wall` (seconds since the
// epoch as if the wall clock were UTC). Ambiguous times (a repeated hour) give
// the earlier instant; skipped times give the instant of the transition.
Instant instant_from_wall_clock(std::chrono::seconds wall, const TimeZone* zone);

}  // namespace gapwatch
