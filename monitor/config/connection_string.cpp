// ODBC connection strings: reading, writing, and what in them is secret.
// Pure functions; safe from any thread.
#include "monitor/config/connection_string.h"

#include <algorithm>
#include <cctype>

namespace gapwatch {

namespace {

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

// An ODBC attribute value, braced when it holds characters that would end it.
std::string braced_if_needed(std::string_view value) {
  if (value.find_first_of(";{}= ") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out = "{";
  for (const char c : value) {
    out += c;
    if (c == '}') {
      out += '}';
    }
  }
  return out + "}";
}

// `key=value` for each part, joined by ';', each value as `value_of` writes it.
template <typename ValueOf>
std::string join_parts(std::span<const ConnectionStringPart> parts, ValueOf value_of) {
  std::string out;
  for (const ConnectionStringPart& part : parts) {
    if (!out.empty()) {
      out += ';';
    }
    out += part.key;
    out += '=';
    out += value_of(part);
  }
  return out;
}

}  // namespace

std::vector<ConnectionAttribute> parse_connection_string(std::string_view connection) {
  std::vector<ConnectionAttribute> attributes;
  std::size_t at = 0;
  while (at < connection.size()) {
    const std::size_t equals = connection.find_first_of("=;", at);
    if (equals == std::string_view::npos) {
      break;  // a last part without a value
    }
    if (connection[equals] == ';') {
      at = equals + 1;  // a part without a value
      continue;
    }
    ConnectionAttribute attribute;
    attribute.key = connection.substr(at, equals - at);
    const std::size_t first = connection.find_first_not_of(' ', equals + 1);
    std::size_t end = 0;  // the ';' that ends the attribute, or npos
    if (first != std::string_view::npos && connection[first] == '{') {
      std::size_t close = first + 1;
      for (; close < connection.size(); ++close) {
        if (connection[close] == '}') {
          if (close + 1 < connection.size() && connection[close + 1] == '}') {
            attribute.value += '}';
            ++close;
            continue;
          }
          break;
        }
        attribute.value += connection[close];
      }
      attribute.escaped = connection.substr(first + 1, close - first - 1);
      end = connection.find(';', close);
    } else {
      end = connection.find(';', equals + 1);
      const std::size_t stop = std::min(end, connection.size());
      attribute.escaped = trim_spaces(connection.substr(equals + 1, stop - equals - 1));
      attribute.value = std::string(attribute.escaped);
    }
    const std::size_t stop = std::min(end, connection.size());
    attribute.written = connection.substr(equals + 1, stop - equals - 1);
    attributes.push_back(std::move(attribute));
    at = stop + 1;
  }
  return attributes;
}

bool is_secret_attribute(std::string_view key) {
  std::string name;
  for (const char c : key) {
    if (c != ' ') {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return name == "pwd" || name == "password" || name.find("secret") != std::string::npos ||
         name.find("token") != std::string::npos;
}

std::string redact_connection_string(std::string_view connection) {
  std::string out;
  std::size_t copied = 0;  // connection[0, copied) is in `out`
  for (const ConnectionAttribute& attribute : parse_connection_string(connection)) {
    if (!is_secret_attribute(attribute.key)) {
      continue;
    }
    // `written` is a view into `connection`: its offset is where the value starts.
    const auto start = static_cast<std::size_t>(attribute.written.data() - connection.data());
    out += connection.substr(copied, start - copied);
    out += "***";
    copied = start + attribute.written.size();
  }
  out += connection.substr(copied);
  return out;
}

std::vector<std::string> connection_string_secrets(std::string_view connection) {
  std::vector<std::string> secrets;
  for (const ConnectionAttribute& attribute : parse_connection_string(connection)) {
    if (!is_secret_attribute(attribute.key)) {
      continue;
    }
    secrets.push_back(attribute.value);
    if (attribute.escaped != attribute.value) {
      secrets.emplace_back(attribute.escaped);
    }
  }
  return secrets;
}

std::string make_connection_string(std::span<const ConnectionStringPart> parts) {
  return join_parts(parts,
                    [](const ConnectionStringPart& part) { return braced_if_needed(part.value); });
}

std::string shown_connection_string(std::span<const ConnectionStringPart> parts) {
  return join_parts(parts, [](const ConnectionStringPart& part) {
    return is_secret_attribute(part.key) ? std::string("***") : std::string(part.value);
  });
}

}  // namespace gapwatch
