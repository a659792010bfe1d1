#include "rules/duration.h"

#include <array>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

namespace gapwatch {

namespace {

struct Unit {
  char suffix;
  std::int64_t seconds;
};

constexpr std::array<Unit, 4> kUnits{{{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};

}  // namespace

Expected<Seconds> parse_duration(std::string_view text) {
  if (text.empty()) {
    return fail("empty duration; expected e.g. 30s, 5m, 2h, 1d or 1h30m");
  }
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must appear in descending order, each once
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t value = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) {
        return fail(fmt::format("duration '{}' is too large", text));
      }
      value = value * 10 + (text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0) {
      return fail(fmt::format("invalid duration '{}': expected a number at position {}", text,
                              i + 1));
    }
    if (i == text.size()) {
      return fail(fmt::format("invalid duration '{}': missing unit (d, h, m or s) after {}", text,
                              value));
    }
    const char suffix = text[i++];
    std::size_t unit = next_unit;
    while (unit < kUnits.size() && kUnits[unit].suffix != suffix) {
      ++unit;
    }
    if (unit == kUnits.size()) {
      return fail(fmt::format(
          "invalid duration '{}': unit '{}' is unknown or out of order (use d, h, m, s in that order)",
          text, suffix));
    }
    if (value > (std::numeric_limits<std::int64_t>::max() - total) / kUnits[unit].seconds) {
      return fail(fmt::format("duration '{}' is too large", text));
    }
    total += value * kUnits[unit].seconds;
    next_unit = unit + 1;
  }
  return Seconds{total};
}

std::string format_duration(Seconds duration) {
  std::int64_t rest = duration.count();
  if (rest == 0) {
    return "0s";
  }
  std::string out;
  if (rest < 0) {
    out += '-';
    rest = -rest;
  }
  for (const Unit& unit : kUnits) {
    if (rest >= unit.seconds) {
      out += fmt::format("{}{}", rest / unit.seconds, unit.suffix);
      rest %= unit.seconds;
    }
  }
  return out;
}

}  // namespace gapwatch
