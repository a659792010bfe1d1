#include "monitor/config/config.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <variant>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace gapwatch {
namespace {

using std::chrono::seconds;
using Environment = std::map<std::string, std::string>;

EnvironmentLookup lookup_in(Environment environment) {
  return [environment =
              std::move(environment)](const std::string& name) -> std::optional<std::string> {
    const auto found = environment.find(name);
    if (found == environment.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

std::string joined(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& error : errors) {
    out += out.empty() ? "" : "\n";
    out += error.format();
  }
  return out;
}

// Every error of an invalid config, formatted one per line.
std::string errors_of(std::string_view yaml, const Environment& environment = {}) {
  const ConfigResult result = load_config_text(yaml, "gapwatch.yaml", lookup_in(environment));
  REQUIRE_FALSE(result.has_value());
  return joined(result.error());
}

Config load(std::string_view yaml, const Environment& environment = {}) {
  ConfigResult result = load_config_text(yaml, "gapwatch.yaml", lookup_in(environment));
  REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : joined(result.error())));
  return std::move(*result);
}

// One warehouse, `shop`, on lines 1-4.
constexpr std::string_view kOneWarehouse = R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=X"
)";

// kOneWarehouse and a rule named `orders` whose remaining keys are `body`
// (indented by four spaces): the body's first line is line 7, its keys in
// column 5.
std::string one_rule(std::string_view body) {
  return std::string(kOneWarehouse) + "rules:\n  - name: orders\n" + std::string(body);
}

// A warehouse `shop` whose keys after `connection` are `body`, from line 5.
std::string one_warehouse(std::string_view body) {
  return std::string(kOneWarehouse) + std::string(body);
}

const RuleSpec& only_rule(const Config& config) {
  REQUIRE(config.rules.size() == 1);
  return config.rules.front().spec;
}

// A directory under the system temp directory, removed with everything in it.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    std::random_device random;
    m_path = std::filesystem::temp_directory_path() /
             ("gapwatch-config-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(m_path);
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  std::string file(std::string_view name, std::string_view contents) const {
    const std::filesystem::path path = m_path / name;
    std::ofstream out(path, std::ios::binary);
    out << contents;
    return path.string();
  }
  std::string path() const { return m_path.string(); }

 private:
  std::filesystem::path m_path;
};

// ---------------------------------------------------------------------------
// Valid configurations

constexpr std::string_view kFullExample = R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=PostgreSQL Unicode;Server=db;Uid=${PGUSER};Pwd=${PGPASSWORD}"
    dialect: postgres
    timezone: America/New_York
    query_timeout: 1m30s
    max_connections: 4
  - name: lake
    dsn: lake
    dialect: auto
defaults:
  severity: critical
  schedule: 10m
  labels: {team: data}
rules:
  - name: orders_fresh
    warehouse: shop
    table: public.orders
    check: freshness
    timestamp_column: updated_at
    timestamp_format: epoch_ms
    where: "status <> 'test'"
    lookback: 30d
    warn: {max: 1h}
    fail: {max: 2h30m}
    labels: {team: growth, tier: gold}
    schedule: "0 6 * * mon-fri"
    schedule_timezone: Europe/Berlin
  - name: events_hourly
    warehouse: lake
    table: analytics.raw.events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 3d, delay: 2h, timezone: Asia/Kolkata}
    fail: {min: 100}
    warn: {min: 500, max: 1e6}
    severity: info
  - name: customers_email
    warehouse: shop
    table: crm.customers
    check: null_rate
    column: email
    timestamp_column: created_at
    partition: {every: 1d, lookback: 14d, delay: 1d, timezone: Europe/Berlin}
    fail: {max: "2%"}
    warn: {max: 0.01}
    min_rows: 50
)";

TEST_CASE("config: a full example loads into the expected values") {
  const Config config = load(kFullExample, {{"PGUSER", "alice"}, {"PGPASSWORD", "secret"}});
  CHECK(config.path == "gapwatch.yaml");

  REQUIRE(config.warehouses.size() == 2);
  const WarehouseConfig& shop = config.warehouses[0];
  CHECK(shop.name == "shop");
  CHECK(shop.connection == "Driver=PostgreSQL Unicode;Server=db;Uid=alice;Pwd=secret");
  CHECK(shop.connection_template == "Driver=PostgreSQL Unicode;Server=db;Uid=${PGUSER};Pwd=***");
  CHECK(shop.dialect == DialectKind::postgres);
  CHECK(zone_name(shop.zone) == "America/New_York");
  CHECK(shop.query_timeout == seconds{90});
  CHECK(shop.max_connections == 4);
  CHECK(shop.location.file == "gapwatch.yaml");
  CHECK(shop.location.line == 3);
  CHECK(shop.location.column == 5);

  const WarehouseConfig& lake = config.warehouses[1];
  CHECK(lake.name == "lake");
  CHECK(lake.connection == "DSN=lake");
  CHECK(lake.connection_template == "DSN=lake");
  CHECK_FALSE(lake.dialect.has_value());  // auto: asked from the driver
  CHECK(lake.zone == utc_zone());
  CHECK(lake.query_timeout == seconds{60});
  CHECK(lake.max_connections == 2);

  REQUIRE(config.rules.size() == 3);

  const RuleConfig& fresh = config.rules[0];
  CHECK(fresh.location.line == 17);
  CHECK(fresh.location.column == 5);
  CHECK(fresh.spec.name == "orders_fresh");
  CHECK(fresh.spec.warehouse == "shop");
  CHECK(fresh.spec.table.parts == std::vector<std::string>{"public", "orders"});
  CHECK(fresh.spec.check == CheckKind::freshness);
  CHECK(fresh.spec.timestamp_column == "updated_at");
  CHECK(fresh.spec.timestamp_format == TimestampFormat::epoch_ms);
  CHECK(fresh.spec.where == "status <> 'test'");
  CHECK(fresh.spec.lookback == seconds{30 * 86400});
  CHECK_FALSE(fresh.spec.thresholds.fail.min.has_value());
  CHECK(fresh.spec.thresholds.fail.max == 9000.0);
  REQUIRE(fresh.spec.thresholds.warn.has_value());
  CHECK(fresh.spec.thresholds.warn->max == 3600.0);
  CHECK(fresh.spec.severity == Severity::critical);  // from defaults
  // A rule's labels replace the default labels; they are not merged.
  CHECK(fresh.spec.labels ==
        std::map<std::string, std::string>{{"team", "growth"}, {"tier", "gold"}});
  CHECK_FALSE(fresh.spec.partition.has_value());
  CHECK_FALSE(fresh.spec.column.has_value());
  REQUIRE(std::holds_alternative<CronExpression>(fresh.schedule.when));
  CHECK(std::get<CronExpression>(fresh.schedule.when).text() == "0 6 * * mon-fri");
  CHECK(zone_name(fresh.schedule.zone) == "Europe/Berlin");
  CHECK(fresh.schedule.text == "0 6 * * mon-fri");

  const RuleConfig& hourly = config.rules[1];
  CHECK(hourly.spec.warehouse == "lake");
  CHECK(hourly.spec.table.parts == std::vector<std::string>{"analytics", "raw", "events"});
  CHECK(hourly.spec.check == CheckKind::row_count);
  CHECK(hourly.spec.timestamp_format == TimestampFormat::native);
  CHECK_FALSE(hourly.spec.where.has_value());
  CHECK_FALSE(hourly.spec.lookback.has_value());
  REQUIRE(hourly.spec.partition.has_value());
  CHECK(hourly.spec.partition->every == seconds{3600});
  CHECK(hourly.spec.partition->lookback == seconds{3 * 86400});
  CHECK(hourly.spec.partition->delay == seconds{7200});
  CHECK(zone_name(hourly.spec.partition->zone) == "Asia/Kolkata");
  CHECK(hourly.spec.thresholds.fail.min == 100.0);
  CHECK_FALSE(hourly.spec.thresholds.fail.max.has_value());
  REQUIRE(hourly.spec.thresholds.warn.has_value());
  CHECK(hourly.spec.thresholds.warn->min == 500.0);
  CHECK(hourly.spec.thresholds.warn->max == 1e6);
  CHECK(hourly.spec.severity == Severity::info);
  CHECK(hourly.spec.labels == std::map<std::string, std::string>{{"team", "data"}});
  REQUIRE(std::holds_alternative<seconds>(hourly.schedule.when));
  CHECK(std::get<seconds>(hourly.schedule.when) == seconds{600});
  CHECK(hourly.schedule.text == "10m");

  const RuleConfig& emails = config.rules[2];
  CHECK(emails.spec.check == CheckKind::null_rate);
  CHECK(emails.spec.column == "email");
  CHECK(emails.spec.timestamp_column == "created_at");
  CHECK(emails.spec.min_rows == 50);
  REQUIRE(emails.spec.partition.has_value());
  CHECK(emails.spec.partition->every == seconds{86400});
  CHECK(emails.spec.partition->lookback == seconds{14 * 86400});
  CHECK(emails.spec.partition->delay == seconds{86400});
  CHECK(zone_name(emails.spec.partition->zone) == "Europe/Berlin");
  CHECK(emails.spec.thresholds.fail.max == 0.02);
  REQUIRE(emails.spec.thresholds.warn.has_value());
  CHECK(emails.spec.thresholds.warn->max == 0.01);

  CHECK(config.find_warehouse("lake") == &config.warehouses[1]);
  CHECK(config.find_warehouse("nowhere") == nullptr);
  CHECK(config.find_rule("customers_email") == &config.rules[2]);
  CHECK(config.find_rule("nothing") == nullptr);
}

