#include "triggers/template.h"

#include <set>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::error_of;
using testing::value_of;

std::string expand(std::string_view text, const TemplateValues& values,
                   Template::Encoding encoding = Template::Encoding::raw) {
  return value_of(value_of(Template::parse(text)).expand(values, encoding));
}

std::string parse_error(std::string_view text) {
  return error_of(Template::parse(text));
}

// A value written to look like shell, JSON, template and URL syntax at once.
const std::string kHostile = "a b\"c'd\\e\nf$(touch pwned);`id`&g=h?i#j/k{x}%20";

TEST_CASE("a template without placeholders expands to its text") {
  const Template text = value_of(Template::parse("plain text, no variables"));
  CHECK(text.variables().empty());
  CHECK(value_of(text.expand({}, Template::Encoding::raw)) == "plain text, no variables");
  CHECK(text.text() == "plain text, no variables");
}

TEST_CASE("an empty template expands to nothing") {
  CHECK(expand("", {}) == "");
}

TEST_CASE("variables lists each placeholder once") {
  const Template text =
      value_of(Template::parse("{table}/{window_start}..{window_end}/{table}/{_x9}"));
  CHECK(text.variables() == std::set<std::string>{"_x9", "table", "window_end", "window_start"});
}

TEST_CASE("text keeps the template as written") {
  const Template text = value_of(Template::parse("{{literal}} {rule}"));
  CHECK(text.text() == "{{literal}} {rule}");
}

TEST_CASE("raw expansion inserts values as they are") {
  const TemplateValues values{{"table", "events"}, {"start", "2026-11-25T00:00:00Z"}};
  CHECK(expand("reload {table} from {start}", values) == "reload events from 2026-11-25T00:00:00Z");
  CHECK(expand("{table}{table}", values) == "eventsevents");
}

TEST_CASE("raw expansion keeps quotes, backslashes, newlines and shell syntax in a value intact") {
  const TemplateValues values{{"note", kHostile}};
  CHECK(expand("{note}", values) == kHostile);
  CHECK(expand("<{note}>", values) == "<" + kHostile + ">");
}

TEST_CASE("a value containing braces is not expanded again") {
  const TemplateValues values{{"note", "{table} and {{x}}"}, {"table", "events"}};
  CHECK(expand("{note}", values) == "{table} and {{x}}");
}

TEST_CASE("url_component expansion percent-encodes values but not the literal text") {
  const TemplateValues values{{"dag", "ingest/events"}, {"start", "2026-11-25T00:00:00+01:00"}};
  CHECK(expand("https://airflow.example/api/{dag}/runs?from={start}&x=1", values,
               Template::Encoding::url_component) ==
        "https://airflow.example/api/ingest%2Fevents/"
        "runs?from=2026-11-25T00%3A00%3A00%2B01%3A00&x=1");
}

TEST_CASE("url_component expansion leaves no URL syntax from a hostile value") {
  const TemplateValues values{{"note", kHostile}};
  const std::string url = expand("http://h/p?q={note}", values, Template::Encoding::url_component);
  CHECK(url ==
        "http://h/p?q=a%20b%22c%27d%5Ce%0Af%24%28touch%20pwned%29%3B%60id%60%26g%3Dh%3Fi%23j%2Fk%"
        "7Bx%7D%2520");
}

TEST_CASE("percent_encode keeps RFC 3986 unreserved characters") {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  CHECK(percent_encode(unreserved) == unreserved);
}

TEST_CASE("percent_encode writes every other byte as %XX in upper case") {
  CHECK(percent_encode(" ") == "%20");
  CHECK(percent_encode("/?#[]@!$&'()*+,;=:") ==
        "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A");
  CHECK(percent_encode("%") == "%25");
  CHECK(percent_encode("\xc3\xa4") == "%C3%A4");  // "ä" in UTF-8, byte by byte
  CHECK(percent_encode(std::string_view("\0\x7f\xff", 3)) == "%00%7F%FF");
  CHECK(percent_encode("") == "");
}

