#include "monitor/config/connection_string.h"

#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace gapwatch {
namespace {

using Strings = std::vector<std::string>;

TEST_CASE("connection_string: parse reads keys and values as the driver does") {
  SUBCASE("plain values, spaces around them trimmed") {
    const auto attributes = parse_connection_string("Driver=X; Uid = alice ;Port=5432");
    REQUIRE(attributes.size() == 3);
    CHECK(attributes[0].key == "Driver");
    CHECK(attributes[0].value == "X");
    CHECK(attributes[1].key == " Uid ");
    CHECK(attributes[1].value == "alice");
    CHECK(attributes[1].written == " alice ");
    CHECK(attributes[1].escaped == "alice");
    CHECK(attributes[2].value == "5432");
  }
  SUBCASE("a braced value holds ';' and '=' and writes '}' as '}}'") {
    const auto attributes = parse_connection_string("Pwd={a;b=c}}d};Port=1");
    REQUIRE(attributes.size() == 2);
    CHECK(attributes[0].value == "a;b=c}d");
    CHECK(attributes[0].escaped == "a;b=c}}d");
    CHECK(attributes[0].written == "{a;b=c}}d}");
    CHECK(attributes[1].key == "Port");
  }
  SUBCASE("a value holds '=' after the first one") {
    const auto attributes = parse_connection_string("UID=o=brien");
    REQUIRE(attributes.size() == 1);
    CHECK(attributes[0].value == "o=brien");
  }
  SUBCASE("parts without '=' are no attributes") {
    const auto attributes = parse_connection_string("Driver=X;;flag;Port=1;trailing");
    REQUIRE(attributes.size() == 2);
    CHECK(attributes[0].key == "Driver");
    CHECK(attributes[1].key == "Port");
  }
  SUBCASE("an unclosed brace runs to the end") {
    const auto attributes = parse_connection_string("Pwd={open;Port=1");
    REQUIRE(attributes.size() == 1);
    CHECK(attributes[0].value == "open;Port=1");
  }
  SUBCASE("empty text and empty values") {
    CHECK(parse_connection_string("").empty());
    const auto attributes = parse_connection_string("Pwd=;Uid=");
    REQUIRE(attributes.size() == 2);
    CHECK(attributes[0].value.empty());
    CHECK(attributes[1].value.empty());
  }
}

TEST_CASE("connection_string: secret attributes are passwords, secrets and tokens in any case") {
  for (const std::string_view key : {"Pwd", "PWD", "password", "Password ", "Pass word",
                                     "ClientSecret", "AccessToken", "refresh_token"}) {
    CHECK_MESSAGE(is_secret_attribute(key), key);
  }
  for (const std::string_view key : {"Uid", "User", "Driver", "Server", "DSN", "Database"}) {
    CHECK_MESSAGE(!is_secret_attribute(key), key);
  }
}

TEST_CASE("connection_string: secrets are collected as read and, braced, also as written") {
  CHECK(connection_string_secrets("Driver=X;Uid=alice;Pwd= secret ") == Strings{"secret"});
  CHECK(connection_string_secrets("PWD={braced;pass}}word};Port=5432") ==
        Strings{"braced;pass}word", "braced;pass}}word"});
  CHECK(connection_string_secrets("Pwd={plain}") == Strings{"plain"});
  CHECK(connection_string_secrets("Driver=X; password = p1;AccessToken=t2") == Strings{"p1", "t2"});
  CHECK(connection_string_secrets("Driver=X;Uid=alice").empty());
}

TEST_CASE("connection_string: what is redacted is what is collected") {
  for (const std::string_view connection :
       {"Driver=X;Uid=alice;Pwd=hunter2;Port=5432", "DRIVER=X;PWD={p;w}}x};Server=db",
        "Driver=X; Password = spaced ;ClientSecret={s3cr3t}", "DSN=lake;UID=bob;PWD=pw;"}) {
    const std::string redacted = redact_connection_string(connection);
    for (const std::string& secret : connection_string_secrets(connection)) {
      CHECK_MESSAGE(redacted.find(secret) == std::string::npos, redacted);
    }
    // Every other attribute reads the same after redaction.
    const auto before = parse_connection_string(connection);
    const auto after = parse_connection_string(redacted);
    REQUIRE(before.size() == after.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
      CHECK(after[i].key == before[i].key);
      CHECK(after[i].value == (is_secret_attribute(before[i].key) ? "***" : before[i].value));
    }
  }
}

TEST_CASE("connection_string: make_connection_string braces values that would end early") {
  CHECK(make_connection_string(std::vector<ConnectionStringPart>{{"DSN", "shop"}}) == "DSN=shop");
  CHECK(make_connection_string(std::vector<ConnectionStringPart>{
            {"DSN", "shop eu"}, {"UID", "o=brien"}, {"PWD", "p;w}x"}}) ==
        "DSN={shop eu};UID={o=brien};PWD={p;w}}x}");
  CHECK(make_connection_string(std::vector<ConnectionStringPart>{}).empty());
}

TEST_CASE("connection_string: a written connection string reads back to its values") {
  const std::vector<ConnectionStringPart> parts{
      {"DSN", "a b"}, {"UID", "{x}"}, {"PWD", "p;w}}=q"}, {"Port", "1"}};
  const std::string connection = make_connection_string(parts);
  const auto attributes = parse_connection_string(connection);
  REQUIRE(attributes.size() == parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CHECK(attributes[i].key == parts[i].key);
    CHECK(attributes[i].value == parts[i].value);
  }
}

TEST_CASE("connection_string: shown_connection_string keeps values as written and hides secrets") {
  CHECK(shown_connection_string(std::vector<ConnectionStringPart>{
            {"DSN", "shop eu"}, {"UID", "${DB_USER}"}, {"PWD", "${DB_PASSWORD}"}}) ==
        "DSN=shop eu;UID=${DB_USER};PWD=***");
  CHECK(shown_connection_string(std::vector<ConnectionStringPart>{{"DSN", "lake"}}) == "DSN=lake");
}

}  // namespace
}  // namespace gapwatch
