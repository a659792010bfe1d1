#include "triggers/json_template.h"

#include <fmt/format.h>

namespace gapwatch {

namespace {

Expected<nlohmann::json> expand_node(const nlohmann::json& node, const TemplateValues& values) {
  if (node.is_string()) {
    auto parsed = Template::parse(node.get<std::string>());
    if (!parsed) {
      return std::unexpected(parsed.error());
    }
    auto text = parsed->expand(values, Template::Encoding::raw);
    if (!text) {
      return std::unexpected(text.error());
    }
    return nlohmann::json(std::move(*text));
  }
  if (node.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, child] : node.items()) {
      auto expanded = expand_node(child, values);
      if (!expanded) {
        return expanded;
      }
      out[key] = std::move(*expanded);
    }
    return out;
  }
  if (node.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& child : node) {
      auto expanded = expand_node(child, values);
      if (!expanded) {
        return expanded;
      }
      out.push_back(std::move(*expanded));
    }
    return out;
  }
  return node;
}

}  // namespace

Expected<nlohmann::json> expand_json(const JsonTemplate& body, const TemplateValues& values) {
  auto expanded = expand_node(body.shape, values);
  if (!expanded) {
    return expanded;
  }
  // A value (a param from the environment) may hold any bytes: fail here, as
  // a value, rather than let dump() throw in a dispatcher thread.
  if (auto text = dump_json(*expanded); !text) {
    return fail(fmt::format("the body is not valid UTF-8: {}", text.error().message));
  }
  return expanded;
}

void collect_json_variables(const nlohmann::json& shape, std::set<std::string>& names) {
  if (shape.is_string()) {
    if (auto parsed = Template::parse(shape.get<std::string>())) {
      const auto used = parsed->variables();
      names.insert(used.begin(), used.end());
    }
    return;
  }
  if (shape.is_structured()) {
    for (const auto& child : shape) {
      collect_json_variables(child, names);
    }
  }
}

Expected<std::string> dump_json(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::type_error& error) {
    return fail(error.what());
  }
}

}  // namespace gapwatch
