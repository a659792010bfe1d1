// What an executor is, as validated configuration: a command to run or a
// webhook to call, how many requests it takes at once, and how deliveries are
// retried. Built by the monitor's config loader. Immutable; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "triggers/template.h"

namespace gapwatch {

// Deliveries of one request: the first try and its retries.
struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::seconds initial_backoff{10};
  std::chrono::seconds max_backoff{1800};
};

struct CommandSpec {
  std::vector<Template> argv;
  std::vector<std::pair<std::string, Template>> env;
  std::optional<std::string> workdir;
  std::chrono::seconds timeout{1800};
};

// A JSON body whose string leaves are templates.
struct JsonTemplate {
  nlohmann::json shape;  // string leaves hold template text
};

struct WebhookSpec {
  Template url;
  std::string method = "POST";
  std::vector<std::pair<std::string, Template>> headers;
  std::optional<JsonTemplate> body;
  std::vector<int> success_codes;  // empty: any 2xx
  std::optional<std::string> signing_secret;
  std::chrono::seconds timeout{15};
  bool verify_tls = true;
};

struct ExecutorSpec {
  std::string name;
  std::variant<CommandSpec, WebhookSpec> kind;
  int max_concurrent = 1;
  RetryPolicy retry;

  bool is_command() const { return std::holds_alternative<CommandSpec>(kind); }
};

// Expands every string leaf of `body` with `values` (as JSON strings).
Expected<nlohmann::json> expand_json(const JsonTemplate& body, const TemplateValues& values);

// Every template variable `spec` uses.
std::set<std::string> executor_variables(const ExecutorSpec& spec);

}  // namespace gapwatch
