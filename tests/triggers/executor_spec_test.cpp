#include "triggers/executor_spec.h"

#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::value_of;

// Quotes, a backslash, a newline, shell syntax and template syntax at once.
const std::string kHostile = "He said \"hi\" \\ back\nthen $(touch pwned); `id` '{x}' {{y}}";

Template parsed(std::string_view text) {
  return value_of(Template::parse(text));
}

json expand(const json& shape, const TemplateValues& values) {
  return value_of(expand_json(JsonTemplate{shape}, values));
}

const TemplateValues kValues{{"request_id", "0123abcd"}, {"table", "sales.orders"},
                             {"attempt", "2"},           {"note", kHostile},
                             {"x", "must not appear"},   {"empty", ""}};

TEST_CASE("expand_json expands string leaves as JSON strings") {
  const json shape = {{"dag_run_id", "gapwatch-{request_id}"},
                      {"conf", {{"table", "{table}"}, {"attempt", "{attempt}"}}}};
  const json body = expand(shape, kValues);
  CHECK(body == json{{"dag_run_id", "gapwatch-0123abcd"},
                     {"conf", {{"table", "sales.orders"}, {"attempt", "2"}}}});
  // A value that looks like a number stays a string.
  CHECK(body["conf"]["attempt"].is_string());
}

TEST_CASE("expand_json keeps quotes, backslashes, newlines and shell syntax as data") {
  const json body = expand(json{{"note", "{note}"}, {"prefixed", "note: {note}"}}, kValues);
  CHECK(body["note"].get<std::string>() == kHostile);
  CHECK(body["prefixed"].get<std::string>() == "note: " + kHostile);
  // Serialised and read back the value is unchanged, and the JSON text keeps
  // it inside one string.
  const std::string text = body.dump();
  CHECK(text.find('\n') == std::string::npos);
  CHECK(json::parse(text) == body);
  CHECK(json::parse(text).size() == 2);
}

TEST_CASE("expand_json does not expand braces inside a value") {
  const json body = expand(json{{"note", "{note}"}}, kValues);
  CHECK(body["note"].get<std::string>().find("{x}") != std::string::npos);
  CHECK(body["note"].get<std::string>().find("must not appear") == std::string::npos);
}

TEST_CASE("expand_json leaves numbers, booleans and null untouched") {
  const json shape = {
      {"count", 3},   {"ratio", 2.5}, {"negative", -7},    {"big", 9007199254740993ULL},
      {"flag", true}, {"off", false}, {"nothing", nullptr}};
  const json body = expand(shape, kValues);
  CHECK(body == shape);
  CHECK(body["count"].is_number_integer());
  CHECK(body["ratio"].is_number_float());
  CHECK(body["big"].get<unsigned long long>() == 9007199254740993ULL);
  CHECK(body["flag"].is_boolean());
  CHECK(body["nothing"].is_null());
}

TEST_CASE("expand_json walks arrays and nested objects") {
  const json shape = {{"tables", json::array({"{table}", 1, json::array({"{attempt}", false})})},
                      {"deep", {{"deeper", {{"deepest", "{request_id}"}}}}}};
  const json body = expand(shape, kValues);
  CHECK(body == json{{"tables", json::array({"sales.orders", 1, json::array({"2", false})})},
                     {"deep", {{"deeper", {{"deepest", "0123abcd"}}}}}});
}

TEST_CASE("expand_json keeps object keys as written") {
  const json body = expand(json{{"{table}", "{table}"}}, kValues);
  CHECK(body == json{{"{table}", "sales.orders"}});
}

TEST_CASE("expand_json treats doubled braces in a leaf as literal braces") {
  CHECK(expand(json{{"literal", "{{table}}"}}, kValues) == json{{"literal", "{table}"}});
}

TEST_CASE("expand_json keeps empty strings, arrays and objects") {
  const json shape = {
      {"text", ""}, {"list", json::array()}, {"map", json::object()}, {"value", "{empty}"}};
  CHECK(expand(shape, kValues) ==
        json{{"text", ""}, {"list", json::array()}, {"map", json::object()}, {"value", ""}});
}

TEST_CASE("expand_json of a scalar body") {
  CHECK(expand(json("{table}"), kValues) == json("sales.orders"));
  CHECK(expand(json(42), kValues) == json(42));
}

TEST_CASE("expand_json fails on a variable without a value") {
  CHECK(error_of(expand_json(JsonTemplate{json{{"a", json::array({"{missing}"})}}}, kValues)) ==
        "template variable 'missing' has no value");
}

TEST_CASE("expand_json fails on a leaf that is not a valid template") {
  CHECK(error_of(expand_json(JsonTemplate{json{{"a", "{unterminated"}}}, kValues)) ==
        "unterminated '{' at position 1 (write '{{' for a literal brace)");
}

TEST_CASE("expand_json fails, without throwing, on a value that is not valid UTF-8") {
  // Serialising such a body would throw inside the webhook executor.
  const TemplateValues values{{"note", "caf\xe9"}};
  const auto body = expand_json(JsonTemplate{json{{"note", "{note}"}}}, values);
  CHECK(error_of(body).starts_with("the body is not valid UTF-8: "));
}

TEST_CASE("expand_json accepts multi-byte UTF-8 values") {
  const TemplateValues values{{"note", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88"}};
  const json body = expand(json{{"note", "{note}"}}, values);
  CHECK(body["note"].get<std::string>() == values.at("note"));
  CHECK(json::parse(body.dump()) == body);
}

TEST_CASE("executor_variables of a command: argv and env values") {
  CommandSpec command;
  command.argv = {parsed("./backfill.sh"), parsed("{table}"), parsed("--from={window_start}"),
                  parsed("{{literal}}")};
  command.env = {{"LOAD_MODE", parsed("replace")}, {"DAG", parsed("{dag_id}-{attempt}")}};
  const ExecutorSpec spec{"reload", command, 1, std::nullopt, {}};
  CHECK(spec.is_command());
  CHECK(executor_variables(spec) ==
        std::set<std::string>{"attempt", "dag_id", "table", "window_start"});
}

TEST_CASE("executor_variables of a webhook: url, header values and body leaves") {
  WebhookSpec webhook;
  webhook.url = parsed("http://127.0.0.1:8080/api/v1/dags/{dag_id}/dagRuns");
  webhook.headers = {{"Authorization", parsed("Bearer token")},
                     {"X-Window", parsed("{window_start}..{window_end}")}};
  webhook.body =
      JsonTemplate{json{{"dag_run_id", "gapwatch-{request_id}"},
                        {"{key_is_not_a_variable}", 1},
                        {"conf", {{"tables", json::array({"{table}", "{{literal}}"})}, {"n", 5}}}}};
  const ExecutorSpec spec{"airflow", webhook, 4, std::nullopt, {}};
  CHECK_FALSE(spec.is_command());
  CHECK(executor_variables(spec) ==
        std::set<std::string>{"dag_id", "request_id", "table", "window_end", "window_start"});
}

TEST_CASE("executor_variables of a webhook without body or headers: the url only") {
  WebhookSpec webhook;
  webhook.url = parsed("https://hooks.example/{rule}");
  CHECK(executor_variables(ExecutorSpec{"hook", webhook, 1, std::nullopt, {}}) == std::set<std::string>{"rule"});
}

}  // namespace
}  // namespace gapwatch
