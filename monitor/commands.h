// The gapwatch subcommands. Each returns the process exit code:
// 0 ok, 1 warn, 2 fail, 3 error (check), 4 invalid configuration or usage.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gapwatch {

constexpr int kExitInvalid = 4;

struct CheckOptions {
  std::string config_path = "gapwatch.yaml";
  std::vector<std::string> rules;
  std::optional<std::string> now;
  std::string output = "text";
};

int validate_command(const std::string& config_path);
int check_command(const CheckOptions& options);
int explain_command(const CheckOptions& options, bool inline_params);

}  // namespace gapwatch
