#include "monitor/config/executor_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "monitor/config/preset_config.h"
#include "monitor/config/template_config.h"
#include "triggers/webhook_signature.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 8> kMonitorKeys{
    "state", "workers", "dry_run", "shutdown_grace", "listen", "api_token", "log_format",
    "log_level"};
constexpr std::array<std::string_view, 2> kLogFormats{"text", "json"};
constexpr std::array<std::string_view, 4> kLogLevels{"debug", "info", "warn", "error"};
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
constexpr std::array<std::string_view, 7> kBackfillKeys{
    "executor", "params", "max_window", "min_buckets", "not_before", "verify_after",
    "max_attempts"};
constexpr std::array<std::string_view, 5> kMethods{"POST", "PUT", "PATCH", "GET", "DELETE"};

bool valid_object_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
         });
}

// host:port with a port of at most 65535 (0: any free port) and a host that
// is a name, an IPv4 address or a bracketed IPv6 address.
bool valid_listen_address(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() ||
      text.size() - colon - 1 > 5) {
    return false;
  }
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  int number = 0;
  const auto [end, status] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.front() < '0' || port.front() > '9' || status != std::errc{} ||
      end != port.data() + port.size() || number > 65535) {
    return false;
  }
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']' &&
           std::all_of(host.begin() + 1, host.end() - 1, [](char c) {
             return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
           });
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-';
  });
}

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

}  // namespace

