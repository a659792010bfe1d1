// The config loader's insides, shared by the files that load gapwatch.yaml:
// ConfigLoader reads the document (config_loader.cpp: parsing, includes) and
// hands each top-level section to the file named for it — monitor_section.cpp,
// warehouse_section.cpp, executor_section.cpp, rule_section.cpp (with
// defaults), backfill_section.cpp (a rule's backfill) — which report every
// problem with its file:line:column through the YamlReader. Callers outside
// monitor/config/ use config.h. Not thread-safe: one loader per load.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "monitor/config/config.h"
#include "monitor/config/key_reader.h"
#include "monitor/config/yaml_reader.h"

namespace gapwatch {

// Where an executor uses a template variable, to report unknown ones there.
struct VariableUse {
  std::string executor;
  std::string variable;
  Field where;
};

// Checks more than one section makes (config_loader.cpp).

// A warehouse, executor or rule name: letters, digits, '_', '-', '.'.
bool valid_object_name(std::string_view name);
// Reports `name` at `field` unless it is a valid object name; `what` names it
// in the message ("name", "rule name").
bool check_object_name(YamlReader& reader, const Field& field, const std::string& name,
                       std::string_view what);
// Reports a reference to an undeclared `kind` ("warehouse", "executor"), with
// the closest of `declared` if it is plausibly a typo.
void report_unknown_name(YamlReader& reader, const Field& field, std::string_view kind,
                         const std::string& name, std::span<const std::string> declared);
// The time zone `field` names (IANA, e.g. Europe/Berlin); null after an
// error, which is reported.
const TimeZone* load_time_zone(YamlReader& reader, const Field& field);
// A bucket or partition length gapwatch aligns to the wall clock: whole
// minutes dividing a day (1m … 12h), or a day.
bool whole_minutes_dividing_day(std::chrono::seconds length);
// The `name` of a list entry as written, whatever else is wrong with it.
std::optional<std::string> raw_name(const YamlNode& entry);

// The sections that need nothing but their own text.

// monitor: (monitor_section.cpp). Problems are the reader's; what is usable is
// kept.
MonitorConfig load_monitor_section(YamlReader& reader, const Field& field);

// A rule's backfill: (backfill_section.cpp), naming one of config's executors.
std::optional<BackfillPolicy> load_backfill(YamlReader& reader, const Field& field,
                                            const Config& config);

// Every variable an executor uses must be a request variable or a params key
// of each rule that sends to it (backfill_section.cpp).
void check_backfill_variables(YamlReader& reader, const Config& config,
                              const std::vector<VariableUse>& uses,
                              const std::vector<std::pair<std::string, Field>>& rule_backfills);

class ConfigLoader {
 public:
  ConfigLoader(std::string path, const EnvironmentLookup& environment)
      : m_path(std::move(path)),
        m_environment(environment),
        m_main_reader(m_path, environment),
        m_reader(&m_main_reader) {}

  ConfigResult load(std::string_view text);

 private:
  // The document (config_loader.cpp). parse reads the document of one file:
  // checked for junk, one document only.
  std::optional<YamlNode> parse(std::string_view text);
  void load_includes(const Field& field, const MapReader* defaults);
  void load_included_file(const std::string& file, const Field& from, const MapReader* defaults);
  // Moves what the current reader's file took from the environment into the
  // config.
  void take_from_environment();
  // A time zone key: UTC when absent, null after an error.
  const TimeZone* zone(const std::optional<Field>& field);

  // warehouses: (warehouse_section.cpp)
  void load_warehouses(const Field& field);
  std::optional<WarehouseConfig> load_warehouse(const Field& field);

  // executors: (executor_section.cpp)
  void load_executors(const Field& field);

  // defaults: and rules: (rule_section.cpp). Each part of a rule counts its
  // problems in `keys`.
  std::optional<MapReader> load_defaults(const Field& field);
  void load_rules(const Field& field, const MapReader* defaults);
  // Fills `rule` (default-constructed); false if the rule has errors.
  bool load_rule(const Field& field, const MapReader* defaults, RuleConfig& rule);
  void load_rule_name(KeyReader& keys, RuleSpec& spec);
  void load_rule_warehouse(KeyReader& keys, RuleSpec& spec);
  // The warehouse a `warehouse:` key names, if it is declared and usable.
  std::optional<std::string> named_warehouse(const Field& field);
  void load_rule_table(KeyReader& keys, RuleSpec& spec);
  // False when the kind of check is missing or unknown.
  bool load_check(KeyReader& keys, RuleSpec& spec);
  void load_rule_query(KeyReader& keys, RuleSpec& spec);
  void load_rule_reporting(KeyReader& keys, RuleSpec& spec);
  void load_check_scope(KeyReader& keys, RuleSpec& spec);
  void require_timestamp_column(KeyReader& keys, const RuleSpec& spec);
  // Whether the rule has a usable partition, which `field` needs because `why`.
  bool partitioned(KeyReader& keys, const RuleSpec& spec, const Field& field, std::string_view why);
  // segment_by and max_segments (segments: row_count and null_rate with a
  // partition).
  void load_segments(KeyReader& keys, RuleSpec& spec);
  // source: (row_count with a partition, no baseline).
  void load_source(KeyReader& keys, RuleSpec& spec);
  std::optional<SourceSpec> load_source_spec(const Field& field);
  void load_thresholds(KeyReader& keys, RuleSpec& spec);
  void load_rule_backfill(KeyReader& keys, RuleConfig& rule);
  std::optional<PartitionSpec> load_partition(const Field& field);
  void load_baseline(KeyReader& keys, RuleSpec& spec);
  std::optional<BaselineSpec> load_baseline_spec(const Field& field, const PartitionSpec& partition);
  // One of fail and warn of `rule`, whose spec is read as far as its check.
  std::optional<Bound> load_bound(const Field& field, const RuleSpec& spec, const MapReader& rule);
  std::optional<double> load_threshold_value(const Field& field, CheckKind check);
  std::optional<double> load_change(const Field& field, std::string_view key, CheckKind check);
  std::optional<Allowance> load_allowance(const Field& field);
  void check_thresholds(const MapReader& rule, const Thresholds& thresholds);
  std::optional<Schedule> load_schedule(const MapReader& rule);
  std::optional<std::string> identifier(const Field& field);
  std::optional<QualifiedName> qualified_name(const Field& field);
  // A `where` predicate: raw SQL, one predicate (no ';').
  std::optional<std::string> predicate(const Field& field);

  std::string m_path;
  const EnvironmentLookup& m_environment;
  YamlReader m_main_reader;
  // The reader of the file being loaded: the main file, or an included one.
  YamlReader* m_reader;
  std::vector<ConfigError> m_include_errors;
  std::set<std::string> m_rule_names;
  Config m_config;
  // Every warehouse entry, loaded or not, so that a rule naming one with errors
  // is not reported again as dangling or missing its warehouse.
  std::size_t m_warehouse_entries = 0;
  std::vector<std::string> m_warehouse_names;
  // Where executors use template variables, and each rule's backfill key, to
  // check the variables once every rule is known.
  std::vector<VariableUse> m_variable_uses;
  std::vector<std::pair<std::string, Field>> m_rule_backfills;
  // Every executor entry by name, loaded or not: backfills look executors up
  // here, so that a rule naming one with errors is not told it is unknown.
  Config m_declared_executors;
};

}  // namespace gapwatch
