#include "triggers/redaction.h"

#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace gapwatch {
namespace {

TEST_CASE("Redactor: masks a secret as written, percent-encoded and JSON-escaped") {
  const Redactor redactor({"p@ss \"word\"/1"});
  CHECK(redactor.redact("raw p@ss \"word\"/1 end") == "raw *** end");
  CHECK(redactor.redact("url ?key=p%40ss%20%22word%22%2F1&x=1") == "url ?key=***&x=1");
  CHECK(redactor.redact(R"(body {"key": "p@ss \"word\"/1"})") == R"(body {"key": "***"})");
}

TEST_CASE("Redactor: masks a secret in a JSON body echoed inside a JSON answer") {
  const Redactor redactor({"se\"cret-1"});
  // {"body": "{\"key\": \"se\\\"cret-1\"}"}: the body's escaping, escaped again.
  CHECK(redactor.redact(R"({"body": "{\"key\": \"se\\\"cret-1\"}"})") ==
        R"({"body": "{\"key\": \"***\"}"})");
}

TEST_CASE("Redactor: the longer of two overlapping secrets is masked whole") {
  const Redactor redactor({"abcd", "abcdefgh"});
  CHECK(redactor.redact("x abcdefgh y abcd z") == "x *** y *** z");
  CHECK(redactor.secrets().front() == "abcdefgh");
}

TEST_CASE("Redactor: values under four characters are not masked") {
  const Redactor redactor({"", "a", "ab", "abc", "abcd"});
  CHECK(redactor.redact("a ab abc abcd") == "a ab abc ***");
  CHECK(std::none_of(redactor.secrets().begin(), redactor.secrets().end(),
                     [](const std::string& secret) { return secret.size() < kShortestSecret; }));
}

TEST_CASE("Redactor: each form is listed once, longest first") {
  const Redactor redactor({"plain-secret", "plain-secret", "other-secret"});
  CHECK(redactor.secrets() == std::vector<std::string>{"other-secret", "plain-secret"});
}

TEST_CASE("Redactor: a default Redactor masks nothing") {
  CHECK(Redactor().redact("nothing to hide") == "nothing to hide");
  CHECK(Redactor().secrets().empty());
}

}  // namespace
}  // namespace gapwatch
