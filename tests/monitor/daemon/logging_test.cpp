#include "monitor/daemon/logging.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "monitor/config/config.h"
#include "monitor/config/connection_string.h"

namespace gapwatch {
namespace {

using Secrets = std::vector<std::string>;

EnvironmentLookup lookup_in(std::map<std::string, std::string> environment) {
  return [environment =
              std::move(environment)](const std::string& name) -> std::optional<std::string> {
    const auto found = environment.find(name);
    if (found == environment.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

Config load(std::string_view yaml, std::map<std::string, std::string> environment = {}) {
  ConfigResult result = load_config_text(yaml, "gapwatch.yaml", lookup_in(std::move(environment)));
  std::string problems;
  if (!result) {
    for (const ConfigError& error : result.error()) {
      problems += error.format() + "\n";
    }
  }
  REQUIRE_MESSAGE(result.has_value(), problems);
  return std::move(*result);
}

bool contains(const Secrets& secrets, std::string_view secret) {
  return std::find(secrets.begin(), secrets.end(), secret) != secrets.end();
}

// A config with a secret in every place one can hide: three connection-string
// spellings, a dsn password that needs braces, the API token, a signing secret
// and webhook headers, literal and templated.
constexpr std::string_view kSecretConfig = R"(version: 1
monitor:
  api_token: "api-token-0123456789"
warehouses:
  - name: shop
    connection: "Driver=PostgreSQL Unicode;Server=db;Uid=alice;Pwd=${PGPASSWORD}"
  - name: lake
    connection: "DRIVER=X;UID=bob;PWD={braced;pass}}word};Port=5432"
  - name: mart
    connection: "Driver=X; password = spaced-pass-1;AccessToken=access-token-77"
  - name: vault
    dsn: vault
    user: carol
    password: "dsn;pass}word"
  - name: copy
    connection: "Driver=X;Pwd=${PGPASSWORD}"
executors:
  - name: hook
    webhook:
      url: "https://example.com/hooks/{table}"
      headers:
        Authorization: "Bearer bearer-token-4242"
        X-Api-Key: "literal-key-5151"
        X-Request: "req-{request_id}"
        X-Short: "abc"
      signing_secret: "c2lnbmluZy1zZWNyZXQtOTk5OS1mb3ItdGVzdHM="
rules:
  - name: orders_fresh
    warehouse: shop
    table: orders
    check: freshness
    timestamp_column: updated_at
    fail: {max: 2h}
    backfill: {executor: hook}
)";

// ---------------------------------------------------------------------------
// redact

TEST_CASE("logging: redact replaces every occurrence of a secret") {
  CHECK(redact("pw hunter22, again hunter22!", {"hunter22"}) == "pw ***, again ***!");
  CHECK(redact("hunter22hunter22", {"hunter22"}) == "******");
}

TEST_CASE("logging: redact leaves text without secrets alone") {
  CHECK(redact("nothing to hide", {"hunter22"}) == "nothing to hide");
  CHECK(redact("nothing to hide", {}) == "nothing to hide");
  CHECK(redact("", {"hunter22"}).empty());
}

TEST_CASE("logging: redact hides the whole of a secret that contains another, in any order") {
  const std::string line = "connect pass12345678 failed";
  CHECK(redact(line, {"pass12345678", "pass1234"}) == "connect *** failed");
  CHECK(redact(line, {"pass1234", "pass12345678"}) == "connect *** failed");
}

TEST_CASE("logging: redact hides both of two secrets that overlap in the text") {
  CHECK(redact("x abcdWXYZ1234 y", {"abcdWXYZ", "WXYZ1234"}) == "x *** y");
  CHECK(redact("x abcdWXYZ1234 y", {"WXYZ1234", "abcdWXYZ"}) == "x *** y");
}

TEST_CASE("logging: redact hides overlapping occurrences of one secret") {
  CHECK(redact("aaaaaa", {"aaaa"}) == "***");
}

TEST_CASE("logging: redact ignores secrets shorter than four characters") {
  CHECK(redact("a bc def ghij", {"a", "bc", "def"}) == "a bc def ghij");
  CHECK(redact("a bc def ghij", {"ghij"}) == "a bc def ***");
  CHECK(redact("empty secret", {""}) == "empty secret");
}

TEST_CASE("logging: redact does not mistake its own stars for a secret") {
  CHECK(redact("x **** y", {"****"}) == "x *** y");
  CHECK(redact("x ******** y", {"****"}) == "x *** y");
}

// ---------------------------------------------------------------------------
// config_secrets

TEST_CASE("logging: config_secrets finds passwords in connection strings") {
  const Secrets secrets = config_secrets(load(kSecretConfig, {{"PGPASSWORD", "pg-pass-from-env"}}));
  SUBCASE("Pwd= after environment substitution") {
    CHECK(contains(secrets, "pg-pass-from-env"));
  }
  SUBCASE("PWD= with a braced value holding a semicolon and an escaped brace") {
    CHECK(contains(secrets, "braced;pass}word"));
    CHECK(contains(secrets, "braced;pass}}word"));  // as written in the string
    CHECK_FALSE(contains(secrets, "{braced"));
  }
  SUBCASE("password= with spaces around the key, and *Token= keys") {
    CHECK(contains(secrets, "spaced-pass-1"));
    CHECK(contains(secrets, "access-token-77"));
  }
  SUBCASE("a dsn's password, braced by the loader") {
    CHECK(contains(secrets, "dsn;pass}word"));
  }
  SUBCASE("no other connection-string values") {
    for (const std::string_view plain :
         {"alice", "bob", "carol", "db", "5432", "PostgreSQL Unicode", "X", "vault"}) {
      CHECK_MESSAGE(!contains(secrets, plain), plain);
    }
  }
}

TEST_CASE("logging: config_secrets finds the API token and webhook secrets") {
  const Secrets secrets = config_secrets(load(kSecretConfig, {{"PGPASSWORD", "pg-pass-from-env"}}));
  CHECK(contains(secrets, "api-token-0123456789"));
  CHECK(contains(secrets, "c2lnbmluZy1zZWNyZXQtOTk5OS1mb3ItdGVzdHM="));
  CHECK(contains(secrets, "literal-key-5151"));
  CHECK(contains(secrets, "Bearer bearer-token-4242"));
  CHECK(contains(secrets, "bearer-token-4242"));  // the token part of "Bearer <token>"
}

TEST_CASE("logging: config_secrets skips templated header values") {
  const Secrets secrets = config_secrets(load(kSecretConfig, {{"PGPASSWORD", "pg-pass-from-env"}}));
  CHECK_FALSE(contains(secrets, "req-{request_id}"));
  CHECK_FALSE(contains(secrets, "{request_id}"));
  CHECK_FALSE(contains(secrets, "https://example.com/hooks/{table}"));
}

TEST_CASE("logging: config_secrets lists each secret once, longest first") {
  // PGPASSWORD is in two connection strings.
  const Secrets secrets = config_secrets(load(kSecretConfig, {{"PGPASSWORD", "pg-pass-from-env"}}));
  CHECK(std::count(secrets.begin(), secrets.end(), "pg-pass-from-env") == 1);
  CHECK(std::is_sorted(secrets.begin(), secrets.end(),
                       [](const auto& a, const auto& b) { return a.size() > b.size(); }));
  CHECK(std::none_of(secrets.begin(), secrets.end(),
                     [](const std::string& secret) { return secret.empty(); }));
}

TEST_CASE("logging: config_secrets of a config without secrets is empty") {
  const Config config = load(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=SQLite3;Database=/tmp/x.db"
rules:
  - name: orders_fresh
    table: orders
    check: freshness
    timestamp_column: updated_at
    fail: {max: 2h}
)");
  CHECK(config_secrets(config).empty());
}

TEST_CASE("logging: an empty password yields no secret") {
  const Config config = load(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=X;Pwd=${PGPASSWORD:-}"
rules:
  - name: orders_fresh
    table: orders
    check: freshness
    timestamp_column: updated_at
    fail: {max: 2h}
)");
  CHECK(config_secrets(config).empty());
}

TEST_CASE("logging: config_secrets and redact together scrub a line naming every secret") {
  const Secrets secrets = config_secrets(load(kSecretConfig, {{"PGPASSWORD", "pg-pass-from-env"}}));
  const std::string line =
      "echo: Authorization: Bearer bearer-token-4242, X-Api-Key: literal-key-5151, "
      "pwd pg-pass-from-env / braced;pass}word / dsn;pass}word, token api-token-0123456789, "
      "key c2lnbmluZy1zZWNyZXQtOTk5OS1mb3ItdGVzdHM=, access-token-77";
  const std::string scrubbed = redact(line, secrets);
  for (const std::string_view secret :
       {"bearer-token-4242", "literal-key-5151", "pg-pass-from-env", "pass}word", "api-token",
        "c2lnbmluZy1zZWNyZXQ", "access-token"}) {
    CHECK_MESSAGE(scrubbed.find(secret) == std::string::npos, scrubbed);
  }
  CHECK(scrubbed.starts_with("echo: Authorization: ***, X-Api-Key: ***, pwd ***"));
}

// ---------------------------------------------------------------------------
// values from the environment

constexpr std::string_view kEnvironmentConfig = R"(version: 1
monitor:
  workers: ${WORKERS}
  shutdown_grace: ${GRACE}
warehouses:
  - name: shop
    connection: "Driver=X;Server=${DB_HOST};Uid=${DB_USER}"
executors:
  - name: hook
    webhook:
      url: "http://127.0.0.1:9/run?apikey=${URL_KEY}"
      headers: {X-Key: "${HEADER_KEY}"}
      body: {key: "${BODY_KEY}", table: "{table}"}
  - name: loader
    command:
      argv: ["/bin/loader", "${ARGV_KEY}", "{window_start}"]
      env: {LOADER_TOKEN: "${LOADER_TOKEN}", SHORT: "${SHORT}"}
rules:
  - name: orders_fresh
    warehouse: shop
    table: orders
    check: freshness
    timestamp_column: updated_at
    fail: {max: 2h}
    backfill: {executor: loader}
)";

const std::map<std::string, std::string> kEnvironment = {
    {"WORKERS", "3"},           {"GRACE", "12345s"},        {"DB_HOST", "db.internal"},
    {"DB_USER", "loader-user"}, {"URL_KEY", "url-key-1"},   {"HEADER_KEY", "header-key-2"},
    {"BODY_KEY", "body-key-3"}, {"ARGV_KEY", "argv-key-4"}, {"LOADER_TOKEN", "loader-token-5"},
    {"SHORT", "ab"}};

TEST_CASE("logging: every value from the environment in a text value is a secret") {
  const Config config = load(kEnvironmentConfig, kEnvironment);
  const Secrets secrets = config_secrets(config);
  for (const std::string_view value :
       {"db.internal", "loader-user", "url-key-1", "header-key-2", "body-key-3", "argv-key-4",
        "loader-token-5"}) {
    CHECK_MESSAGE(contains(secrets, value), value);
  }
  SUBCASE("but not one put into a number or a duration") {
    CHECK_FALSE(contains(secrets, "12345s"));
    CHECK_FALSE(contains(secrets, "3"));
  }
  SUBCASE("each with its variable and key") {
    const auto key_of = [&](std::string_view value) {
      for (const EnvironmentValue& taken : config.from_environment) {
        if (taken.value == value) {
          return taken.name + " " + taken.path;
        }
      }
      return std::string();
    };
    CHECK(key_of("url-key-1") == "URL_KEY executors[0].webhook.url");
    CHECK(key_of("loader-token-5") == "LOADER_TOKEN executors[1].command.env.LOADER_TOKEN");
    CHECK(key_of("argv-key-4") == "ARGV_KEY executors[1].command.argv[1]");
    CHECK(key_of("loader-user") == "DB_USER warehouses[0].connection");
  }
}

TEST_CASE("logging: a reload's secrets replace the previous ones") {
  const Secrets first = config_secrets(load(kEnvironmentConfig, kEnvironment));
  std::map<std::string, std::string> rotated = kEnvironment;
  rotated["URL_KEY"] = "url-key-rotated";
  const Secrets second = config_secrets(load(kEnvironmentConfig, rotated));
  CHECK(contains(first, "url-key-1"));
  CHECK_FALSE(contains(second, "url-key-1"));
  CHECK(contains(second, "url-key-rotated"));
}

TEST_CASE("logging: a value from the environment too short to mask stays in clear") {
  const Config config = load(kEnvironmentConfig, kEnvironment);
  const Redactor redactor(config_secrets(config));
  CHECK(redactor.redact("SHORT=ab LOADER_TOKEN=loader-token-5") == "SHORT=ab LOADER_TOKEN=***");
}

// ---------------------------------------------------------------------------
// log_line

const auto kLogTime = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + std::chrono::hours{10};

TEST_CASE("logging: a text log line is one line whatever the message holds") {
  const std::string line = log_line(LogFormat::text, kLogTime, "warning",
                                    "output: first\nsecond\r\nthird\tfourth\x01\x7f end", Redactor());
  CHECK(line == "2026-03-02T10:00:00.000Z warning output: first\\nsecond\\r\\nthird\\tfourth\\x01\\x7f end\n");
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
}

TEST_CASE("logging: a text log line keeps UTF-8 as it is") {
  CHECK(log_line(LogFormat::text, kLogTime, "info", "Grüße […]", Redactor()) ==
        "2026-03-02T10:00:00.000Z info Grüße […]\n");
}

TEST_CASE("logging: a JSON log line is one line, its message escaped by JSON") {
  const std::string line =
      log_line(LogFormat::json, kLogTime, "info", "rule orders: a\nb", Redactor());
  REQUIRE(line.ends_with("\n"));
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  const nlohmann::json object = nlohmann::json::parse(line);
  CHECK(object["message"] == "rule orders: a\nb");
  CHECK(object["rule"] == "orders");
  CHECK(object["time"] == "2026-03-02T10:00:00.000Z");
}

TEST_CASE("logging: a log line is redacted before it is escaped") {
  const Redactor redactor({"tok\nen-1"});
  CHECK(log_line(LogFormat::text, kLogTime, "info", "got tok\nen-1 and tok-2", redactor) ==
        "2026-03-02T10:00:00.000Z info got *** and tok-2\n");
}

// ---------------------------------------------------------------------------
// redact_connection_string

TEST_CASE("logging: redact_connection_string hides password values and keeps the rest") {
  CHECK(redact_connection_string("Driver=X;Uid=alice;Pwd=secret") == "Driver=X;Uid=alice;Pwd=***");
  CHECK(redact_connection_string("DRIVER=X;PWD=secret;Port=5432") == "DRIVER=X;PWD=***;Port=5432");
  CHECK(redact_connection_string("Driver=X;password=secret") == "Driver=X;password=***");
  CHECK(redact_connection_string("Driver=X;Password =secret") == "Driver=X;Password =***");
  CHECK(redact_connection_string("Driver=X;AccessToken=t;ClientSecret=s") ==
        "Driver=X;AccessToken=***;ClientSecret=***");
  CHECK(redact_connection_string("Driver=X;Pwd={se cret}") == "Driver=X;Pwd=***");
}

TEST_CASE("logging: redact_connection_string hides braced values holding semicolons, and spaced keys") {
  CHECK(redact_connection_string("Driver=X;Pwd={se;cret};Port=1") == "Driver=X;Pwd=***;Port=1");
  CHECK(redact_connection_string("Driver=X;Pwd={a}}b;c};Port=1") == "Driver=X;Pwd=***;Port=1");
  CHECK(redact_connection_string("Driver=X; Pwd=secret") == "Driver=X; Pwd=***");
}

TEST_CASE("logging: redact_connection_string keeps templates of other keys and the layout") {
  CHECK(redact_connection_string("Server=${HOST};Uid=${USER};Pwd=${PASSWORD}") ==
        "Server=${HOST};Uid=${USER};Pwd=***");
  CHECK(redact_connection_string("DSN=lake;") == "DSN=lake;");
  CHECK(redact_connection_string("Driver=X;;flag") == "Driver=X;;flag");
  CHECK(redact_connection_string("").empty());
}

TEST_CASE("logging: JSON lines name the rule, incident and request a message is about") {
  const LogFields about_rule = log_fields("rule events_hourly: fail (2 of 3 hourly buckets)");
  CHECK(about_rule.rule == "events_hourly");
  CHECK_FALSE(about_rule.incident.has_value());
  const LogFields opened = log_fields(
      "incident #12 for orders.daily_v2: request 0123456789abcdef0123456789abcdef queued");
  CHECK(opened.rule == "orders.daily_v2");
  CHECK(opened.incident == 12);
  CHECK(opened.request == "0123456789abcdef0123456789abcdef");
  // Not quite: a name must end at ':' or ' ', an id is 32 hex digits, and a
  // number too long for 64 bits is left out rather than misread.
  const LogFields none = log_fields(
      "rule x!: wait for  incident #99999999999999999999 request 0123456789abcdef");
  CHECK_FALSE(none.rule.has_value());
  CHECK_FALSE(none.incident.has_value());
  CHECK_FALSE(none.request.has_value());
  CHECK(log_fields("retrying for events: 500").rule == "events");
}

}  // namespace
}  // namespace gapwatch
