// The `rules:` section and the `defaults:` every rule falls back to: each
// rule's name, warehouse and table, its check and what the check reads, how
// its results are reported, its thresholds, partition, schedule and backfill.
// Not thread-safe: part of one ConfigLoader's load.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "monitor/config/config_loader.h"
#include "rules/buckets.h"
#include "rules/duration.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 20> kRuleKeys{
    "name",     "warehouse", "table",   "check",    "timestamp_column", "timestamp_format",
    "where",    "lookback",  "warn",    "fail",     "severity",         "labels",
    "schedule", "schedule_timezone",    "partition", "column",          "min_rows", "backfill",
    "future_tolerance", "baseline"};
constexpr std::array<std::string_view, 4> kPartitionKeys{"every", "lookback", "delay", "timezone"};
constexpr std::array<std::string_view, 4> kBoundKeys{"min", "max", "drop", "rise"};
constexpr std::array<std::string_view, 5> kBaselineKeys{"history", "seasonality", "sensitivity",
                                                       "min_history", "refresh"};
constexpr std::array<std::string_view, 4> kSeasonalityNames{"none", "hour_of_day", "day_of_week",
                                                            "hour_of_week"};
// Kept counts per rule: 28 days of 5-minute buckets fit, a year of minutes does not.
constexpr std::int64_t kMaxHistoryBuckets = 20000;
constexpr std::array<std::string_view, 3> kCheckNames{"freshness", "row_count", "null_rate"};
constexpr std::array<std::string_view, 4> kFormatNames{"native", "epoch_s", "epoch_ms", "text"};
constexpr std::array<std::string_view, 3> kSeverityNames{"info", "warning", "critical"};
// Labels every per-rule metric series already has.
constexpr std::array<std::string_view, 8> kReservedLabels{
    "rule", "check", "warehouse", "table", "severity", "status", "result", "segment"};

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__") || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// "2%" as 0.02, "0.02" as itself; empty for anything else (a sign of its own
// is the caller's to refuse).
std::optional<double> parse_share(const std::string& text) {
  const bool percent = !text.empty() && text.back() == '%';
  const std::string digits = percent ? text.substr(0, text.size() - 1) : text;
  double value = 0;
  const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (status != std::errc{} || end != digits.data() + digits.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return percent ? value / 100.0 : value;
}

}  // namespace

std::optional<MapReader> ConfigLoader::load_defaults(const Field& field) {
  return m_reader->map(field, kRuleKeys);
}

void ConfigLoader::load_rules(const Field& field, const MapReader* defaults) {
  const std::vector<Field> items = m_reader->sequence(field);
  // Room for the file's rules at once: growing the vector a doubling at a
  // time moved every rule again, into freshly faulted pages.
  const std::size_t needed = m_config.rules.size() + items.size();
  if (needed > m_config.rules.capacity()) {
    m_config.rules.reserve(std::max(needed, 2 * m_config.rules.capacity()));
  }
  for (const Field& item : items) {
    const auto name = raw_name(item.node);
    const bool duplicate = name && !m_rule_names.insert(*name).second;
    // Built where it is kept: a rule is large, and moving 10,000 of them
    // twice was a tenth of `validate`.
    RuleConfig& rule = m_config.rules.emplace_back();
    const bool loaded = load_rule(item, defaults, rule);
    if (duplicate) {
      m_reader->error(item, fmt::format("duplicate rule name '{}'", *name));
    }
    if (duplicate || !loaded) {
      m_config.rules.pop_back();
    }
  }
}

