// Helpers for integration tests: real warehouses (a SQLite file, the private
// PostgreSQL cluster started by the pg_cluster fixture, the private MariaDB
// server started by the mariadb_cluster fixture), configs built from YAML
// text, and one-call rule evaluation through the real ODBC drivers.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "monitor/config/config.h"
#include "monitor/warehouse/evaluator.h"
#include "monitor/warehouse/query_watchdog.h"

namespace gapwatch::testing {

// A warehouse the scenarios can create tables in.
class TestWarehouse {
 public:
  virtual ~TestWarehouse() = default;
  virtual std::string name() const = 0;
  // The YAML `connection:` value for gapwatch.
  virtual std::string connection() const = 0;
  // Runs SQL statements (separated by ';' at line ends) or fails the test.
  virtual void exec(const std::string& sql) = 0;
  // Column types for the scenarios.
  virtual std::string instant_type() const = 0;     // zone-aware timestamp
  virtual std::string wall_clock_type() const = 0;  // zone-less timestamp
  virtual std::string text_type() const { return "TEXT"; }
  virtual std::string bigint_type() const { return "BIGINT"; }
  // A literal for a zone-aware column from UTC wall-clock text.
  virtual std::string instant_literal(const std::string& utc) const = 0;
  // An SQL expression: the zone-aware `instant` plus `seconds` (an integer
  // expression), in the column's type.
  virtual std::string plus_seconds(const std::string& instant,
                                   const std::string& seconds) const = 0;
  // The first cell of a one-row query.
  virtual std::string query_value(const std::string& sql) = 0;
  virtual std::string database_name() const { return name(); }
  // A `where` predicate that takes about `seconds` to evaluate per statement.
  virtual std::string slow_predicate(int seconds) const = 0;
};

// A fresh SQLite database file in a temporary directory.
std::unique_ptr<TestWarehouse> make_sqlite_warehouse();
// A fresh database in the fixture's PostgreSQL cluster.
std::unique_ptr<TestWarehouse> make_postgres_warehouse();
// A fresh database in the fixture's MariaDB server. exec() and query_value()
// run in a UTC session, so instant literals mean UTC whatever the server's
// time zone; gapwatch's own sessions start in the server's zone.
std::unique_ptr<TestWarehouse> make_mariadb_warehouse();

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

// Loads YAML text as a config, failing the test on any error.
Config load_test_config(const std::string& yaml);

// Evaluates one rule of `config` at `now` through real ODBC.
RuleResult evaluate_rule(const Config& config, const std::string& rule, const std::string& now);

// A config with one warehouse `w` (the given connection, extra warehouse keys
// appended) and the given rules YAML (a list, indented by two spaces).
std::string config_yaml(const std::string& connection, const std::string& rules,
                        const std::string& warehouse_extra = "");

}  // namespace gapwatch::testing
