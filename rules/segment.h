// Segments: the distinct value combinations of a rule's segment_by columns,
// each judged on its own (one country going dark while the total looks
// normal). Values are data: they come back from the warehouse as text and go
// out to messages, JSON and backfill templates as values; they never appear in
// generated SQL. Plain data and pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gapwatch {

// One column's value in a segment; empty: SQL NULL (a segment of its own,
// named `null`).
using SegmentValue = std::optional<std::string>;
// A segment: one value per segment_by column, in their order. Empty for the
// whole table (a rule without segment_by, or a manual backfill of the table).
using SegmentKey = std::vector<SegmentValue>;

inline constexpr std::size_t kMaxSegmentColumns = 3;
inline constexpr int kDefaultMaxSegments = 1000;
// The most segments a rule may allow (max_segments).
inline constexpr int kMaxMaxSegments = 100000;

// How a segment is named in messages and template variables: its values
// joined by ", ", NULL as `null` ("FR", "FR, web", "null"). Empty for the
// whole table.
std::string segment_name(const SegmentKey& segment);
// One value as named: the value, or `null`.
std::string_view segment_value_name(const SegmentValue& value);

struct SegmentKeyHash {
  std::size_t operator()(std::span<const SegmentValue> segment) const;
};

}  // namespace gapwatch