bool ConfigLoader::load_rule(const Field& field, const MapReader* defaults, RuleConfig& rule) {
  const auto map = m_reader->map(field, kRuleKeys, defaults);
  if (!map) {
    return false;
  }
  RuleSpec& spec = rule.spec;
  rule.location = m_reader->location(field.node.Mark());
  KeyReader keys(*m_reader, *map);
  load_rule_name(keys, spec);
  load_rule_warehouse(keys, spec);
  load_rule_table(keys, spec);
  if (!load_check(keys, spec)) {
    return false;  // everything below depends on the kind of check
  }
  load_rule_query(keys, spec);
  load_rule_reporting(keys, spec);
  load_check_scope(keys, spec);
  require_timestamp_column(keys, spec);
  load_baseline(keys, spec);
  load_thresholds(keys, spec);
  auto schedule = load_schedule(*map);
  if (!schedule) {
    keys.fail();
  }
  load_rule_backfill(keys, rule);
  if (!keys.ok()) {
    return false;
  }
  rule.schedule = std::move(*schedule);
  return true;
}

void ConfigLoader::load_rule_name(KeyReader& keys, RuleSpec& spec) {
  const auto name = keys.required("name");
  if (!name) {
    return;
  }
  const auto text = m_reader->string(*name);
  if (text && check_object_name(*m_reader, *name, *text, "rule name")) {
    spec.name = *text;
  } else {
    keys.fail();
  }
}

// The warehouse named, or the only one there is.
void ConfigLoader::load_rule_warehouse(KeyReader& keys, RuleSpec& spec) {
  const auto warehouse = keys.field("warehouse");
  if (!warehouse) {
    if (m_warehouse_entries == 0) {
      keys.fail();  // no usable warehouses list: reported at `warehouses`
    } else if (m_warehouse_entries > 1) {
      m_reader->error(keys.map(), "missing required key 'warehouse'");
      keys.fail();
    } else if (m_config.warehouses.empty()) {
      keys.fail();  // the only warehouse has errors of its own
    } else {
      spec.warehouse = m_config.warehouses.front().name;
    }
    return;
  }
  const auto text = m_reader->string(*warehouse);
  if (!text) {
    keys.fail();
    return;
  }
  const bool declared = std::find(m_warehouse_names.begin(), m_warehouse_names.end(), *text) !=
                        m_warehouse_names.end();
  if (!declared) {
    report_unknown_name(*m_reader, *warehouse, "warehouse", *text, m_warehouse_names);
    keys.fail();
  } else if (m_config.find_warehouse(*text) == nullptr) {
    keys.fail();  // the warehouse's own errors say why it is unusable
  } else {
    spec.warehouse = *text;
  }
}

void ConfigLoader::load_rule_table(KeyReader& keys, RuleSpec& spec) {
  const auto table = keys.required("table");
  if (!table) {
    return;
  }
  const auto text = m_reader->string(*table);
  if (!text) {
    keys.fail();
    return;
  }
  auto name = parse_qualified_name(*text);
  if (!name) {
    m_reader->error(*table, name.error().message);
    keys.fail();
    return;
  }
  spec.table = std::move(*name);
}

// The kind of check; false when it is missing or unknown.
bool ConfigLoader::load_check(KeyReader& keys, RuleSpec& spec) {
  const auto check = keys.required("check");
  if (!check) {
    return false;
  }
  const auto name = m_reader->choice(*check, kCheckNames);
  if (!name) {
    return false;
  }
  spec.check = enum_at<CheckKind>(kCheckNames, *name);
  return true;
}

// What the statement reads: the timestamp column and its format, the where
// predicate and the lookback.
void ConfigLoader::load_rule_query(KeyReader& keys, RuleSpec& spec) {
  if (const auto column = keys.field("timestamp_column")) {
    spec.timestamp_column = identifier(*column);
    if (!spec.timestamp_column) {
      keys.fail();
    }
  }
  keys.enumeration("timestamp_format", kFormatNames, spec.timestamp_format);
  if (const auto where = keys.field("where")) {
    spec.where = m_reader->string(*where);
    if (!spec.where) {
      keys.fail();
    } else if (spec.where->find(';') != std::string::npos) {
      m_reader->error(*where, "where must be a single predicate (no ';')");
      keys.fail();
    }
  }
  if (const auto lookback = keys.field("lookback")) {
    spec.lookback = m_reader->duration(*lookback, ZeroDuration::refused);
    if (!spec.lookback) {
      keys.fail();
    }
  }
}

