// Loading the parts of a `webhook:` executor beyond plain HTTP: the `auth:`
// block (basic, bearer, oauth2_client_credentials) and the preset form
// (`preset: airflow2 | airflow3 | airflow3_backfill | prefect | dagster |
// adf` with that preset's keys). Errors go to the YamlReader with
// file:line:column like every other config error, and template variables in
// preset keys are recorded like those of a plain webhook. Not thread-safe (a
// YamlReader is not).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/config/config_loader.h"
#include "monitor/config/yaml_reader.h"
#include "triggers/executor_spec.h"

namespace gapwatch {

// Whether a webhook mapping names a preset.
bool is_preset_webhook(const Field& webhook);

// The keys a plain webhook has and a preset sets itself (url, method, body,
// success_codes): load_preset refuses them.
std::span<const std::string_view> keys_set_by_preset();

// The keys a webhook mapping naming a preset may have; empty after an error
// (the preset is not a known one).
std::optional<std::vector<std::string_view>> preset_webhook_keys(YamlReader& reader,
                                                                 const Field& webhook);

// Reads the preset's keys from `map` into webhook.preset, and into
// webhook.auth where the preset's keys hold credentials (airflow3's username
// and password, adf's tenant and client). False after any error.
bool load_preset(YamlReader& reader, const MapReader& map, const std::string& executor,
                 std::vector<VariableUse>& uses, WebhookSpec& webhook);

// An `auth:` block.
std::optional<AuthSpec> load_auth(YamlReader& reader, const Field& field);

}  // namespace gapwatch
