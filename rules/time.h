// Instants, RFC 3339 text and IANA time zones. All instants inside gapwatch are
// UTC (std::chrono::sys_seconds); a time zone appears only where a user's
// calendar matters. Pure functions; thread-safe (the tz database is read-only
// once loaded).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "rules/error.h"

namespace date {
class time_zone;
}

namespace gapwatch {

using Instant = std::chrono::sys_seconds;
using TimeZone = date::time_zone;

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
