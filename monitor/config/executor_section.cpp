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

constexpr std::array<std::string_view, 5> kExecutorKeys{"name", "command", "webhook",
                                                        "max_concurrent", "retry"};
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
  CommandSpec command;
  bool ok = true;
  if (const auto argv = reader.required(*map, "argv")) {
    const std::vector<Field> items = reader.sequence(*argv);
    if (argv->node.IsSequence() && items.empty()) {
      reader.error(*argv, "argv needs at least the program to run");
      ok = false;
    }
    for (const Field& item : items) {
      auto argument = load_template(reader, item, executor, uses);
      ok = ok && argument.has_value();
      if (argument) {
        command.argv.push_back(std::move(*argument));
      }
    }
    if (!command.argv.empty() && command.argv.front().text().empty()) {
      reader.error(items.front(), "the program (argv[0]) is empty");
      ok = false;
    }
  } else {
    ok = false;
  }
  if (const auto env = map->field("env")) {
    auto entries = load_template_map(reader, *env, executor, uses, MapKeys::variable_names);
    ok = ok && entries.has_value();
    if (entries) {
      command.env = std::move(*entries);
    }
  }
  if (const auto workdir = map->field("workdir")) {
    command.workdir = reader.string(*workdir);
    ok = ok && command.workdir.has_value();
  }
  if (const auto timeout = map->field("timeout")) {
    const auto value = reader.duration(*timeout, ZeroDuration::refused);
    ok = ok && value.has_value();
    command.timeout = value.value_or(command.timeout);
  }
  if (!ok) {
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
  bool ok = true;
  webhook.url = std::move(*url);
  if (const auto method = map.field("method")) {
    const auto value = reader.choice(*method, kMethods);
    ok = ok && value.has_value();
    webhook.method = value.value_or(webhook.method);
  }
  if (const auto body = map.field("body")) {
    std::size_t values_left = kMaxBodyValues;
    auto shape = load_json_template(reader, *body, executor, uses, 0, values_left);
    ok = ok && shape.has_value();
    if (shape) {
      webhook.body = JsonTemplate{std::move(*shape)};
    }
  }
  if (const auto codes = map.field("success_codes")) {
    for (const Field& item : reader.sequence(*codes)) {
      const auto code = reader.integer(item, 100, 599);
      ok = ok && code.has_value();
      if (code) {
        webhook.success_codes.push_back(static_cast<int>(*code));
      }
    }
  }
  return ok;
}

