#include "monitor/config/env_substitution.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

namespace gapwatch {
namespace {

using Environment = std::map<std::string, std::string>;

EnvironmentLookup lookup_in(Environment environment) {
  return [environment =
              std::move(environment)](const std::string& name) -> std::optional<std::string> {
    const auto found = environment.find(name);
    if (found == environment.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

std::string substituted(std::string_view text, const Environment& environment = {}) {
  const Expected<std::string> result = substitute_environment(text, lookup_in(environment));
  REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : result.error().message));
  return *result;
}

std::string error_of(std::string_view text, const Environment& environment = {}) {
  const Expected<std::string> result = substitute_environment(text, lookup_in(environment));
  REQUIRE_FALSE(result.has_value());
  return result.error().message;
}

TEST_CASE("env: text without references is returned unchanged") {
  CHECK(substituted("") == "");
  CHECK(substituted("Driver=SQLite3;Database=/tmp/x.db") == "Driver=SQLite3;Database=/tmp/x.db");
  CHECK(substituted("{braces} and }") == "{braces} and }");
}

TEST_CASE("env: ${NAME} is replaced by the variable's value") {
  const Environment environment{{"PGUSER", "alice"}, {"PGPASSWORD", "s3cr3t"}, {"_X1", "x"}};
  CHECK(substituted("${PGUSER}", environment) == "alice");
  CHECK(substituted("Uid=${PGUSER};Pwd=${PGPASSWORD}", environment) == "Uid=alice;Pwd=s3cr3t");
  CHECK(substituted("${PGUSER}${PGUSER}", environment) == "alicealice");
  CHECK(substituted("${_X1}", environment) == "x");
}

TEST_CASE("env: a variable set to the empty string substitutes nothing") {
  CHECK(substituted("[${EMPTY}]", {{"EMPTY", ""}}) == "[]");
}

TEST_CASE("env: an unset variable without a default is an error naming it") {
  CHECK(error_of("Pwd=${PGPASSWORD}") ==
        "environment variable PGPASSWORD is not set (write ${PGPASSWORD:-default} to give a "
        "default)");
  CHECK(error_of("${SET}/${UNSET}", {{"SET", "x"}}) ==
        "environment variable UNSET is not set (write ${UNSET:-default} to give a default)");
}

TEST_CASE("env: ${NAME:-default} uses the default when NAME is unset") {
  CHECK(substituted("${PGHOST:-127.0.0.1}:${PGPORT:-5432}") == "127.0.0.1:5432");
  CHECK(substituted("${PGHOST:-127.0.0.1}", {{"PGHOST", "db"}}) == "db");
  CHECK(substituted("[${PGPASSWORD:-}]") == "[]");
  CHECK(substituted("${X:-a:-b}") == "a:-b");
  CHECK(substituted("${DB:-examples/quickstart/warehouse.db}") ==
        "examples/quickstart/warehouse.db");
}

TEST_CASE("env: ${NAME:-default} uses the default when NAME is set but empty, as in the shell") {
  CHECK(substituted("${PGHOST:-127.0.0.1}", {{"PGHOST", ""}}) == "127.0.0.1");
  CHECK(substituted("[${PGPASSWORD:-}]", {{"PGPASSWORD", ""}}) == "[]");
}

TEST_CASE("env: $$ is a literal dollar and starts no reference") {
  CHECK(substituted("price $$5") == "price $5");
  CHECK(substituted("$$$$") == "$$");
  CHECK(substituted("$${PGUSER}") == "${PGUSER}");
  CHECK(substituted("$$${PGUSER}", {{"PGUSER", "alice"}}) == "$alice");
}

TEST_CASE("env: a dollar not followed by { or $ is kept") {
  CHECK(substituted("$HOME") == "$HOME");
  CHECK(substituted("cost: 5$") == "cost: 5$");
  CHECK(substituted("$") == "$");
  CHECK(substituted("a $ b") == "a $ b");
}

TEST_CASE("env: a substituted value is not substituted again") {
  const Environment environment{{"PGPASSWORD", "p$${X}${Y}"}, {"X", "no"}, {"Y", "no"}};
  CHECK(substituted("${PGPASSWORD}", environment) == "p$${X}${Y}");
  CHECK(substituted("${UNSET:-${X}", environment) == "${X");
}

TEST_CASE("env: an unterminated reference is an error") {
  CHECK(error_of("Pwd=${PGPASSWORD") == "unterminated '${' in 'Pwd=${PGPASSWORD'");
  CHECK(error_of("${") == "unterminated '${' in '${'");
}

TEST_CASE("env: a reference to an invalid variable name is an error") {
  CHECK(error_of("${}") == "invalid environment variable reference '${}'");
  CHECK(error_of("${:-default}") == "invalid environment variable reference '${:-default}'");
  CHECK(error_of("${1PASSWORD}") == "invalid environment variable reference '${1PASSWORD}'");
  CHECK(error_of("${PG-USER}") == "invalid environment variable reference '${PG-USER}'");
  CHECK(error_of("${PGUSER-alice}") == "invalid environment variable reference '${PGUSER-alice}'");
  CHECK(error_of("${ PGUSER }") == "invalid environment variable reference '${ PGUSER }'");
}

TEST_CASE("env: only referenced names are looked up") {
  std::vector<std::string> asked;
  const EnvironmentLookup recording = [&](const std::string& name) -> std::optional<std::string> {
    asked.push_back(name);
    return "v";
  };
  const Expected<std::string> result = substitute_environment("$${A} ${B} $C ${D:-d}", recording);
  REQUIRE(result.has_value());
  CHECK(*result == "${A} v $C v");
  CHECK(asked == std::vector<std::string>{"B", "D"});
}

TEST_CASE("env: every value taken from the environment is reported, defaults are not") {
  std::vector<EnvironmentValue> taken;
  const Expected<std::string> result = substitute_environment(
      "key=${KEY}&user=${USER:-anonymous}&empty=${EMPTY:-none}&again=${KEY}",
      lookup_in({{"KEY", "k-123"}, {"EMPTY", ""}}), taken);
  REQUIRE(result.has_value());
  CHECK(*result == "key=k-123&user=anonymous&empty=none&again=k-123");
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].name == "KEY");
  CHECK(taken[0].value == "k-123");
  CHECK(taken[0].path.empty());
  CHECK(taken[1].value == "k-123");
}

}  // namespace
}  // namespace gapwatch
