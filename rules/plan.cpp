#include "rules/plan.h"

#include <charconv>
#include <cmath>

namespace gapwatch {

std::optional<double> parse_number(const Cell& cell) {
  if (!cell) {
    return std::nullopt;
  }
  const std::string& text = *cell;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> parse_integer(const Cell& cell) {
  if (!cell) {
    return std::nullopt;
  }
  const std::string& text = *cell;
  std::int64_t value = 0;
  const char* const last = text.data() + text.size();
  const auto [end, error] = std::from_chars(text.data(), last, value);
  if (error != std::errc{}) {
    return std::nullopt;
  }
  // Accept a zero fraction ("42.000"), as some drivers print numeric values.
  const char* rest = end;
  if (rest != last && *rest == '.') {
    ++rest;
    while (rest != last && *rest == '0') {
      ++rest;
    }
  }
  if (rest != last) {
    return std::nullopt;
  }
  return value;
}

}  // namespace gapwatch
