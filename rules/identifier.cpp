#include "rules/identifier.h"

#include <fmt/format.h>

namespace gapwatch {

namespace {

constexpr std::size_t kMaxIdentifierLength = 128;

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string QualifiedName::display() const { return fmt::format("{}", fmt::join(parts, ".")); }

Expected<std::string> validate_identifier(std::string_view text) {
  if (text.empty()) {
    return fail("empty identifier");
  }
  if (text.size() > kMaxIdentifierLength) {
    return fail(fmt::format("identifier is longer than {} characters", kMaxIdentifierLength));
  }
  if (!is_letter(text[0])) {
    return fail(fmt::format("invalid identifier '{}': must start with a letter or underscore",
                            text));
  }
  for (const char c : text) {
    if (!is_letter(c) && !is_digit(c)) {
      return fail(fmt::format(
          "invalid identifier '{}': only letters, digits and underscores are allowed", text));
    }
  }
  return std::string(text);
}

Expected<QualifiedName> parse_qualified_name(std::string_view text) {
  QualifiedName name;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    auto valid = validate_identifier(part);
    if (!valid) {
      return fail(fmt::format("invalid name '{}': {}", text, valid.error().message));
    }
    name.parts.push_back(std::move(*valid));
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  if (name.parts.size() > 3) {
    return fail(fmt::format("invalid name '{}': at most catalog.schema.table", text));
  }
  return name;
}

}  // namespace gapwatch
