#include "monitor/config/preset_config.h"

#include <algorithm>
#include <array>
#include <set>
#include <span>

#include <fmt/format.h>

#include "monitor/config/template_config.h"
#include "rules/time.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 6> kPresetNames{"airflow2", "airflow3", "airflow3_backfill",
                                                       "prefect",  "dagster",  "adf"};
// Keys of every preset webhook.
constexpr std::array<std::string_view, 6> kCommonKeys{"preset",         "headers", "auth",
                                                      "signing_secret", "timeout", "tls_verify"};
// A plain webhook's keys, which a preset sets itself: accepted by the map
// only to be refused with a better message than "unknown key".
constexpr std::array<std::string_view, 4> kSetByPreset{"url", "method", "body", "success_codes"};
constexpr std::array<std::string_view, 5> kAirflow2Keys{"base_url", "dag_id", "dag_run_id",
                                                        "logical_date", "conf"};
constexpr std::array<std::string_view, 8> kAirflow3Keys{"base_url",     "dag_id",   "dag_run_id",
                                                        "logical_date", "conf",     "username",
                                                        "password",     "token_url"};
constexpr std::array<std::string_view, 8> kAirflowBackfillKeys{
    "base_url",     "dag_id",   "reprocess_behavior", "max_active_runs",
    "dag_run_conf", "username", "password",           "token_url"};
constexpr std::array<std::string_view, 5> kPrefectKeys{"api_url", "deployment_id", "flow_run_name",
                                                       "parameters", "tags"};
constexpr std::array<std::string_view, 12> kDagsterKeys{"base_url",
                                                        "api_token",
                                                        "repository_location",
                                                        "repository",
                                                        "partition_set",
                                                        "assets",
                                                        "job",
                                                        "run_config",
                                                        "tags",
                                                        "partition_every",
                                                        "partition_format",
                                                        "partition_timezone"};
constexpr std::array<std::string_view, 11> kAdfKeys{
    "management_url", "subscription_id", "resource_group", "factory",   "pipeline", "parameters",
    "tenant_id",      "client_id",       "client_secret",  "login_url", "scope"};
constexpr std::array<std::string_view, 3> kLogicalDates{"none", "window_start", "window_end"};
constexpr std::array<std::string_view, 3> kReprocessBehaviors{"none", "failed", "completed"};

constexpr std::array<std::string_view, 3> kAuthKinds{"basic", "bearer",
                                                     "oauth2_client_credentials"};
constexpr std::array<std::string_view, 2> kBasicKeys{"username", "password"};
constexpr std::array<std::string_view, 5> kOAuth2Keys{"token_url", "client_id", "client_secret",
                                                      "scope", "client_authentication"};
constexpr std::array<std::string_view, 2> kClientAuthentications{"request_body", "basic"};

std::span<const std::string_view> preset_keys(std::string_view preset) {
  if (preset == "airflow2") {
    return kAirflow2Keys;
  }
  if (preset == "airflow3") {
    return kAirflow3Keys;
  }
  if (preset == "airflow3_backfill") {
    return kAirflowBackfillKeys;
  }
  if (preset == "prefect") {
    return kPrefectKeys;
  }
  if (preset == "dagster") {
    return kDagsterKeys;
  }
  return kAdfKeys;
}

// Reads the keys of one preset; `ok` turns false on any error, so that every
// problem is reported before the executor is dropped.
class PresetReader {
 public:
  PresetReader(YamlReader& reader, const MapReader& map, const std::string& executor,
               std::vector<VariableUse>& uses)
      : m_reader(reader), m_map(map), m_executor(executor), m_uses(uses) {}

  bool ok() const { return m_ok; }
  void failed() { m_ok = false; }
  YamlReader& reader() { return m_reader; }
  std::optional<Field> field(std::string_view key) const { return m_map.field(key); }