TEST_CASE("config: omitted optional keys take their documented defaults") {
  const Config config = load(one_rule(R"(    table: orders
    check: null_rate
    column: email
    timestamp_column: ts
    partition: {every: 1h, lookback: 1d}
    fail: {max: 0.1}
)"));
  REQUIRE(config.warehouses.size() == 1);
  const WarehouseConfig& warehouse = config.warehouses.front();
  CHECK_FALSE(warehouse.dialect.has_value());
  CHECK(warehouse.zone == utc_zone());
  CHECK(warehouse.query_timeout == seconds{60});
  CHECK(warehouse.max_connections == 2);
  // The daemon's defaults: the HTTP API on loopback only, writes disabled.
  CHECK(config.monitor.listen == "127.0.0.1:9464");
  CHECK(config.monitor.api_token.empty());
  CHECK(config.monitor.state_path == "gapwatch-state.db");
  CHECK_FALSE(config.monitor.dry_run);

  const RuleConfig& rule = config.rules.front();
  CHECK(rule.spec.warehouse == "shop");
  CHECK(rule.spec.timestamp_format == TimestampFormat::native);
  CHECK(rule.spec.severity == Severity::warning);
  CHECK(rule.spec.labels.empty());
  CHECK(rule.spec.min_rows == 1);
  CHECK_FALSE(rule.spec.thresholds.warn.has_value());
  REQUIRE(rule.spec.partition.has_value());
  CHECK(rule.spec.partition->delay == seconds{0});
  CHECK(rule.spec.partition->zone == utc_zone());
  REQUIRE(std::holds_alternative<seconds>(rule.schedule.when));
  CHECK(std::get<seconds>(rule.schedule.when) == seconds{300});
  CHECK(rule.schedule.text == "5m");
}

TEST_CASE("config: the quickstart example is valid") {
  const std::filesystem::path source_root = GAPWATCH_SOURCE_DIR;
  const std::string path = (source_root / "examples/quickstart/gapwatch.yaml").string();
  const ConfigResult result = load_config_file(path, lookup_in({}));
  REQUIRE_MESSAGE(result.has_value(), (result ? std::string() : joined(result.error())));
  CHECK(result->warehouses.front().connection ==
        "Driver=SQLite3;Database=examples/quickstart/warehouse.db");
  CHECK(result->rules.size() == 3);
}

TEST_CASE("config: a config without rules is valid") {
  const Config config = load(kOneWarehouse);
  CHECK(config.warehouses.size() == 1);
  CHECK(config.rules.empty());
}

// ---------------------------------------------------------------------------
// Defaults

TEST_CASE("config: defaults apply to every rule that does not give the key itself") {
  const Config config = load(std::string(kOneWarehouse) + R"(defaults:
  check: row_count
  table: events
  severity: critical
  schedule: 1h
  fail: {min: 1}
rules:
  - name: plain
  - name: own_values
    table: orders
    severity: info
    schedule: 30s
    fail: {min: 10, max: 20}
)");
  REQUIRE(config.rules.size() == 2);
  const RuleConfig& plain = config.rules[0];
  CHECK(plain.spec.table.display() == "events");
  CHECK(plain.spec.check == CheckKind::row_count);
  CHECK(plain.spec.severity == Severity::critical);
  CHECK(std::get<seconds>(plain.schedule.when) == seconds{3600});
  CHECK(plain.spec.thresholds.fail.min == 1.0);
  CHECK_FALSE(plain.spec.thresholds.fail.max.has_value());

  const RuleConfig& own = config.rules[1];
  CHECK(own.spec.table.display() == "orders");
  CHECK(own.spec.check == CheckKind::row_count);
  CHECK(own.spec.severity == Severity::info);
  CHECK(std::get<seconds>(own.schedule.when) == seconds{30});
  CHECK(own.spec.thresholds.fail.min == 10.0);
  CHECK(own.spec.thresholds.fail.max == 20.0);
}

TEST_CASE("config: an error in defaults is reported once, at the default, for all its users") {
  CHECK(errors_of(std::string(kOneWarehouse) + R"(defaults:
  severity: critcal
  schedule: 0s
rules:
  - name: first
    table: t
    check: row_count
    fail: {min: 1}
  - name: second
    table: t
    check: row_count
    fail: {min: 1}
  - name: third
    table: t
    check: row_count
    fail: {min: 1}
)") == "gapwatch.yaml:6:13: error: defaults.severity: 'critcal' is not one of info, warning, "
       "critical (did you mean 'critical'?)\n"
       "gapwatch.yaml:7:13: error: defaults.schedule: must be longer than 0s");
}

TEST_CASE("config: an unknown key in defaults is reported with a did-you-mean") {
  CHECK(errors_of(std::string(kOneWarehouse) + "defaults:\n  chek: row_count\n") ==
        "gapwatch.yaml:6:3: error: defaults.chek: unknown key 'chek' (did you mean 'check'?)");
}

// ---------------------------------------------------------------------------
// YAML and document shape

TEST_CASE("config: malformed YAML is reported at the parser's position") {
  CHECK(errors_of("version: 1\nwarehouses: [shop\n") ==
        "gapwatch.yaml:3:1: error: invalid YAML: end of sequence flow not found");
  CHECK(errors_of("version: 1\nwarehouses:\n  - name: a\n   b: c\n") ==
        "gapwatch.yaml:4:4: error: invalid YAML: end of sequence not found");
}

TEST_CASE("config: a tab in indentation is reported with a hint to use spaces") {
  SUBCASE("before a key") {
    CHECK(errors_of("version: 1\nwarehouses:\n  - name: shop\n\tconnection: x\n") ==
          "gapwatch.yaml:4:1: error: invalid YAML: illegal tab when looking for indentation "
          "(indent with spaces: YAML forbids tabs)");
  }
  SUBCASE("before a list item") {
    CHECK(errors_of("version: 1\nwarehouses:\n\t- name: shop\n") ==
          "gapwatch.yaml:3:2: error: invalid YAML: illegal block entry (indent with spaces: "
          "YAML forbids tabs)");
  }
  SUBCASE("a tab after a colon is ordinary white space") {
    const Config config = load("version:\t1\nwarehouses:\n  - name: shop\n    connection: x\n");
    CHECK(config.warehouses.front().connection == "x");
  }
}

TEST_CASE("config: an empty document is reported as empty") {
  const std::string expected =
      "gapwatch.yaml:1:1: error: the configuration is empty (expected version, warehouses, "
      "rules)";
  CHECK(errors_of("") == expected);
  CHECK(errors_of("# nothing yet\n\n") == expected);
  CHECK(errors_of("---\n") == expected);
}

TEST_CASE("config: a document that is not a mapping is reported without a key path") {
  CHECK(errors_of("- version: 1\n") ==
        "gapwatch.yaml:1:1: error: expected a mapping, found a list");
  CHECK(errors_of("gapwatch\n") == "gapwatch.yaml:1:1: error: expected a mapping, found a scalar");
}

TEST_CASE("config: a list where a mapping is expected is a type error") {
  CHECK(errors_of(std::string(kOneWarehouse) + "rules:\n  - [orders, t]\n") ==
        "gapwatch.yaml:6:5: error: rules[0]: expected a mapping, found a list");
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    fail: [1, 2]\n")) ==
        "gapwatch.yaml:9:11: error: rules[0].fail: expected a mapping, found a list");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    timestamp_column: ts
    partition: [1h, 1d]
    fail: {min: 1}
)")) == "gapwatch.yaml:10:16: error: rules[0].partition: expected a mapping, found a list");
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    fail: {min: 1}\n"
                           "    labels: [team]\n")) ==
        "gapwatch.yaml:10:13: error: rules[0].labels: expected a mapping, found a list");
}

TEST_CASE("config: a mapping where text is expected is a type error") {
  CHECK(errors_of(one_rule("    table: {schema: crm, name: t}\n    check: row_count\n"
                           "    fail: {min: 1}\n")) ==
        "gapwatch.yaml:7:12: error: rules[0].table: expected a text value, found a mapping");
  CHECK(errors_of(one_warehouse("    timezone: {name: UTC}\n")) ==
        "gapwatch.yaml:5:15: error: warehouses[0].timezone: expected a text value, found a "
        "mapping");
  CHECK(errors_of(one_rule("    table: t\n    check: [row_count]\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:8:12: error: rules[0].check: expected a text value, found a list");
}

TEST_CASE("config: a mapping where a list is expected is a type error") {
  CHECK(errors_of("version: 1\nwarehouses: {name: shop, connection: x}\n") ==
        "gapwatch.yaml:2:13: error: warehouses: expected a list, found a mapping");
  CHECK(errors_of(std::string(kOneWarehouse) + "rules: {name: orders}\n") ==
        "gapwatch.yaml:5:8: error: rules: expected a list, found a mapping");
}

TEST_CASE("config: an empty warehouse list is an error") {
  CHECK(errors_of("version: 1\nwarehouses: []\n") ==
        "gapwatch.yaml:2:13: error: warehouses: at least one warehouse is needed");
}

TEST_CASE("config: a duplicate key is reported at its second occurrence") {
  CHECK(errors_of("version: 1\nversion: 1\nwarehouses:\n  - name: shop\n    connection: x\n") ==
        "gapwatch.yaml:2:1: error: version: duplicate key (first given on line 1)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    table: u
)")) == "gapwatch.yaml:10:5: error: rules[0].table: duplicate key (first given on line 7)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1, min: 2}
)")) == "gapwatch.yaml:9:20: error: rules[0].fail.min: duplicate key (first given on line 9)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    labels: {team: a, team: b}
)")) == "gapwatch.yaml:10:23: error: rules[0].labels.team: duplicate key");
}

