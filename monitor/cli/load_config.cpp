// The configuration as every subcommand loads it (see load_config.h).
#include "monitor/cli/load_config.h"

#include <cstdio>

#include <fmt/format.h>

#include "monitor/config/env_substitution.h"

namespace gapwatch {

std::optional<Config> load_config_or_report(const std::string& path) {
  auto config = load_config_file(path, process_environment());
  if (!config) {
    for (const ConfigError& error : config.error()) {
      fmt::print(stderr, "{}\n", error.format());
    }
    return std::nullopt;
  }
  return std::move(*config);
}

}  // namespace gapwatch
