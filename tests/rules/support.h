// Helpers shared by the rules unit tests: instants from fixed RFC 3339 text (no
// test reads the real clock), zones by IANA name, and unwrapping Expected
// values with the error shown when it is unexpectedly there, and a temporary
// directory.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <doctest/doctest.h>

#include "rules/error.h"
#include "rules/time.h"

namespace gapwatch::testing {

inline Instant at(std::string_view rfc3339) {
  const Expected<Instant> instant = parse_rfc3339(rfc3339);
  REQUIRE_MESSAGE(instant.has_value(), std::string(rfc3339));
  return *instant;
}

// A wall-clock reading as seconds since the epoch, as if the wall clock were
// UTC: wall("2026-10-25 02:30:00").
inline std::chrono::seconds wall(std::string_view text) {
  return at(std::string(text) + "Z").time_since_epoch();
}

inline std::int64_t epoch(std::string_view rfc3339) {
  return at(rfc3339).time_since_epoch().count();
}

inline const TimeZone* zone(std::string_view name) {
  const Expected<const TimeZone*> found = find_time_zone(name);
  REQUIRE_MESSAGE(found.has_value(), std::string(name));
  return *found;
}

template <typename T>
T value_of(Expected<T> expected) {
  REQUIRE_MESSAGE(expected.has_value(), (expected ? std::string() : expected.error().message));
  return std::move(*expected);
}

template <typename T>
std::string error_of(const Expected<T>& expected) {
  REQUIRE_FALSE(expected.has_value());
  return expected.error().message;
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    const std::filesystem::path base = std::filesystem::temp_directory_path();
    std::string pattern = (base / "gapwatch-test-XXXXXX").string();
    REQUIRE_MESSAGE(mkdtemp(pattern.data()) != nullptr, pattern);
    m_path = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

}  // namespace gapwatch::testing
