#include "monitor/config/preset_config.h"

#include <algorithm>
#include <array>
#include <set>
#include <span>

#include <fmt/format.h>

#include "monitor/config/config_loader.h"
#include "monitor/config/key_reader.h"
#include "monitor/config/template_config.h"
#include "rules/time.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 6> kPresetNames{"airflow2", "airflow3", "airflow3_backfill",
                                                       "prefect",  "dagster",  "adf"};
// Keys of every preset webhook.
constexpr std::array<std::string_view, 8> kCommonKeys{
    "preset",  "headers",    "auth",       "signing_secret",
    "timeout", "tls_verify", "poll_every", "run_timeout"};
// A plain webhook's keys, which a preset sets itself: accepted by the map
// only to be refused with a better message than "unknown key".
constexpr std::array<std::string_view, 4> kSetByPreset{"url", "method", "body", "success_codes"};
constexpr std::array<std::string_view, 6> kAirflow2Keys{
    "base_url", "dag_id", "dag_run_id", "logical_date", "conf", "airflow_version"};
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
// In the order of OAuth2ClientCredentials::ClientAuthentication.
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

// A secret or other literal text that goes into a header or a form: not
// empty, no line break.
std::optional<std::string> literal_text(YamlReader& reader, const Field& field,
                                        std::string_view key) {
  auto text = reader.string(field);
  if (!text) {
    return std::nullopt;
  }
  if (text->empty()) {
    reader.error(field, fmt::format("{} is empty", key));
    return std::nullopt;
  }
  if (text->find_first_of("\r\n") != std::string::npos) {
    reader.error(field, fmt::format("{} contains a line break", key));
    return std::nullopt;
  }
  return text;
}

// Reads the keys of one preset, counting every problem (KeyReader) so that
// all are reported before the executor is dropped.
class PresetReader : public KeyReader {
 public:
  PresetReader(YamlReader& reader, const MapReader& map, const std::string& executor,
               std::vector<VariableUse>& uses)
      : KeyReader(reader, map), m_executor(executor), m_uses(uses) {}

  // An http(s) address without query or fragment, its trailing '/' dropped.
  std::string base_url(std::string_view key, std::string_view fallback = {}) {
    const auto field = map().field(key);
    if (!field) {
      if (fallback.empty()) {
        reader().error(map(), fmt::format("missing required key '{}'", key));
        fail();
      }
      return std::string(fallback);
    }
    auto text = reader().string(*field);
    if (!text) {
      fail();
      return {};
    }
    if (!text->starts_with("http://") && !text->starts_with("https://")) {
      reader().error(*field, fmt::format("{} must start with http:// or https://", key));
      fail();
    } else if (text->find_first_of("?#{} \t\r\n") != std::string::npos) {
      reader().error(*field, fmt::format("{} is an address without spaces, query, fragment or "
                                         "template variables",
                                         key));
      fail();
    }
    while (text->ends_with('/')) {
      text->pop_back();
    }
    return std::move(*text);
  }

  // A template; a missing optional key takes `fallback` (no fallback: required).
  Template text(std::string_view key, std::optional<std::string_view> fallback = std::nullopt) {
    const auto field = map().field(key);
    if (!field) {
      if (!fallback) {
        reader().error(map(), fmt::format("missing required key '{}'", key));
        fail();
        return {};
      }
      // Defaults use built-in variables only: no use to record.
      return *Template::parse(*fallback);
    }
    auto loaded = load_template(reader(), *field, m_executor, m_uses);
    if (!loaded) {
      fail();
      return {};
    }
    if (loaded->text().empty()) {
      reader().error(*field, fmt::format("{} is empty", key));
      fail();
    }
    return std::move(*loaded);
  }

  // A secret or other literal text; empty when absent.
  std::optional<std::string> literal(std::string_view key) {
    const auto field = map().field(key);
    if (!field) {
      return std::nullopt;
    }
    auto text = literal_text(reader(), *field, key);
    if (!text) {
      fail();
    }
    return text;
  }

  // A JSON template that must be a mapping (conf, parameters, run_config).
  std::optional<JsonTemplate> mapping(std::string_view key) {
    const auto field = map().field(key);
    if (!field) {
      return std::nullopt;
    }
    if (!field->node.IsMap()) {
      reader().error(*field, fmt::format("{} must be a mapping", key));
      fail();
      return std::nullopt;
    }
    std::size_t values_left = kMaxBodyValues;
    auto shape = load_json_template(reader(), *field, m_executor, m_uses, 0, values_left);
    if (!shape) {
      fail();
      return std::nullopt;
    }
    return JsonTemplate{std::move(*shape)};
  }

  // One of `choices`; `fallback` when absent or unusable.
  std::string choice_or(std::string_view key, std::span<const std::string_view> choices,
                        std::string_view fallback) {
    std::string value(fallback);
    choice(key, choices, value);
    return value;
  }