TEST_CASE("config: a duplicate key in a mapping of many keys is found by its index too") {
  // Past the first sixteen keys the duplicate check uses a hash map: a
  // duplicate of a key read before it switched is still found, and only the
  // first value counts.
  std::string body = "    table: t\n    check: row_count\n    fail: {min: 1}\n";
  for (int i = 0; i < 20; ++i) {
    body += fmt::format("    junk_{:02}: x\n", i);
  }
  body += "    table: u\n    junk_19: y\n";
  const std::string errors = errors_of(one_rule(body));
  CHECK(errors.find("gapwatch.yaml:30:5: error: rules[0].table: duplicate key (first given on "
                    "line 7)") != std::string::npos);
  CHECK(errors.find("gapwatch.yaml:31:5: error: rules[0].junk_19: duplicate key (first given on "
                    "line 29)") != std::string::npos);
  CHECK(errors.find("rules[0].junk_00: unknown key 'junk_00'") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Unknown keys

TEST_CASE("config: an unknown top-level key is reported with a did-you-mean") {
  CHECK(errors_of(std::string(kOneWarehouse) + "rule: []\n") ==
        "gapwatch.yaml:5:1: error: rule: unknown key 'rule' (did you mean 'rules'?)");
}

TEST_CASE("config: an unknown top-level key without a near match lists the known keys") {
  CHECK(errors_of(std::string(kOneWarehouse) + "alerts: []\n") ==
        "gapwatch.yaml:5:1: error: alerts: unknown key 'alerts' (expected one of: version, "
        "monitor, warehouses, executors, defaults, rules, include)");
}

TEST_CASE("config: an unknown warehouse key is reported with or without a suggestion") {
  CHECK(errors_of(one_warehouse("    timezon: UTC\n")) ==
        "gapwatch.yaml:5:5: error: warehouses[0].timezon: unknown key 'timezon' (did you mean "
        "'timezone'?)");
  CHECK(errors_of(one_warehouse("    host: db\n")) ==
        "gapwatch.yaml:5:5: error: warehouses[0].host: unknown key 'host' (expected one of: "
        "name, connection, dsn, user, password, dialect, timezone, query_timeout, "
        "max_connections)");
}

TEST_CASE("config: an unknown rule key is reported with a did-you-mean") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    chek: row_count
)")) == "gapwatch.yaml:10:5: error: rules[0].chek: unknown key 'chek' (did you mean 'check'?)");
}

TEST_CASE("config: a did-you-mean counts two swapped letters as one typo") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    wehre: x > 0
)")) == "gapwatch.yaml:10:5: error: rules[0].wehre: unknown key 'wehre' (did you mean "
        "'where'?)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    wran: {min: 5}
)")) == "gapwatch.yaml:10:5: error: rules[0].wran: unknown key 'wran' (did you mean 'warn'?)");
}

TEST_CASE("config: an unknown rule key without a near match lists the rule keys") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    owner: me
)")) == "gapwatch.yaml:10:5: error: rules[0].owner: unknown key 'owner' (expected one of: "
        "name, warehouse, table, check, timestamp_column, timestamp_format, where, lookback, "
        "warn, fail, severity, labels, schedule, schedule_timezone, partition, column, "
        "min_rows, backfill, future_tolerance, baseline, segment_by, max_segments, source)");
}

TEST_CASE("config: future_tolerance, freshness only, 5m unless set") {
  const std::string freshness = R"(    table: t
    check: freshness
    timestamp_column: ts
    fail: {max: 1h}
)";
  CHECK(load(one_rule(freshness)).rules.front().spec.future_tolerance == std::chrono::minutes{5});
  CHECK(load(one_rule(freshness + "    future_tolerance: 30m\n")).rules.front().spec.future_tolerance ==
        std::chrono::minutes{30});
  CHECK(load(one_rule(freshness + "    future_tolerance: 0s\n")).rules.front().spec.future_tolerance ==
        std::chrono::seconds{0});
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    future_tolerance: 5m
)")) == "gapwatch.yaml:10:23: error: rules[0].future_tolerance: future_tolerance applies to "
        "freshness rules only");
}

TEST_CASE("config: baseline, its defaults and drop/rise thresholds") {
  const std::string hourly = R"(    table: t
    check: row_count
    timestamp_column: ts
    partition: {every: 1h, lookback: 2d, delay: 1h, timezone: Europe/Berlin}
)";
  const RuleSpec spec = only_rule(load(one_rule(hourly + R"(    baseline: {}
    fail: {drop: 50%, min: 1}
    warn: {drop: 0.25, rise: 100%}
)")));
  REQUIRE(spec.baseline);
  CHECK(spec.baseline->history == std::chrono::days{28});
  CHECK_FALSE(spec.baseline->seasonality);
  CHECK(spec.baseline->sensitivity == 3.0);
  CHECK(spec.baseline->min_history == 3);
  CHECK(spec.baseline->refresh == std::chrono::hours{24});
  CHECK(spec.thresholds.fail.drop == 0.5);
  CHECK(spec.thresholds.fail.min == 1);
  CHECK(spec.thresholds.warn->drop == 0.25);
  CHECK(spec.thresholds.warn->rise == 1.0);

  const RuleSpec tuned = only_rule(load(one_rule(hourly + R"(    baseline: {history: 14d, seasonality: hour_of_day, sensitivity: 4.5, min_history: 5, refresh: 6h}
    fail: {rise: 200%}
)")));
  CHECK(tuned.baseline->history == std::chrono::days{14});
  CHECK(tuned.baseline->seasonality == Seasonality::hour_of_day);
  CHECK(tuned.baseline->sensitivity == 4.5);
  CHECK(tuned.baseline->min_history == 5);
  CHECK(tuned.baseline->refresh == std::chrono::hours{6});

  const RuleSpec nulls = only_rule(load(one_rule(R"(    table: t
    check: null_rate
    column: email
    timestamp_column: ts
    partition: {every: 1d, lookback: 7d}
    baseline: {}
    fail: {rise: 5%}
)")));
  CHECK(nulls.thresholds.fail.rise == doctest::Approx(0.05));
}

TEST_CASE("config: drop and rise need a baseline; a baseline needs a partition") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    timestamp_column: ts
    partition: {every: 1h, lookback: 2d}
    fail: {drop: 50%}
)")) == "gapwatch.yaml:11:18: error: rules[0].fail.drop: drop compares a bucket with what its "
        "history leads to expect: give the rule a baseline");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    baseline: {}
    fail: {min: 1}
)")) == "gapwatch.yaml:9:15: error: rules[0].baseline: a baseline learns per bucket: give the "
        "rule a partition");
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    baseline: {}
    fail: {max: 1h}
)")) == "gapwatch.yaml:10:15: error: rules[0].baseline: freshness judges the newest row; "
        "baseline applies to row_count and null_rate");
}

TEST_CASE("config: baseline values out of range name their key") {
  const std::string hourly = R"(    table: t
    check: row_count
    timestamp_column: ts
    partition: {every: 1h, lookback: 2d}
)";
  const std::string minutely = R"(    table: t
    check: row_count
    timestamp_column: ts
    partition: {every: 1m, lookback: 2h}
)";
  CHECK(errors_of(one_rule(hourly + R"(    baseline: {seasonality: hour_of_month}
    fail: {drop: 50%}
)")) .starts_with("gapwatch.yaml:11:29: error: rules[0].baseline.seasonality: "));
  CHECK(errors_of(one_rule(hourly + R"(    baseline: {sensitivity: 0}
    fail: {drop: 50%}
)")) == "gapwatch.yaml:11:29: error: rules[0].baseline.sensitivity: sensitivity is the band's "
        "width in robust deviations: give a number above 0 (3 is usual)");
  CHECK(errors_of(one_rule(minutely + R"(    baseline: {history: 28d}
    fail: {drop: 50%}
)")) == "gapwatch.yaml:11:25: error: rules[0].baseline.history: history (28d) holds 40320 "
        "minutely buckets, more than the 20000 a rule may keep: shorten history or widen "
        "partition.every");
  CHECK(errors_of(one_rule(hourly + R"(    baseline: {}
    fail: {drop: 150%}
)")) == "gapwatch.yaml:12:18: error: rules[0].fail.drop: a drop lies above 0% and at most 100% "
        "(no rows), got '150%'");
  CHECK(errors_of(one_rule(hourly + R"(    baseline: {}
    fail: {drop: 25%}
    warn: {drop: 50%}
)")) == "gapwatch.yaml:13:11: error: rules[0].warn: warn.drop must be below fail.drop, or warn "
        "could never fire before fail");
}

TEST_CASE("config: an unknown partition key is reported with or without a suggestion") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    timestamp_column: ts
    partition: {evry: 1h, every: 1h, lookback: 1d}
    fail: {min: 1}
)")) == "gapwatch.yaml:10:17: error: rules[0].partition.evry: unknown key 'evry' (did you "
        "mean 'every'?)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    timestamp_column: ts
    partition: {every: 1h, lookback: 1d, grace: 1h}
    fail: {min: 1}
)")) == "gapwatch.yaml:10:42: error: rules[0].partition.grace: unknown key 'grace' (expected "
        "one of: every, lookback, delay, timezone)");
}

TEST_CASE("config: an unknown threshold key is reported with or without a suggestion") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1, maxx: 5}
)")) == "gapwatch.yaml:9:20: error: rules[0].fail.maxx: unknown key 'maxx' (did you mean "
        "'max'?)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    warn: {min: 5, above: 9}
)")) == "gapwatch.yaml:10:20: error: rules[0].warn.above: unknown key 'above' (expected one "
        "of: min, max, drop, rise, missing, extra)");
}

