// Template: text with {variable} placeholders, as written in executor argv,
// URLs, headers and webhook bodies. A variable name is words of letters,
// digits and '_' joined by single dots ({segment.country}). Variables are checked against the known
// set when the config loads; values are inserted as data, never as syntax: argv elements go to
// execve as they are, URL values are percent-encoded, JSON leaves are built as JSON strings by the
// caller. "{{" and "}}" are literal braces. Immutable once parsed; thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rules/error.h"

namespace gapwatch {

using TemplateValues = std::map<std::string, std::string, std::less<>>;

class Template {
 public:
  // How values are written into the text.
  enum class Encoding {
    raw,           // as they are (argv, headers, JSON string leaves)
    url_component  // percent-encoded (RFC 3986 unreserved characters kept)
  };

  static Expected<Template> parse(std::string_view text);

  // Every variable the template uses.
  std::set<std::string> variables() const;
  // Fails on a variable missing from `values` (the config loader prevents it).
  Expected<std::string> expand(const TemplateValues& values, Encoding encoding) const;
  const std::string& text() const { return m_text; }

 private:
  struct Part {
    bool is_variable = false;
    std::string text;  // literal text, or the variable name
  };

  std::string m_text;
  std::vector<Part> m_parts;
};

// The variables every backfill request defines (params add more).
const std::set<std::string>& request_variables();

// The variables a request of a rule with segment_by adds: {segment}, the
// segment's name, and {segment.<column>} for each segment_by column.
inline constexpr std::string_view kSegmentVariable = "segment";
std::string segment_variable(std::string_view column);
// Whether `name` is {segment} or a {segment.<column>}.
bool is_segment_variable(std::string_view name);

std::string percent_encode(std::string_view value);

}  // namespace gapwatch