std::optional<WebhookSpec> load_webhook(YamlReader& reader, const Field& field,
                                        const std::string& executor,
                                        std::vector<VariableUse>& uses) {
  const bool preset = is_preset_webhook(field);
  std::vector<std::string_view> keys(kWebhookKeys.begin(), kWebhookKeys.end());
  if (preset) {
    auto preset_keys = preset_webhook_keys(reader, field);
    if (!preset_keys) {
      return std::nullopt;
    }
    keys = std::move(*preset_keys);
  }
  const auto map = reader.map(field, keys, nullptr,
                              preset ? keys_set_by_preset() : std::span<const std::string_view>{});
  if (!map) {
    return std::nullopt;
  }
  WebhookSpec webhook;
  bool ok = preset ? load_preset(reader, *map, executor, uses, webhook)
                   : load_plain_webhook(reader, *map, executor, uses, webhook);
  if (!preset && !ok && webhook.url.text().empty()) {
    return std::nullopt;  // no usable url: the rest would only add noise
  }
  if (const auto headers = map->field("headers")) {
    auto entries = load_template_map(reader, *headers, executor, uses, MapKeys::header_names);
    ok = ok && entries.has_value();
    if (entries) {
      webhook.headers = std::move(*entries);
    }
  }
  if (const auto secret = map->field("signing_secret")) {
    webhook.signing_secret = reader.string(*secret);
    ok = ok && webhook.signing_secret.has_value();
    if (webhook.signing_secret && webhook.signing_secret->empty()) {
      reader.error(*secret, "signing_secret is empty (leave the key out to send unsigned)");
      ok = false;
    } else if (webhook.signing_secret && webhook.signing_secret->starts_with("whsec_")) {
      const auto key = base64_decode(std::string_view(*webhook.signing_secret).substr(6));
      if (!key) {
        reader.error(*secret, fmt::format("a whsec_ signing_secret is base64 after the prefix: {}",
                                          key.error().message));
        ok = false;
      } else if (key->empty()) {
        reader.error(*secret, "the whsec_ signing_secret has no key after the prefix");
        ok = false;
      }
    }
  }
  if (const auto timeout = map->field("timeout")) {
    const auto value = reader.duration(*timeout, ZeroDuration::refused);
    ok = ok && value.has_value();
    webhook.timeout = value.value_or(webhook.timeout);
  }
  if (const auto verify = map->field("tls_verify")) {
    const auto value = reader.boolean(*verify);
    ok = ok && value.has_value();
    webhook.verify_tls = value.value_or(true);
  }
  if (const auto auth = map->field("auth")) {
    if (!std::holds_alternative<std::monostate>(webhook.auth)) {
      reader.error(*auth, "the preset's own credentials (username/password, tenant_id/client_id/"
                          "client_secret) already authenticate; give one or the other");
      ok = false;
    } else if (auto loaded = load_auth(reader, *auth)) {
      webhook.auth = std::move(*loaded);
    } else {
      ok = false;
    }
  }
  if (!std::holds_alternative<std::monostate>(webhook.auth)) {
    for (const auto& [name, value] : webhook.headers) {
      std::string folded = name;
      std::transform(folded.begin(), folded.end(), folded.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (folded == "authorization") {
        reader.error(*map->field("headers"),
                     "an Authorization header conflicts with the credentials, which set it; "
                     "give one or the other");
        ok = false;
      }
    }
  }
  if (!ok) {
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
  ExecutorSpec spec;
  bool ok = true;
  if (const auto name = reader.required(*map, "name")) {
    const auto text = reader.string(*name);
    if (text && !valid_object_name(*text)) {
      reader.error(*name, fmt::format("invalid name '{}': use letters, digits, '_', '-', '.'",
                                      *text));
      ok = false;
    }
    spec.name = text.value_or("");
    ok = ok && text.has_value();
  } else {
    ok = false;
  }
  const auto command = map->field("command");
  const auto webhook = map->field("webhook");
  if (command && webhook) {
    reader.error(*webhook, "give either command or webhook, not both");
    ok = false;
  } else if (command) {
    auto loaded = load_command(reader, *command, spec.name, uses);
    ok = ok && loaded.has_value();
    if (loaded) {
      spec.kind = std::move(*loaded);
    }
  } else if (webhook) {
    auto loaded = load_webhook(reader, *webhook, spec.name, uses);
    ok = ok && loaded.has_value();
    if (loaded) {
      spec.kind = std::move(*loaded);
    }
  } else {
    reader.error(*map, "missing required key 'command' or 'webhook'");
    ok = false;
  }
  if (const auto concurrent = map->field("max_concurrent")) {
    const auto value = reader.integer(*concurrent, 1, 256);
    ok = ok && value.has_value();
    spec.max_concurrent = static_cast<int>(value.value_or(1));
  }
  if (const auto retry = map->field("retry")) {
    if (const auto retry_map = reader.map(*retry, kRetryKeys)) {
      if (const auto attempts = retry_map->field("max_attempts")) {
        const auto value = reader.integer(*attempts, 1, 100);
        ok = ok && value.has_value();
        spec.retry.max_attempts = static_cast<int>(value.value_or(spec.retry.max_attempts));
      }
      if (const auto initial = retry_map->field("initial_backoff")) {
        const auto value = reader.duration(*initial, ZeroDuration::refused);
        ok = ok && value.has_value();
        spec.retry.initial_backoff = value.value_or(spec.retry.initial_backoff);
      }
      if (const auto longest = retry_map->field("max_backoff")) {
        const auto value = reader.duration(*longest, ZeroDuration::refused);
        ok = ok && value.has_value();
        spec.retry.max_backoff = value.value_or(spec.retry.max_backoff);
      }
      if (ok && spec.retry.max_backoff < spec.retry.initial_backoff) {
        reader.error(*retry, "max_backoff is shorter than initial_backoff");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (!ok) {
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
