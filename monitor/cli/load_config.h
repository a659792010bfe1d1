// The configuration as every subcommand loads it: from a file, with the
// process environment for ${VAR} substitution, every error printed to stderr
// with its file:line:column. Called on the main thread only.
#pragma once

#include <optional>
#include <string>

#include "monitor/config/config.h"

namespace gapwatch {

// The configuration at `path`, or nothing after printing all its errors.
std::optional<Config> load_config_or_report(const std::string& path);

}  // namespace gapwatch
