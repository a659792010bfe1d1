#include "triggers/executor_spec.h"

namespace gapwatch {

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
    if (webhook.preset) {
      collect_preset_variables(*webhook.preset, names);
    }
  }
  return names;
}

}  // namespace gapwatch
