// UTF-8 well-formedness, for text from outside (a configuration file, a
// warehouse's values) on its way to what refuses malformed UTF-8: YAML
// errors, JSON, Prometheus label values. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gapwatch {

// The length of the well-formed UTF-8 sequence `text` starts with (1 for an
// ASCII byte), or 0 when it starts with a malformed one: a stray continuation
// byte, a cut or overlong sequence, a surrogate, a code point beyond
// U+10FFFF. `text` is not empty.
inline std::size_t utf8_sequence_length(std::string_view text) {
  const auto byte = static_cast<unsigned char>(text.front());
  if (byte < 0x80) {
    return 1;
  }
  // The sequence's length from its first byte, and the smallest code point
  // that needs that many bytes (a longer, "overlong" form is malformed).
  std::size_t length = 0;
  std::uint32_t smallest = 0;
  if ((byte & 0xE0) == 0xC0) {
    length = 2;
    smallest = 0x80;
  } else if ((byte & 0xF0) == 0xE0) {
    length = 3;
    smallest = 0x800;
  } else if ((byte & 0xF8) == 0xF0) {
    length = 4;
    smallest = 0x10000;
  }
  if (length == 0 || text.size() < length) {
    return 0;
  }
  std::uint32_t code_point = byte & (0x7Fu >> length);
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[k]);
    if ((next & 0xC0) != 0x80) {
      return 0;
    }
    code_point = (code_point << 6) | (next & 0x3Fu);
  }
  const bool valid = code_point >= smallest && code_point <= 0x10FFFF &&
                     !(code_point >= 0xD800 && code_point <= 0xDFFF);
  return valid ? length : 0;
}

}  // namespace gapwatch
