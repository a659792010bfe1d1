#include "monitor/state/segment_values.h"

#include <optional>
#include <string>

#include <doctest/doctest.h>

namespace gapwatch {
namespace {

TEST_CASE("segment values: an array of the values, null for NULL, [] for the whole table") {
  CHECK(segment_values_text({}) == "[]");
  CHECK(segment_values_text({"FR"}) == R"(["FR"])");
  CHECK(segment_values_text({std::nullopt, "null", ""}) == R"([null,"null",""])");
}

TEST_CASE("segment values: bytes that are not UTF-8 are kept as hex and read back") {
  const SegmentKey odd{std::string("caf\xe9"), std::string("\xed\xa0\x80"),
                       std::string("\xc3\xa9t\xc3\xa9")};
  CHECK(segment_values_text(odd) == R"([{"hex":"636166e9"},{"hex":"eda080"},"été"])");
  CHECK(segment_from_values_text(segment_values_text(odd)) == odd);
}

TEST_CASE("segment values: every key reads back as it was") {
  for (const SegmentKey& key :
       {SegmentKey{}, SegmentKey{"FR"}, SegmentKey{std::nullopt}, SegmentKey{"a", "b"},
        SegmentKey{"a, b"}, SegmentKey{std::string("\0x", 2), "\"quoted\" \\ {x}"}}) {
    CHECK(segment_from_values_text(segment_values_text(key)) == key);
  }
}

TEST_CASE("segment values: text of another shape is no key") {
  CHECK_FALSE(segment_from_values_text("").has_value());
  CHECK_FALSE(segment_from_values_text("{}").has_value());
  CHECK_FALSE(segment_from_values_text("[1]").has_value());
  CHECK_FALSE(segment_from_values_text(R"([{"hex":"zz"}])").has_value());
  CHECK_FALSE(segment_from_values_text(R"([{"hex":"abc"}])").has_value());
}

}  // namespace
}  // namespace gapwatch