  // An http(s) address without query or fragment, its trailing '/' dropped.
  std::string base_url(std::string_view key, std::string_view fallback = {}) {
    const auto field = m_map.field(key);
    if (!field) {
      if (fallback.empty()) {
        m_reader.error(m_map, fmt::format("missing required key '{}'", key));
        m_ok = false;
      }
      return std::string(fallback);
    }
    auto text = m_reader.string(*field);
    if (!text) {
      m_ok = false;
      return {};
    }
    if (!text->starts_with("http://") && !text->starts_with("https://")) {
      m_reader.error(*field, fmt::format("{} must start with http:// or https://", key));
      m_ok = false;
    } else if (text->find_first_of("?#{} \t\r\n") != std::string::npos) {
      m_reader.error(*field, fmt::format("{} is an address without spaces, query, fragment or "
                                         "template variables",
                                         key));
      m_ok = false;
    }
    while (text->ends_with('/')) {
      text->pop_back();
    }
    return std::move(*text);
  }

  // A template; a missing optional key takes `fallback` (no fallback: required).
  Template text(std::string_view key, std::optional<std::string_view> fallback = std::nullopt) {
    const auto field = m_map.field(key);
    if (!field) {
      if (!fallback) {
        m_reader.error(m_map, fmt::format("missing required key '{}'", key));
        m_ok = false;
        return {};
      }
      // Defaults use built-in variables only: no use to record.
      return *Template::parse(*fallback);
    }
    auto loaded = load_template(m_reader, *field, m_executor, m_uses);
    if (!loaded) {
      m_ok = false;
      return {};
    }
    if (loaded->text().empty()) {
      m_reader.error(*field, fmt::format("{} is empty", key));
      m_ok = false;
    }
    return std::move(*loaded);
  }

  // A secret or other literal text; empty when absent.
  std::optional<std::string> literal(std::string_view key) {
    const auto field = m_map.field(key);
    if (!field) {
      return std::nullopt;
    }
    auto text = m_reader.string(*field);
    if (!text) {
      m_ok = false;
      return std::nullopt;
    }
    if (text->empty()) {
      m_reader.error(*field, fmt::format("{} is empty", key));
      m_ok = false;
      return std::nullopt;
    }
    if (text->find_first_of("\r\n") != std::string::npos) {
      m_reader.error(*field, fmt::format("{} contains a line break", key));
      m_ok = false;
      return std::nullopt;
    }
    return text;
  }

  // A JSON template that must be a mapping (conf, parameters, run_config).
  std::optional<JsonTemplate> mapping(std::string_view key) {
    const auto field = m_map.field(key);
    if (!field) {
      return std::nullopt;
    }
    if (!field->node.IsMap()) {
      m_reader.error(*field, fmt::format("{} must be a mapping", key));
      m_ok = false;
      return std::nullopt;
    }
    std::size_t values_left = kMaxBodyValues;
    auto shape = load_json_template(m_reader, *field, m_executor, m_uses, 0, values_left);
    if (!shape) {
      m_ok = false;
      return std::nullopt;
    }
    return JsonTemplate{std::move(*shape)};
  }

  std::string choice(std::string_view key, std::span<const std::string_view> choices,
                     std::string_view fallback) {
    const auto field = m_map.field(key);
    if (!field) {
      return std::string(fallback);
    }
    auto value = m_reader.choice(*field, choices);
    m_ok = m_ok && value.has_value();
    return value.value_or(std::string(fallback));
  }

  // Airflow 3's login: username and password together, token_url optional.
  AuthSpec airflow_login(const std::string& base_url) {
    auto username = literal("username");
    auto password = literal("password");
    const auto token_url_field = m_map.field("token_url");
    if (username.has_value() != password.has_value()) {
      m_reader.error(m_map,
                     "give both username and password (Airflow's /auth/token login), or "
                     "neither");
      m_ok = false;
      return {};
    }
    if (!username) {
      if (token_url_field) {
        m_reader.error(*token_url_field, "token_url is used with username and password only");
        m_ok = false;
      }
      return {};
    }
    const std::string token_url = base_url_or("token_url", base_url + "/auth/token");
    return AirflowLogin{token_url, std::move(*username), std::move(*password)};
  }

