#include "monitor/config/template_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace gapwatch {

bool valid_header_name(std::string_view name) {
  constexpr std::string_view kTokenSymbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kTokenSymbols.find(c) != std::string_view::npos;
  });
}

bool valid_variable_name(std::string_view name) {
  return !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_';
         });
}

std::optional<Template> load_template(YamlReader& reader, const Field& field,
                                      const std::string& executor, std::vector<VariableUse>& uses) {
  const auto text = reader.string(field);
  if (!text) {
    return std::nullopt;
  }
  auto parsed = Template::parse(*text);
  if (!parsed) {
    reader.error(field, parsed.error().message);
    return std::nullopt;
  }
  for (const std::string& variable : parsed->variables()) {
    uses.push_back(VariableUse{executor, variable, field});
  }
  return std::move(*parsed);
}

std::optional<std::vector<std::pair<std::string, Template>>> load_template_map(
    YamlReader& reader, const Field& field, const std::string& executor,
    std::vector<VariableUse>& uses, MapKeys keys) {
  const bool header_names = keys == MapKeys::header_names;
  if (!field.node.IsMap()) {
    reader.error(field, "expected a mapping");
    return std::nullopt;
  }
  std::vector<std::pair<std::string, Template>> entries;
  // Header names are case-insensitive: X-Token and x-token are one header.
  std::map<std::string, YAML::Mark> seen;
  bool ok = true;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    const YamlNode key = it->first;
    if (!key.IsScalar()) {
      reader.error(key.Mark(), fmt::format("{}: keys must be plain words", field.path));
      ok = false;
      continue;
    }
    const std::string& name = key.Scalar();
    const Field value{it->second, fmt::format("{}.{}", field.path, name), field.file};
    const bool name_ok = header_names ? valid_header_name(name) : valid_variable_name(name);
    if (!name_ok) {
      reader.error(key.Mark(), fmt::format("{}: invalid {} name '{}'", value.path,
                                           header_names ? "header" : "variable", name));
      ok = false;
      continue;
    }
    std::string folded = name;
    if (header_names) {
      std::transform(folded.begin(), folded.end(), folded.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    if (const auto [previous, first] = seen.emplace(folded, key.Mark()); !first) {
      reader.error(key.Mark(), fmt::format("{}: duplicate key (first given on line {})", value.path,
                                           previous->second.line + 1));
      ok = false;
      continue;
    }
    auto parsed = load_template(reader, value, executor, uses);
    if (!parsed) {
      ok = false;
      continue;
    }
    entries.emplace_back(name, std::move(*parsed));
  }
  if (!ok) {
    return std::nullopt;
  }
  return entries;
}

std::optional<nlohmann::json> load_json_template(YamlReader& reader, const Field& field,
                                                 const std::string& executor,
                                                 std::vector<VariableUse>& uses, int depth,
                                                 std::size_t& values_left) {
  if (depth > 32) {
    reader.error(field, "the body is nested too deeply (more than 32 levels)");
    return std::nullopt;
  }
  if (values_left == 0) {
    reader.error(field, fmt::format("the body has more than {} values (are aliases repeating "
                                    "a large part of it?)",
                                    kMaxBodyValues));
    return std::nullopt;
  }
  --values_left;
  if (field.node.IsMap()) {
    nlohmann::json object = nlohmann::json::object();
    for (auto it = field.node.begin(); it != field.node.end(); ++it) {
      const YamlNode key = it->first;
      if (!key.IsScalar()) {
        reader.error(key.Mark(), fmt::format("{}: keys must be plain words", field.path));
        return std::nullopt;
      }
      if (object.contains(key.Scalar())) {
        reader.error(key.Mark(), fmt::format("{}.{}: duplicate key", field.path, key.Scalar()));
        return std::nullopt;
      }
      auto value = load_json_template(
          reader, Field{it->second, fmt::format("{}.{}", field.path, key.Scalar()), field.file},
          executor, uses, depth + 1, values_left);
      if (!value) {
        return std::nullopt;
      }
      object[key.Scalar()] = std::move(*value);
    }
    return object;
  }
  if (field.node.IsSequence()) {
    nlohmann::json array = nlohmann::json::array();
    std::size_t index = 0;
    for (const YamlNode& item : field.node) {
      auto value = load_json_template(
          reader, Field{item, fmt::format("{}[{}]", field.path, index++), field.file}, executor,
          uses, depth + 1, values_left);
      if (!value) {
        return std::nullopt;
      }
      array.push_back(std::move(*value));
    }
    return array;
  }
  if (field.node.IsNull()) {
    return nlohmann::json(nullptr);
  }
  const std::string& scalar = field.node.Scalar();
  if (field.node.Tag() == "?") {  // plain, not quoted
    if (scalar == "true" || scalar == "false") {
      return nlohmann::json(scalar == "true");
    }
    std::int64_t integer = 0;
    const auto [int_end, int_status] =
        std::from_chars(scalar.data(), scalar.data() + scalar.size(), integer);
    if (int_status == std::errc{} && int_end == scalar.data() + scalar.size()) {
      return nlohmann::json(integer);
    }
    double number = 0;
    const auto [end, status] =
        std::from_chars(scalar.data(), scalar.data() + scalar.size(), number);
    if (status == std::errc{} && end == scalar.data() + scalar.size() && std::isfinite(number)) {
      return nlohmann::json(number);
    }
  }
  auto parsed = load_template(reader, field, executor, uses);
  if (!parsed) {
    return std::nullopt;
  }
  return nlohmann::json(parsed->text());
}

}  // namespace gapwatch