TEST_CASE("doubled braces are literal braces") {
  const TemplateValues values{{"rule", "events"}};
  CHECK(expand("{{literal}}", values) == "{literal}");
  CHECK(expand("{{{rule}}}", values) == "{events}");
  CHECK(expand("}}{{", values) == "}{");
  CHECK(value_of(Template::parse("{{not_a_variable}}")).variables().empty());
}

TEST_CASE("literal braces are not percent-encoded in a URL") {
  const TemplateValues values{{"rule", "a b"}};
  CHECK(expand("http://h/{{x}}/{rule}", values, Template::Encoding::url_component) ==
        "http://h/{x}/a%20b");
}

TEST_CASE("a lone closing brace is an error naming its position") {
  CHECK(parse_error("ab}c") == "unmatched '}' at position 3 (write '}}' for a literal brace)");
}

TEST_CASE("an unterminated placeholder is an error naming its position") {
  CHECK(parse_error("abc{rule") ==
        "unterminated '{' at position 4 (write '{{' for a literal brace)");
}

TEST_CASE("placeholder names use letters, digits and underscores, dots only between words") {
  CHECK(parse_error("{}") ==
        "invalid variable '{}': names use letters, digits and '_' "
        "(and '.' between words)");
  CHECK(parse_error("{window-start}") ==
        "invalid variable '{window-start}': names use letters, digits and '_' "
        "(and '.' between words)");
  CHECK(parse_error("{ rule }") ==
        "invalid variable '{ rule }': names use letters, digits and '_' "
        "(and '.' between words)");
  CHECK(parse_error("{a{b}") ==
        "invalid variable '{a{b}': names use letters, digits and '_' "
        "(and '.' between words)");
  CHECK(parse_error("{$(touch pwned)}") ==
        "invalid variable '{$(touch pwned)}': names use letters, digits and '_' "
        "(and '.' between words)");
}

TEST_CASE("a dotted placeholder names a segment column") {
  const Template text = value_of(Template::parse("--segment={segment.country}"));
  CHECK(text.variables() == std::set<std::string>{"segment.country"});
  CHECK(value_of(text.expand({{"segment.country", "FR"}}, Template::Encoding::raw)) ==
        "--segment=FR");
  CHECK(parse_error("{segment.}") ==
        "invalid variable '{segment.}': names use letters, digits and '_' (and '.' between words)");
  CHECK(parse_error("{.country}") ==
        "invalid variable '{.country}': names use letters, digits and '_' (and '.' between "
        "words)");
  CHECK(parse_error("{segment..country}") ==
        "invalid variable '{segment..country}': names use letters, digits and '_' (and '.' "
        "between words)");
}

TEST_CASE("segment variables are {segment} and {segment.<column>}") {
  CHECK(is_segment_variable("segment"));
  CHECK(is_segment_variable("segment.country"));
  CHECK(segment_variable("country") == "segment.country");
  CHECK_FALSE(is_segment_variable("segment."));
  CHECK_FALSE(is_segment_variable("segments"));
  CHECK_FALSE(is_segment_variable("segment_country"));
  CHECK_FALSE(is_segment_variable("rule"));
}

TEST_CASE("expanding a variable without a value fails naming it") {
  const Template text = value_of(Template::parse("{table} {missing}"));
  CHECK(error_of(text.expand({{"table", "events"}}, Template::Encoding::raw)) ==
        "template variable 'missing' has no value");
}

TEST_CASE("request_variables lists every built-in request variable") {
  CHECK(request_variables() == std::set<std::string>{"rule", "warehouse", "table", "check",
                                                     "severity", "window_start", "window_end",
                                                     "window_start_date", "window_end_date",
                                                     "window_start_epoch", "window_end_epoch",
                                                     "request_id", "incident_id", "attempt"});
}

}  // namespace
}  // namespace gapwatch