  std::string base_url_or(std::string_view key, const std::string& fallback) {
    return m_map.field(key) ? base_url(key) : fallback;
  }

 private:
  YamlReader& m_reader;
  const MapReader& m_map;
  const std::string& m_executor;
  std::vector<VariableUse>& m_uses;
  bool m_ok = true;
};

AirflowDagRunSpec::LogicalDate logical_date_of(std::string_view name) {
  if (name == "window_start") {
    return AirflowDagRunSpec::LogicalDate::window_start;
  }
  if (name == "window_end") {
    return AirflowDagRunSpec::LogicalDate::window_end;
  }
  return AirflowDagRunSpec::LogicalDate::none;
}

PresetSpec load_airflow_dag_run(PresetReader& keys, AirflowDagRunSpec::Api api, AuthSpec& auth) {
  AirflowDagRunSpec spec;
  spec.api = api;
  spec.base_url = keys.base_url("base_url");
  spec.dag_id = keys.text("dag_id");
  spec.dag_run_id = keys.text("dag_run_id", "gapwatch-{request_id}");
  spec.logical_date = logical_date_of(keys.choice("logical_date", kLogicalDates, "none"));
  spec.conf = keys.mapping("conf");
  if (api == AirflowDagRunSpec::Api::v2) {
    auth = keys.airflow_login(spec.base_url);
  }
  return spec;
}

PresetSpec load_airflow_backfill(PresetReader& keys, AuthSpec& auth) {
  AirflowBackfillSpec spec;
  spec.base_url = keys.base_url("base_url");
  spec.dag_id = keys.text("dag_id");
  spec.reprocess_behavior = keys.choice("reprocess_behavior", kReprocessBehaviors, "completed");
  if (const auto field = keys.field("max_active_runs")) {
    const auto value = keys.reader().integer(*field, 1, 1000);
    if (!value) {
      keys.failed();
    }
    spec.max_active_runs = static_cast<int>(value.value_or(spec.max_active_runs));
  }
  spec.dag_run_conf = keys.mapping("dag_run_conf");
  auth = keys.airflow_login(spec.base_url);
  return spec;
}

PresetSpec load_prefect(PresetReader& keys, YamlReader& reader, const std::string& executor,
                        std::vector<VariableUse>& uses) {
  PrefectSpec spec;
  spec.api_url = keys.base_url("api_url");
  spec.deployment_id = keys.text("deployment_id");
  spec.flow_run_name = keys.text("flow_run_name", "gapwatch-{rule}-{window_start}");
  spec.parameters = keys.mapping("parameters");
  if (const auto tags = keys.field("tags")) {
    for (const Field& item : reader.sequence(*tags)) {
      auto tag = load_template(reader, item, executor, uses);
      if (!tag || tag->text().empty()) {
        if (tag) {
          reader.error(item, "a tag is empty");
        }
        keys.failed();
        continue;
      }
      spec.tags.push_back(std::move(*tag));
    }
    if (!tags->node.IsSequence()) {
      keys.failed();
    }
  } else {
    spec.tags.push_back(*Template::parse("gapwatch"));
  }
  return spec;
}

// An asset key: "a/b/c" or a list of path components.
std::optional<std::vector<std::string>> load_asset_key(YamlReader& reader, const Field& field) {
  std::vector<std::string> path;
  if (field.node.IsSequence()) {
    for (const Field& item : reader.sequence(field)) {
      auto part = reader.string(item);
      if (!part) {
        return std::nullopt;
      }
      path.push_back(std::move(*part));
    }
  } else {
    auto text = reader.string(field);
    if (!text) {
      return std::nullopt;
    }
    std::size_t start = 0;
    while (start <= text->size()) {
      const std::size_t slash = std::min(text->find('/', start), text->size());
      path.push_back(text->substr(start, slash - start));
      start = slash + 1;
    }
  }
  if (path.empty() ||
      std::any_of(path.begin(), path.end(), [](const std::string& part) { return part.empty(); })) {
    reader.error(field, "an asset key is a path like my/asset or [my, asset], without empty parts");
    return std::nullopt;
  }
  return path;
}