// ---------------------------------------------------------------------------
// Required keys

TEST_CASE("config: a missing version or warehouses is reported at the top of the document") {
  CHECK(errors_of("warehouses:\n  - name: shop\n    connection: x\n") ==
        "gapwatch.yaml:1:1: error: missing required key 'version'");
  CHECK(errors_of("version: 1\n") == "gapwatch.yaml:1:1: error: missing required key 'warehouses'");
}

TEST_CASE("config: an unsupported or malformed version is an error") {
  CHECK(errors_of("version: 2\nwarehouses:\n  - name: shop\n    connection: x\n") ==
        "gapwatch.yaml:1:10: error: version: unsupported version 2 (this gapwatch reads 1)");
  CHECK(errors_of("version: 1.0\nwarehouses:\n  - name: shop\n    connection: x\n") ==
        "gapwatch.yaml:1:10: error: version: expected a whole number, got '1.0'");
}

TEST_CASE("config: a warehouse without a name is reported at the warehouse") {
  CHECK(errors_of("version: 1\nwarehouses:\n  - connection: x\n") ==
        "gapwatch.yaml:3:5: error: warehouses[0]: missing required key 'name'");
}

TEST_CASE("config: a rule without name, table, check or fail is reported at the rule") {
  CHECK(errors_of(std::string(kOneWarehouse) +
                  "rules:\n  - table: t\n    check: row_count\n    fail: {min: 1}\n") ==
        "gapwatch.yaml:6:5: error: rules[0]: missing required key 'name'");
  CHECK(errors_of(one_rule("    check: row_count\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:6:5: error: rules[0]: missing required key 'table'");
  CHECK(errors_of(one_rule("    table: t\n    fail: {min: 1}\n")) ==
        "gapwatch.yaml:6:5: error: rules[0]: missing required key 'check'");
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n")) ==
        "gapwatch.yaml:6:5: error: rules[0]: missing required key 'fail'");
}

TEST_CASE("config: a warn without a fail is reported as a missing fail") {
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    warn: {min: 5}\n")) ==
        "gapwatch.yaml:6:5: error: rules[0]: missing required key 'fail'");
}

TEST_CASE("config: null_rate needs a column") {
  CHECK(errors_of(one_rule("    table: t\n    check: null_rate\n    fail: {max: 0.1}\n")) ==
        "gapwatch.yaml:6:5: error: rules[0]: missing required key 'column' (the column whose "
        "NULLs are counted)");
}

TEST_CASE("config: freshness, partition and lookback each need a timestamp_column") {
  CHECK(errors_of(one_rule("    table: t\n    check: freshness\n    fail: {max: 1h}\n")) ==
        "gapwatch.yaml:6:5: error: rules[0]: missing required key 'timestamp_column' "
        "(freshness needs it)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    partition: {every: 1h, lookback: 1d}
    fail: {min: 1}
)")) == "gapwatch.yaml:6:5: error: rules[0]: missing required key 'timestamp_column' "
        "(partition needs it)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: null_rate
    column: c
    lookback: 7d
    fail: {max: 0.5}
)")) == "gapwatch.yaml:6:5: error: rules[0]: missing required key 'timestamp_column' "
        "(lookback needs it)");
}

TEST_CASE("config: a whole-table row_count needs no timestamp_column") {
  const Config config = load(one_rule("    table: t\n    check: row_count\n    fail: {min: 1}\n"));
  CHECK_FALSE(only_rule(config).timestamp_column.has_value());
  CHECK_FALSE(only_rule(config).partition.has_value());
}

// ---------------------------------------------------------------------------
// Durations

TEST_CASE("config: durations combine units and are read as seconds") {
  const Config config = load(one_warehouse("    query_timeout: 1d2h3m4s\n"));
  CHECK(config.warehouses.front().query_timeout == seconds{86400 + 7200 + 180 + 4});
}

TEST_CASE("config: a zero, negative or garbled duration is an error") {
  CHECK(errors_of(one_warehouse("    query_timeout: 0s\n")) ==
        "gapwatch.yaml:5:20: error: warehouses[0].query_timeout: must be longer than 0s");
  CHECK(errors_of(one_warehouse("    query_timeout: -5m\n")) ==
        "gapwatch.yaml:5:20: error: warehouses[0].query_timeout: a duration cannot be negative "
        "(got '-5m')");
  CHECK(errors_of(one_warehouse("    query_timeout: 5 minutes\n")) ==
        "gapwatch.yaml:5:20: error: warehouses[0].query_timeout: invalid duration '5 minutes': "
        "unit ' ' is unknown or out of order (use d, h, m, s in that order)");
  CHECK(errors_of(one_warehouse("    query_timeout: 1h30\n")) ==
        "gapwatch.yaml:5:20: error: warehouses[0].query_timeout: invalid duration '1h30': "
        "missing unit (d, h, m or s) after 30");
  CHECK(errors_of(one_warehouse("    query_timeout: 30m1h\n")) ==
        "gapwatch.yaml:5:20: error: warehouses[0].query_timeout: invalid duration '30m1h': "
        "unit 'h' is unknown or out of order (use d, h, m, s in that order)");
  CHECK(errors_of(one_warehouse("    query_timeout: \"\"\n")) ==
        "gapwatch.yaml:5:20: error: warehouses[0].query_timeout: empty duration; expected e.g. "
        "30s, 5m, 2h, 1d or 1h30m");
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    lookback: 0s
    fail: {max: 1h}
)")) == "gapwatch.yaml:10:15: error: rules[0].lookback: must be longer than 0s");
}

// An executor `hook` signing with `secret` (the value on line 9, column 23).
std::string signed_webhook(std::string_view secret) {
  return std::string(kOneWarehouse) + "executors:\n  - name: hook\n    webhook:\n" +
         "      url: http://127.0.0.1:1/\n      signing_secret: " + std::string(secret) + "\n";
}

