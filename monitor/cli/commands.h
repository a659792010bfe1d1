// The gapwatch subcommands. Each returns the process exit code:
// 0 ok, 1 warn, 2 fail, 3 error (check), 4 invalid configuration or usage.
#pragma once

#include <cstdint>
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

// How explain shows a statement's bound parameters.
enum class ExplainParams {
  listed,           // `?` placeholders, the values listed below the statement
  inline_literals,  // written into the statement as literals, to run it by hand
};

struct RunOptions {
  std::string config_path = "gapwatch.yaml";
  bool verbose = false;
  bool dry_run = false;
  bool until_healthy = false;
  int max_runtime_seconds = 0;
};

struct IncidentsOptions {
  std::string config_path = "gapwatch.yaml";
  std::optional<std::string> state_path;  // overrides monitor.state from the config
  std::string action = "list";            // list, show, ack, resolve, retry
  std::optional<std::int64_t> id;
  std::string state_filter = "open";      // list: open or all
  std::string output = "text";
  std::string who;                        // recorded with operator actions
};

struct BackfillOptions {
  std::string config_path = "gapwatch.yaml";
  std::string rule;
  std::string from;
  std::string to;
  bool enqueue_only = false;
};

int validate_command(const std::string& config_path);
int run_command(const RunOptions& options);
int incidents_command(const IncidentsOptions& options);
int backfill_command(const BackfillOptions& options);
int check_command(const CheckOptions& options);
int explain_command(const CheckOptions& options, ExplainParams params);

}  // namespace gapwatch
