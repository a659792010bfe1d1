// Loading gapwatch.yaml: YAML text -> validated Config, or every problem found
// with its file:line:column and key path. Nothing here touches a warehouse.
#include <glob.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <limits>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include "monitor/config/config.h"
#include "monitor/config/executor_config.h"
#include "monitor/config/yaml_reader.h"
#include "rules/duration.h"

namespace gapwatch {

namespace {

constexpr std::uintmax_t kMaxConfigBytes = std::uintmax_t{16} * 1024 * 1024;

constexpr std::array<std::string_view, 7> kTopKeys{
    "version", "monitor", "warehouses", "executors", "defaults", "rules", "include"};
constexpr std::array<std::string_view, 9> kWarehouseKeys{
    "name",     "connection", "dsn",           "user",           "password",
    "dialect",  "timezone",   "query_timeout", "max_connections"};
constexpr std::array<std::string_view, 18> kRuleKeys{
    "name",     "warehouse", "table",   "check",    "timestamp_column", "timestamp_format",
    "where",    "lookback",  "warn",    "fail",     "severity",         "labels",
    "schedule", "schedule_timezone",    "partition", "column",          "min_rows", "backfill"};
constexpr std::array<std::string_view, 4> kPartitionKeys{"every", "lookback", "delay", "timezone"};
constexpr std::array<std::string_view, 2> kBoundKeys{"min", "max"};
constexpr std::array<std::string_view, 3> kCheckNames{"freshness", "row_count", "null_rate"};
constexpr std::array<std::string_view, 4> kFormatNames{"native", "epoch_s", "epoch_ms", "text"};
constexpr std::array<std::string_view, 3> kSeverityNames{"info", "warning", "critical"};
constexpr std::array<std::string_view, 6> kDialectNames{"auto",      "postgres",  "sqlite",
                                                        "mysql",     "sqlserver", "snowflake"};
// Labels every per-rule metric series already has.
constexpr std::array<std::string_view, 7> kReservedLabels{
    "rule", "check", "warehouse", "table", "severity", "status", "result"};

bool valid_object_name(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__") || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// An ODBC attribute value, braced when it holds characters that would end it.
std::string odbc_value(std::string_view value) {
  if (value.find_first_of(";{}= ") == std::string_view::npos) {
    return std::string(value);
  }
  std::string out = "{";
  for (const char c : value) {
    out += c;
    if (c == '}') {
      out += '}';
    }
  }
  return out + "}";
}

// yaml-cpp reports a tab in indentation as e.g. "illegal block entry".
bool indented_with_tab(std::string_view text, int line) {
  if (line < 0) {
    return false;  // yaml-cpp gave no position
  }
  for (int i = 0; i < line; ++i) {
    const std::size_t end = text.find('\n');
    if (end == std::string_view::npos) {
      return false;
    }
    text.remove_prefix(end + 1);
  }
  const std::size_t indentation = text.find_first_not_of(" \t");
  return text.substr(0, indentation).find('\t') != std::string_view::npos;
}

// yaml-cpp also reads UTF-16 and UTF-32, which it recognises by a byte-order
// mark or by a NUL among the first two bytes; anything else it reads as UTF-8.
bool read_as_utf8(std::string_view text) {
  if (text.size() < 2) {
    return true;
  }
  const auto first = static_cast<unsigned char>(text[0]);
  const auto second = static_cast<unsigned char>(text[1]);
  return first != 0 && second != 0 && !(first == 0xFF && second == 0xFE) &&
         !(first == 0xFE && second == 0xFF);
}

// The position of `offset` in `text` as yaml-cpp counts it: 0-based lines and
// byte columns, not counting a UTF-8 byte-order mark.
YAML::Mark mark_at(std::string_view text, std::size_t offset) {
  YAML::Mark mark;
  const std::string_view before = text.substr(0, offset);
  const std::size_t line_start = before.rfind('\n');
  mark.pos = static_cast<int>(offset);
  mark.line = static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  mark.column =
      static_cast<int>(line_start == std::string_view::npos ? offset : offset - line_start - 1);
  if (line_start == std::string_view::npos && text.starts_with("\xEF\xBB\xBF")) {
    mark.column = std::max(0, mark.column - 3);
  }
  return mark;
}

// Where UTF-8 text stops being text YAML may hold: a NUL or other control
// character (tab, line feed and carriage return apart), or a byte that is not
// well-formed UTF-8. yaml-cpp passes such bytes on, and they would reach
// ODBC, logs and JSON output (which refuses malformed UTF-8).
std::optional<std::pair<std::size_t, std::string>> find_non_text(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      if (byte == 0) {
        return std::pair(i, std::string("the configuration contains a NUL byte: is it a binary "
                                        "file? (gapwatch reads UTF-8 text)"));
      }
      if ((byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7F) {
        return std::pair(i, fmt::format("the configuration contains the control character "
                                        "0x{:02X}: is it a binary file? (gapwatch reads UTF-8 "
                                        "text)",
                                        byte));
      }
      ++i;
      continue;
    }
    // The sequence's length from its first byte, and the smallest code point
    // that needs that many bytes (a longer, "overlong" form is malformed).
    std::size_t length = 0;
    std::uint32_t smallest = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      smallest = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      smallest = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      smallest = 0x10000;
    }
    std::uint32_t code_point = byte & (0x7Fu >> length);
    bool valid = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    valid = valid && code_point >= smallest && code_point <= 0x10FFFF &&
            !(code_point >= 0xD800 && code_point <= 0xDFFF);
    if (!valid) {
      return std::pair(i, fmt::format("the configuration is not valid UTF-8 (byte 0x{:02X}): "
                                      "save it as UTF-8",
                                      byte));
    }
    i += length;
  }
  return std::nullopt;
}

// Follows a YAML stream's events up to its second document and notes where
// that document's content starts; an empty second document (a trailing
// '---') has none.
class SecondDocumentFinder : public YAML::EventHandler {
 public:
  int documents() const { return m_documents; }
  const std::optional<YAML::Mark>& content() const { return m_content; }