TEST_CASE("config: signing_secret is whsec_ or bare base64 of 24 to 64 bytes, as receivers read it") {
  // 24 bytes, the Standard Webhooks reference libraries' test secret.
  CHECK(load(signed_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).executors.size() == 1);
  CHECK(load(signed_webhook("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).executors.size() == 1);
  const std::string sixty_four(88, 'A');  // 64 zero bytes: "AAAA…"
  CHECK(load(signed_webhook("whsec_" + sixty_four.substr(0, 86) + "==")).executors.size() == 1);
  // Text that is not base64 was once signed with as its bytes: a receiver
  // using any reference library could not verify it.
  CHECK(errors_of(signed_webhook("plain-secret")) ==
        "gapwatch.yaml:9:23: error: executors[0].webhook.signing_secret: the signing secret must "
        "be base64 (after an optional whsec_ prefix), as every Standard Webhooks library decodes "
        "it: invalid base64");
  CHECK(errors_of(signed_webhook("whsec_c2VjcmV0")) ==
        "gapwatch.yaml:9:23: error: executors[0].webhook.signing_secret: the signing secret "
        "decodes to 6 bytes; Standard Webhooks secrets are 24 to 64 bytes");
  CHECK(errors_of(signed_webhook("whsec_" + std::string(88, 'A') + "AAAA"))
            .ends_with("decodes to 69 bytes; Standard Webhooks secrets are 24 to 64 bytes"));
  CHECK(errors_of(signed_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"))
            .ends_with("invalid base64: length is not a multiple of 4"));
}

// A rule `orders` with an executor `reload` and `backfill` given as written
// (on line 14).
std::string backfilled_rule(std::string_view backfill) {
  return std::string(kOneWarehouse) + R"(executors:
  - name: reload
    command: {argv: ["/bin/true"]}
rules:
  - name: orders
    table: t
    check: freshness
    timestamp_column: ts
    fail: {max: 1h}
)" + std::string(backfill);
}

TEST_CASE("config: backfill.attempt_backoff defaults to 5m, may be 0s and is at most 2h") {
  const auto backoff_of = [](std::string_view backfill) {
    const Config config = load(backfilled_rule(backfill));
    REQUIRE(config.rules.front().backfill.has_value());
    return config.rules.front().backfill->attempt_backoff;
  };
  CHECK(backoff_of("    backfill: {executor: reload}\n") == seconds{300});
  CHECK(backoff_of("    backfill: {executor: reload, attempt_backoff: 90s}\n") == seconds{90});
  CHECK(backoff_of("    backfill: {executor: reload, attempt_backoff: 0s}\n") == seconds{0});
  CHECK(backoff_of("    backfill: {executor: reload, attempt_backoff: 2h}\n") == seconds{7200});
  CHECK(errors_of(backfilled_rule("    backfill: {executor: reload, attempt_backoff: 2h1s}\n")) ==
        "gapwatch.yaml:14:51: error: rules[0].backfill.attempt_backoff: attempt_backoff must be "
        "at most 2h (the longest wait between two attempts)");
  CHECK(errors_of(backfilled_rule("    backfill: {executor: reload, attempt_backoff: -1m}\n")) ==
        "gapwatch.yaml:14:51: error: rules[0].backfill.attempt_backoff: a duration cannot be "
        "negative (got '-1m')");
}

TEST_CASE("config: backfill.order is newest_first unless the rule says oldest_first") {
  const auto order_of = [](std::string_view backfill) {
    const Config config = load(backfilled_rule(backfill));
    REQUIRE(config.rules.front().backfill.has_value());
    return config.rules.front().backfill->order;
  };
  CHECK(order_of("    backfill: {executor: reload}\n") == BackfillPolicy::Order::newest_first);
  CHECK(order_of("    backfill: {executor: reload, order: oldest_first}\n") ==
        BackfillPolicy::Order::oldest_first);
  CHECK(errors_of(backfilled_rule("    backfill: {executor: reload, order: newest}\n"))
            .starts_with("gapwatch.yaml:14:41: error: rules[0].backfill.order: 'newest' is not one "
                         "of newest_first, oldest_first"));
}

TEST_CASE("config: a partition delay may be zero but not negative") {
  const std::string prefix = "    table: t\n    check: row_count\n    timestamp_column: ts\n";
  const Config config = load(one_rule(
      prefix + "    partition: {every: 1h, lookback: 1d, delay: 0s}\n    fail: {min: 1}\n"));
  CHECK(only_rule(config).partition->delay == seconds{0});
  CHECK(errors_of(one_rule(prefix + "    partition: {every: 1h, lookback: 1d, delay: -1h}\n"
                                    "    fail: {min: 1}\n")) ==
        "gapwatch.yaml:10:49: error: rules[0].partition.delay: a duration cannot be negative "
        "(got '-1h')");
}

// ---------------------------------------------------------------------------
// Partitions

std::string partitioned_rule(std::string_view partition) {
  return one_rule(std::string("    table: t\n    check: row_count\n    timestamp_column: ts\n") +
                  "    partition: " + std::string(partition) + "\n    fail: {min: 1}\n");
}

TEST_CASE("config: partition.every must be whole minutes dividing a day, at most 12h, or 1d") {
  // The partition mapping opens on line 10, column 16; every's value is in column 24.
  CHECK(errors_of(partitioned_rule("{every: 7h, lookback: 3d}")) ==
        "gapwatch.yaml:10:24: error: rules[0].partition.every: every must be whole minutes "
        "dividing a day (1m … 12h) or 1d, got 7h");
  CHECK(errors_of(partitioned_rule("{every: 90s, lookback: 3d}")) ==
        "gapwatch.yaml:10:24: error: rules[0].partition.every: every must be whole minutes "
        "dividing a day (1m … 12h) or 1d, got 1m30s");
  CHECK(errors_of(partitioned_rule("{every: 25h, lookback: 3d}")) ==
        "gapwatch.yaml:10:24: error: rules[0].partition.every: every must be whole minutes "
        "dividing a day (1m … 12h) or 1d, got 1d1h");
  CHECK(errors_of(partitioned_rule("{every: 2d, lookback: 9d}")) ==
        "gapwatch.yaml:10:24: error: rules[0].partition.every: every must be whole minutes "
        "dividing a day (1m … 12h) or 1d, got 2d");
  CHECK(errors_of(partitioned_rule("{every: 30s, lookback: 3d}")) ==
        "gapwatch.yaml:10:24: error: rules[0].partition.every: every must be whole minutes "
        "dividing a day (1m … 12h) or 1d, got 30s");
  CHECK(errors_of(partitioned_rule("{every: 0s, lookback: 3d}")) ==
        "gapwatch.yaml:10:24: error: rules[0].partition.every: must be longer than 0s");
}

TEST_CASE("config: partition.every accepts every divisor of a day from 1m to 12h, and 1d") {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, seconds>>{
           {"1m", seconds{60}},
           {"90m", seconds{5400}},
           {"1h30m", seconds{5400}},
           {"2h", seconds{7200}},
           {"8h", seconds{28800}},
           {"12h", seconds{43200}},
           {"1d", seconds{86400}},
           {"24h", seconds{86400}},
       }) {
    CAPTURE(text);
    const Config config = load(partitioned_rule("{every: " + text + ", lookback: 10d}"));
    CHECK(only_rule(config).partition->every == expected);
  }
}

TEST_CASE("config: partition.lookback must cover the delay plus one bucket") {
  const Config config = load(partitioned_rule("{every: 1h, lookback: 3h30m, delay: 2h30m}"));
  CHECK(only_rule(config).partition->lookback == seconds{3 * 3600 + 1800});
  CHECK(errors_of(partitioned_rule("{every: 1h, lookback: 3h, delay: 2h30m}")) ==
        "gapwatch.yaml:10:38: error: rules[0].partition.lookback: lookback (3h) must cover "
        "delay (2h30m) plus at least one bucket (1h)");
  CHECK(errors_of(partitioned_rule("{every: 1d, lookback: 12h}")) ==
        "gapwatch.yaml:10:38: error: rules[0].partition.lookback: lookback (12h) must cover "
        "delay (0s) plus at least one bucket (1d)");
}

TEST_CASE("config: a partition needs every and lookback") {
  CHECK(errors_of(partitioned_rule("{lookback: 1d}")) ==
        "gapwatch.yaml:10:16: error: rules[0].partition: missing required key 'every'");
  CHECK(errors_of(partitioned_rule("{every: 1h}")) ==
        "gapwatch.yaml:10:16: error: rules[0].partition: missing required key 'lookback'");
}

TEST_CASE("config: a partition on a freshness rule is an error") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    partition: {every: 1h, lookback: 1d}
    fail: {max: 1h}
)")) == "gapwatch.yaml:10:16: error: rules[0].partition: freshness judges the newest row; "
        "partition applies to row_count and null_rate");
}

// ---------------------------------------------------------------------------
// Time zones and schedules

TEST_CASE("config: an unknown time zone is an error wherever a zone is given") {
  const std::string hint =
      " (expected an IANA name such as UTC, Europe/Berlin or "
      "America/New_York)";
  CHECK(errors_of(one_warehouse("    timezone: Europe/Berln\n")) ==
        "gapwatch.yaml:5:15: error: warehouses[0].timezone: unknown time zone 'Europe/Berln'" +
            hint);
  CHECK(errors_of(partitioned_rule("{every: 1h, lookback: 1d, timezone: CEST}")) ==
        "gapwatch.yaml:10:52: error: rules[0].partition.timezone: unknown time zone 'CEST'" + hint);
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    schedule: "0 6 * * *"
    schedule_timezone: Mars/Olympus_Mons
)")) == "gapwatch.yaml:11:24: error: rules[0].schedule_timezone: unknown time zone "
        "'Mars/Olympus_Mons'" +
            hint);
}

std::string scheduled_rule(std::string_view schedule_lines) {
  return one_rule("    table: t\n    check: row_count\n    fail: {min: 1}\n" +
                  std::string(schedule_lines));
}

TEST_CASE("config: a schedule is a duration or a cron expression") {
  SUBCASE("duration") {
    const Config config = load(scheduled_rule("    schedule: 1h30m\n"));
    const RuleConfig& rule = config.rules.front();
    REQUIRE(std::holds_alternative<seconds>(rule.schedule.when));
    CHECK(std::get<seconds>(rule.schedule.when) == seconds{5400});
    CHECK(rule.schedule.text == "1h30m");
  }
  SUBCASE("cron with a time zone") {
    const Config config =
        load(scheduled_rule("    schedule: \"*/15 * * * *\"\n"
                            "    schedule_timezone: America/New_York\n"));
    const RuleConfig& rule = config.rules.front();
    REQUIRE(std::holds_alternative<CronExpression>(rule.schedule.when));
    CHECK(std::get<CronExpression>(rule.schedule.when).text() == "*/15 * * * *");
    CHECK(zone_name(rule.schedule.zone) == "America/New_York");
  }
  SUBCASE("cron macro, in UTC by default") {
    const Config config = load(scheduled_rule("    schedule: \"@hourly\"\n"));
    const RuleConfig& rule = config.rules.front();
    REQUIRE(std::holds_alternative<CronExpression>(rule.schedule.when));
    CHECK(rule.schedule.zone == utc_zone());
  }
}

TEST_CASE("config: a bad cron schedule is reported with the cron parser's reason") {
  CHECK(errors_of(scheduled_rule("    schedule: \"61 * * * *\"\n")) ==
        "gapwatch.yaml:10:15: error: rules[0].schedule: minute field '61': value 61 out of "
        "range 0-59");
  CHECK(errors_of(scheduled_rule("    schedule: \"0 6 * *\"\n")) ==
        "gapwatch.yaml:10:15: error: rules[0].schedule: expected 5 fields (minute hour "
        "day-of-month month day-of-week), got 4");
  CHECK(errors_of(scheduled_rule("    schedule: \"@fortnightly\"\n")) ==
        "gapwatch.yaml:10:15: error: rules[0].schedule: unknown macro '@fortnightly' (expected "
        "@hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)");
}

TEST_CASE("config: a cron schedule that never fires is an error") {
  CHECK(errors_of(scheduled_rule("    schedule: \"0 0 30 2 *\"\n")) ==
        "gapwatch.yaml:10:15: error: rules[0].schedule: '0 0 30 2 *' never fires: no date "
        "matches it");
}

TEST_CASE("config: a schedule that is neither a duration nor a cron expression is an error") {
  // Without a space it is read as a duration.
  CHECK(errors_of(scheduled_rule("    schedule: \"*/5\"\n")) ==
        "gapwatch.yaml:10:15: error: rules[0].schedule: invalid duration '*/5': expected a "
        "number at position 1");
  CHECK(errors_of(scheduled_rule("    schedule: 0s\n")) ==
        "gapwatch.yaml:10:15: error: rules[0].schedule: must be longer than 0s");
}

TEST_CASE("config: schedule_timezone with a duration schedule is an error") {
  CHECK(errors_of(scheduled_rule("    schedule: 10m\n    schedule_timezone: Europe/Berlin\n")) ==
        "gapwatch.yaml:11:24: error: rules[0].schedule_timezone: schedule_timezone applies to "
        "cron schedules only");
}

