// Helpers shared by the monitor's state tests: opening a StateStore (in a
// testing::TemporaryDirectory), and how incident and request states print in
// doctest failure messages. Every test file that CHECKs these enums must
// include it, for the same reason as tests/rules/printers.h: doctest would
// otherwise print them as integers.
#pragma once

#include <memory>
#include <optional>
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

inline doctest::String toString(Resolution resolution) {
  return doctest::String(std::string(to_string(resolution)).c_str());
}

namespace testing {

inline std::unique_ptr<StateStore> open_store(const std::string& path) {
  return value_of(StateStore::open(path));
}

}  // namespace testing
}  // namespace gapwatch

namespace doctest {

template <>
struct StringMaker<std::optional<gapwatch::Resolution>> {
  static String convert(const std::optional<gapwatch::Resolution>& resolution) {
    return resolution ? gapwatch::toString(*resolution) : String("(none)");
  }
};

}  // namespace doctest