  // Airflow 3's login: username and password together, token_url optional.
  AuthSpec airflow_login(const std::string& base_url) {
    auto username = literal("username");
    auto password = literal("password");
    const auto token_url_field = map().field("token_url");
    if (username.has_value() != password.has_value()) {
      reader().error(map(),
                     "give both username and password (Airflow's /auth/token login), or "
                     "neither");
      fail();
      return {};
    }
    if (!username) {
      if (token_url_field) {
        reader().error(*token_url_field, "token_url is used with username and password only");
        fail();
      }
      return {};
    }
    const std::string token_url = base_url_or("token_url", base_url + "/auth/token");
    return AirflowLogin{token_url, std::move(*username), std::move(*password)};
  }

  // Airflow 2's POST dagRuns takes data_interval_start/_end from 2.9 on; an
  // unknown version (the key absent) gets the body every 2.x accepts.
  AirflowDagRunSpec::DataInterval airflow2_data_interval() {
    const auto field = map().field("airflow_version");
    if (!field) {
      return AirflowDagRunSpec::DataInterval::left_out;
    }
    const auto text = reader().string(*field);
    if (!text) {
      fail();
      return AirflowDagRunSpec::DataInterval::left_out;
    }
    int minor = -1;
    std::size_t end = 2;
    if (text->starts_with("2.")) {
      minor = 0;
      while (end < text->size() && (*text)[end] >= '0' && (*text)[end] <= '9' && minor < 1000) {
        minor = minor * 10 + ((*text)[end] - '0');
        ++end;
      }
    }
    const bool patch_ok = end == text->size() ||
                          ((*text)[end] == '.' && end + 1 < text->size() &&
                           std::all_of(text->begin() + static_cast<std::ptrdiff_t>(end) + 1,
                                       text->end(), [](char c) { return c >= '0' && c <= '9'; }));
    if (minor < 0 || end == 2 || !patch_ok) {
      reader().error(*field, fmt::format("airflow_version '{}' is not an Airflow 2 version such "
                                         "as 2.9 or 2.10.5 (for Airflow 3 use preset: airflow3)",
                                         *text));
      fail();
      return AirflowDagRunSpec::DataInterval::left_out;
    }
    return minor >= 9 ? AirflowDagRunSpec::DataInterval::window
                      : AirflowDagRunSpec::DataInterval::left_out;
  }

  std::string base_url_or(std::string_view key, const std::string& fallback) {
    return map().field(key) ? base_url(key) : fallback;
  }

 private:
  const std::string& m_executor;
  std::vector<VariableUse>& m_uses;
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
  spec.logical_date = logical_date_of(keys.choice_or("logical_date", kLogicalDates, "none"));
  spec.conf = keys.mapping("conf");
  if (api == AirflowDagRunSpec::Api::v1) {
    spec.data_interval = keys.airflow2_data_interval();
  } else {
    auth = keys.airflow_login(spec.base_url);
  }
  return spec;
}

PresetSpec load_airflow_backfill(PresetReader& keys, AuthSpec& auth) {
  AirflowBackfillSpec spec;
  spec.base_url = keys.base_url("base_url");
  spec.dag_id = keys.text("dag_id");
  spec.reprocess_behavior = keys.choice_or("reprocess_behavior", kReprocessBehaviors, "completed");
  keys.integer("max_active_runs", 1, 1000, spec.max_active_runs);
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
        keys.fail();
        continue;
      }
      spec.tags.push_back(std::move(*tag));
    }
    if (!tags->node.IsSequence()) {
      keys.fail();
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

// What a Dagster run materialises: a partition set, assets or a job, and the
// repository the first and last are found in. False when there is not exactly
// one target: what else is required depends on it.
bool load_dagster_target(PresetReader& keys, YamlReader& reader, const MapReader& map,
                         DagsterSpec& spec) {
  const auto partition_set = keys.field("partition_set");
  const auto assets = keys.field("assets");
  const auto job = keys.field("job");
  const int targets = (partition_set ? 1 : 0) + (assets ? 1 : 0) + (job ? 1 : 0);
  if (targets != 1) {
    reader.error(map, targets == 0 ? "missing the target: give partition_set, assets or job"
                                   : "give one of partition_set, assets and job");
    keys.fail();
    return false;
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
      keys.fail();
    }
    for (const Field& item : items) {
      auto key = load_asset_key(reader, item);
      if (!key) {
        keys.fail();
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
        keys.fail();
      }
    }
  }
  if (const auto run_config = keys.field("run_config"); run_config && !job) {
    reader.error(*run_config, "run_config is used with job only");
    keys.fail();
  }
  return true;
}

// Dagster's run tags: a mapping of tag keys to templates.
void load_dagster_tags(PresetReader& keys, YamlReader& reader, const Field& tags,
                       const std::string& executor, std::vector<VariableUse>& uses,
                       DagsterSpec& spec) {
  if (!tags.node.IsMap()) {
    reader.error(tags, "tags must be a mapping of tag keys to values");
    keys.fail();
    return;
  }
  std::set<std::string> seen;
  for (auto it = tags.node.begin(); it != tags.node.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    const Field value{it->second, fmt::format("{}.{}", tags.path, key), tags.file};
    if (!seen.insert(key).second) {
      reader.error(it->first.Mark(), fmt::format("{}: duplicate key", value.path));
      keys.fail();
      continue;
    }
    if (!valid_tag_key(key)) {
      reader.error(it->first.Mark(),
                   fmt::format("{}: invalid tag key '{}': use letters, digits, '_', '-', "
                               "'.' and '/'",
                               value.path, key));
      keys.fail();
      continue;
    }
    auto text = load_template(reader, value, executor, uses);
    if (!text) {
      keys.fail();
      continue;
    }
    spec.tags.emplace_back(key, std::move(*text));
  }
}

