#include "rules/segment.h"

#include <functional>

namespace gapwatch {

std::string_view segment_value_name(const SegmentValue& value) {
  return value ? std::string_view{*value} : std::string_view{"null"};
}

std::string segment_name(const SegmentKey& segment) {
  std::string name;
  for (const SegmentValue& value : segment) {
    if (!name.empty()) {
      name += ", ";
    }
    name += segment_value_name(value);
  }
  return name;
}

std::size_t SegmentKeyHash::operator()(std::span<const SegmentValue> segment) const {
  std::size_t hash = segment.size();
  for (const SegmentValue& value : segment) {
    const std::size_t part = value ? std::hash<std::string>{}(*value) : 0x9e3779b97f4a7c15ULL;
    hash ^= part + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  }
  return hash;
}

}  // namespace gapwatch