TEST_CASE("config: schedule_timezone without any schedule is an error") {
  CHECK(errors_of(scheduled_rule("    schedule_timezone: Europe/Berlin\n")) ==
        "gapwatch.yaml:10:24: error: rules[0].schedule_timezone: schedule_timezone applies to "
        "cron schedules only (the default schedule is every 5m)");
}

// ---------------------------------------------------------------------------
// Identifiers and names

std::string rule_with_table(std::string_view table_line) {
  return one_rule(std::string(table_line) + "\n    check: row_count\n    fail: {min: 1}\n");
}

TEST_CASE("config: a table name is one to three valid identifiers") {
  const std::string only = "only letters, digits and underscores are allowed";
  CHECK(errors_of(rule_with_table(R"(    table: 'ord"ers')")) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'ord\"ers': invalid identifier "
        "'ord\"ers': " +
            only);
  CHECK(errors_of(rule_with_table(R"(    table: "orders; drop table x")")) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'orders; drop table x': "
        "invalid identifier 'orders; drop table x': " +
            only);
  CHECK(errors_of(rule_with_table("    table: my orders")) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'my orders': invalid "
        "identifier 'my orders': " +
            only);
  CHECK(errors_of(rule_with_table("    table: public.1orders")) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'public.1orders': invalid "
        "identifier '1orders': must start with a letter or underscore");
  CHECK(errors_of(rule_with_table("    table: a.b.c.d")) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'a.b.c.d': at most "
        "catalog.schema.table");
  CHECK(errors_of(rule_with_table("    table: crm..customers")) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'crm..customers': empty "
        "identifier");
  const std::string long_part(129, 'x');
  CHECK(errors_of(rule_with_table("    table: crm." + long_part)) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'crm." + long_part +
            "': identifier is longer than 128 characters");
  const std::string longest_part(128, 'x');
  CHECK(only_rule(load(rule_with_table("    table: _crm." + longest_part))).table.parts ==
        std::vector<std::string>{"_crm", longest_part});
}

TEST_CASE("config: timestamp_column and column must be valid identifiers") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: "updated at"
    fail: {max: 1h}
)")) == "gapwatch.yaml:9:23: error: rules[0].timestamp_column: invalid identifier 'updated "
        "at': only letters, digits and underscores are allowed");
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: 2nd_ts
    fail: {max: 1h}
)")) == "gapwatch.yaml:9:23: error: rules[0].timestamp_column: invalid identifier '2nd_ts': "
        "must start with a letter or underscore");
  CHECK(errors_of(one_rule(R"(    table: t
    check: null_rate
    column: "email;--"
    fail: {max: 0.1}
)")) == "gapwatch.yaml:9:13: error: rules[0].column: invalid identifier 'email;--': only "
        "letters, digits and underscores are allowed");
  CHECK(errors_of(one_rule("    table: t\n    check: null_rate\n    column: '\"email\"'\n"
                           "    fail: {max: 0.1}\n")) ==
        "gapwatch.yaml:9:13: error: rules[0].column: invalid identifier '\"email\"': must "
        "start with a letter or underscore");
  CHECK(errors_of(one_rule("    table: t\n    check: null_rate\n    column: " +
                           std::string(129, 'c') + "\n    fail: {max: 0.1}\n")) ==
        "gapwatch.yaml:9:13: error: rules[0].column: identifier is longer than 128 characters");
}

TEST_CASE("config: a where predicate containing a semicolon is an error") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    where: "status = 'ok'; delete from t"
    fail: {min: 1}
)")) == "gapwatch.yaml:9:12: error: rules[0].where: where must be a single predicate (no ';')");
}

TEST_CASE("config: rule and warehouse names use letters, digits, '_', '-' and '.'") {
  CHECK(errors_of(std::string(kOneWarehouse) +
                  "rules:\n  - name: my rule\n    table: t\n    check: row_count\n"
                  "    fail: {min: 1}\n") ==
        "gapwatch.yaml:6:11: error: rules[0].name: invalid rule name 'my rule': use letters, "
        "digits, '_', '-', '.'");
  CHECK(errors_of("version: 1\nwarehouses:\n  - name: shop/eu\n    connection: x\n") ==
        "gapwatch.yaml:3:11: error: warehouses[0].name: invalid name 'shop/eu': use letters, "
        "digits, '_', '-', '.'");
  const Config config = load(std::string(kOneWarehouse) +
                             "rules:\n  - name: orders-v2.hourly_1\n    table: t\n"
                             "    check: row_count\n    fail: {min: 1}\n");
  CHECK(only_rule(config).name == "orders-v2.hourly_1");
}