// How results are reported: the severity, and labels on every metric series.
void ConfigLoader::load_rule_reporting(KeyReader& keys, RuleSpec& spec) {
  keys.enumeration("severity", kSeverityNames, spec.severity);
  const auto labels = keys.field("labels");
  if (!labels) {
    return;
  }
  const auto entries = m_reader->string_map(*labels);
  if (!entries) {
    keys.fail();
    return;
  }
  for (const auto& [key, value] : *entries) {
    const bool reserved =
        std::find(kReservedLabels.begin(), kReservedLabels.end(), key) != kReservedLabels.end();
    if (!valid_label_name(key) || reserved) {
      m_reader->error(*labels, fmt::format("label '{}' is {}", key,
                                           reserved ? "reserved by gapwatch"
                                                    : "not a valid Prometheus label name"));
      keys.fail();
    }
    spec.labels[key] = value;
  }
}

// The keys only some checks take: partition (row_count, null_rate), column
// and min_rows (null_rate), future_tolerance (freshness).
void ConfigLoader::load_check_scope(KeyReader& keys, RuleSpec& spec) {
  if (const auto tolerance = keys.field("future_tolerance")) {
    if (spec.check != CheckKind::freshness) {
      m_reader->error(*tolerance, "future_tolerance applies to freshness rules only");
      keys.fail();
    } else if (const auto value = m_reader->duration(*tolerance, ZeroDuration::allowed)) {
      spec.future_tolerance = *value;
    } else {
      keys.fail();
    }
  }
  if (const auto partition = keys.field("partition")) {
    if (spec.check == CheckKind::freshness) {
      m_reader->error(*partition,
                      "freshness judges the newest row; partition applies to row_count "
                      "and null_rate");
      keys.fail();
    } else {
      spec.partition = load_partition(*partition);
      if (!spec.partition) {
        keys.fail();
      }
    }
  }
  if (const auto column = keys.field("column")) {
    if (spec.check != CheckKind::null_rate) {
      m_reader->error(*column, "column applies to null_rate only");
      keys.fail();
    } else {
      spec.column = identifier(*column);
      if (!spec.column) {
        keys.fail();
      }
    }
  } else if (spec.check == CheckKind::null_rate) {
    m_reader->error(keys.map(),
                    "missing required key 'column' (the column whose NULLs are "
                    "counted)");
    keys.fail();
  }
  if (const auto min_rows = keys.field("min_rows")) {
    if (spec.check != CheckKind::null_rate) {
      m_reader->error(*min_rows, "min_rows applies to null_rate only");
      keys.fail();
    } else if (const auto value =
                   m_reader->integer(*min_rows, 1, std::numeric_limits<std::int64_t>::max())) {
      spec.min_rows = *value;
    } else {
      keys.fail();
    }
  }
}

// Freshness, a partition and a lookback all select rows by their timestamp.
void ConfigLoader::require_timestamp_column(KeyReader& keys, const RuleSpec& spec) {
  const bool needs_timestamp =
      spec.check == CheckKind::freshness || spec.partition.has_value() || spec.lookback.has_value();
  if (needs_timestamp && !spec.timestamp_column && !keys.map().has("timestamp_column")) {
    m_reader->error(keys.map(), fmt::format("missing required key 'timestamp_column' ({} needs it)",
                                            spec.check == CheckKind::freshness ? "freshness"
                                            : spec.partition                   ? "partition"
                                                                               : "lookback"));
    keys.fail();
  }
}

// fail and warn; warn is checked against fail once the rule is otherwise usable.
void ConfigLoader::load_thresholds(KeyReader& keys, RuleSpec& spec) {
  if (const auto fail = keys.required("fail")) {
    auto bound = load_bound(*fail, spec, keys.map().has("baseline"));
    if (!bound) {
      keys.fail();
    }
    spec.thresholds.fail = bound.value_or(Bound{});
  }
  if (const auto warn = keys.field("warn")) {
    spec.thresholds.warn = load_bound(*warn, spec, keys.map().has("baseline"));
    if (!spec.thresholds.warn) {
      keys.fail();
    }
  }
  if (keys.ok()) {
    check_thresholds(keys.map(), spec.thresholds);
  }
}

