// KeyReader: reads the keys of one mapping of gapwatch.yaml into a config
// struct, the way every section does. A key left out keeps the struct's
// default; an unusable value is reported by the YamlReader (file:line:column),
// leaves the struct as it was and is counted, so that the caller can report
// every problem of an entry before it drops the entry (ok() is false then).
// Not thread-safe (a YamlReader is not).
#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "monitor/config/yaml_reader.h"

namespace gapwatch {

// The enumerator at the position of `name` in `names`, which lists an enum's
// names in the order of its enumerators.
template <typename Enum>
Enum enum_at(std::span<const std::string_view> names, std::string_view name) {
  return static_cast<Enum>(std::find(names.begin(), names.end(), name) - names.begin());
}

class KeyReader {
 public:
  KeyReader(YamlReader& reader, const MapReader& map) : m_reader(reader), m_map(map) {}

  YamlReader& reader() const { return m_reader; }
  const MapReader& map() const { return m_map; }

  // The value under `key`, if the mapping has one.
  std::optional<Field> field(std::string_view key) const { return m_map.field(key); }
  // The same, reported and counted as missing when absent.
  std::optional<Field> required(std::string_view key);

  // Each reads the value under `key`, if there is one, into `target`.
  void duration(std::string_view key, ZeroDuration zero, std::chrono::seconds& target);
  void boolean(std::string_view key, bool& target);
  void choice(std::string_view key, std::span<const std::string_view> choices, std::string& target);
  template <std::integral Integer>
  void integer(std::string_view key, std::int64_t min, std::int64_t max, Integer& target) {
    if (const auto value = integer_value(key, min, max)) {
      target = static_cast<Integer>(*value);
    }
  }
  // One of `names`, as the enumerator at the same position.
  template <typename Enum>
  void enumeration(std::string_view key, std::span<const std::string_view> names, Enum& target) {
    if (const auto name = choice_value(key, names)) {
      target = enum_at<Enum>(names, *name);
    }
  }

  // Counts a problem the caller found (and reported) itself.
  void fail() { m_ok = false; }
  // Whether every value read so far was usable.
  bool ok() const { return m_ok; }

 private:
  std::optional<std::int64_t> integer_value(std::string_view key, std::int64_t min,
                                            std::int64_t max);
  std::optional<std::string> choice_value(std::string_view key,
                                          std::span<const std::string_view> choices);
  // `value` as read: counted when empty (the YamlReader reported why).
  template <typename T>
  std::optional<T> counted(std::optional<T> value) {
    if (!value) {
      m_ok = false;
    }
    return value;
  }

  YamlReader& m_reader;
  const MapReader& m_map;
  bool m_ok = true;
};

}  // namespace gapwatch
