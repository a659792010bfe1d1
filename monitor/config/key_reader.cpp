// KeyReader: a mapping's keys into a config struct, counting unusable values.
// Not thread-safe.
#include "monitor/config/key_reader.h"

#include <utility>

namespace gapwatch {

std::optional<Field> KeyReader::required(std::string_view key) {
  auto field = m_reader.required(m_map, key);
  if (!field) {
    m_ok = false;
  }
  return field;
}

void KeyReader::duration(std::string_view key, ZeroDuration zero, std::chrono::seconds& target) {
  if (const auto field = m_map.field(key)) {
    if (const auto value = counted(m_reader.duration(*field, zero))) {
      target = *value;
    }
  }
}

void KeyReader::boolean(std::string_view key, bool& target) {
  if (const auto field = m_map.field(key)) {
    if (const auto value = counted(m_reader.boolean(*field))) {
      target = *value;
    }
  }
}

void KeyReader::choice(std::string_view key, std::span<const std::string_view> choices,
                       std::string& target) {
  if (auto value = choice_value(key, choices)) {
    target = std::move(*value);
  }
}

std::optional<std::int64_t> KeyReader::integer_value(std::string_view key, std::int64_t min,
                                                     std::int64_t max) {
  const auto field = m_map.field(key);
  if (!field) {
    return std::nullopt;
  }
  return counted(m_reader.integer(*field, min, max));
}

std::optional<std::string> KeyReader::choice_value(std::string_view key,
                                                   std::span<const std::string_view> choices) {
  const auto field = m_map.field(key);
  if (!field) {
    return std::nullopt;
  }
  return counted(m_reader.choice(*field, choices));
}

}  // namespace gapwatch
