#include "monitor/config/env_substitution.h"

#include <cstdlib>

#include <fmt/format.h>

namespace gapwatch {

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace

EnvironmentLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str())) {
      return std::string(value);
    }
    return std::nullopt;
  };
}

Expected<std::string> substitute_environment(std::string_view text,
                                             const EnvironmentLookup& lookup) {
  std::vector<EnvironmentValue> taken;
  return substitute_environment(text, lookup, taken);
}

Expected<std::string> substitute_environment(std::string_view text,
                                             const EnvironmentLookup& lookup,
                                             std::vector<EnvironmentValue>& taken) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out += c;
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return fail(fmt::format("unterminated '${{' in '{}'", text));
    }
    const std::string_view reference = text.substr(i + 2, close - i - 2);
    const std::size_t separator = reference.find(":-");
    const std::string name(reference.substr(0, separator));
    if (!valid_name(name)) {
      return fail(fmt::format("invalid environment variable reference '${{{}}}'", reference));
    }
    const bool has_default = separator != std::string_view::npos;
    // As in the shell, ${NAME:-default} also replaces a NAME that is set but empty.
    if (auto value = lookup(name); value && !(has_default && value->empty())) {
      out += *value;
      taken.push_back(EnvironmentValue{name, std::move(*value), {}});
    } else if (has_default) {
      out += reference.substr(separator + 2);
    } else {
      return fail(fmt::format("environment variable {} is not set (write ${{{}:-default}} to "
                              "give a default)",
                              name, name));
    }
    i = close + 1;
  }
  return out;
}

}  // namespace gapwatch
