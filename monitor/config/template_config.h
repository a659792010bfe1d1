// Reading executor templates from YAML: a template, a mapping of them
// (environment variables, headers) and a JSON body template, each recording
// where every template variable is used so that check_backfill_variables can
// report unknown ones at their place. Shared by executor_section.cpp and
// preset_config.cpp. Not thread-safe (a YamlReader is not).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitor/config/config_loader.h"
#include "monitor/config/yaml_reader.h"
#include "triggers/template.h"

namespace gapwatch {

// An HTTP header name (an RFC 9110 token).
bool valid_header_name(std::string_view name);
// A template variable or backfill parameter name.
bool valid_variable_name(std::string_view name);

// A template, its variables recorded as used by `executor`.
std::optional<Template> load_template(YamlReader& reader, const Field& field,
                                      const std::string& executor, std::vector<VariableUse>& uses);

// What the keys of a template mapping are.
enum class MapKeys {
  variable_names,  // environment variables: letters, digits, '_'
  header_names,    // HTTP headers: tokens, unique regardless of case
};

std::optional<std::vector<std::pair<std::string, Template>>> load_template_map(
    YamlReader& reader, const Field& field, const std::string& executor,
    std::vector<VariableUse>& uses, MapKeys keys);

// Aliases let a short body name the same list many times over ("billion
// laughs"); expanded, it would exhaust memory.
constexpr std::size_t kMaxBodyValues = 10000;

// A YAML value as JSON: mappings become objects, lists arrays; plain scalars
// that read as numbers, booleans or null become those; every other scalar is
// a string template. `values_left` counts down the values still allowed.
std::optional<nlohmann::json> load_json_template(YamlReader& reader, const Field& field,
                                                 const std::string& executor,
                                                 std::vector<VariableUse>& uses, int depth,
                                                 std::size_t& values_left);

}  // namespace gapwatch
