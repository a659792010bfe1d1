// Helpers shared by the monitor's state tests: a temporary directory for state
// databases (removed afterwards), opening a StateStore in it, and how incident
// and request states print in doctest failure messages. Every test file that
// CHECKs these enums must include it, for the same reason as
// tests/rules/printers.h: doctest would otherwise print them as integers.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "monitor/state/state_store.h"
#include "tests/rules/support.h"

namespace gapwatch {

inline doctest::String toString(IncidentState state) {
  return doctest::String(std::string(to_string(state)).c_str());
}

inline doctest::String toString(RequestState state) {
  return doctest::String(std::string(to_string(state)).c_str());
}

namespace testing {

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

inline std::unique_ptr<StateStore> open_store(const std::string& path) {
  return value_of(StateStore::open(path));
}

}  // namespace testing
}  // namespace gapwatch
