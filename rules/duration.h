// Durations as written in configuration: "30s", "5m", "2h", "1d", "1h30m".
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "rules/error.h"

namespace gapwatch {

using Seconds = std::chrono::seconds;

// Parses a positive or zero duration made of one or more <integer><unit> parts,
// units d, h, m, s (each at most once, in that order), e.g. "1h30m".
Expected<Seconds> parse_duration(std::string_view text);

// The shortest form that parse_duration reads back: 5400s -> "1h30m", 0 -> "0s".
std::string format_duration(Seconds duration);

}  // namespace gapwatch