bool valid_tag_key(std::string_view key) {
  return !key.empty() && key.size() <= 255 && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '/';
  });
}

PresetSpec load_dagster(PresetReader& keys, YamlReader& reader, const MapReader& map,
                        const std::string& executor, std::vector<VariableUse>& uses) {
  DagsterSpec spec;
  spec.base_url = keys.base_url("base_url");
  spec.api_token = keys.literal("api_token");
  const auto partition_set = keys.field("partition_set");
  const auto assets = keys.field("assets");
  const auto job = keys.field("job");
  const int targets = (partition_set ? 1 : 0) + (assets ? 1 : 0) + (job ? 1 : 0);
  if (targets != 1) {
    reader.error(map, targets == 0 ? "missing the target: give partition_set, assets or job"
                                   : "give one of partition_set, assets and job");
    keys.failed();
    return spec;  // what else is required depends on the target
  }
  if (partition_set) {
    spec.target = DagsterSpec::Target::partition_set;
    spec.partition_set = keys.text("partition_set");
  } else if (assets) {
    spec.target = DagsterSpec::Target::assets;
    const auto items = reader.sequence(*assets);
    if (!assets->node.IsSequence() || items.empty()) {
      if (assets->node.IsSequence()) {
        reader.error(*assets, "assets needs at least one asset key");
      }
      keys.failed();
    }
    for (const Field& item : items) {
      auto key = load_asset_key(reader, item);
      if (!key) {
        keys.failed();
        continue;
      }
      spec.assets.push_back(std::move(*key));
    }
  } else if (job) {
    spec.target = DagsterSpec::Target::job;
    spec.job = keys.text("job");
  }
  const bool needs_repository = spec.target != DagsterSpec::Target::assets;
  if (needs_repository) {
    spec.repository_location = keys.text("repository_location");
    spec.repository = keys.text("repository", "__repository__");
  } else {
    for (const std::string_view key : {"repository_location", "repository"}) {
      if (const auto field = keys.field(key)) {
        reader.error(*field,
                     fmt::format("{} is not used with assets (asset keys are global)", key));
        keys.failed();
      }
    }
  }
  if (const auto run_config = keys.field("run_config"); run_config && !job) {
    reader.error(*run_config, "run_config is used with job only");
    keys.failed();
  }
  spec.run_config = keys.mapping("run_config");
  if (const auto tags = keys.field("tags")) {
    if (tags->node.IsMap()) {
      std::set<std::string> seen;
      for (auto it = tags->node.begin(); it != tags->node.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
        const Field value{it->second, fmt::format("{}.{}", tags->path, key), tags->file};
        if (!seen.insert(key).second) {
          reader.error(it->first.Mark(), fmt::format("{}: duplicate key", value.path));
          keys.failed();
          continue;
        }
        if (!valid_tag_key(key)) {
          reader.error(it->first.Mark(),
                       fmt::format("{}: invalid tag key '{}': use letters, digits, '_', '-', "
                                   "'.' and '/'",
                                   value.path, key));
          keys.failed();
          continue;
        }
        auto text = load_template(reader, value, executor, uses);
        if (!text) {
          keys.failed();
          continue;
        }
        spec.tags.emplace_back(key, std::move(*text));
      }
    } else {
      reader.error(*tags, "tags must be a mapping of tag keys to values");
      keys.failed();
    }
  }
  if (const auto every = keys.field("partition_every")) {
    if (const auto value = reader.duration(*every, false)) {
      const bool divides_day = value->count() % 60 == 0 && 86400 % value->count() == 0;
      if (!divides_day) {
        reader.error(*every, "partition_every is whole minutes dividing a day (1m … 12h), or 1d");
        keys.failed();
      } else {
        spec.partitions.every = *value;
      }
    } else {
      keys.failed();
    }
  }
  spec.partitions.format = spec.partitions.every.count() == 86400 ? "%Y-%m-%d" : "%Y-%m-%d-%H:%M";
  if (const auto format = keys.field("partition_format")) {
    if (auto text = reader.string(*format)) {
      if (valid_partition_format(*text)) {
        spec.partitions.format = std::move(*text);
      } else {
        reader.error(*format, "partition_format uses %Y %m %d %H %M %S (and %% for '%')");
        keys.failed();
      }
    } else {
      keys.failed();
    }
  }
  if (const auto zone = keys.field("partition_timezone")) {
    if (const auto name = reader.string(*zone)) {
      if (auto found = find_time_zone(*name)) {
        spec.partitions.zone = *found;
      } else {
        reader.error(*zone, found.error().message);
        keys.failed();
      }
    } else {
      keys.failed();
    }
  }
  return spec;
}

