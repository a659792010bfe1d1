// ODBC connection strings: the one reader of their `key=value;` attributes
// (a value in braces may hold ';' and writes '}' as '}}'), the one writer, and
// the one test of which attributes hold secrets. What redact_connection_string
// masks is therefore exactly what connection_string_secrets hands the log
// filter. Pure functions of their arguments; safe from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gapwatch {

// One `key=value` attribute as read from a connection string. The views point
// into the string read.
struct ConnectionAttribute {
  std::string_view key;      // as written, spaces included (" Pwd")
  std::string_view written;  // everything from after '=' up to the ';' that ends the attribute
  std::string value;  // what the driver reads: braces removed and "}}" as '}', or spaces trimmed
  std::string_view escaped;  // a braced value as written between its braces; else the trimmed value
};

// The attributes of `connection`, in order. A part without '=' (";;", a
// trailing "flag") is no attribute and is skipped.
std::vector<ConnectionAttribute> parse_connection_string(std::string_view connection);

// Whether an attribute's value is a secret: Pwd, Password, and any key naming a
// secret or a token (ClientSecret, AccessToken), in any case and spacing.
bool is_secret_attribute(std::string_view key);

// `connection` with every secret value replaced by ***, safe to log; all else,
// ${VAR} templates and layout included, as written.
std::string redact_connection_string(std::string_view connection);

// The secret values of `connection`, for the log filter: each as the driver
// reads it and, for a braced value holding "}}", also as written.
std::vector<std::string> connection_string_secrets(std::string_view connection);

// An attribute to write: `key=value`.
struct ConnectionStringPart {
  std::string key;
  std::string value;
};

// `parts` as a connection string, each value braced where it holds a character
// that would end it (";{}= ").
std::string make_connection_string(std::span<const ConnectionStringPart> parts);

// `parts` (values as written, ${VAR} templates unsubstituted) as a connection
// string to show: values unbraced, secret ones as ***.
std::string shown_connection_string(std::span<const ConnectionStringPart> parts);

}  // namespace gapwatch