TEST_CASE("config: a duplicate rule name is reported at the second rule") {
  CHECK(errors_of(std::string(kOneWarehouse) + R"(rules:
  - name: orders
    table: t
    check: row_count
    fail: {min: 1}
  - name: orders
    table: u
    check: row_count
    fail: {min: 1}
)") == "gapwatch.yaml:10:5: error: rules[1]: duplicate rule name 'orders'");
}

TEST_CASE("config: a duplicate warehouse name is reported at the second warehouse") {
  CHECK(errors_of(R"(version: 1
warehouses:
  - name: shop
    connection: x
  - name: shop
    connection: y
)") == "gapwatch.yaml:5:5: error: warehouses[1]: duplicate warehouse name 'shop'");
}

TEST_CASE("config: a duplicate name is reported even when the entry has other problems") {
  SUBCASE("rule") {
    CHECK(errors_of(std::string(kOneWarehouse) + R"(rules:
  - name: orders
    table: t
    check: row_count
    fail: {min: 1}
  - name: orders
    table: u
    check: row_cont
    fail: {min: 1}
)") == "gapwatch.yaml:10:5: error: rules[1]: duplicate rule name 'orders'\n"
          "gapwatch.yaml:12:12: error: rules[1].check: 'row_cont' is not one of freshness, "
          "row_count, null_rate (did you mean 'row_count'?)");
  }
  SUBCASE("warehouse") {
    CHECK(errors_of(R"(version: 1
warehouses:
  - name: shop
    connection: x
  - name: shop
    connection: y
    max_connections: 0
)") == "gapwatch.yaml:5:5: error: warehouses[1]: duplicate warehouse name 'shop'\n"
          "gapwatch.yaml:7:22: error: warehouses[1].max_connections: 0 is out of range 1..64");
  }
}

// ---------------------------------------------------------------------------
// Warehouses referenced by rules

constexpr std::string_view kTwoWarehouses = R"(version: 1
warehouses:
  - name: shop
    connection: x
  - name: lake
    connection: y
)";

TEST_CASE("config: a rule naming an unknown warehouse gets a did-you-mean") {
  CHECK(errors_of(std::string(kTwoWarehouses) + R"(rules:
  - name: orders
    warehouse: shpo
    table: t
    check: row_count
    fail: {min: 1}
)") == "gapwatch.yaml:9:16: error: rules[0].warehouse: unknown warehouse 'shpo' (did you "
       "mean 'shop'?)");
  CHECK(errors_of(std::string(kTwoWarehouses) + R"(rules:
  - name: orders
    warehouse: warehouse
    table: t
    check: row_count
    fail: {min: 1}
)") == "gapwatch.yaml:9:16: error: rules[0].warehouse: unknown warehouse 'warehouse'");
}

TEST_CASE("config: a rule may omit warehouse only when there is exactly one") {
  CHECK(only_rule(load(one_rule("    table: t\n    check: row_count\n    fail: {min: 1}\n")))
            .warehouse == "shop");
  CHECK(errors_of(std::string(kTwoWarehouses) + R"(rules:
  - name: orders
    table: t
    check: row_count
    fail: {min: 1}
)") == "gapwatch.yaml:8:5: error: rules[0]: missing required key 'warehouse'");
}

TEST_CASE("config: rules on a warehouse with errors are not reported again") {
  // The warehouse's own error is the only one: the rules naming it, or relying
  // on it being the only warehouse, are not called dangling.
  CHECK(errors_of(R"(version: 1
warehouses:
  - name: shop
    connection: x
    timezone: Mars/Base
rules:
  - name: implicit
    table: t
    check: row_count
    fail: {min: 1}
  - name: explicit
    warehouse: shop
    table: t
    check: row_count
    fail: {min: 1}
)") == "gapwatch.yaml:5:15: error: warehouses[0].timezone: unknown time zone 'Mars/Base' "
       "(expected an IANA name such as UTC, Europe/Berlin or America/New_York)");
}

// ---------------------------------------------------------------------------
// Connections

TEST_CASE("config: a warehouse needs exactly one of connection and dsn") {
  CHECK(errors_of("version: 1\nwarehouses:\n  - name: shop\n    dialect: sqlite\n") ==
        "gapwatch.yaml:3:5: error: warehouses[0]: missing required key 'connection' (an ODBC "
        "connection string) or 'dsn' (an odbc.ini data source)");
  CHECK(errors_of(one_warehouse("    dsn: shop\n")) ==
        "gapwatch.yaml:5:10: error: warehouses[0].dsn: give either connection or dsn, not both");
}

TEST_CASE("config: user and password go with dsn, not with connection") {
  CHECK(errors_of(one_warehouse("    user: alice\n")) ==
        "gapwatch.yaml:3:5: error: warehouses[0]: user and password go inside the connection "
        "string (Uid=…;Pwd=…) or with dsn");
  CHECK(errors_of(one_warehouse("    password: secret\n")) ==
        "gapwatch.yaml:3:5: error: warehouses[0]: user and password go inside the connection "
        "string (Uid=…;Pwd=…) or with dsn");
}

TEST_CASE("config: a dsn with user and password builds an ODBC connection string") {
  const Config config = load(R"(version: 1
warehouses:
  - name: plain
    dsn: shop
    user: ${DB_USER}
    password: ${DB_PASSWORD}
  - name: special
    dsn: "shop eu"
    user: "o=brien"
    password: "p;w{d}"
  - name: user_only
    dsn: shop
    user: alice
)",
                             {{"DB_USER", "alice"}, {"DB_PASSWORD", "hunter2"}});
  REQUIRE(config.warehouses.size() == 3);
  CHECK(config.warehouses[0].connection == "DSN=shop;UID=alice;PWD=hunter2");
  CHECK(config.warehouses[0].connection_template == "DSN=shop;UID=${DB_USER};PWD=***");
  // Values holding ; { } = or a space are braced, a '}' inside doubled.
  CHECK(config.warehouses[1].connection == "DSN={shop eu};UID={o=brien};PWD={p;w{d}}}");
  CHECK(config.warehouses[1].connection_template == "DSN=shop eu;UID=o=brien;PWD=***");
  CHECK(config.warehouses[2].connection == "DSN=shop;UID=alice");
  CHECK(config.warehouses[2].connection_template == "DSN=shop;UID=alice");
  for (const WarehouseConfig& warehouse : config.warehouses) {
    CHECK(warehouse.connection_template.find("hunter2") == std::string::npos);
    CHECK(warehouse.connection_template.find("p;w") == std::string::npos);
  }
}

TEST_CASE("config: the connection template keeps ${VAR} references, never their values") {
  const Config config = load(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=PostgreSQL Unicode;Uid=${PGUSER};Pwd=${PGPASSWORD}"
)",
                             {{"PGUSER", "alice"}, {"PGPASSWORD", "hunter2"}});
  const WarehouseConfig& warehouse = config.warehouses.front();
  CHECK(warehouse.connection == "Driver=PostgreSQL Unicode;Uid=alice;Pwd=hunter2");
  CHECK(warehouse.connection_template == "Driver=PostgreSQL Unicode;Uid=${PGUSER};Pwd=***");
}

TEST_CASE("config: a password written literally in the connection never reaches the template") {
  const Config config = load(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=PostgreSQL Unicode;Uid=alice;PWD=hunter2;Port=5432"
)");
  CHECK(config.warehouses.front().connection_template ==
        "Driver=PostgreSQL Unicode;Uid=alice;PWD=***;Port=5432");
}

TEST_CASE("config: warehouse dialect, max_connections and query_timeout are validated") {
  CHECK(errors_of(one_warehouse("    dialect: postgresql\n")) ==
        "gapwatch.yaml:5:14: error: warehouses[0].dialect: 'postgresql' is not one of auto, "
        "postgres, sqlite, mysql, sqlserver, snowflake (did you mean 'postgres'?)");
  CHECK(errors_of(one_warehouse("    dialect: oracle\n")) ==
        "gapwatch.yaml:5:14: error: warehouses[0].dialect: 'oracle' is not one of auto, "
        "postgres, sqlite, mysql, sqlserver, snowflake");
  CHECK(errors_of(one_warehouse("    max_connections: 0\n")) ==
        "gapwatch.yaml:5:22: error: warehouses[0].max_connections: 0 is out of range 1..64");
  CHECK(errors_of(one_warehouse("    max_connections: 65\n")) ==
        "gapwatch.yaml:5:22: error: warehouses[0].max_connections: 65 is out of range 1..64");
  CHECK(errors_of(one_warehouse("    max_connections: two\n")) ==
        "gapwatch.yaml:5:22: error: warehouses[0].max_connections: expected a whole number, "
        "got 'two'");
  CHECK(load(one_warehouse("    dialect: sqlite\n")).warehouses.front().dialect ==
        DialectKind::sqlite);
}

// ---------------------------------------------------------------------------
// Environment variables

TEST_CASE("config: an unset environment variable without default is an error naming it") {
  CHECK(errors_of(R"(version: 1
warehouses:
  - name: shop
    connection: "Uid=${PGUSER};Pwd=${PGPASSWORD}"
)",
                  {{"PGUSER", "alice"}}) ==
        "gapwatch.yaml:4:17: error: warehouses[0].connection: environment variable PGPASSWORD "
        "is not set (write ${PGPASSWORD:-default} to give a default)");
}

TEST_CASE("config: ${VAR:-default} and $$ are substituted in any value") {
  const Config config = load(one_rule(R"(    table: ${TABLE:-public.orders}
    check: ${CHECK}
    where: "price > 0 AND currency <> '$$'"
    fail: {min: "${MIN_ROWS:-10}"}
    labels: {team: "${TEAM:-nobody}"}
)"),
                             {{"CHECK", "row_count"}, {"TEAM", "growth"}});
  const RuleSpec& spec = only_rule(config);
  CHECK(spec.table.display() == "public.orders");
  CHECK(spec.check == CheckKind::row_count);
  CHECK(spec.where == "price > 0 AND currency <> '$'");
  CHECK(spec.thresholds.fail.min == 10.0);
  CHECK(spec.labels.at("team") == "growth");
}

TEST_CASE("config: a substituted value is validated like a literal one") {
  CHECK(errors_of(one_rule("    table: ${TABLE}\n    check: row_count\n    fail: {min: 1}\n"),
                  {{"TABLE", "orders;x"}}) ==
        "gapwatch.yaml:7:12: error: rules[0].table: invalid name 'orders;x': invalid "
        "identifier 'orders;x': only letters, digits and underscores are allowed");
}

// ---------------------------------------------------------------------------
// Thresholds

TEST_CASE("config: freshness thresholds take max only, as a duration") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    fail: {min: 1h, max: 2h}
)")) == "gapwatch.yaml:10:17: error: rules[0].fail.min: freshness judges the age of the newest "
        "row: give max only");
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    fail: {max: 100}
)")) == "gapwatch.yaml:10:17: error: rules[0].fail.max: invalid duration '100': missing unit "
        "(d, h, m or s) after 100");
  const Config config = load(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    fail: {max: 0s}
)"));
  CHECK(only_rule(config).thresholds.fail.max == 0.0);
}

TEST_CASE("config: a row count threshold is a non-negative number") {
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    fail: {min: -5}\n")) ==
        "gapwatch.yaml:9:17: error: rules[0].fail.min: a row count cannot be negative");
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    fail: {min: many}\n")) ==
        "gapwatch.yaml:9:17: error: rules[0].fail.min: expected a number, got 'many'");
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    fail: {max: .inf}\n")) ==
        "gapwatch.yaml:9:17: error: rules[0].fail.max: expected a number, got '.inf'");
  CHECK(only_rule(load(one_rule("    table: t\n    check: row_count\n    fail: {min: 0}\n")))
            .thresholds.fail.min == 0.0);
}

std::string null_rate_rule(std::string_view thresholds) {
  return one_rule("    table: t\n    check: null_rate\n    column: c\n" + std::string(thresholds));
}

TEST_CASE("config: a null rate is a ratio or a percentage") {
  const auto fail_max = [](std::string_view value) {
    return only_rule(load(null_rate_rule("    fail: {max: " + std::string(value) + "}\n")))
        .thresholds.fail.max;
  };
  CHECK(fail_max("\"2%\"") == 0.02);
  CHECK(fail_max("2%") == 0.02);
  CHECK(fail_max("0.02") == 0.02);
  CHECK(fail_max("2.5%") == 0.025);
  CHECK(fail_max("0") == 0.0);
  CHECK(fail_max("100%") == 1.0);
  CHECK(fail_max("1") == 1.0);
}

TEST_CASE("config: a null rate outside 0..1 or not a number is an error") {
  CHECK(errors_of(null_rate_rule("    fail: {max: 150%}\n")) ==
        "gapwatch.yaml:10:17: error: rules[0].fail.max: a null rate lies between 0 and 1 (0% "
        "and 100%), got '150%'");
  CHECK(errors_of(null_rate_rule("    fail: {max: 1.5}\n")) ==
        "gapwatch.yaml:10:17: error: rules[0].fail.max: a null rate lies between 0 and 1 (0% "
        "and 100%), got '1.5'");
  CHECK(errors_of(null_rate_rule("    fail: {max: -1%}\n")) ==
        "gapwatch.yaml:10:17: error: rules[0].fail.max: a null rate lies between 0 and 1 (0% "
        "and 100%), got '-1%'");
  CHECK(errors_of(null_rate_rule("    fail: {max: two percent}\n")) ==
        "gapwatch.yaml:10:17: error: rules[0].fail.max: expected a ratio such as 0.02 or a "
        "percentage such as 2%, got 'two percent'");
  CHECK(errors_of(null_rate_rule("    fail: {max: \"%\"}\n")) ==
        "gapwatch.yaml:10:17: error: rules[0].fail.max: expected a ratio such as 0.02 or a "
        "percentage such as 2%, got '%'");
}

TEST_CASE("config: a null rate of NaN is rejected") {
  CHECK(errors_of(null_rate_rule("    fail: {max: nan}\n")) ==
        "gapwatch.yaml:10:17: error: rules[0].fail.max: expected a ratio such as 0.02 or a "
        "percentage such as 2%, got 'nan'");
  CHECK(errors_of(null_rate_rule("    fail: {max: nan%}\n")) ==
        "gapwatch.yaml:10:17: error: rules[0].fail.max: expected a ratio such as 0.02 or a "
        "percentage such as 2%, got 'nan%'");
}

