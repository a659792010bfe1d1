#include "monitor/state/segment_values.h"

#include <cstddef>
#include <string_view>

#include <fmt/format.h>

namespace gapwatch {

namespace {

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (byte < 0x80) {
      ++i;
      continue;
    }
    if (byte >= 0xC2 && byte <= 0xDF) {
      length = 2;
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      length = 3;
      low = byte == 0xE0 ? 0xA0 : 0x80;
      high = byte == 0xED ? 0x9F : 0xBF;
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      length = 4;
      low = byte == 0xF0 ? 0x90 : 0x80;
      high = byte == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (i + length > text.size()) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      const unsigned char min = k == 1 ? low : 0x80;
      const unsigned char max = k == 1 ? high : 0xBF;
      if (next < min || next > max) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

std::string to_hex(std::string_view bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  }
  return hex;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return -1;
  };
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]);
    const int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    bytes += static_cast<char>(high * 16 + low);
  }
  return bytes;
}

}  // namespace

nlohmann::json segment_values_json(const SegmentKey& segment) {
  nlohmann::json values = nlohmann::json::array();
  for (const SegmentValue& value : segment) {
    if (!value) {
      values.push_back(nullptr);
    } else if (valid_utf8(*value)) {
      values.push_back(*value);
    } else {
      values.push_back(nlohmann::json{{"hex", to_hex(*value)}});
    }
  }
  return values;
}

std::optional<SegmentKey> segment_from_values_json(const nlohmann::json& values) {
  if (!values.is_array()) {
    return std::nullopt;
  }
  SegmentKey segment;
  for (const nlohmann::json& value : values) {
    if (value.is_null()) {
      segment.emplace_back(std::nullopt);
    } else if (value.is_string()) {
      segment.emplace_back(value.get<std::string>());
    } else if (value.is_object() && value.contains("hex") && value["hex"].is_string()) {
      auto bytes = from_hex(value["hex"].get<std::string>());
      if (!bytes) {
        return std::nullopt;
      }
      segment.emplace_back(std::move(*bytes));
    } else {
      return std::nullopt;
    }
  }
  return segment;
}

std::string segment_values_text(const SegmentKey& segment) {
  return segment_values_json(segment).dump();
}

std::optional<SegmentKey> segment_from_values_text(const std::string& text) {
  return segment_from_values_json(nlohmann::json::parse(text, nullptr, false));
}

}  // namespace gapwatch