PresetSpec load_adf(PresetReader& keys, YamlReader& reader, const MapReader& map, AuthSpec& auth) {
  AdfSpec spec;
  spec.management_url = keys.base_url_or("management_url", std::string(kAzureManagementUrl));
  spec.subscription_id = keys.text("subscription_id");
  spec.resource_group = keys.text("resource_group");
  spec.factory = keys.text("factory");
  spec.pipeline = keys.text("pipeline");
  spec.parameters = keys.mapping("parameters");
  auto tenant = keys.literal("tenant_id");
  auto client_id = keys.literal("client_id");
  auto client_secret = keys.literal("client_secret");
  const int given = (tenant ? 1 : 0) + (client_id ? 1 : 0) + (client_secret ? 1 : 0);
  if (given == 3) {
    const std::string login_url = keys.base_url_or("login_url", std::string(kEntraLoginUrl));
    OAuth2ClientCredentials credentials;
    credentials.token_url = entra_token_url(login_url, *tenant);
    credentials.client_id = std::move(*client_id);
    credentials.client_secret = std::move(*client_secret);
    credentials.scope = keys.literal("scope").value_or(std::string(kAzureManagementScope));
    auth = std::move(credentials);
  } else if (given != 0 || keys.field("login_url") || keys.field("scope")) {
    reader.error(map,
                 "give tenant_id, client_id and client_secret together (an Entra ID app "
                 "registration), or an auth block");
    keys.failed();
  }
  return spec;
}

}  // namespace

std::span<const std::string_view> keys_set_by_preset() {
  return kSetByPreset;
}

bool is_preset_webhook(const Field& webhook) {
  const YamlNode& node = webhook.node;
  return node.IsMap() && node["preset"].IsDefined();
}

std::optional<std::vector<std::string_view>> preset_webhook_keys(YamlReader& reader,
                                                                 const Field& webhook) {
  const YamlNode& node = webhook.node;
  const Field preset{node["preset"], webhook.path.empty() ? "preset" : webhook.path + ".preset",
                     webhook.file};
  const auto name = reader.choice(preset, kPresetNames);
  if (!name) {
    return std::nullopt;
  }
  std::vector<std::string_view> keys(kCommonKeys.begin(), kCommonKeys.end());
  const auto own = preset_keys(*name);
  keys.insert(keys.end(), own.begin(), own.end());
  return keys;
}

bool load_preset(YamlReader& reader, const MapReader& map, const std::string& executor,
                 std::vector<VariableUse>& uses, WebhookSpec& webhook) {
  const auto preset_field = map.field("preset");
  const auto name = reader.choice(*preset_field, kPresetNames);
  if (!name) {
    return false;
  }
  PresetReader keys(reader, map, executor, uses);
  for (const std::string_view key : kSetByPreset) {
    if (const auto field = map.field(key)) {
      reader.error(*field, fmt::format("{} is set by the {} preset; leave it out", key, *name));
      keys.failed();
    }
  }
  if (*name == "airflow2") {
    webhook.preset = load_airflow_dag_run(keys, AirflowDagRunSpec::Api::v1, webhook.auth);
  } else if (*name == "airflow3") {
    webhook.preset = load_airflow_dag_run(keys, AirflowDagRunSpec::Api::v2, webhook.auth);
  } else if (*name == "airflow3_backfill") {
    webhook.preset = load_airflow_backfill(keys, webhook.auth);
  } else if (*name == "prefect") {
    webhook.preset = load_prefect(keys, reader, executor, uses);
  } else if (*name == "dagster") {
    webhook.preset = load_dagster(keys, reader, map, executor, uses);
  } else {
    webhook.preset = load_adf(keys, reader, map, webhook.auth);
  }
  return keys.ok();
}

