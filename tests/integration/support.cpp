#include "support.h"

#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "monitor/daemon/system_clock.h"
#include "monitor/warehouse/odbc.h"

namespace gapwatch::testing {

namespace {

std::vector<std::string> split_statements(const std::string& sql) {
  std::vector<std::string> statements;
  std::string current;
  std::istringstream lines(sql);
  std::string line;
  while (std::getline(lines, line)) {
    current += line + "\n";
    if (!line.empty() && line.back() == ';') {
      statements.push_back(current);
      current.clear();
    }
  }
  if (current.find_first_not_of(" \n\t") != std::string::npos) {
    statements.push_back(current);
  }
  return statements;
}

class SqliteWarehouse final : public TestWarehouse {
 public:
  SqliteWarehouse() : m_file(m_dir.path() / "warehouse.db") {}
  std::string name() const override { return "sqlite"; }
  std::string connection() const override {
    return fmt::format("Driver=SQLite3;Database={}", m_file.string());
  }
  void exec(const std::string& sql) override {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(m_file.c_str(), &db) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    INFO(sql);
    REQUIRE_MESSAGE(rc == SQLITE_OK, message);
  }
  std::string query_value(const std::string& sql) override {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(m_file.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    const auto* text = sqlite3_column_text(statement, 0);
    std::string value = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
  }
  std::string instant_type() const override { return "TEXT"; }
  std::string instant_literal(const std::string& utc) const override {
    return fmt::format("'{}'", utc);
  }
  std::string plus_seconds(const std::string& instant, const std::string& seconds) const override {
    return fmt::format("datetime({}, '+' || ({}) || ' seconds')", instant, seconds);
  }
  std::string wall_clock_type() const override { return "TIMESTAMP"; }
  std::string bigint_type() const override { return "INTEGER"; }
  std::string slow_predicate(int seconds) const override {
    // A recursive count that SQLite needs several seconds for.
    return fmt::format(
        "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) "
        "SELECT COUNT(*) FROM c) > 0",
        static_cast<long long>(seconds) * 20000000LL);
  }

 private:
  TempDir m_dir;
  std::filesystem::path m_file;
};

class PostgresWarehouse final : public TestWarehouse {
 public:
  PostgresWarehouse() {
    const char* dir = std::getenv("GAPWATCH_TEST_PG_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "GAPWATCH_TEST_PG_DIR is not set (run through ctest)");
    std::ifstream port_file(std::filesystem::path(dir) / "port");
    REQUIRE_MESSAGE(port_file.good(), "the PostgreSQL fixture is not running");
    port_file >> m_port;
    static std::mt19937_64 random{std::random_device{}()};
    m_database = fmt::format("gw_{:x}", random());
    run(admin_connection(), fmt::format("CREATE DATABASE {}", m_database));
  }
  ~PostgresWarehouse() override {
    auto connection = OdbcConnection::open(admin_connection(), std::chrono::seconds{10});
    if (connection) {
      QueryWatchdog watchdog;
      (void)(*connection)->execute(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", m_database),
                                   {}, std::chrono::seconds{30}, watchdog);
    }
  }
  std::string name() const override { return "postgres"; }
  std::string connection() const override { return connection_for(m_database); }
  void exec(const std::string& sql) override { run(connection(), sql); }
  std::string query_value(const std::string& sql) override {
    auto opened = OdbcConnection::open(connection(), std::chrono::seconds{10});
    REQUIRE(opened.has_value());
    QueryWatchdog watchdog;
    auto rows = (*opened)->execute(sql, {}, std::chrono::seconds{60}, watchdog);
    REQUIRE(rows.has_value());
    REQUIRE(!rows->empty());
    return rows->front().front().value_or("");
  }
  std::string database_name() const override { return m_database; }
  std::string instant_type() const override { return "TIMESTAMPTZ"; }
  std::string instant_literal(const std::string& utc) const override {
    return fmt::format("'{}+00'", utc);
  }
  std::string plus_seconds(const std::string& instant, const std::string& seconds) const override {
    return fmt::format("{} + ({}) * INTERVAL '1 second'", instant, seconds);
  }
  std::string wall_clock_type() const override { return "TIMESTAMP"; }
  std::string slow_predicate(int seconds) const override {
    return fmt::format("pg_sleep({}) IS NOT NULL", seconds);
  }

 private:
  std::string connection_for(const std::string& database) const {
    return fmt::format(
        "Driver=PostgreSQL Unicode;Server=127.0.0.1;Port={};Database={};Uid=gapwatch;Pwd=x",
        m_port, database);
  }
  std::string admin_connection() const { return connection_for("postgres"); }
  void run(const std::string& connection_string, const std::string& sql) {
    auto connection = OdbcConnection::open(connection_string, std::chrono::seconds{10});
    REQUIRE_MESSAGE(connection.has_value(), (connection ? "" : connection.error().message));
    QueryWatchdog watchdog;
    for (const std::string& statement : split_statements(sql)) {
      auto result = (*connection)->execute(statement, {}, std::chrono::seconds{60}, watchdog);
      INFO(statement);
      REQUIRE_MESSAGE(result.has_value(), (result ? "" : result.error().message));
    }
  }

  int m_port = 0;
  std::string m_database;
};

// Statements through one ODBC connection, failing the test on any error.
void run_statements(const std::string& connection_string, const std::vector<std::string>& sql) {
  auto connection = OdbcConnection::open(connection_string, std::chrono::seconds{10});
  REQUIRE_MESSAGE(connection.has_value(), (connection ? "" : connection.error().message));
  QueryWatchdog watchdog;
  for (const std::string& statement : sql) {
    auto result = (*connection)->execute(statement, {}, std::chrono::seconds{60}, watchdog);
    INFO(statement);
    REQUIRE_MESSAGE(result.has_value(), (result ? "" : result.error().message));
  }
}

class MariaDbWarehouse final : public TestWarehouse {
 public:
  MariaDbWarehouse() {
    const char* dir = std::getenv("GAPWATCH_TEST_MARIADB_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "GAPWATCH_TEST_MARIADB_DIR is not set (run through ctest)");
    std::ifstream port_file(std::filesystem::path(dir) / "port");
    REQUIRE_MESSAGE(port_file.good(), "the MariaDB fixture is not running");
    port_file >> m_port;
    static std::mt19937_64 random{std::random_device{}()};
    m_database = fmt::format("gw_{:x}", random());
    run_statements(connection_for("gapwatch_test"), {fmt::format("CREATE DATABASE {}", m_database)});
  }
  ~MariaDbWarehouse() override {
    auto connection = OdbcConnection::open(connection_for("gapwatch_test"), std::chrono::seconds{10});
    if (connection) {
      QueryWatchdog watchdog;
      (void)(*connection)->execute(fmt::format("DROP DATABASE IF EXISTS {}", m_database), {},
                                   std::chrono::seconds{30}, watchdog);
    }
  }
  std::string name() const override { return "mariadb"; }
  std::string connection() const override { return connection_for(m_database); }
  void exec(const std::string& sql) override {
    std::vector<std::string> statements{"SET time_zone = '+00:00'"};
    for (std::string& statement : split_statements(sql)) {
      statements.push_back(std::move(statement));
    }
    run_statements(connection(), statements);
  }
  std::string query_value(const std::string& sql) override {
    auto opened = OdbcConnection::open(connection(), std::chrono::seconds{10});
    REQUIRE(opened.has_value());
    QueryWatchdog watchdog;
    auto rows = (*opened)->execute(sql, {}, std::chrono::seconds{60}, watchdog);
    REQUIRE_MESSAGE(rows.has_value(), (rows ? "" : rows.error().message));
    REQUIRE(!rows->empty());
    return rows->front().front().value_or("");
  }
  std::string database_name() const override { return m_database; }
  // TIMESTAMP is an instant, converted to and from the session's zone;
  // DATETIME is a wall clock no setting converts.
  std::string instant_type() const override { return "TIMESTAMP(6) NULL"; }
  std::string instant_literal(const std::string& utc) const override {
    return fmt::format("'{}'", utc);
  }
  std::string plus_seconds(const std::string& instant, const std::string& seconds) const override {
    return fmt::format("{} + INTERVAL ({}) SECOND", instant, seconds);
  }
  std::string wall_clock_type() const override { return "DATETIME(6)"; }
  std::string slow_predicate(int seconds) const override {
    return fmt::format("SLEEP({}) = 0", seconds);
  }

 private:
  std::string connection_for(const std::string& database) const {
    return fmt::format(
        "Driver=MariaDB Unicode;Server=127.0.0.1;Port={};Database={};Uid=gapwatch;Pwd=x", m_port,
        database);
  }

  int m_port = 0;
  std::string m_database;
};

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "gapwatch-test-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  m_path = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(m_path, ignored);
}

std::unique_ptr<TestWarehouse> make_sqlite_warehouse() {
  return std::make_unique<SqliteWarehouse>();
}

std::unique_ptr<TestWarehouse> make_postgres_warehouse() {
  return std::make_unique<PostgresWarehouse>();
}

std::unique_ptr<TestWarehouse> make_mariadb_warehouse() {
  return std::make_unique<MariaDbWarehouse>();
}

Config load_test_config(const std::string& yaml) {
  auto config = load_config_text(yaml, "test.yaml", [](const std::string&) {
    return std::optional<std::string>{};
  });
  if (!config) {
    std::string errors;
    for (const ConfigError& error : config.error()) {
      errors += error.format() + "\n";
    }
    INFO(yaml);
    FAIL(errors);
  }
  return std::move(*config);
}

RuleResult evaluate_rule(const Config& config, const std::string& rule, const std::string& now) {
  QueryWatchdog watchdog;
  Warehouses warehouses(config, watchdog);
  const SystemClock clock;
  Evaluator evaluator(warehouses, clock);
  const RuleConfig* found = config.find_rule(rule);
  REQUIRE(found != nullptr);
  const auto instant = parse_rfc3339(now);
  REQUIRE(instant.has_value());
  return evaluator.evaluate(*found, *instant);
}

std::string config_yaml(const std::string& connection, const std::string& rules,
                        const std::string& warehouse_extra) {
  return fmt::format(
      "version: 1\n"
      "warehouses:\n"
      "  - name: w\n"
      "    connection: \"{}\"\n"
      "{}"
      "rules:\n{}",
      connection, warehouse_extra, rules);
}

}  // namespace gapwatch::testing