MonitorConfig load_monitor_section(YamlReader& reader, const Field& field) {
  MonitorConfig monitor;
  const auto map = reader.map(field, kMonitorKeys);
  if (!map) {
    return monitor;
  }
  if (const auto state = map->field("state")) {
    const auto path = reader.string(*state);
    if (path && path->empty()) {
      // SQLite would open a private temporary database: every incident lost.
      reader.error(*state, "the state path is empty");
    } else {
      monitor.state_path = path.value_or(monitor.state_path);
    }
  }
  if (const auto workers = map->field("workers")) {
    monitor.workers = static_cast<int>(reader.integer(*workers, 1, 256).value_or(monitor.workers));
  }
  if (const auto dry_run = map->field("dry_run")) {
    monitor.dry_run = reader.boolean(*dry_run).value_or(false);
  }
  if (const auto grace = map->field("shutdown_grace")) {
    monitor.shutdown_grace =
        reader.duration(*grace, ZeroDuration::allowed).value_or(monitor.shutdown_grace);
  }
  if (const auto listen = map->field("listen")) {
    if (const auto text = reader.string(*listen)) {
      const bool valid = *text == "off" || valid_listen_address(*text);
      if (valid) {
        monitor.listen = *text;
      } else {
        reader.error(*listen, fmt::format("'{}' is not host:port (e.g. 127.0.0.1:9464, port "
                                          "0-65535) or off",
                                          *text));
      }
    }
  }
  if (const auto token = map->field("api_token")) {
    monitor.api_token = reader.string(*token).value_or("");
    if (!monitor.api_token.empty() && monitor.api_token.size() < 16) {
      reader.error(*token, "api_token is shorter than 16 characters; use a long random value");
    }
  }
  if (const auto format = map->field("log_format")) {
    monitor.log_format = reader.choice(*format, kLogFormats).value_or(monitor.log_format);
  }
  if (const auto level = map->field("log_level")) {
    monitor.log_level = reader.choice(*level, kLogLevels).value_or(monitor.log_level);
  }
  return monitor;
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

std::optional<BackfillPolicy> load_backfill(YamlReader& reader, const Field& field,
                                            const Config& config) {
  const auto map = reader.map(field, kBackfillKeys);
  if (!map) {
    return std::nullopt;
  }
  BackfillPolicy policy;
  bool ok = true;
  if (const auto executor = reader.required(*map, "executor")) {
    const auto name = reader.string(*executor);
    if (name && config.find_executor(*name) == nullptr) {
      std::vector<std::string_view> known;
      for (const ExecutorSpec& spec : config.executors) {
        known.push_back(spec.name);
      }
      const auto suggestion = did_you_mean(*name, known);
      reader.error(*executor, suggestion ? fmt::format("unknown executor '{}' (did you mean '{}'?)",
                                                       *name, *suggestion)
                                         : fmt::format("unknown executor '{}'", *name));
      ok = false;
    }
    policy.executor = name.value_or("");
    ok = ok && name.has_value();
  } else {
    ok = false;
  }
  if (const auto params = map->field("params")) {
    if (const auto entries = reader.string_map(*params)) {
      for (const auto& [name, value] : *entries) {
        if (!valid_variable_name(name)) {
          reader.error(*params, fmt::format("invalid parameter name '{}'", name));
          ok = false;
        } else if (request_variables().contains(name)) {
          reader.error(*params, fmt::format("parameter '{}' would hide the built-in variable {{{}}}",
                                            name, name));
          ok = false;
        }
        policy.params[name] = value;
      }
    } else {
      ok = false;
    }
  }
  if (const auto window = map->field("max_window")) {
    const auto value = reader.duration(*window, ZeroDuration::refused);
    ok = ok && value.has_value();
    policy.max_window = value.value_or(policy.max_window);
  }
  if (const auto buckets = map->field("min_buckets")) {
    const auto value = reader.integer(*buckets, 1, 1000000);
    ok = ok && value.has_value();
    policy.min_buckets = static_cast<int>(value.value_or(1));
  }
  if (const auto not_before = map->field("not_before")) {
    if (const auto text = reader.string(*not_before)) {
      auto instant = parse_rfc3339(*text);
      if (instant) {
        policy.not_before = *instant;
      } else {
        reader.error(*not_before, instant.error().message);
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (const auto verify = map->field("verify_after")) {
    const auto value = reader.duration(*verify, ZeroDuration::allowed);
    ok = ok && value.has_value();
    policy.verify_after = value.value_or(policy.verify_after);
  }
  if (const auto attempts = map->field("max_attempts")) {
    const auto value = reader.integer(*attempts, 1, 100);
    ok = ok && value.has_value();
    policy.max_attempts = static_cast<int>(value.value_or(policy.max_attempts));
  }
  if (!ok) {
    return std::nullopt;
  }
  return policy;
}

void check_backfill_variables(YamlReader& reader, const Config& config,
                              const std::vector<VariableUse>& uses,
                              const std::vector<std::pair<std::string, Field>>& rule_backfills) {
  for (const auto& [rule_name, backfill_field] : rule_backfills) {
    const RuleConfig* rule = config.find_rule(rule_name);
    if (rule == nullptr || !rule->backfill) {
      continue;
    }
    for (const VariableUse& use : uses) {
      if (use.executor != rule->backfill->executor ||
          request_variables().contains(use.variable) ||
          rule->backfill->params.contains(use.variable)) {
        continue;
      }
      reader.error(use.where, fmt::format("unknown template variable {{{}}}: not a built-in "
                                          "variable, and rule '{}' defines no such "
                                          "backfill.params key",
                                          use.variable, rule_name));
    }
  }
  // Variables of executors no rule uses must still be built-in ones or
  // defined by some rule, or they are plain typos.
  std::set<std::string> used_executors;
  std::set<std::string> all_params;
  for (const RuleConfig& rule : config.rules) {
    if (rule.backfill) {
      used_executors.insert(rule.backfill->executor);
      for (const auto& [name, value] : rule.backfill->params) {
        all_params.insert(name);
      }
    }
  }
  for (const VariableUse& use : uses) {
    if (!used_executors.contains(use.executor) && !request_variables().contains(use.variable) &&
        !all_params.contains(use.variable)) {
      reader.error(use.where, fmt::format("unknown template variable {{{}}}", use.variable));
    }
  }
}

}  // namespace gapwatch
