#include "triggers/executor_spec.h"

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

void collect_json_variables(const nlohmann::json& node, std::set<std::string>& names) {
  if (node.is_string()) {
    if (auto parsed = Template::parse(node.get<std::string>())) {
      const auto used = parsed->variables();
      names.insert(used.begin(), used.end());
    }
    return;
  }
  if (node.is_structured()) {
    for (const auto& child : node) {
      collect_json_variables(child, names);
    }
  }
}

}  // namespace

Expected<nlohmann::json> expand_json(const JsonTemplate& body, const TemplateValues& values) {
  auto expanded = expand_node(body.shape, values);
  if (!expanded) {
    return expanded;
  }
  // dump() throws on invalid UTF-8, and a value (a param from the environment)
  // may hold any bytes: fail here, as a value, rather than let the exception
  // escape a dispatcher thread.
  try {
    static_cast<void>(expanded->dump());
  } catch (const nlohmann::json::type_error& error) {
    return fail(fmt::format("the body is not valid UTF-8: {}", error.what()));
  }
  return expanded;
}

std::set<std::string> executor_variables(const ExecutorSpec& spec) {
  std::set<std::string> names;
  const auto add = [&](const Template& text) {
    const auto used = text.variables();
    names.insert(used.begin(), used.end());
  };
  if (const auto* command = std::get_if<CommandSpec>(&spec.kind)) {
    for (const Template& argument : command->argv) {
      add(argument);
    }
    for (const auto& [name, value] : command->env) {
      add(value);
    }
  } else {
    const auto& webhook = std::get<WebhookSpec>(spec.kind);
    add(webhook.url);
    for (const auto& [name, value] : webhook.headers) {
      add(value);
    }
    if (webhook.body) {
      collect_json_variables(webhook.body->shape, names);
    }
  }
  return names;
}

}  // namespace gapwatch
