#include "rules/time.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include "rules/mutex.h"

namespace gapwatch {

namespace {

bool read_int(std::string_view text, std::size_t& pos, std::size_t digits, int& out) {
  if (pos + digits > text.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += digits;
  out = value;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

std::string format_rfc3339(Instant instant) {
  // By hand rather than date::format, which goes through an ostringstream and
  // its locale: this runs for every bound time parameter and every result.
  const auto day = std::chrono::floor<std::chrono::days>(instant);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{instant - day};
  const int year = static_cast<int>(date.year());
  return fmt::format("{}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", year < 0 ? "-" : "",
                     year < 0 ? -year : year, static_cast<unsigned>(date.month()),
                     static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count());
}

Expected<Instant> parse_rfc3339(std::string_view text) {
  const auto invalid = [&] {
    return fail(fmt::format(
        "invalid time '{}': expected RFC 3339 such as 2026-11-25T06:00:00Z or a date 2026-11-25",
        text));
  };
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!read_int(text, pos, 4, year) || !expect(text, pos, '-') || !read_int(text, pos, 2, month) ||
      !expect(text, pos, '-') || !read_int(text, pos, 2, day)) {
    return invalid();
  }
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) {
    return invalid();
  }
  const Instant midnight{date::sys_days{ymd}};
  if (pos == text.size()) {
    return midnight;
  }
  if (!(expect(text, pos, 'T') || expect(text, pos, 't') || expect(text, pos, ' '))) {
    return invalid();
  }
  int hour = 0, minute = 0, second = 0;
  if (!read_int(text, pos, 2, hour) || !expect(text, pos, ':') || !read_int(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !read_int(text, pos, 2, second) || hour > 23 || minute > 59 ||
      second > 60) {
    return invalid();
  }
  if (expect(text, pos, '.')) {
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
    }
    if (pos == start) {
      return invalid();
    }
  }
  int offset_seconds = 0;
  if (expect(text, pos, 'Z') || expect(text, pos, 'z')) {
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int offset_hours = 0, offset_minutes = 0;
    if (!read_int(text, pos, 2, offset_hours) || !expect(text, pos, ':') ||
        !read_int(text, pos, 2, offset_minutes) || offset_hours > 23 || offset_minutes > 59) {
      return invalid();
    }
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
  } else {
    return invalid();
  }
  if (pos != text.size()) {
    return invalid();
  }
  return midnight + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second} - std::chrono::seconds{offset_seconds};
}

std::string_view TimeZone::name() const {
  if (m_zone != nullptr) {
    return m_zone->name();  // a string the tz database keeps
  }
  return "UTC";
}

date::sys_info TimeZone::get_info(Instant instant) const {
  if (m_zone != nullptr) {
    return m_zone->get_info(instant);
  }
  date::sys_info info;
  info.begin = date::sys_days{date::year::min() / date::January / 1};
  info.end = date::sys_days{date::year::max() / date::December / 31};
  info.offset = std::chrono::seconds{0};
  info.save = std::chrono::minutes{0};
  info.abbrev = "UTC";
  return info;
}

date::local_info TimeZone::get_info(date::local_seconds wall) const {
  if (m_zone != nullptr) {
    return m_zone->get_info(wall);
  }
  date::local_info info{};
  info.result = date::local_info::unique;
  info.first = get_info(Instant{wall.time_since_epoch()});
  return info;
}

Expected<const TimeZone*> find_time_zone(std::string_view name) {
  // The names that are UTC itself in the tz database (Etc/UTC and its links).
  constexpr std::string_view kUtcNames[] = {"UTC", "Etc/UTC", "Etc/UCT", "UCT",
                                            "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"};
  if (std::find(std::begin(kUtcNames), std::end(kUtcNames), name) != std::end(kUtcNames)) {
    return utc_zone();
  }
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(name);
  } catch (const std::exception&) {
    return fail(fmt::format("unknown time zone '{}' (expected an IANA name such as "
                            "UTC, Europe/Berlin or America/New_York)",
                            name));
  }
  // One TimeZone per zone, kept for the life of the process like the zone.
  static Mutex mutex;
  static std::map<const date::time_zone*, TimeZone> zones GUARDED_BY(mutex);
  MutexLock lock(mutex);
  return &zones.try_emplace(zone, zone).first->second;
}

const TimeZone* utc_zone() {
  static const TimeZone zone;
  return &zone;
}

std::string zone_name(const TimeZone* zone) { return std::string(zone->name()); }

std::string format_wall_clock(Instant instant, const TimeZone* zone) {
  return date::format("%Y-%m-%d %H:%M:%S", zone->to_local(instant));
}

std::string format_local_date(Instant instant, const TimeZone* zone) {
  return date::format("%Y-%m-%d", zone->to_local(instant));
}

std::chrono::seconds utc_offset(Instant instant, const TimeZone* zone) {
  return zone->get_info(instant).offset;
}

Instant instant_from_wall_clock(std::chrono::seconds wall, const TimeZone* zone) {
  const date::local_seconds local{wall};
  const date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      return Instant{wall - info.first.offset};
    case date::local_info::nonexistent:
    default:
      return info.first.end;
  }
}

}  // namespace gapwatch