// How a window becomes partition keys: their length, format and zone.
void load_dagster_partitions(PresetReader& keys, YamlReader& reader,
                             DagsterPartitions& partitions) {
  if (const auto every = keys.field("partition_every")) {
    if (const auto value = reader.duration(*every, ZeroDuration::refused)) {
      if (!whole_minutes_dividing_day(*value)) {
        reader.error(*every, "partition_every is whole minutes dividing a day (1m … 12h), or 1d");
        keys.fail();
      } else {
        partitions.every = *value;
      }
    } else {
      keys.fail();
    }
  }
  partitions.format = partitions.every.count() == 86400 ? "%Y-%m-%d" : "%Y-%m-%d-%H:%M";
  if (const auto format = keys.field("partition_format")) {
    if (auto text = reader.string(*format)) {
      if (valid_partition_format(*text)) {
        partitions.format = std::move(*text);
      } else {
        reader.error(*format, "partition_format uses %Y %m %d %H %M %S (and %% for '%')");
        keys.fail();
      }
    } else {
      keys.fail();
    }
  }
  if (const auto zone = keys.field("partition_timezone")) {
    partitions.zone = load_time_zone(reader, *zone);
    if (partitions.zone == nullptr) {
      keys.fail();
    }
  }
}

PresetSpec load_dagster(PresetReader& keys, YamlReader& reader, const MapReader& map,
                        const std::string& executor, std::vector<VariableUse>& uses) {
  DagsterSpec spec;
  spec.base_url = keys.base_url("base_url");
  spec.api_token = keys.literal("api_token");
  if (!load_dagster_target(keys, reader, map, spec)) {
    return spec;  // what else is required depends on the target
  }
  spec.run_config = keys.mapping("run_config");
  if (const auto tags = keys.field("tags")) {
    load_dagster_tags(keys, reader, *tags, executor, uses, spec);
  }
  load_dagster_partitions(keys, reader, spec.partitions);
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
    keys.fail();
  }
  return spec;
}

// A required key of an auth block holding literal text.
std::optional<std::string> required_literal(YamlReader& reader, const MapReader& map,
                                            std::string_view key) {
  const auto field = reader.required(map, key);
  if (!field) {
    return std::nullopt;
  }
  return literal_text(reader, *field, key);
}

std::optional<AuthSpec> load_bearer(YamlReader& reader, const Field& block) {
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

std::optional<AuthSpec> load_basic(YamlReader& reader, const Field& block) {
  const auto keys = reader.map(block, kBasicKeys);
  if (!keys) {
    return std::nullopt;
  }
  auto username = required_literal(reader, *keys, "username");
  if (username && username->find(':') != std::string::npos) {
    // RFC 7617: the user-id of Basic credentials cannot contain a colon.
    reader.error(*keys->field("username"), "username cannot contain ':' in HTTP Basic auth");
    username.reset();
  }
  auto password = required_literal(reader, *keys, "password");
  if (!username || !password) {
    return std::nullopt;
  }
  return BasicAuth{std::move(*username), std::move(*password)};
}

std::optional<AuthSpec> load_oauth2(YamlReader& reader, const Field& block) {
  const auto map = reader.map(block, kOAuth2Keys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(reader, *map);
  OAuth2ClientCredentials credentials;
  if (const auto url_field = keys.required("token_url")) {
    if (auto url = reader.string(*url_field)) {
      if (!url->starts_with("http://") && !url->starts_with("https://")) {
        reader.error(*url_field, "token_url must start with http:// or https://");
        keys.fail();
      }
      credentials.token_url = std::move(*url);
    } else {
      keys.fail();
    }
  }
  auto client_id = required_literal(reader, *map, "client_id");
  auto client_secret = required_literal(reader, *map, "client_secret");
  if (!client_id || !client_secret) {
    keys.fail();
  }
  if (const auto scope = keys.field("scope")) {
    if (auto text = reader.string(*scope)) {
      credentials.scope = std::move(*text);
    } else {
      keys.fail();
    }
  }
  keys.enumeration("client_authentication", kClientAuthentications,
                   credentials.client_authentication);
  if (!keys.ok()) {
    return std::nullopt;
  }
  credentials.client_id = std::move(*client_id);
  credentials.client_secret = std::move(*client_secret);
  return credentials;
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
      keys.fail();
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
  if (given.front() == "bearer") {
    return load_bearer(reader, block);
  }
  if (given.front() == "basic") {
    return load_basic(reader, block);
  }
  return load_oauth2(reader, block);
}

}  // namespace gapwatch
