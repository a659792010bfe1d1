// Loading gapwatch.yaml, the document level: text -> YAML (checked for junk
// bytes, tabs and second documents), the top-level keys, included files, and
// what several sections share; each section has its own file (see
// config_loader.h). Nothing here touches a warehouse. Not thread-safe: one
// ConfigLoader per load.
#include "monitor/config/config_loader.h"

#include <glob.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include "rules/time.h"
#include "rules/utf8.h"

namespace gapwatch {

namespace {

constexpr std::uintmax_t kMaxConfigBytes = std::uintmax_t{16} * 1024 * 1024;

constexpr std::array<std::string_view, 7> kTopKeys{
    "version", "monitor", "warehouses", "executors", "defaults", "rules", "include"};

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
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (length == 0) {
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

}  // namespace

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
    defaults = load_defaults(*field);
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
  take_from_environment();
  return std::move(m_config);
}

void ConfigLoader::take_from_environment() {
  std::vector<EnvironmentValue> taken = m_reader->take_from_environment();
  m_config.from_environment.insert(m_config.from_environment.end(),
                                   std::make_move_iterator(taken.begin()),
                                   std::make_move_iterator(taken.end()));
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
  take_from_environment();
  m_reader = main;
}

const TimeZone* ConfigLoader::zone(const std::optional<Field>& field) {
  return field ? load_time_zone(*m_reader, *field) : utc_zone();
}

bool valid_object_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
         });
}

bool check_object_name(YamlReader& reader, const Field& field, const std::string& name,
                       std::string_view what) {
  if (valid_object_name(name)) {
    return true;
  }
  reader.error(field,
               fmt::format("invalid {} '{}': use letters, digits, '_', '-', '.'", what, name));
  return false;
}

void report_unknown_name(YamlReader& reader, const Field& field, std::string_view kind,
                         const std::string& name, std::span<const std::string> declared) {
  const std::vector<std::string_view> known(declared.begin(), declared.end());
  const auto suggestion = did_you_mean(name, known);
  reader.error(field, suggestion ? fmt::format("unknown {} '{}' (did you mean '{}'?)", kind, name,
                                               *suggestion)
                                 : fmt::format("unknown {} '{}'", kind, name));
}

const TimeZone* load_time_zone(YamlReader& reader, const Field& field) {
  const auto name = reader.string(field);
  if (!name) {
    return nullptr;
  }
  auto found = find_time_zone(*name);
  if (!found) {
    reader.error(field, found.error().message);
    return nullptr;
  }
  return *found;
}

bool whole_minutes_dividing_day(std::chrono::seconds length) {
  const std::int64_t seconds = length.count();
  return seconds >= 60 && seconds % 60 == 0 && 86400 % seconds == 0;
}

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
