// Config: the validated contents of one gapwatch.yaml. Built once by
// load_config (config_loader.cpp) and then shared read-only, so it is safe to
// use from any thread. A reload builds a new Config; nothing mutates one.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "monitor/config/cron.h"
#include "monitor/config/env_substitution.h"
#include "triggers/backfill_planner.h"
#include "triggers/executor_spec.h"
#include "rules/dialect.h"
#include "rules/rule_spec.h"

namespace gapwatch {

// Where a value came from, for messages.
struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

struct ConfigError {
  SourceLocation location;
  std::string message;

  // "file:line:col: error: message"
  std::string format() const;
};

struct WarehouseConfig {
  std::string name;
  // The ODBC connection string with ${VARS} substituted. It may hold secrets:
  // never log it; log `connection_template` instead.
  std::string connection;
  std::string connection_template;
  std::optional<DialectKind> dialect;  // empty: detect from SQLGetInfo
  const TimeZone* zone = nullptr;      // zone of zone-less timestamp columns
  std::chrono::seconds query_timeout{60};
  int max_connections = 2;
  SourceLocation location;
};

// Every `interval` from a deterministic offset, or on a cron expression.
struct Schedule {
  std::variant<std::chrono::seconds, CronExpression> when{std::chrono::seconds{60}};
  const TimeZone* zone = nullptr;  // cron only
  std::string text;                // as written, for display
};

struct RuleConfig {
  RuleSpec spec;
  Schedule schedule;
  std::optional<BackfillPolicy> backfill;
  SourceLocation location;
};

struct MonitorConfig {
  std::string state_path = "gapwatch-state.db";
  int workers = 4;       // concurrent evaluations
  bool dry_run = false;  // record incidents and requests, send nothing
  std::chrono::seconds shutdown_grace{30};
  std::string listen = "127.0.0.1:9464";  // the HTTP server; "off" disables it
  std::string api_token;                   // bearer token for writes; empty: writes refused
  std::string log_format = "text";         // text or json
  std::string log_level = "info";          // debug, info, warn, error
};

struct Config {
  std::string path;
  MonitorConfig monitor;
  std::vector<WarehouseConfig> warehouses;
  std::vector<ExecutorSpec> executors;
  std::vector<RuleConfig> rules;
  // Every value a ${VAR} put into a text value, with its key: each is a
  // secret, masked wherever gapwatch writes or serves text (docs/security.md).
  std::vector<EnvironmentValue> from_environment;

  const WarehouseConfig* find_warehouse(std::string_view name) const;
  const ExecutorSpec* find_executor(std::string_view name) const;
  const RuleConfig* find_rule(std::string_view name) const;
};

using ConfigResult = std::expected<Config, std::vector<ConfigError>>;

// Reads and validates a config file; reports every problem found, not just the
// first. `environment` resolves ${VAR} references.
ConfigResult load_config_file(const std::string& path, const EnvironmentLookup& environment);

// The same for text already in memory; `path` is used in messages.
ConfigResult load_config_text(std::string_view text, const std::string& path,
                              const EnvironmentLookup& environment);

}  // namespace gapwatch
