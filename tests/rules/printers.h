// How rules values print in doctest failure messages: instants as RFC 3339,
// statuses by name, buckets, windows and parameters as they read in reports.
// Every test file that CHECKs these types must include it: one that does not
// falls back to doctest's "{?}" printer for the same type, which the linker may
// then pick for all files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "rules/buckets.h"
#include "rules/dialect.h"
#include "rules/time.h"
#include "rules/verdict.h"

namespace gapwatch {

// doctest 2.4 prints any enum as its underlying integer and never consults
// StringMaker for one; an overload found by argument-dependent lookup wins.
inline doctest::String toString(Status status) {
  return doctest::String(std::string(to_string(status)).c_str());
}

namespace testing {

inline std::string describe(Instant start, Instant end) {
  return "[" + format_rfc3339(start) + ", " + format_rfc3339(end) + ")";
}

template <typename T, typename Print>
doctest::String join(const std::vector<T>& items, Print print) {
  std::string out = "{";
  for (const T& item : items) {
    out += out.size() > 1 ? ", " : "";
    out += print(item);
  }
  out += "}";
  return doctest::String(out.c_str());
}

inline std::string describe_window(const Window& window) {
  return describe(window.start, window.end) + " " + std::string(to_string(window.status));
}
inline std::string describe_bucket(const Bucket& bucket) {
  return describe(bucket.start, bucket.end);
}
inline std::string describe_param(const Param& param) {
  return param.display();
}

}  // namespace testing
}  // namespace gapwatch

namespace doctest {

template <>
struct StringMaker<gapwatch::Instant> {
  static String convert(const gapwatch::Instant& instant) {
    return String(gapwatch::format_rfc3339(instant).c_str());
  }
};

template <>
struct StringMaker<std::optional<gapwatch::Instant>> {
  static String convert(const std::optional<gapwatch::Instant>& instant) {
    return instant ? StringMaker<gapwatch::Instant>::convert(*instant) : String("nullopt");
  }
};

template <>
struct StringMaker<std::optional<double>> {
  static String convert(const std::optional<double>& value) {
    return value ? toString(*value) : String("nullopt");
  }
};

template <>
struct StringMaker<std::optional<gapwatch::Status>> {
  static String convert(const std::optional<gapwatch::Status>& status) {
    return status ? gapwatch::toString(*status) : String("not judged");
  }
};

template <>
struct StringMaker<gapwatch::Window> {
  static String convert(const gapwatch::Window& window) {
    return String(gapwatch::testing::describe_window(window).c_str());
  }
};

template <>
struct StringMaker<std::vector<gapwatch::Window>> {
  static String convert(const std::vector<gapwatch::Window>& windows) {
    return gapwatch::testing::join(windows, gapwatch::testing::describe_window);
  }
};

template <>
struct StringMaker<gapwatch::Bucket> {
  static String convert(const gapwatch::Bucket& bucket) {
    return String(gapwatch::testing::describe_bucket(bucket).c_str());
  }
};

template <>
struct StringMaker<std::vector<gapwatch::Bucket>> {
  static String convert(const std::vector<gapwatch::Bucket>& buckets) {
    return gapwatch::testing::join(buckets, gapwatch::testing::describe_bucket);
  }
};

template <>
struct StringMaker<gapwatch::Param> {
  static String convert(const gapwatch::Param& param) { return String(param.display().c_str()); }
};

template <>
struct StringMaker<std::vector<gapwatch::Param>> {
  static String convert(const std::vector<gapwatch::Param>& params) {
    return gapwatch::testing::join(params, gapwatch::testing::describe_param);
  }
};

template <>
struct StringMaker<gapwatch::ColumnLocation> {
  static String convert(const gapwatch::ColumnLocation& location) {
    const std::string text = "{catalog '" + location.catalog + "', schema '" + location.schema +
                             "', table '" + location.table + "', column '" + location.column + "'}";
    return String(text.c_str());
  }
};

}  // namespace doctest
