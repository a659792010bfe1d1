// The `executors:` section: each executor's name, what it runs (a `command:`
// or a `webhook:`, plain or a preset of preset_config.cpp), how many requests
// it takes at once and how it retries. Where templates use variables is
// recorded for check_backfill_variables. Not thread-safe: part of one
// ConfigLoader's load.
#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "monitor/config/config_loader.h"
#include "monitor/config/preset_config.h"
#include "monitor/config/template_config.h"
#include "triggers/webhook_signature.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 6> kExecutorKeys{
    "name", "command", "webhook", "max_concurrent", "max_per_hour", "retry"};
// The fastest a preset's runs may be polled (poll_every).
constexpr std::chrono::seconds kMinPollEvery{5};

constexpr std::array<std::string_view, 4> kCommandKeys{"argv", "env", "workdir", "timeout"};
// `preset` is listed for messages only: a webhook naming one is read with the
// preset's keys (preset_config.cpp).
constexpr std::array<std::string_view, 10> kWebhookKeys{
    "url",     "method",     "headers", "body",  "success_codes", "signing_secret",
    "timeout", "tls_verify", "auth",    "preset"};
constexpr std::array<std::string_view, 3> kRetryKeys{"max_attempts", "initial_backoff",
                                                     "max_backoff"};
constexpr std::array<std::string_view, 5> kMethods{"POST", "PUT", "PATCH", "GET", "DELETE"};

