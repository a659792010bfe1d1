// Loading the daemon's sections of gapwatch.yaml: `monitor:`, `executors:`
// and a rule's `backfill:`. Errors go to the YamlReader with file:line:col like
// every other config error. Template variables are checked against what each
// rule defines by check_backfill_variables once rules are loaded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/config/yaml_reader.h"

namespace gapwatch {

// Where an executor uses a template variable, to report unknown ones there.
struct VariableUse {
  std::string executor;
  std::string variable;
  Field where;
};

MonitorConfig load_monitor_section(YamlReader& reader, const Field& field);

std::optional<ExecutorSpec> load_executor(YamlReader& reader, const Field& field,
                                          std::vector<VariableUse>& uses);

std::optional<BackfillPolicy> load_backfill(YamlReader& reader, const Field& field,
                                            const Config& config);

// Every variable an executor uses must be a request variable or a params key
// of each rule that sends to it.
void check_backfill_variables(YamlReader& reader, const Config& config,
                              const std::vector<VariableUse>& uses,
                              const std::vector<std::pair<std::string, Field>>& rule_backfills);

}  // namespace gapwatch
