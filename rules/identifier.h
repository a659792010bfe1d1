// SQL identifiers taken from configuration (tables, columns). They are validated
// here and quoted by the dialect, so nothing from a config file reaches SQL text
// unquoted except the documented raw `where` predicate. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/error.h"

namespace gapwatch {

// A dotted name such as public.orders: one to three validated parts.
struct QualifiedName {
  std::vector<std::string> parts;

  std::string display() const;  // parts joined by '.'
  const std::string& last() const { return parts.back(); }
  friend bool operator==(const QualifiedName&, const QualifiedName&) = default;
};

// A part starts with a letter or underscore and continues with letters, digits
// or underscores, at most 128 characters.
Expected<std::string> validate_identifier(std::string_view text);

// "[catalog.][schema.]table".
Expected<QualifiedName> parse_qualified_name(std::string_view text);

}  // namespace gapwatch
