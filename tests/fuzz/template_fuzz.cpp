// Fuzz target: Template::parse on arbitrary text, then expand with fixed
// values in both encodings, and percent_encode on the raw bytes. Properties:
// variables have valid names; expansion succeeds exactly when every variable
// has a value; the encodings differ only in the values (the literal text is
// the same); percent_encode keeps only unreserved characters and %XX escapes
// and decodes back to its input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "triggers/template.h"

namespace {

using gapwatch::Template;
using gapwatch::TemplateValues;

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Decodes what percent_encode wrote; checks the encoding on the way.
std::string percent_decode(std::string_view encoded) {
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      FUZZ_CHECK(unreserved(encoded[i]));
      out += encoded[i];
      continue;
    }
    FUZZ_CHECK(i + 2 < encoded.size());
    const int high = hex_value(encoded[i + 1]);
    const int low = hex_value(encoded[i + 2]);
    FUZZ_CHECK(high >= 0 && low >= 0);
    const char decoded = static_cast<char>(high * 16 + low);
    FUZZ_CHECK(!unreserved(decoded));  // unreserved characters are never escaped
    out += decoded;
    i += 2;
  }
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

// Every built-in request variable plus two backfill params, with values that
// would be syntax in a URL, a shell or JSON if inserted unescaped.
TemplateValues fixed_values() {
  TemplateValues values;
  for (const std::string& name : gapwatch::request_variables()) {
    values[name] = name + " & ?x=/y#\"'{}$(rm -rf /);%00\xc3\xa9";
  }
  values["mode"] = "full";
  values["p"] = "";
  return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  FUZZ_CHECK(percent_decode(gapwatch::percent_encode(text)) == text);

  const auto parsed = Template::parse(text);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(parsed->text() == text);
  static const TemplateValues values = fixed_values();
  TemplateValues empty_values;
  bool all_known = true;
  for (const std::string& name : parsed->variables()) {
    FUZZ_CHECK(valid_name(name));
    all_known = all_known && values.contains(name);
    empty_values[name] = "";
  }
  const auto raw = parsed->expand(values, Template::Encoding::raw);
  const auto url = parsed->expand(values, Template::Encoding::url_component);
  FUZZ_CHECK(raw.has_value() == all_known);
  FUZZ_CHECK(url.has_value() == all_known);
  if (!all_known) {
    FUZZ_CHECK(!raw.error().message.empty());
    return 0;
  }
  // With empty values only the literal text is left, whatever the encoding,
  // and it is never longer than the template ("{{" becomes "{").
  const auto literal_raw = parsed->expand(empty_values, Template::Encoding::raw);
  const auto literal_url = parsed->expand(empty_values, Template::Encoding::url_component);
  FUZZ_CHECK(literal_raw && literal_url);
  FUZZ_CHECK(*literal_raw == *literal_url);
  FUZZ_CHECK(literal_raw->size() <= text.size());
  FUZZ_CHECK(raw->size() >= literal_raw->size());
  FUZZ_CHECK(url->size() >= literal_raw->size());
  return 0;
}