std::optional<AuthSpec> load_auth(YamlReader& reader, const Field& field) {
  const auto map = reader.map(field, kAuthKinds);
  if (!map) {
    return std::nullopt;
  }
  std::vector<std::string_view> given;
  for (const std::string_view kind : kAuthKinds) {
    if (map->has(kind)) {
      given.push_back(kind);
    }
  }
  if (given.size() != 1) {
    reader.error(*map, given.empty() ? "give one of basic, bearer and oauth2_client_credentials"
                                     : "give only one of basic, bearer and "
                                       "oauth2_client_credentials");
    return std::nullopt;
  }
  const Field block = *map->field(given.front());
  const auto required_text = [&](const MapReader& keys, std::string_view key,
                                 bool allow_colon) -> std::optional<std::string> {
    const auto value_field = reader.required(keys, key);
    if (!value_field) {
      return std::nullopt;
    }
    auto text = reader.string(*value_field);
    if (!text) {
      return std::nullopt;
    }
    if (text->empty()) {
      reader.error(*value_field, fmt::format("{} is empty", key));
      return std::nullopt;
    }
    if (text->find_first_of("\r\n") != std::string::npos) {
      reader.error(*value_field, fmt::format("{} contains a line break", key));
      return std::nullopt;
    }
    if (!allow_colon && text->find(':') != std::string::npos) {
      // RFC 7617: the user-id of Basic credentials cannot contain a colon.
      reader.error(*value_field, fmt::format("{} cannot contain ':' in HTTP Basic auth", key));
      return std::nullopt;
    }
    return text;
  };

  if (given.front() == "bearer") {
    auto token = reader.string(block);
    if (!token) {
      return std::nullopt;
    }
    if (token->empty() || token->find_first_of("\r\n") != std::string::npos) {
      reader.error(block, "the bearer token is empty or contains a line break");
      return std::nullopt;
    }
    return BearerAuth{std::move(*token)};
  }
  if (given.front() == "basic") {
    const auto keys = reader.map(block, kBasicKeys);
    if (!keys) {
      return std::nullopt;
    }
    auto username = required_text(*keys, "username", false);
    auto password = required_text(*keys, "password", true);
    if (!username || !password) {
      return std::nullopt;
    }
    return BasicAuth{std::move(*username), std::move(*password)};
  }
  const auto keys = reader.map(block, kOAuth2Keys);
  if (!keys) {
    return std::nullopt;
  }
  OAuth2ClientCredentials credentials;
  bool ok = true;
  if (const auto url_field = reader.required(*keys, "token_url")) {
    if (auto url = reader.string(*url_field)) {
      if (!url->starts_with("http://") && !url->starts_with("https://")) {
        reader.error(*url_field, "token_url must start with http:// or https://");
        ok = false;
      }
      credentials.token_url = std::move(*url);
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  auto client_id = required_text(*keys, "client_id", true);
  auto client_secret = required_text(*keys, "client_secret", true);
  ok = ok && client_id && client_secret;
  if (const auto scope = keys->field("scope")) {
    if (auto text = reader.string(*scope)) {
      credentials.scope = std::move(*text);
    } else {
      ok = false;
    }
  }
  if (const auto method = keys->field("client_authentication")) {
    const auto value = reader.choice(*method, kClientAuthentications);
    ok = ok && value.has_value();
    if (value == "basic") {
      credentials.client_authentication = OAuth2ClientCredentials::ClientAuthentication::basic;
    }
  }
  if (!ok) {
    return std::nullopt;
  }
  credentials.client_id = std::move(*client_id);
  credentials.client_secret = std::move(*client_secret);
  return credentials;
}

}  // namespace gapwatch
