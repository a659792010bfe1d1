// A segment's values as JSON, as the state database keeps them (requests,
// incident windows, kept baseline counts) and incidents show them: an array
// of the values in segment_by order, JSON null for SQL NULL, an empty array
// for the whole table. Values are data from the warehouse and may be any
// bytes: one that is not valid UTF-8 (which JSON cannot hold) is written as
// {"hex": "<its bytes in hex>"}, so that every key reads back as it was.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "rules/segment.h"

namespace gapwatch {

nlohmann::json segment_values_json(const SegmentKey& segment);
// The key `values` holds; empty if it is not such an array.
std::optional<SegmentKey> segment_from_values_json(const nlohmann::json& values);

// segment_values_json as text, and back; the text of an empty key is "[]".
std::string segment_values_text(const SegmentKey& segment);
std::optional<SegmentKey> segment_from_values_text(const std::string& text);

}  // namespace gapwatch
