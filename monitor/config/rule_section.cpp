// The `rules:` section and the `defaults:` every rule falls back to: each
// rule's name, warehouse and table, its check and what the check reads, how
// its results are reported, its thresholds, partition, segments, source,
// schedule and backfill.
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

constexpr std::array<std::string_view, 23> kRuleKeys{
    "name",     "warehouse", "table",   "check",    "timestamp_column", "timestamp_format",
    "where",    "lookback",  "warn",    "fail",     "severity",         "labels",
    "schedule", "schedule_timezone",    "partition", "column",          "min_rows", "backfill",
    "future_tolerance", "baseline", "segment_by", "max_segments", "source"};
constexpr std::array<std::string_view, 4> kPartitionKeys{"every", "lookback", "delay", "timezone"};
constexpr std::array<std::string_view, 6> kBoundKeys{"min", "max", "drop", "rise", "missing",
                                                     "extra"};
constexpr std::array<std::string_view, 5> kSourceKeys{"warehouse", "table", "timestamp_column",
                                                      "timestamp_format", "where"};
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
constexpr std::array<std::string_view, 7> kReservedLabels{
    "rule", "check", "warehouse", "table", "severity", "status", "result"};

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
  load_segments(keys, spec);
  load_source(keys, spec);
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
  auto name = named_warehouse(*warehouse);
  if (!name) {
    keys.fail();
    return;
  }
  spec.warehouse = std::move(*name);
}

std::optional<std::string> ConfigLoader::named_warehouse(const Field& field) {
  auto name = m_reader->string(field);
  if (!name) {
    return std::nullopt;
  }
  const bool declared = std::find(m_warehouse_names.begin(), m_warehouse_names.end(), *name) !=
                        m_warehouse_names.end();
  if (!declared) {
    report_unknown_name(*m_reader, field, "warehouse", *name, m_warehouse_names);
    return std::nullopt;
  }
  if (m_config.find_warehouse(*name) == nullptr) {
    return std::nullopt;  // the warehouse's own errors say why it is unusable
  }
  return name;
}