TEST_CASE("config: a threshold needs min or max, and min may not exceed max") {
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    fail: {}\n")) ==
        "gapwatch.yaml:9:11: error: rules[0].fail: give min, max or both");
  CHECK(errors_of(one_rule("    table: t\n    check: row_count\n    fail: {min: 10, max: 5}\n")) ==
        "gapwatch.yaml:9:11: error: rules[0].fail: min is greater than max: nothing could pass");
  const Config config =
      load(one_rule("    table: t\n    check: row_count\n    fail: {min: 5, max: 5}\n"));
  CHECK(only_rule(config).thresholds.fail.min == 5.0);
  CHECK(only_rule(config).thresholds.fail.max == 5.0);
}

TEST_CASE("config: a warn.max that could never fire before fail.max is an error") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    fail: {max: 1h}
    warn: {max: 2h}
)")) == "gapwatch.yaml:11:11: error: rules[0].warn: warn.max must be below fail.max, or warn "
        "could never fire before fail");
  CHECK(errors_of(null_rate_rule("    fail: {max: 5%}\n    warn: {max: 0.05}\n")) ==
        "gapwatch.yaml:11:11: error: rules[0].warn: warn.max must be below fail.max, or warn "
        "could never fire before fail");
}

TEST_CASE("config: a warn.min that could never fire before fail.min is an error") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 100}
    warn: {min: 50}
)")) == "gapwatch.yaml:10:11: error: rules[0].warn: warn.min must be above fail.min, or warn "
        "could never fire before fail");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 100}
    warn: {min: 100}
)")) == "gapwatch.yaml:10:11: error: rules[0].warn: warn.min must be above fail.min, or warn "
        "could never fire before fail");
}

TEST_CASE("config: warn and fail on different sides are consistent") {
  const Config config = load(one_rule(R"(    table: t
    check: row_count
    fail: {min: 10}
    warn: {max: 1000}
)"));
  CHECK(only_rule(config).thresholds.fail.min == 10.0);
  CHECK(only_rule(config).thresholds.warn->max == 1000.0);
}

// ---------------------------------------------------------------------------
// Labels and enumerations

TEST_CASE("config: labels with reserved or invalid names are errors") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    labels: {rule: x, 1st: y, __meta: z, team-name: w, ok_name: v}
)")) == "gapwatch.yaml:10:13: error: rules[0].labels: label 'rule' is reserved by gapwatch\n"
        "gapwatch.yaml:10:13: error: rules[0].labels: label '1st' is not a valid Prometheus "
        "label name\n"
        "gapwatch.yaml:10:13: error: rules[0].labels: label '__meta' is not a valid Prometheus "
        "label name\n"
        "gapwatch.yaml:10:13: error: rules[0].labels: label 'team-name' is not a valid "
        "Prometheus label name");
}

TEST_CASE("config: the label segment is reserved: per-segment series carry it") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    labels: {segment: x}
)")) == "gapwatch.yaml:10:13: error: rules[0].labels: label 'segment' is reserved by gapwatch");
}

TEST_CASE("config: a label value must be text") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    labels: {team: [a, b]}
)")) == "gapwatch.yaml:10:20: error: rules[0].labels.team: expected a text value, found a list");
}

TEST_CASE("config: severity, check, timestamp_format and dialect name their choices") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    severity: critcal
)")) == "gapwatch.yaml:10:15: error: rules[0].severity: 'critcal' is not one of info, warning, "
        "critical (did you mean 'critical'?)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    fail: {min: 1}
    severity: urgent
)")) == "gapwatch.yaml:10:15: error: rules[0].severity: 'urgent' is not one of info, warning, "
        "critical");
  CHECK(errors_of(one_rule("    table: t\n    check: freshnes\n    fail: {max: 1h}\n")) ==
        "gapwatch.yaml:8:12: error: rules[0].check: 'freshnes' is not one of freshness, "
        "row_count, null_rate (did you mean 'freshness'?)");
  CHECK(errors_of(one_rule("    table: t\n    check: latency\n    fail: {max: 1h}\n")) ==
        "gapwatch.yaml:8:12: error: rules[0].check: 'latency' is not one of freshness, "
        "row_count, null_rate");
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    timestamp_format: epochs
    fail: {max: 1h}
)")) == "gapwatch.yaml:10:23: error: rules[0].timestamp_format: 'epochs' is not one of native, "
        "epoch_s, epoch_ms, text (did you mean 'epoch_s'?)");
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    timestamp_format: iso8601
    fail: {max: 1h}
)")) == "gapwatch.yaml:10:23: error: rules[0].timestamp_format: 'iso8601' is not one of "
        "native, epoch_s, epoch_ms, text");
}

TEST_CASE("config: column and min_rows apply to null_rate only") {
  CHECK(errors_of(one_rule(R"(    table: t
    check: row_count
    column: email
    fail: {min: 1}
)")) == "gapwatch.yaml:9:13: error: rules[0].column: column applies to null_rate only");
  CHECK(errors_of(one_rule(R"(    table: t
    check: freshness
    timestamp_column: ts
    min_rows: 10
    fail: {max: 1h}
)")) == "gapwatch.yaml:10:15: error: rules[0].min_rows: min_rows applies to null_rate only");
  CHECK(errors_of(null_rate_rule("    fail: {max: 0.1}\n    min_rows: 0\n")) ==
        "gapwatch.yaml:11:15: error: rules[0].min_rows: 0 is out of range "
        "1..9223372036854775807");
}

// ---------------------------------------------------------------------------
// Reporting

TEST_CASE("config: all independent errors are reported at once, sorted by line") {
  const std::string errors = errors_of(R"(version: 1
warehouses:
  - name: shop
    connection: "Pwd=${PGPASSWORD}"
    timezone: Europe/Berln
rules:
  - name: orders
    table: orders
    check: row_count
    fail: {min: 1}
    schedule: 5 minutes
  - name: events
    warehouse: shop
    table: events
    check: row_count
    fail: {min: 1}
    severity: urgent
default:
  severity: info
)");
  CHECK(errors ==
        "gapwatch.yaml:4:17: error: warehouses[0].connection: environment variable PGPASSWORD "
        "is not set (write ${PGPASSWORD:-default} to give a default)\n"
        "gapwatch.yaml:5:15: error: warehouses[0].timezone: unknown time zone 'Europe/Berln' "
        "(expected an IANA name such as UTC, Europe/Berlin or America/New_York)\n"
        "gapwatch.yaml:11:15: error: rules[0].schedule: expected 5 fields (minute hour "
        "day-of-month month day-of-week), got 2\n"
        "gapwatch.yaml:17:15: error: rules[1].severity: 'urgent' is not one of info, warning, "
        "critical\n"
        "gapwatch.yaml:18:1: error: default: unknown key 'default' (did you mean 'defaults'?)");
}

TEST_CASE("config: an error carries its file, line and column separately") {
  const ConfigResult result =
      load_config_text("version: 3\nwarehouses: []\n", "conf/gw.yaml", lookup_in({}));
  REQUIRE_FALSE(result.has_value());
  REQUIRE(result.error().size() == 2);
  const ConfigError& first = result.error()[0];
  CHECK(first.location.file == "conf/gw.yaml");
  CHECK(first.location.line == 1);
  CHECK(first.location.column == 10);
  CHECK(first.message == "version: unsupported version 3 (this gapwatch reads 1)");
  CHECK(result.error()[1].format() ==
        "conf/gw.yaml:2:13: error: warehouses: at least one warehouse is needed");
}

// ---------------------------------------------------------------------------
// Files

TEST_CASE("config: load_config_file reads a file and names it in messages") {
  const TemporaryDirectory directory;
  const std::string valid = directory.file("valid.yaml", kOneWarehouse);
  const ConfigResult loaded = load_config_file(valid, lookup_in({}));
  REQUIRE_MESSAGE(loaded.has_value(), (loaded ? std::string() : joined(loaded.error())));
  CHECK(loaded->path == valid);
  CHECK(loaded->warehouses.front().location.file == valid);

  const std::string invalid = directory.file("invalid.yaml", "version: 7\nwarehouses: []\n");
  const ConfigResult failed = load_config_file(invalid, lookup_in({}));
  REQUIRE_FALSE(failed.has_value());
  CHECK(joined(failed.error()) ==
        invalid + ":1:10: error: version: unsupported version 7 (this gapwatch reads 1)\n" +
            invalid + ":2:13: error: warehouses: at least one warehouse is needed");
}

TEST_CASE("config: load_config_file reports a missing file") {
  const TemporaryDirectory directory;
  const std::string path = directory.path() + "/absent.yaml";
  const ConfigResult result = load_config_file(path, lookup_in({}));
  REQUIRE_FALSE(result.has_value());
  CHECK(joined(result.error()) ==
        path + ":1:1: error: cannot read the configuration: no such file");
}

TEST_CASE("config: load_config_file reports a directory") {
  const TemporaryDirectory directory;
  const ConfigResult result = load_config_file(directory.path(), lookup_in({}));
  REQUIRE_FALSE(result.has_value());
  CHECK(joined(result.error()) == directory.path() +
                                      ":1:1: error: cannot read the configuration: it is a "
                                      "directory, not a file");
}

TEST_CASE("config: load_config_file refuses a file over 16 MiB") {
  const TemporaryDirectory directory;
  constexpr std::size_t kLimit = 16 * 1024 * 1024;
  // A valid config padded with a comment to just over the limit.
  std::string text(kOneWarehouse);
  text += "# ";
  text.append(kLimit + 1 - text.size(), 'x');
  REQUIRE(text.size() == kLimit + 1);
  const std::string path = directory.file("huge.yaml", text);
  const ConfigResult result = load_config_file(path, lookup_in({}));
  REQUIRE_FALSE(result.has_value());
  CHECK(joined(result.error()) ==
        path + ":1:1: error: the configuration is 16777217 bytes; the limit is 16777216 bytes");
}

}  // namespace
}  // namespace gapwatch