  void OnDocumentStart(const YAML::Mark&) override { ++m_documents; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { note(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(mark);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& mark) {
    if (m_documents == 2 && !m_content) {
      m_content = mark;
    }
  }

  int m_documents = 0;
  std::optional<YAML::Mark> m_content;
};

// Where a second document's content starts, if the stream has one. Not
// YAML::LoadAll: on some binary input yaml-cpp 0.7 reports empty documents
// without end, so this stops at the second.
std::optional<YAML::Mark> find_second_document(const std::string& document) {
  std::istringstream stream(document);
  YAML::Parser parser(stream);
  SecondDocumentFinder finder;
  while (finder.documents() < 2 && parser.HandleNextDocument(finder)) {
  }
  return finder.content();
}

// The `name` of a list entry as written, whatever else is wrong with it.
std::optional<std::string> raw_name(const YamlNode& entry) {
  if (!entry.IsMap()) {
    return std::nullopt;
  }
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "name" && it->second.IsScalar()) {
      return it->second.Scalar();
    }
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
Enum enum_at(const std::array<std::string_view, N>& names, const std::string& value) {
  return static_cast<Enum>(std::find(names.begin(), names.end(), value) - names.begin());
}

class ConfigLoader {
 public:
  ConfigLoader(std::string path, const EnvironmentLookup& environment)
      : m_path(std::move(path)),
        m_environment(environment),
        m_main_reader(m_path, environment),
        m_reader(&m_main_reader) {}

  ConfigResult load(std::string_view text);

 private:
  void load_warehouses(const Field& field);
  std::optional<WarehouseConfig> load_warehouse(const Field& field);
  void load_executors(const Field& field);
  void load_rules(const Field& field, const MapReader* defaults);
  // Fills `rule` (default-constructed); false if the rule has errors.
  bool load_rule(const Field& field, const MapReader* defaults, RuleConfig& rule);
  std::optional<PartitionSpec> load_partition(const Field& field);
  std::optional<Bound> load_bound(const Field& field, CheckKind check);
  std::optional<double> load_threshold_value(const Field& field, CheckKind check);
  void check_thresholds(const MapReader& rule, const Thresholds& thresholds);
  std::optional<Schedule> load_schedule(const MapReader& rule);
  std::optional<std::string> identifier(const Field& field);
  const TimeZone* zone(const std::optional<Field>& field);

  // The document of one file: parsed, checked for junk, one document only.
  std::optional<YamlNode> parse(std::string_view text);
  void load_includes(const Field& field, const MapReader* defaults);
  void load_included_file(const std::string& file, const Field& from, const MapReader* defaults);

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

std::optional<YamlNode> ConfigLoader::parse(std::string_view text) {
  const bool utf8 = read_as_utf8(text);
  if (utf8) {
    if (const auto junk = find_non_text(text)) {
      m_reader->error(mark_at(text, junk->first), junk->second);
      return std::nullopt;
    }
  }
  // yaml-cpp 0.7 takes a quoted value left open at the end of the file as
  // closed there when a line break follows it. A comment line after the text
  // makes it reach the end of input inside the quotes, which it reports.
  std::string document(text);
  if (utf8) {
    if (!document.empty() && document.back() != '\n') {
      document += '\n';
    }
    document += '#';
  }
  const auto added_line = static_cast<int>(std::count(document.begin(), document.end(), '\n'));
  YamlNode root;
  std::optional<YAML::Mark> second_document;
  try {
    root = load_yaml(document);
    // load_yaml reads the first document only. Looking for more only where a
    // line starts with a document marker keeps the common case to one pass.
    if (document.find("\n---") != std::string::npos ||
        document.find("\n...") != std::string::npos) {
      second_document = find_second_document(document);
    }
  } catch (const YAML::Exception& exception) {
    YAML::Mark mark = exception.mark;
    if (utf8 && mark.line >= added_line) {
      mark = mark_at(text, text.size());  // not on the comment line added above
    }
    std::string message = exception.msg;
    if (message == YAML::ErrorMsg::EOF_IN_SCALAR) {
      message = "the file ends inside a quoted value (is a closing quote missing?)";
    } else if (dynamic_cast<const YAML::DeepRecursion*>(&exception) != nullptr) {
      message = "the document is nested too deeply";
    }
    m_reader->error(mark, fmt::format("invalid YAML: {}{}", message,
                                     indented_with_tab(text, mark.line)
                                         ? " (indent with spaces: YAML forbids tabs)"
                                         : ""));
    return std::nullopt;
  }
  if (second_document) {
    m_reader->error(*second_document,
                   "a second YAML document: gapwatch reads one document per file (remove the "
                   "'---' or '...' line before this)");
    return std::nullopt;
  }
  if (root.IsNull() || !root.IsDefined()) {
    m_reader->error(YAML::Mark{}, "the configuration is empty (expected version, warehouses, rules)");
    return std::nullopt;
  }
  return root;
}

ConfigResult ConfigLoader::load(std::string_view text) {
  m_config.path = m_path;
  const std::optional<YamlNode> parsed = parse(text);
  if (!parsed) {
    return std::unexpected(m_reader->take_errors());
  }
  const YamlNode& root = *parsed;
  const auto top = m_reader->map(Field{root, ""}, kTopKeys);
  if (!top) {
    return std::unexpected(m_reader->take_errors());
  }
  if (const auto version = m_reader->required(*top, "version")) {
    if (const auto value = m_reader->integer(*version, 0, 1000); value && *value != 1) {
      m_reader->error(*version, fmt::format("unsupported version {} (this gapwatch reads 1)",
                                           *value));
    }
  }
  if (const auto monitor = top->field("monitor")) {
    m_config.monitor = load_monitor_section(*m_reader, *monitor);
  }
  if (const auto warehouses = m_reader->required(*top, "warehouses")) {
    load_warehouses(*warehouses);
  }
  if (const auto executors = top->field("executors")) {
    load_executors(*executors);
  }
  std::optional<MapReader> defaults;
  if (const auto field = top->field("defaults")) {
    defaults = m_reader->map(*field, kRuleKeys);
  }
  if (const auto rules = top->field("rules")) {
    load_rules(*rules, defaults ? &*defaults : nullptr);
  }
  if (const auto include = top->field("include")) {
    load_includes(*include, defaults ? &*defaults : nullptr);
  }
  check_backfill_variables(*m_reader, m_config, m_variable_uses, m_rule_backfills);
  if (m_reader->has_errors() || !m_include_errors.empty()) {
    std::vector<ConfigError> errors = m_reader->take_errors();
    errors.insert(errors.end(), std::make_move_iterator(m_include_errors.begin()),
                  std::make_move_iterator(m_include_errors.end()));
    return std::unexpected(std::move(errors));
  }
  return std::move(m_config);
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

const TimeZone* ConfigLoader::zone(const std::optional<Field>& field) {
  if (!field) {
    return utc_zone();
  }
  const auto name = m_reader->string(*field);
  if (!name) {
    return nullptr;
  }
  auto found = find_time_zone(*name);
  if (!found) {
    m_reader->error(*field, found.error().message);
    return nullptr;
  }
  return *found;
}

void ConfigLoader::load_warehouses(const Field& field) {
  const std::vector<Field> items = m_reader->sequence(field);
  m_warehouse_entries = items.size();
  if (field.node.IsSequence() && items.empty()) {
    m_reader->error(field, "at least one warehouse is needed");
  }
  std::set<std::string> names;
  for (const Field& item : items) {
    // A duplicate is reported even when the entry has other problems too.
    const auto name = raw_name(item.node);
    const bool duplicate = name && !names.insert(*name).second;
    auto warehouse = load_warehouse(item);
    if (duplicate) {
      m_reader->error(item, fmt::format("duplicate warehouse name '{}'", *name));
      continue;
    }
    if (!warehouse) {
      continue;
    }
    m_config.warehouses.push_back(std::move(*warehouse));
  }
}

std::optional<WarehouseConfig> ConfigLoader::load_warehouse(const Field& field) {
  const auto map = m_reader->map(field, kWarehouseKeys);
  if (!map) {
    return std::nullopt;
  }
  WarehouseConfig warehouse;
  warehouse.location = m_reader->location(field.node.Mark());
  bool ok = true;
  if (const auto name = m_reader->required(*map, "name")) {
    const auto text = m_reader->string(*name);
    if (text) {
      m_warehouse_names.push_back(*text);
    }
    if (text && !valid_object_name(*text)) {
      m_reader->error(*name, fmt::format("invalid name '{}': use letters, digits, '_', '-', '.'",
                                        *text));
      ok = false;
    } else if (text) {
      warehouse.name = *text;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }

  const auto connection = map->field("connection");
  const auto dsn = map->field("dsn");
  if (connection && dsn) {
    m_reader->error(*dsn, "give either connection or dsn, not both");
    ok = false;
  } else if (connection) {
    if (map->has("user") || map->has("password")) {
      m_reader->error(*map, "user and password go inside the connection string (Uid=…;Pwd=…) "
                           "or with dsn");
      ok = false;
    }
    const auto text = m_reader->string(*connection);
    if (text) {
      warehouse.connection = *text;
      warehouse.connection_template = redact_connection_string(connection->node.Scalar());
    } else {
      ok = false;
    }
  } else if (dsn) {
    const auto name = m_reader->string(*dsn);
    const auto user = m_reader->optional_string(*map, "user");
    const auto password = m_reader->optional_string(*map, "password");
    if (name) {
      warehouse.connection = "DSN=" + odbc_value(*name);
      warehouse.connection_template = "DSN=" + dsn->node.Scalar();
      if (user) {
        warehouse.connection += ";UID=" + odbc_value(*user);
        warehouse.connection_template += ";UID=" + map->field("user")->node.Scalar();
      }
      if (password) {
        warehouse.connection += ";PWD=" + odbc_value(*password);
        warehouse.connection_template += ";PWD=***";
      }
    } else {
      ok = false;
    }
  } else {
    m_reader->error(*map, "missing required key 'connection' (an ODBC connection string) or "
                         "'dsn' (an odbc.ini data source)");
    ok = false;
  }

  if (const auto dialect = map->field("dialect")) {
    if (const auto name = m_reader->choice(*dialect, kDialectNames)) {
      if (*name != "auto") {
        warehouse.dialect = dialect_from_name(*name);
      }
    } else {
      ok = false;
    }
  }
  warehouse.zone = zone(map->field("timezone"));
  ok = ok && warehouse.zone != nullptr;
  if (const auto timeout = map->field("query_timeout")) {
    const auto value = m_reader->duration(*timeout, false);
    ok = ok && value.has_value();
    warehouse.query_timeout = value.value_or(warehouse.query_timeout);
  }
  if (const auto connections = map->field("max_connections")) {
    const auto value = m_reader->integer(*connections, 1, 64);
    ok = ok && value.has_value();
    warehouse.max_connections = static_cast<int>(value.value_or(warehouse.max_connections));
  }
  if (!ok) {
    return std::nullopt;
  }
  return warehouse;
}

void ConfigLoader::load_executors(const Field& field) {
  std::set<std::string> names;
  for (const Field& item : m_reader->sequence(field)) {
    if (auto name = raw_name(item.node)) {
      ExecutorSpec declared;
      declared.name = std::move(*name);
      m_declared_executors.executors.push_back(std::move(declared));
    }
    const auto name = raw_name(item.node);
    const bool duplicate = name && !names.insert(*name).second;
    auto executor = load_executor(*m_reader, item, m_variable_uses);
    if (duplicate) {
      m_reader->error(item, fmt::format("duplicate executor name '{}'", *name));
      continue;
    }
    if (!executor) {
      continue;
    }
    m_config.executors.push_back(std::move(*executor));
  }
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

void ConfigLoader::load_includes(const Field& field, const MapReader* defaults) {
  const std::filesystem::path base = std::filesystem::path(m_path).parent_path();
  for (const Field& item : m_reader->sequence(field)) {
    const auto pattern = m_reader->string(item);
    if (!pattern) {
      continue;
    }
    const std::filesystem::path full = std::filesystem::path(*pattern).is_absolute()
                                           ? std::filesystem::path(*pattern)
                                           : base / *pattern;
    glob_t matches{};
    const int status = glob(full.c_str(), GLOB_ERR, nullptr, &matches);
    std::vector<std::string> files;
    for (std::size_t i = 0; status == 0 && i < matches.gl_pathc; ++i) {
      files.emplace_back(matches.gl_pathv[i]);
    }
    globfree(&matches);
    const bool wildcard = pattern->find_first_of("*?[") != std::string::npos;
    if (files.empty() && !wildcard) {
      m_reader->error(item, fmt::format("include '{}': no such file", *pattern));
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      if (std::filesystem::weakly_canonical(file) == std::filesystem::weakly_canonical(m_path)) {
        m_reader->error(item, fmt::format("include '{}' names the main configuration itself",
                                          *pattern));
        continue;
      }
      load_included_file(file, item, defaults);
    }
  }
}

void ConfigLoader::load_included_file(const std::string& file, const Field& from,
                                      const MapReader* defaults) {
  std::error_code error;
  const auto status = std::filesystem::status(file, error);
  if (error || !std::filesystem::is_regular_file(status)) {
    m_reader->error(from, fmt::format("include: {} is not a readable file", file));
    return;
  }
  if (std::filesystem::file_size(file, error) > kMaxConfigBytes || error) {
    m_reader->error(from, fmt::format("include: {} is larger than {} bytes", file,
                                      kMaxConfigBytes));
    return;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in && !in.eof()) {
    m_reader->error(from, fmt::format("include: cannot read {}", file));
    return;
  }
  // Errors in the included file name that file, line and column.
  YamlReader reader(file, m_environment);
  YamlReader* const main = std::exchange(m_reader, &reader);
  if (const auto root = parse(contents.str())) {
    constexpr std::array<std::string_view, 2> kIncludedKeys{"version", "rules"};
    if (const auto top = m_reader->map(Field{*root, ""}, kIncludedKeys)) {
      if (const auto rules = m_reader->required(*top, "rules")) {
        load_rules(*rules, defaults);
      }
    }
  }
  std::vector<ConfigError> errors = m_reader->take_errors();
  m_include_errors.insert(m_include_errors.end(), std::make_move_iterator(errors.begin()),
                          std::make_move_iterator(errors.end()));
  m_reader = main;
}

std::optional<PartitionSpec> ConfigLoader::load_partition(const Field& field) {
  const auto map = m_reader->map(field, kPartitionKeys);
  if (!map) {
    return std::nullopt;
  }
  PartitionSpec partition;
  bool ok = true;
  const auto every_field = m_reader->required(*map, "every");
  if (every_field) {
    if (const auto every = m_reader->duration(*every_field, false)) {
      const std::int64_t seconds = every->count();
      const bool divides_day = seconds >= 60 && seconds % 60 == 0 && 86400 % seconds == 0 &&
                               (seconds <= std::int64_t{12} * 3600 || seconds == 86400);
      if (!divides_day) {
        m_reader->error(*every_field,
                       fmt::format("every must be whole minutes dividing a day (1m … 12h) or 1d, "
                                   "got {}",
                                   format_duration(*every)));
        ok = false;
      }
      partition.every = *every;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  const auto lookback_field = m_reader->required(*map, "lookback");
  if (lookback_field) {
    const auto lookback = m_reader->duration(*lookback_field, false);
    ok = ok && lookback.has_value();
    partition.lookback = lookback.value_or(partition.lookback);
  } else {
    ok = false;
  }
  if (const auto delay_field = map->field("delay")) {
    const auto delay = m_reader->duration(*delay_field, true);
    ok = ok && delay.has_value();
    partition.delay = delay.value_or(partition.delay);
  }
  partition.zone = zone(map->field("timezone"));
  ok = ok && partition.zone != nullptr;
  if (ok && partition.lookback < partition.delay + partition.every) {
    m_reader->error(*lookback_field,
                   fmt::format("lookback ({}) must cover delay ({}) plus at least one bucket ({})",
                               format_duration(partition.lookback),
                               format_duration(partition.delay), format_duration(partition.every)));
    ok = false;
  }
  if (!ok) {
    return std::nullopt;
  }
  return partition;
}

std::optional<double> ConfigLoader::load_threshold_value(const Field& field, CheckKind check) {
  switch (check) {
    case CheckKind::freshness: {
      const auto age = m_reader->duration(field, true);
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
      const bool percent = !text->empty() && text->back() == '%';
      const std::string digits = percent ? text->substr(0, text->size() - 1) : *text;
      double value = 0;
      const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (status != std::errc{} || end != digits.data() + digits.size() ||
          !std::isfinite(value)) {
        m_reader->error(field, fmt::format("expected a ratio such as 0.02 or a percentage such as "
                                          "2%, got '{}'",
                                          *text));
        return std::nullopt;
      }
      if (percent) {
        value /= 100.0;
      }
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

std::optional<Bound> ConfigLoader::load_bound(const Field& field, CheckKind check) {
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
  if (ok && !bound.min && !bound.max) {
    m_reader->error(field, "give min, max or both");
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
  const auto interval = m_reader->duration(*field, false);
  if (!interval) {
    return std::nullopt;
  }
  schedule.when = *interval;
  return schedule;
}

bool ConfigLoader::load_rule(const Field& field, const MapReader* defaults, RuleConfig& rule) {
  const auto map = m_reader->map(field, kRuleKeys, defaults);
  if (!map) {
    return false;
  }
  RuleSpec& spec = rule.spec;
  rule.location = m_reader->location(field.node.Mark());
  bool ok = true;
  const auto need = [&](bool value) { ok = ok && value; };

  if (const auto name = m_reader->required(*map, "name")) {
    const auto text = m_reader->string(*name);
    if (text && !valid_object_name(*text)) {
      m_reader->error(*name, fmt::format("invalid rule name '{}': use letters, digits, '_', '-', "
                                        "'.'",
                                        *text));
      need(false);
    } else if (text) {
      spec.name = *text;
    } else {
      need(false);
    }
  } else {
    need(false);
  }

  if (const auto warehouse = map->field("warehouse")) {
    const auto text = m_reader->string(*warehouse);
    const bool declared = text && std::find(m_warehouse_names.begin(), m_warehouse_names.end(),
                                            *text) != m_warehouse_names.end();
    if (declared && m_config.find_warehouse(*text) == nullptr) {
      need(false);  // the warehouse's own errors say why it is unusable
    } else if (text && !declared) {
      const std::vector<std::string_view> known(m_warehouse_names.begin(),
                                                m_warehouse_names.end());
      const auto suggestion = did_you_mean(*text, known);
      m_reader->error(*warehouse,
                     suggestion ? fmt::format("unknown warehouse '{}' (did you mean '{}'?)", *text,
                                              *suggestion)
                                : fmt::format("unknown warehouse '{}'", *text));
      need(false);
    } else if (text) {
      spec.warehouse = *text;
    } else {
      need(false);
    }
  } else if (m_warehouse_entries == 0) {
    need(false);  // no usable warehouses list: reported at `warehouses`
  } else if (m_warehouse_entries == 1) {
    if (m_config.warehouses.empty()) {
      need(false);  // the only warehouse has errors of its own
    } else {
      spec.warehouse = m_config.warehouses.front().name;
    }
  } else {
    m_reader->error(*map, "missing required key 'warehouse'");
    need(false);
  }

  if (const auto table = m_reader->required(*map, "table")) {
    if (const auto text = m_reader->string(*table)) {
      auto name = parse_qualified_name(*text);
      if (name) {
        spec.table = std::move(*name);
      } else {
        m_reader->error(*table, name.error().message);
        need(false);
      }
    } else {
      need(false);
    }
  } else {
    need(false);
  }

  const auto check_field = m_reader->required(*map, "check");
  std::optional<std::string> check_name;
  if (check_field) {
    check_name = m_reader->choice(*check_field, kCheckNames);
  }
  if (!check_name) {
    return false;  // everything below depends on the kind of check
  }
  spec.check = enum_at<CheckKind>(kCheckNames, *check_name);

  if (const auto column = map->field("timestamp_column")) {
    spec.timestamp_column = identifier(*column);
    need(spec.timestamp_column.has_value());
  }
  if (const auto format = map->field("timestamp_format")) {
    const auto name = m_reader->choice(*format, kFormatNames);
    need(name.has_value());
    if (name) {
      spec.timestamp_format = enum_at<TimestampFormat>(kFormatNames, *name);
    }
  }
  if (const auto where = map->field("where")) {
    spec.where = m_reader->string(*where);
    need(spec.where.has_value());
    if (spec.where && spec.where->find(';') != std::string::npos) {
      m_reader->error(*where, "where must be a single predicate (no ';')");
      need(false);
    }
  }
  if (const auto lookback = map->field("lookback")) {
    spec.lookback = m_reader->duration(*lookback, false);
    need(spec.lookback.has_value());
  }
  if (const auto severity = map->field("severity")) {
    const auto name = m_reader->choice(*severity, kSeverityNames);
    need(name.has_value());
    if (name) {
      spec.severity = enum_at<Severity>(kSeverityNames, *name);
    }
  }
  if (const auto labels = map->field("labels")) {
    if (const auto entries = m_reader->string_map(*labels)) {
      for (const auto& [key, value] : *entries) {
        const bool reserved =
            std::find(kReservedLabels.begin(), kReservedLabels.end(), key) != kReservedLabels.end();
        if (!valid_label_name(key) || reserved) {
          m_reader->error(*labels, fmt::format("label '{}' is {}", key,
                                              reserved ? "reserved by gapwatch"
                                                       : "not a valid Prometheus label name"));
          need(false);
        }
        spec.labels[key] = value;
      }
    } else {
      need(false);
    }
  }
  if (const auto partition = map->field("partition")) {
    if (spec.check == CheckKind::freshness) {
      m_reader->error(*partition, "freshness judges the newest row; partition applies to row_count "
                                 "and null_rate");
      need(false);
    } else {
      spec.partition = load_partition(*partition);
      need(spec.partition.has_value());
    }
  }
  if (const auto column = map->field("column")) {
    if (spec.check != CheckKind::null_rate) {
      m_reader->error(*column, "column applies to null_rate only");
      need(false);
    } else {
      spec.column = identifier(*column);
      need(spec.column.has_value());
    }
  } else if (spec.check == CheckKind::null_rate) {
    m_reader->error(*map, "missing required key 'column' (the column whose NULLs are counted)");
    need(false);
  }
  if (const auto min_rows = map->field("min_rows")) {
    if (spec.check != CheckKind::null_rate) {
      m_reader->error(*min_rows, "min_rows applies to null_rate only");
      need(false);
    } else {
      const auto value = m_reader->integer(*min_rows, 1, std::numeric_limits<std::int64_t>::max());
      need(value.has_value());
      spec.min_rows = value.value_or(1);
    }
  }
  const bool needs_timestamp = spec.check == CheckKind::freshness || spec.partition.has_value() ||
                               spec.lookback.has_value();
  if (needs_timestamp && !spec.timestamp_column && !map->has("timestamp_column")) {
    m_reader->error(*map, fmt::format("missing required key 'timestamp_column' ({} needs it)",
                                     spec.check == CheckKind::freshness ? "freshness"
                                     : spec.partition                   ? "partition"
                                                                        : "lookback"));
    need(false);
  }
  if (const auto fail_field = m_reader->required(*map, "fail")) {
    auto bound = load_bound(*fail_field, spec.check);
    need(bound.has_value());
    spec.thresholds.fail = bound.value_or(Bound{});
  } else {
    need(false);
  }
  if (const auto warn = map->field("warn")) {
    spec.thresholds.warn = load_bound(*warn, spec.check);
    need(spec.thresholds.warn.has_value());
  }
  if (ok) {
    check_thresholds(*map, spec.thresholds);
  }
  auto schedule = load_schedule(*map);
  need(schedule.has_value());
  if (const auto backfill = map->field("backfill")) {
    rule.backfill = load_backfill(*m_reader, *backfill, m_declared_executors);
    need(rule.backfill.has_value());
    if (rule.backfill && m_config.find_executor(rule.backfill->executor) == nullptr) {
      need(false);  // the executor's own errors say why it is unusable
    }
    if (rule.backfill) {
      m_rule_backfills.emplace_back(spec.name, *backfill);
    }
  }
  if (!ok) {
    return false;
  }
  rule.schedule = std::move(*schedule);
  return true;
}

}  // namespace

std::string ConfigError::format() const {
  return fmt::format("{}:{}:{}: error: {}", location.file, location.line, location.column,
                     message);
}

const WarehouseConfig* Config::find_warehouse(std::string_view name) const {
  for (const WarehouseConfig& warehouse : warehouses) {
    if (warehouse.name == name) {
      return &warehouse;
    }
  }
  return nullptr;
}

const ExecutorSpec* Config::find_executor(std::string_view name) const {
  for (const ExecutorSpec& executor : executors) {
    if (executor.name == name) {
      return &executor;
    }
  }
  return nullptr;
}

const RuleConfig* Config::find_rule(std::string_view name) const {
  for (const RuleConfig& rule : rules) {
    if (rule.spec.name == name) {
      return &rule;
    }
  }
  return nullptr;
}

ConfigResult load_config_text(std::string_view text, const std::string& path,
                              const EnvironmentLookup& environment) {
  return ConfigLoader(path, environment).load(text);
}

ConfigResult load_config_file(const std::string& path, const EnvironmentLookup& environment) {
  const auto file_error = [&](std::string message) {
    return std::unexpected(std::vector<ConfigError>{ConfigError{{path, 1, 1}, std::move(message)}});
  };
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    return file_error("cannot read the configuration: no such file");
  }
  if (error) {  // e.g. a symbolic link loop, or a directory on the way we may not search
    return file_error(fmt::format("cannot read the configuration: {}", error.message()));
  }
  if (std::filesystem::is_directory(status)) {
    return file_error("cannot read the configuration: it is a directory, not a file");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return file_error("cannot read the configuration: not a regular file");
  }
  const auto size = std::filesystem::file_size(path, error);
  if (error) {
    return file_error(fmt::format("cannot read the configuration: {}", error.message()));
  }
  if (size > kMaxConfigBytes) {
    return file_error(fmt::format("the configuration is {} bytes; the limit is {} bytes", size,
                                  kMaxConfigBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return file_error("cannot read the configuration: permission denied or unreadable");
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return load_config_text(contents.str(), path, environment);
}

}  // namespace gapwatch
