#include "triggers/template.h"

#include <fmt/format.h>

namespace gapwatch {

namespace {

// Words of letters, digits and '_', joined by single dots.
bool valid_variable(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') {
    return false;
  }
  char previous = 0;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (c == '.' && previous != '.');
    if (!ok) {
      return false;
    }
    previous = c;
  }
  return true;
}

}  // namespace

Expected<Template> Template::parse(std::string_view text) {
  Template result;
  result.m_text = std::string(text);
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      i += 2;
      continue;
    }
    if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      i += 2;
      continue;
    }
    if (c == '}') {
      return fail(fmt::format("unmatched '}}' at position {} (write '}}}}' for a literal brace)",
                              i + 1));
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos) {
      return fail(fmt::format("unterminated '{{' at position {} (write '{{{{' for a literal brace)",
                              i + 1));
    }
    const std::string_view name = text.substr(i + 1, close - i - 1);
    if (!valid_variable(name)) {
      return fail(
          fmt::format("invalid variable '{{{}}}': names use letters, digits and '_' "
                      "(and '.' between words)",
                      name));
    }
    if (!literal.empty()) {
      result.m_parts.push_back(Part{false, std::move(literal)});
      literal.clear();
    }
    result.m_parts.push_back(Part{true, std::string(name)});
    i = close + 1;
  }
  if (!literal.empty()) {
    result.m_parts.push_back(Part{false, std::move(literal)});
  }
  return result;
}

std::set<std::string> Template::variables() const {
  std::set<std::string> names;
  for (const Part& part : m_parts) {
    if (part.is_variable) {
      names.insert(part.text);
    }
  }
  return names;
}

Expected<std::string> Template::expand(const TemplateValues& values, Encoding encoding) const {
  std::string out;
  for (const Part& part : m_parts) {
    if (!part.is_variable) {
      out += part.text;
      continue;
    }
    const auto value = values.find(part.text);
    if (value == values.end()) {
      return fail(fmt::format("template variable '{}' has no value", part.text));
    }
    out += encoding == Encoding::url_component ? percent_encode(value->second) : value->second;
  }
  return out;
}

const std::set<std::string>& request_variables() {
  static const std::set<std::string> names{
      "rule",          "warehouse",         "table",           "check",
      "severity",      "window_start",      "window_end",      "window_start_date",
      "window_end_date", "window_start_epoch", "window_end_epoch", "request_id",
      "incident_id",   "attempt"};
  return names;
}

std::string segment_variable(std::string_view column) {
  return fmt::format("{}.{}", kSegmentVariable, column);
}

bool is_segment_variable(std::string_view name) {
  return name == kSegmentVariable ||
         (name.size() > kSegmentVariable.size() + 1 && name.starts_with(kSegmentVariable) &&
          name[kSegmentVariable.size()] == '.');
}

std::string percent_encode(std::string_view value) {
  std::string out;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' ||
                            byte == '_' || byte == '~';
    if (unreserved) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

}  // namespace gapwatch
