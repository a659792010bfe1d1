// Configuration split across files: `include: [rules/*.yaml]`.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "monitor/config/config.h"

namespace gapwatch {
namespace {

class Files {
 public:
  Files() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gapwatch-include-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    m_root = pattern;
  }
  ~Files() {
    std::error_code ignored;
    std::filesystem::remove_all(m_root, ignored);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto path = m_root / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }
  const std::filesystem::path& root() const { return m_root; }

 private:
  std::filesystem::path m_root;
};

const char* kMain = R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=SQLite3;Database=x.db"
defaults:
  schedule: 10m
rules:
  - name: main_rule
    table: orders
    check: row_count
    fail: {min: 1}
include:
  - rules/*.yaml
)";

ConfigResult load(const std::string& path) {
  return load_config_file(path, [](const std::string&) { return std::optional<std::string>{}; });
}

std::vector<std::string> formatted(const ConfigResult& result) {
  std::vector<std::string> lines;
  for (const ConfigError& error : result.error()) {
    lines.push_back(error.format());
  }
  return lines;
}

}  // namespace

TEST_CASE("config include: rules from included files load, in file order, with the defaults") {
  Files files;
  const std::string main = files.write("gapwatch.yaml", kMain);
  files.write("rules/b_team.yaml", "rules:\n  - name: b_rule\n    table: b\n    check: row_count\n    fail: {min: 1}\n");
  files.write("rules/a_team.yaml", "version: 1\nrules:\n  - name: a_rule\n    table: a\n    check: row_count\n    fail: {min: 1}\n    schedule: 1m\n");
  files.write("rules/notes.txt", "not yaml: [");
  const ConfigResult config = load(main);
  REQUIRE(config.has_value());
  REQUIRE(config->rules.size() == 3);
  CHECK(config->rules[0].spec.name == "main_rule");
  CHECK(config->rules[1].spec.name == "a_rule");
  CHECK(config->rules[2].spec.name == "b_rule");
  CHECK(config->rules[1].schedule.text == "1m");
  CHECK(config->rules[2].schedule.text == "10m");  // the main file's defaults apply
  CHECK(config->rules[2].spec.warehouse == "shop");
}

TEST_CASE("config include: an error in an included file names that file, line and column") {
  Files files;
  const std::string main = files.write("gapwatch.yaml", kMain);
  const std::string team = files.write(
      "rules/team.yaml", "rules:\n  - name: team_rule\n    table: \"t; drop\"\n    check: row_count\n    fail: {min: 1}\n");
  const ConfigResult config = load(main);
  REQUIRE_FALSE(config.has_value());
  REQUIRE(formatted(config).size() == 1);
  CHECK(formatted(config)[0] == team + ":3:12: error: rules[0].table: invalid name 't; drop': "
                                       "invalid identifier 't; drop': only letters, digits and "
                                       "underscores are allowed");
}

TEST_CASE("config include: unknown keys, malformed YAML and duplicate names across files") {
  Files files;
  const std::string main = files.write("gapwatch.yaml", kMain);
  const std::string broken = files.write("rules/broken.yaml", "rules: [\n");
  const std::string extra = files.write("rules/extra.yaml", "warehouses: []\nrules: []\n");
  const std::string dup = files.write(
      "rules/dup.yaml", "rules:\n  - name: main_rule\n    table: t\n    check: row_count\n    fail: {min: 1}\n");
  const ConfigResult config = load(main);
  REQUIRE_FALSE(config.has_value());
  const auto lines = formatted(config);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].starts_with(broken + ":2:1: error: invalid YAML"));
  CHECK(lines[1] == dup + ":2:5: error: rules[0]: duplicate rule name 'main_rule'");
  CHECK(lines[2].starts_with(extra + ":1:1: error: warehouses: unknown key 'warehouses'"));
}

TEST_CASE("config include: a literal path that does not exist is an error, an empty glob is not") {
  Files files;
  const std::string main = files.write("gapwatch.yaml", std::string(kMain) + "  - teams/*.yaml\n");
  CHECK(load(main).has_value());
  const std::string missing = files.write(
      "missing.yaml", std::string(kMain) + "  - teams/growth.yaml\n");
  const ConfigResult config = load(missing);
  REQUIRE_FALSE(config.has_value());
  CHECK(formatted(config)[0] == missing + ":14:5: error: include[1]: include 'teams/growth.yaml': no such file");
}

TEST_CASE("config include: an error in a default used by an included rule names the main file") {
  Files files;
  const std::string main = files.write("gapwatch.yaml", R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=SQLite3;Database=x.db"
defaults:
  severity: urgent
include: [rules/*.yaml]
)");
  files.write("rules/team.yaml", "rules:\n  - name: r\n    table: t\n    check: row_count\n    fail: {min: 1}\n");
  const ConfigResult config = load(main);
  REQUIRE_FALSE(config.has_value());
  REQUIRE(formatted(config).size() == 1);
  CHECK(formatted(config)[0].starts_with(main + ":6:13: error: defaults.severity: 'urgent' is not one of"));
}

}  // namespace gapwatch