void ConfigLoader::load_rule_table(KeyReader& keys, RuleSpec& spec) {
  const auto table = keys.required("table");
  if (!table) {
    return;
  }
  auto name = qualified_name(*table);
  if (!name) {
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
    spec.where = predicate(*where);
    if (!spec.where) {
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

// Whether the rule has a usable partition; if not, `field` is refused because
// `why` (unless the partition has errors of its own, which say why).
bool ConfigLoader::partitioned(KeyReader& keys, const RuleSpec& spec, const Field& field,
                               std::string_view why) {
  if (spec.partition) {
    return true;
  }
  if (!keys.map().has("partition")) {
    m_reader->error(field, fmt::format("{}: give the rule a partition", why));
  }
  keys.fail();
  return false;
}

// segment_by: 1 to 3 distinct columns, none of them the timestamp column (the
// buckets already divide the rows by time); max_segments only with it.
void ConfigLoader::load_segments(KeyReader& keys, RuleSpec& spec) {
  const auto field = keys.field("segment_by");
  if (!field) {
    if (const auto max_segments = keys.field("max_segments")) {
      m_reader->error(*max_segments, "max_segments applies with segment_by only");
      keys.fail();
    }
    return;
  }
  if (spec.check == CheckKind::freshness) {
    m_reader->error(*field, "freshness judges the newest row; segment_by applies to row_count "
                            "and null_rate");
    keys.fail();
    return;
  }
  if (!partitioned(keys, spec, *field, "segment_by judges each segment bucket by bucket")) {
    return;
  }
  const std::vector<Field> items = m_reader->sequence(*field);
  if (!field->node.IsSequence()) {
    keys.fail();  // reported by sequence()
    return;
  }
  if (items.empty() || items.size() > kMaxSegmentColumns) {
    m_reader->error(*field, fmt::format("segment_by takes 1 to {} columns, got {}",
                                        kMaxSegmentColumns, items.size()));
    keys.fail();
  }
  for (const Field& item : items) {
    auto column = identifier(item);
    if (!column) {
      keys.fail();
    } else if (std::find(spec.segment_by.begin(), spec.segment_by.end(), *column) !=
               spec.segment_by.end()) {
      m_reader->error(item, fmt::format("segment_by names '{}' twice", *column));
      keys.fail();
    } else if (*column == spec.timestamp_column) {
      m_reader->error(item, fmt::format("'{}' is the timestamp_column: the buckets already "
                                        "divide the rows by time",
                                        *column));
      keys.fail();
    } else {
      spec.segment_by.push_back(std::move(*column));
    }
  }
  keys.integer("max_segments", 1, kMaxMaxSegments, spec.max_segments);
}

// A source: for row_count rules with a partition, judged by missing and extra
// rather than by a baseline.
void ConfigLoader::load_source(KeyReader& keys, RuleSpec& spec) {
  const auto field = keys.field("source");
  if (!field) {
    return;
  }
  if (spec.check != CheckKind::row_count) {
    m_reader->error(*field, "a source is reconciled by counting rows: source applies to "
                            "row_count only");
    keys.fail();
    return;
  }
  if (!partitioned(keys, spec, *field, "a source is compared bucket by bucket")) {
    return;
  }
  if (keys.map().has("baseline")) {
    m_reader->error(*field, "a source rule is judged against its source, not a baseline");
    keys.fail();
  }
  spec.source = load_source_spec(*field);
  if (!spec.source) {
    keys.fail();
  }
}

std::optional<SourceSpec> ConfigLoader::load_source_spec(const Field& field) {
  const auto map = m_reader->map(field, kSourceKeys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(*m_reader, *map);
  SourceSpec source;
  if (const auto warehouse = keys.required("warehouse")) {
    if (auto name = named_warehouse(*warehouse)) {
      source.warehouse = std::move(*name);
    } else {
      keys.fail();
    }
  }
  if (const auto table = keys.required("table")) {
    if (auto name = qualified_name(*table)) {
      source.table = std::move(*name);
    } else {
      keys.fail();
    }
  }
  if (const auto column = keys.required("timestamp_column")) {
    if (auto name = identifier(*column)) {
      source.timestamp_column = std::move(*name);
    } else {
      keys.fail();
    }
  }
  keys.enumeration("timestamp_format", kFormatNames, source.timestamp_format);
  if (const auto where = keys.field("where")) {
    source.where = predicate(*where);
    if (!source.where) {
      keys.fail();
    }
  }
  if (!keys.ok()) {
    return std::nullopt;
  }
  return source;
}

// fail and warn; warn is checked against fail, and a source for a missing or
// extra threshold, once the rule is otherwise usable.
void ConfigLoader::load_thresholds(KeyReader& keys, RuleSpec& spec) {
  if (const auto fail = keys.required("fail")) {
    auto bound = load_bound(*fail, spec, keys.map());
    if (!bound) {
      keys.fail();
    }
    spec.thresholds.fail = bound.value_or(Bound{});
  }
  if (const auto warn = keys.field("warn")) {
    spec.thresholds.warn = load_bound(*warn, spec, keys.map());
    if (!spec.thresholds.warn) {
      keys.fail();
    }
  }
  if (!keys.ok()) {
    return;
  }
  check_thresholds(keys.map(), spec.thresholds);
  const bool reconciled = spec.thresholds.fail.has_reconciliation() ||
                          (spec.thresholds.warn && spec.thresholds.warn->has_reconciliation());
  if (spec.source && !reconciled) {
    m_reader->error(*keys.field("source"),
                    fmt::format("rule '{}' has a source but no missing or extra threshold: give "
                                "fail or warn missing (rows the table lacks) or extra (rows "
                                "beyond the source), e.g. fail: {{missing: 0}}",
                                spec.name));
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

std::optional<QualifiedName> ConfigLoader::qualified_name(const Field& field) {
  const auto text = m_reader->string(field);
  if (!text) {
    return std::nullopt;
  }
  auto name = parse_qualified_name(*text);
  if (!name) {
    m_reader->error(field, name.error().message);
    return std::nullopt;
  }
  return std::move(*name);
}

std::optional<std::string> ConfigLoader::predicate(const Field& field) {
  auto text = m_reader->string(field);
  if (text && text->find(';') != std::string::npos) {
    m_reader->error(field, "where must be a single predicate (no ';')");
    return std::nullopt;
  }
  return text;
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
  if (!partitioned(keys, spec, *field, "a baseline learns per bucket")) {
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

// missing and extra: a whole number of rows ("0"), or a share of the source's
// rows as a percentage ("0.1%", kept as 0.001). A bare fraction is refused:
// `missing: 1` would read as one row or as all of them.
std::optional<Allowance> ConfigLoader::load_allowance(const Field& field) {
  const auto text = m_reader->string(field);
  if (!text) {
    return std::nullopt;
  }
  const auto expected = [&] {
    m_reader->error(field, fmt::format("expected a whole number of rows such as 0 or a share of "
                                       "the source's rows such as 0.1%, got '{}'",
                                       *text));
    return std::nullopt;
  };
  if (text->ends_with('%')) {
    const auto share = parse_share(*text);
    if (!share) {
      return expected();
    }
    if (*share < 0 || *share > 1) {
      m_reader->error(field, fmt::format("a share of the source's rows lies between 0% and "
                                         "100%, got '{}'",
                                         *text));
      return std::nullopt;
    }
    return Allowance{*share, true};
  }
  std::int64_t rows = 0;
  const auto [end, status] = std::from_chars(text->data(), text->data() + text->size(), rows);
  if (status != std::errc{} || end != text->data() + text->size()) {
    return expected();
  }
  if (rows < 0) {
    m_reader->error(field, fmt::format("a number of rows cannot be negative, got '{}'", *text));
    return std::nullopt;
  }
  return Allowance{static_cast<double>(rows), false};
}

// The rule's baseline and source count as given whether usable or not (if
// not, their own errors say why): the keys that need them are read all the
// same.
std::optional<Bound> ConfigLoader::load_bound(const Field& field, const RuleSpec& spec,
                                              const MapReader& rule) {
  const bool baseline_given = rule.has("baseline");
  const bool source_given = rule.has("source");
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
  for (const std::string_view key : {std::string_view{"missing"}, std::string_view{"extra"}}) {
    const auto allowance = map->field(key);
    if (!allowance) {
      continue;
    }
    if (!source_given) {
      m_reader->error(*allowance, key == "missing" ? "missing counts the rows the table lacks "
                                                     "against its source: give the rule a source"
                                                   : "extra counts the rows the table has beyond "
                                                     "its source: give the rule a source");
      ok = false;
      continue;
    }
    auto value = load_allowance(*allowance);
    ok = ok && value.has_value();
    (key == "missing" ? bound.missing : bound.extra) = value;
  }
  if (ok && !bound.has_static() && !bound.has_relative() && !bound.has_reconciliation()) {
    m_reader->error(field, source_given     ? "give min, max, missing, extra or several"
                           : baseline_given ? "give min, max, drop, rise or several"
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
  // A count and a share are not comparable before the source is counted.
  const auto check_allowance = [&](std::string_view key, const std::optional<Allowance>& warned,
                                   const std::optional<Allowance>& failed) {
    if (warned && failed && warned->share == failed->share && warned->value >= failed->value) {
      m_reader->error(warn, fmt::format("warn.{0} must be below fail.{0}, or warn could never "
                                        "fire before fail",
                                        key));
    }
  };
  check_allowance("missing", warning.missing, fail.missing);
  check_allowance("extra", warning.extra, fail.extra);
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
