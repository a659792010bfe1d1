// What an executor is, as validated configuration: a command to run or a
// webhook to call (plain or an orchestrator preset, with its credentials),
// how many requests it takes at once, and how deliveries are retried. Built
// by the monitor's config loader. Immutable; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "triggers/auth.h"
#include "triggers/json_template.h"
#include "triggers/template.h"
#include "triggers/webhook_preset.h"

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

// A webhook: either plain (url, method, body as written) or a preset, which
// builds the method, URL and body itself and reads answers by their body too.
struct WebhookSpec {
  Template url;  // plain webhooks only
  std::string method = "POST";
  std::vector<std::pair<std::string, Template>> headers;
  std::optional<JsonTemplate> body;
  std::vector<int> success_codes;  // empty: any 2xx
  std::optional<std::string> signing_secret;
  std::chrono::seconds timeout{15};
  bool verify_tls = true;
  AuthSpec auth;                     // sent with every request (and token fetch)
  std::optional<PresetSpec> preset;  // empty: a plain webhook
  // Following a preset's runs: how often a run's state is asked for (more
  // slowly while it is queued, or the orchestrator does not answer), and how
  // long a run may take before the attempt counts as failed.
  std::chrono::seconds poll_every{30};
  std::chrono::seconds run_timeout{std::chrono::hours{24}};
};

struct ExecutorSpec {
  std::string name;
  std::variant<CommandSpec, WebhookSpec> kind;
  int max_concurrent = 1;
  // Deliveries started in any hour, at most (resends included); none: no bound.
  std::optional<int> max_per_hour;
  RetryPolicy retry;

  bool is_command() const { return std::holds_alternative<CommandSpec>(kind); }
};

// Every template variable `spec` uses.
std::set<std::string> executor_variables(const ExecutorSpec& spec);

}  // namespace gapwatch