std::optional<CommandSpec> load_command(YamlReader& reader, const Field& field,
                                        const std::string& executor,
                                        std::vector<VariableUse>& uses) {
  const auto map = reader.map(field, kCommandKeys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(reader, *map);
  CommandSpec command;
  if (const auto argv = keys.required("argv")) {
    const std::vector<Field> items = reader.sequence(*argv);
    if (argv->node.IsSequence() && items.empty()) {
      reader.error(*argv, "argv needs at least the program to run");
      keys.fail();
    }
    for (const Field& item : items) {
      auto argument = load_template(reader, item, executor, uses);
      if (argument) {
        command.argv.push_back(std::move(*argument));
      } else {
        keys.fail();
      }
    }
    if (!command.argv.empty() && command.argv.front().text().empty()) {
      reader.error(items.front(), "the program (argv[0]) is empty");
      keys.fail();
    }
  }
  if (const auto env = keys.field("env")) {
    auto entries = load_template_map(reader, *env, executor, uses, MapKeys::variable_names);
    if (entries) {
      command.env = std::move(*entries);
    } else {
      keys.fail();
    }
  }
  if (const auto workdir = keys.field("workdir")) {
    command.workdir = reader.string(*workdir);
    if (!command.workdir) {
      keys.fail();
    }
  }
  keys.duration("timeout", ZeroDuration::refused, command.timeout);
  if (!keys.ok()) {
    return std::nullopt;
  }
  return command;
}

// The keys only a plain webhook has: its url, method, body and success codes.
bool load_plain_webhook(YamlReader& reader, const MapReader& map, const std::string& executor,
                        std::vector<VariableUse>& uses, WebhookSpec& webhook) {
  std::optional<Template> url;
  if (const auto url_field = reader.required(map, "url")) {
    url = load_template(reader, *url_field, executor, uses);
    if (url && !url->text().starts_with("http://") && !url->text().starts_with("https://")) {
      reader.error(*url_field, "the url must start with http:// or https://");
      url.reset();
    }
  }
  if (!url) {
    return false;
  }
  KeyReader keys(reader, map);
  webhook.url = std::move(*url);
  keys.choice("method", kMethods, webhook.method);
  if (const auto body = keys.field("body")) {
    std::size_t values_left = kMaxBodyValues;
    auto shape = load_json_template(reader, *body, executor, uses, 0, values_left);
    if (shape) {
      webhook.body = JsonTemplate{std::move(*shape)};
    } else {
      keys.fail();
    }
  }
  if (const auto codes = keys.field("success_codes")) {
    for (const Field& item : reader.sequence(*codes)) {
      const auto code = reader.integer(item, 100, 599);
      if (code) {
        webhook.success_codes.push_back(static_cast<int>(*code));
      } else {
        keys.fail();
      }
    }
  }
  return keys.ok();
}

// A signing_secret: a Standard Webhooks secret, "whsec_<base64>" or the
// base64 alone, of 24 to 64 bytes (webhook_signature.h signing_key), checked
// here so that a key no receiver could verify stops the load.
std::optional<std::string> load_signing_secret(YamlReader& reader, const Field& field) {
  auto secret = reader.string(field);
  if (!secret) {
    return std::nullopt;
  }
  if (secret->empty()) {
    reader.error(field, "signing_secret is empty (leave the key out to send unsigned)");
    return std::nullopt;
  }
  if (const auto key = signing_key(*secret); !key) {
    reader.error(field, key.error().message);
    return std::nullopt;
  }
  return secret;
}

// The `auth:` block, unless the preset's own keys already gave credentials;
// with credentials, an Authorization header would conflict.
void load_webhook_auth(YamlReader& reader, KeyReader& keys, WebhookSpec& webhook) {
  if (const auto auth = keys.field("auth")) {
    if (!std::holds_alternative<std::monostate>(webhook.auth)) {
      reader.error(*auth, "the preset's own credentials (username/password, tenant_id/client_id/"
                          "client_secret) already authenticate; give one or the other");
      keys.fail();
    } else if (auto loaded = load_auth(reader, *auth)) {
      webhook.auth = std::move(*loaded);
    } else {
      keys.fail();
    }
  }
  if (std::holds_alternative<std::monostate>(webhook.auth)) {
    return;
  }
  for (const auto& [name, value] : webhook.headers) {
    std::string folded = name;
    std::transform(folded.begin(), folded.end(), folded.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (folded == "authorization") {
      reader.error(*keys.field("headers"),
                   "an Authorization header conflicts with the credentials, which set it; "
                   "give one or the other");
      keys.fail();
    }
  }
}

std::optional<WebhookSpec> load_webhook(YamlReader& reader, const Field& field,
                                        const std::string& executor,
                                        std::vector<VariableUse>& uses) {
  const bool preset = is_preset_webhook(field);
  std::vector<std::string_view> allowed(kWebhookKeys.begin(), kWebhookKeys.end());
  if (preset) {
    auto preset_keys = preset_webhook_keys(reader, field);
    if (!preset_keys) {
      return std::nullopt;
    }
    allowed = std::move(*preset_keys);
  }
  const auto map = reader.map(field, allowed, nullptr,
                              preset ? keys_set_by_preset() : std::span<const std::string_view>{});
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(reader, *map);
  WebhookSpec webhook;
  const bool loaded = preset ? load_preset(reader, *map, executor, uses, webhook)
                             : load_plain_webhook(reader, *map, executor, uses, webhook);
  if (!loaded) {
    if (!preset && webhook.url.text().empty()) {
      return std::nullopt;  // no usable url: the rest would only add noise
    }
    keys.fail();
  }
  if (const auto headers = keys.field("headers")) {
    auto entries = load_template_map(reader, *headers, executor, uses, MapKeys::header_names);
    if (entries) {
      webhook.headers = std::move(*entries);
    } else {
      keys.fail();
    }
  }
  if (const auto secret = keys.field("signing_secret")) {
    webhook.signing_secret = load_signing_secret(reader, *secret);
    if (!webhook.signing_secret) {
      keys.fail();
    }
  }
  keys.duration("timeout", ZeroDuration::refused, webhook.timeout);
  keys.boolean("tls_verify", webhook.verify_tls);
  if (preset) {
    // Following the runs the preset starts (RunTracker).
    keys.duration("poll_every", ZeroDuration::refused, webhook.poll_every);
    if (const auto every = keys.field("poll_every"); every && webhook.poll_every < kMinPollEvery) {
      reader.error(*every, fmt::format("poll_every must be at least {}s: an orchestrator's API "
                                       "is not to be polled faster",
                                       kMinPollEvery.count()));
      keys.fail();
    }
    keys.duration("run_timeout", ZeroDuration::refused, webhook.run_timeout);
  }
  load_webhook_auth(reader, keys, webhook);
  if (!keys.ok()) {
    return std::nullopt;
  }
  return webhook;
}

std::optional<ExecutorSpec> load_executor(YamlReader& reader, const Field& field,
                                          std::vector<VariableUse>& uses) {
  const auto map = reader.map(field, kExecutorKeys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(reader, *map);
  ExecutorSpec spec;
  if (const auto name = keys.required("name")) {
    const auto text = reader.string(*name);
    if (!text || !check_object_name(reader, *name, *text, "name")) {
      keys.fail();
    }
    spec.name = text.value_or("");
  }
  const auto command = keys.field("command");
  const auto webhook = keys.field("webhook");
  if (command && webhook) {
    reader.error(*webhook, "give either command or webhook, not both");
    keys.fail();
  } else if (command) {
    if (auto loaded = load_command(reader, *command, spec.name, uses)) {
      spec.kind = std::move(*loaded);
    } else {
      keys.fail();
    }
  } else if (webhook) {
    if (auto loaded = load_webhook(reader, *webhook, spec.name, uses)) {
      spec.kind = std::move(*loaded);
    } else {
      keys.fail();
    }
  } else {
    reader.error(*map, "missing required key 'command' or 'webhook'");
    keys.fail();
  }
  keys.integer("max_concurrent", 1, 256, spec.max_concurrent);
  if (keys.field("max_per_hour")) {
    int per_hour = 0;
    keys.integer("max_per_hour", 1, 1000000, per_hour);
    if (per_hour > 0) {
      spec.max_per_hour = per_hour;
    }
  }
  if (const auto retry = keys.field("retry")) {
    if (const auto retry_map = reader.map(*retry, kRetryKeys)) {
      KeyReader retry_keys(reader, *retry_map);
      retry_keys.integer("max_attempts", 1, 100, spec.retry.max_attempts);
      retry_keys.duration("initial_backoff", ZeroDuration::refused, spec.retry.initial_backoff);
      retry_keys.duration("max_backoff", ZeroDuration::refused, spec.retry.max_backoff);
      if (!retry_keys.ok()) {
        keys.fail();
      }
      // Compared only when all else of the executor is usable.
      if (keys.ok() && spec.retry.max_backoff < spec.retry.initial_backoff) {
        reader.error(*retry, "max_backoff is shorter than initial_backoff");
        keys.fail();
      }
    } else {
      keys.fail();
    }
  }
  if (!keys.ok()) {
    return std::nullopt;
  }
  return spec;
}

}  // namespace

void ConfigLoader::load_executors(const Field& field) {
  std::set<std::string> names;
  for (const Field& item : m_reader->sequence(field)) {
    if (auto name = raw_name(item.node)) {
      ExecutorSpec declared;
      declared.name = std::move(*name);
      m_declared_executors.executors.push_back(std::move(declared));
    }
    const auto name = raw_name(item.node);
    const bool duplicate = name && !names.insert(*name).second;
    auto executor = load_executor(*m_reader, item, m_variable_uses);
    if (duplicate) {
      m_reader->error(item, fmt::format("duplicate executor name '{}'", *name));
      continue;
    }
    if (!executor) {
      continue;
    }
    m_config.executors.push_back(std::move(*executor));
  }
}

}  // namespace gapwatch