// The backfill policy; its template variables are checked once every rule is
// known (check_backfill_variables).
void ConfigLoader::load_rule_backfill(KeyReader& keys, RuleConfig& rule) {
  const auto backfill = keys.field("backfill");
  if (!backfill) {
    return;
  }
  rule.backfill = load_backfill(*m_reader, *backfill, m_declared_executors);
  if (!rule.backfill) {
    keys.fail();
    return;
  }
  if (m_config.find_executor(rule.backfill->executor) == nullptr) {
    keys.fail();  // the executor's own errors say why it is unusable
  }
  m_rule_backfills.emplace_back(rule.spec.name, *backfill);
}

std::optional<std::string> ConfigLoader::identifier(const Field& field) {
  auto text = m_reader->string(field);
  if (!text) {
    return std::nullopt;
  }
  auto valid = validate_identifier(*text);
  if (!valid) {
    m_reader->error(field, valid.error().message);
    return std::nullopt;
  }
  return std::move(*valid);
}

std::optional<PartitionSpec> ConfigLoader::load_partition(const Field& field) {
  const auto map = m_reader->map(field, kPartitionKeys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(*m_reader, *map);
  PartitionSpec partition;
  if (const auto every_field = keys.required("every")) {
    if (const auto every = m_reader->duration(*every_field, ZeroDuration::refused)) {
      if (!whole_minutes_dividing_day(*every)) {
        m_reader->error(*every_field,
                       fmt::format("every must be whole minutes dividing a day (1m … 12h) or 1d, "
                                   "got {}",
                                   format_duration(*every)));
        keys.fail();
      }
      partition.every = *every;
    } else {
      keys.fail();
    }
  }
  const auto lookback_field = keys.required("lookback");
  if (lookback_field) {
    if (const auto lookback = m_reader->duration(*lookback_field, ZeroDuration::refused)) {
      partition.lookback = *lookback;
    } else {
      keys.fail();
    }
  }
  keys.duration("delay", ZeroDuration::allowed, partition.delay);
  partition.zone = zone(keys.field("timezone"));
  if (partition.zone == nullptr) {
    keys.fail();
  }
  if (keys.ok() && partition.lookback < partition.delay + partition.every) {
    m_reader->error(*lookback_field,
                   fmt::format("lookback ({}) must cover delay ({}) plus at least one bucket ({})",
                               format_duration(partition.lookback),
                               format_duration(partition.delay), format_duration(partition.every)));
    return std::nullopt;
  }
  if (!keys.ok()) {
    return std::nullopt;
  }
  return partition;
}

std::optional<double> ConfigLoader::load_threshold_value(const Field& field, CheckKind check) {
  switch (check) {
    case CheckKind::freshness: {
      const auto age = m_reader->duration(field, ZeroDuration::allowed);
      if (!age) {
        return std::nullopt;
      }
      return static_cast<double>(age->count());
    }
    case CheckKind::row_count: {
      const auto value = m_reader->number(field);
      if (value && *value < 0) {
        m_reader->error(field, "a row count cannot be negative");
        return std::nullopt;
      }
      return value;
    }
    case CheckKind::null_rate: {
      const auto text = m_reader->string(field);
      if (!text) {
        return std::nullopt;
      }
      const auto share = parse_share(*text);
      if (!share) {
        m_reader->error(field, fmt::format("expected a ratio such as 0.02 or a percentage such as "
                                          "2%, got '{}'",
                                          *text));
        return std::nullopt;
      }
      const double value = *share;
      if (value < 0 || value > 1) {
        m_reader->error(field, fmt::format("a null rate lies between 0 and 1 (0% and 100%), got "
                                          "'{}'",
                                          *text));
        return std::nullopt;
      }
      return value;
    }
  }
  return std::nullopt;
}

// A baseline: for row_count and null_rate rules with a partition.
void ConfigLoader::load_baseline(KeyReader& keys, RuleSpec& spec) {
  const auto field = keys.field("baseline");
  if (!field) {
    return;
  }
  if (spec.check == CheckKind::freshness) {
    m_reader->error(*field, "freshness judges the newest row; baseline applies to row_count and "
                            "null_rate");
    keys.fail();
    return;
  }
  if (!spec.partition) {
    if (!keys.map().has("partition")) {
      m_reader->error(*field, "a baseline learns per bucket: give the rule a partition");
    }
    keys.fail();
    return;
  }
  spec.baseline = load_baseline_spec(*field, *spec.partition);
  if (!spec.baseline) {
    keys.fail();
  }
}

std::optional<BaselineSpec> ConfigLoader::load_baseline_spec(const Field& field,
                                                             const PartitionSpec& partition) {
  BaselineSpec baseline;
  // `baseline: {}` takes every default.
  const auto map = m_reader->map(field, kBaselineKeys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(*m_reader, *map);
  keys.duration("history", ZeroDuration::refused, baseline.history);
  if (map->has("seasonality")) {
    Seasonality seasonality = Seasonality::none;
    keys.enumeration("seasonality", kSeasonalityNames, seasonality);
    baseline.seasonality = seasonality;
  }
  if (const auto sensitivity = keys.field("sensitivity")) {
    const auto value = m_reader->number(*sensitivity);
    if (value && (*value <= 0 || *value > 100)) {
      m_reader->error(*sensitivity, "sensitivity is the band's width in robust deviations: "
                                    "give a number above 0 (3 is usual)");
      keys.fail();
    } else if (value) {
      baseline.sensitivity = *value;
    } else {
      keys.fail();
    }
  }
  keys.integer("min_history", 1, 1000, baseline.min_history);
  keys.duration("refresh", ZeroDuration::refused, baseline.refresh);
  if (!keys.ok()) {
    return std::nullopt;
  }
  const auto history = map->field("history");
  if (baseline.history < partition.every) {
    m_reader->error(history ? *history : field,
                    fmt::format("history ({}) is shorter than one bucket ({})",
                                format_duration(baseline.history), format_duration(partition.every)));
    return std::nullopt;
  }
  if (baseline.history / partition.every > kMaxHistoryBuckets) {
    m_reader->error(history ? *history : field,
                    fmt::format("history ({}) holds {} {} buckets, more than the {} a rule may "
                                "keep: shorten history or widen partition.every",
                                format_duration(baseline.history),
                                baseline.history / partition.every,
                                bucket_adjective(partition.every), kMaxHistoryBuckets));
    return std::nullopt;
  }
  return baseline;
}

// drop and rise: for row_count a fraction of the expected value ("50%" or
// 0.5; a drop of at most 100%); for null_rate points of the ratio ("5%" or
// 0.05).
std::optional<double> ConfigLoader::load_change(const Field& field, std::string_view key,
                                                CheckKind check) {
  if (check == CheckKind::null_rate) {
    return load_threshold_value(field, check);
  }
  const auto text = m_reader->string(field);
  if (!text) {
    return std::nullopt;
  }
  const auto share = parse_share(*text);
  if (!share) {
    m_reader->error(field, fmt::format("expected a share of the expected value such as 50% or "
                                       "0.5, got '{}'",
                                       *text));
    return std::nullopt;
  }
  const double value = *share;
  if (value <= 0 || (key == "drop" && value > 1)) {
    m_reader->error(field, key == "drop" ? fmt::format("a drop lies above 0% and at most 100% (no "
                                                       "rows), got '{}'",
                                                       *text)
                                         : fmt::format("a rise lies above 0%, got '{}'", *text));
    return std::nullopt;
  }
  return value;
}

// `baseline_given`: the rule has a baseline key, usable or not (if not, its
// own errors say why; drop and rise are read all the same).
std::optional<Bound> ConfigLoader::load_bound(const Field& field, const RuleSpec& spec,
                                              bool baseline_given) {
  const CheckKind check = spec.check;
  const auto map = m_reader->map(field, kBoundKeys);
  if (!map) {
    return std::nullopt;
  }
  Bound bound;
  bool ok = true;
  if (const auto min = map->field("min")) {
    if (check == CheckKind::freshness) {
      m_reader->error(*min, "freshness judges the age of the newest row: give max only");
      ok = false;
    } else {
      bound.min = load_threshold_value(*min, check);
      ok = ok && bound.min.has_value();
    }
  }
  if (const auto max = map->field("max")) {
    bound.max = load_threshold_value(*max, check);
    ok = ok && bound.max.has_value();
  }
  for (const std::string_view key : {std::string_view{"drop"}, std::string_view{"rise"}}) {
    const auto change = map->field(key);
    if (!change) {
      continue;
    }
    if (!baseline_given) {
      m_reader->error(*change, fmt::format("{} compares a bucket with what its history leads to "
                                           "expect: give the rule a baseline",
                                           key));
      ok = false;
      continue;
    }
    auto value = load_change(*change, key, check);
    ok = ok && value.has_value();
    (key == "drop" ? bound.drop : bound.rise) = value;
  }
  if (ok && !bound.has_static() && !bound.has_relative()) {
    m_reader->error(field, baseline_given ? "give min, max, drop, rise or several"
                                         : "give min, max or both");
    ok = false;
  }
  if (ok && bound.min && bound.max && *bound.min > *bound.max) {
    m_reader->error(field, "min is greater than max: nothing could pass");
    ok = false;
  }
  if (!ok) {
    return std::nullopt;
  }
  return bound;
}

void ConfigLoader::check_thresholds(const MapReader& rule, const Thresholds& thresholds) {
  if (!thresholds.warn) {
    return;
  }
  const Field warn = *rule.field("warn");
  const Bound& fail = thresholds.fail;
  const Bound& warning = *thresholds.warn;
  if (warning.max && fail.max && *warning.max >= *fail.max) {
    m_reader->error(warn, "warn.max must be below fail.max, or warn could never fire before fail");
  }
  if (warning.min && fail.min && *warning.min <= *fail.min) {
    m_reader->error(warn, "warn.min must be above fail.min, or warn could never fire before fail");
  }
  if (warning.drop && fail.drop && *warning.drop >= *fail.drop) {
    m_reader->error(warn, "warn.drop must be below fail.drop, or warn could never fire before fail");
  }
  if (warning.rise && fail.rise && *warning.rise >= *fail.rise) {
    m_reader->error(warn, "warn.rise must be below fail.rise, or warn could never fire before fail");
  }
}

std::optional<Schedule> ConfigLoader::load_schedule(const MapReader& rule) {
  Schedule schedule;
  schedule.text = "5m";
  schedule.when = std::chrono::seconds{300};
  const auto zone_field = rule.field("schedule_timezone");
  schedule.zone = zone(zone_field);
  if (schedule.zone == nullptr) {
    return std::nullopt;
  }
  const auto field = rule.field("schedule");
  if (!field) {
    if (zone_field) {
      m_reader->error(*zone_field, "schedule_timezone applies to cron schedules only (the "
                                  "default schedule is every 5m)");
      return std::nullopt;
    }
    return schedule;
  }
  const auto text = m_reader->string(*field);
  if (!text) {
    return std::nullopt;
  }
  schedule.text = *text;
  if (text->find(' ') != std::string::npos || text->starts_with("@")) {
    auto cron = CronExpression::parse(*text);
    if (!cron) {
      m_reader->error(*field, cron.error().message);
      return std::nullopt;
    }
    if (!cron->fires_ever()) {
      m_reader->error(*field, fmt::format("'{}' never fires: no date matches it", *text));
      return std::nullopt;
    }
    schedule.when = std::move(*cron);
    return schedule;
  }
  if (zone_field) {
    m_reader->error(*zone_field, "schedule_timezone applies to cron schedules only");
    return std::nullopt;
  }
  const auto interval = m_reader->duration(*field, ZeroDuration::refused);
  if (!interval) {
    return std::nullopt;
  }
  schedule.when = *interval;
  return schedule;
}

}  // namespace gapwatch
