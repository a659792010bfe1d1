#include "monitor/config/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "rules/duration.h"

namespace gapwatch {

namespace {

constexpr std::chrono::seconds kLongestDuration{std::int64_t{36500} * 86400};

// Edits needed to turn a into b, counting a swap of two neighbouring letters as
// one edit: "tabel" is as close to "table" as "tabke" is.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> before_previous(b.size() + 1);
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    before_previous.swap(previous);
    previous.swap(row);
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min(
          {previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        row[j] = std::min(row[j], before_previous[j - 2] + 1);
      }
    }
  }
  return row[b.size()];
}

std::string_view node_kind(const YamlNode& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "an undefined value";
}

}  // namespace

std::optional<std::string_view> did_you_mean(std::string_view word,
                                             std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3));
  for (const std::string_view candidate : candidates) {
    // The lengths alone bound the distance from below: skip the quadratic
    // comparison for words that cannot be close (thousands of junk keys).
    const std::size_t length_difference = word.size() > candidate.size()
                                               ? word.size() - candidate.size()
                                               : candidate.size() - word.size();
    if (length_difference > best_distance) {
      continue;
    }
    const std::size_t distance = edit_distance(word, candidate);
    if (distance <= best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<Field> MapReader::field(std::string_view key) const {
  for (const auto& [name, value] : m_entries) {
    if (name == key) {
      return Field{value, m_path.empty() ? std::string(key) : fmt::format("{}.{}", m_path, key),
                   m_file};
    }
  }
  if (m_fallback != nullptr) {
    return m_fallback->field(key);
  }
  return std::nullopt;
}

SourceLocation YamlReader::location(const YAML::Mark& mark) const {
  return SourceLocation{m_file, mark.line + 1, mark.column + 1};
}

void YamlReader::error(const YAML::Mark& mark, std::string message) {
  m_errors.push_back(ConfigError{location(mark), std::move(message)});
}

void YamlReader::error(const Field& field, std::string_view message) {
  const std::string text =
      field.path.empty() ? std::string(message) : fmt::format("{}: {}", field.path, message);
  if (!field.file.empty() && field.file != m_file) {
    const YAML::Mark mark = field.node.Mark();
    m_errors.push_back(ConfigError{SourceLocation{field.file, mark.line + 1, mark.column + 1}, text});
    return;
  }
  error(field.node.Mark(), text);
}

void YamlReader::error(const MapReader& map, std::string_view message) {
  error(map.node().Mark(), map.path().empty() ? std::string(message)
                                              : fmt::format("{}: {}", map.path(), message));
}

std::vector<ConfigError> YamlReader::take_errors() {
  // The same default can be reported once per rule that uses it: keep one.
  std::vector<ConfigError> unique;
  std::set<std::tuple<std::string, int, int, std::string>> seen;
  for (ConfigError& error : m_errors) {
    if (seen.emplace(error.location.file, error.location.line, error.location.column,
                     error.message)
            .second) {
      unique.push_back(std::move(error));
    }
  }
  // This reader's own file first, then any other (defaults used from the
  // main file), each by position.
  std::stable_sort(unique.begin(), unique.end(), [&](const ConfigError& a, const ConfigError& b) {
    return std::tuple(a.location.file != m_file, a.location.file, a.location.line,
                      a.location.column) < std::tuple(b.location.file != m_file, b.location.file,
                                                      b.location.line, b.location.column);
  });
  m_errors.clear();
  return unique;
}

std::optional<MapReader> YamlReader::map(const Field& field,
                                         std::span<const std::string_view> keys,
                                         const MapReader* fallback,
                                         std::span<const std::string_view> unlisted) {
  if (!field.node.IsMap()) {
    error(field, fmt::format("expected a mapping, found {}", node_kind(field.node)));
    return std::nullopt;
  }
  MapReader::Entries entries;
  std::vector<YAML::Mark> marks;  // of each entry's key
  // Duplicates are found by a scan while the map is small, and by a hash map
  // beyond: a file of 100k junk keys must not take quadratic time.
  constexpr std::size_t kScanLimit = 16;
  std::unordered_map<std::string_view, std::size_t> index;
  const auto find_entry = [&](std::string_view name) -> std::optional<std::size_t> {
    if (entries.size() <= kScanLimit) {
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].first == name) {
          return i;
        }
      }
      return std::nullopt;
    }
    if (index.empty()) {
      for (std::size_t i = 0; i < entries.size(); ++i) {
        index.emplace(entries[i].first, i);
      }
    }
    const auto found = index.find(name);
    return found == index.end() ? std::nullopt : std::optional(found->second);
  };
  for (const auto& entry : field.node) {
    const YamlNode& key = entry.first;
    if (!key.IsScalar()) {
      error(key.Mark(), field.path.empty()
                            ? std::string("keys must be plain words")
                            : fmt::format("{}: keys must be plain words", field.path));
      continue;
    }
    const std::string_view name = key.Scalar();
    const auto path = [&] {
      return field.path.empty() ? std::string(name) : fmt::format("{}.{}", field.path, name);
    };
    if (const auto previous = find_entry(name)) {
      error(key.Mark(), fmt::format("{}: duplicate key (first given on line {})", path(),
                                    marks[*previous].line + 1));
      continue;
    }
    entries.emplace_back(name, entry.second);
    marks.push_back(key.Mark());
    if (!index.empty()) {
      index.emplace(name, entries.size() - 1);
    }
    if (std::find(keys.begin(), keys.end(), name) == keys.end() &&
        std::find(unlisted.begin(), unlisted.end(), name) == unlisted.end()) {
      if (const auto suggestion = did_you_mean(name, keys)) {
        error(key.Mark(), fmt::format("{}: unknown key '{}' (did you mean '{}'?)", path(), name,
                                      *suggestion));
      } else {
        error(key.Mark(), fmt::format("{}: unknown key '{}' (expected one of: {})", path(), name,
                                      fmt::join(keys, ", ")));
      }
    }
  }
  return MapReader(field.node, std::move(entries), field.path, fallback,
                   field.file.empty() ? m_file : field.file);
}

std::vector<Field> YamlReader::sequence(const Field& field) {
  std::vector<Field> items;
  if (!field.node.IsSequence()) {
    error(field, fmt::format("expected a list, found {}", node_kind(field.node)));
    return items;
  }
  std::size_t index = 0;
  for (const YamlNode& item : field.node) {
    items.push_back(Field{item, fmt::format("{}[{}]", field.path, index++)});
  }
  return items;
}

std::vector<EnvironmentValue> YamlReader::take_from_environment() {
  return std::exchange(m_from_environment, {});
}

std::optional<std::string> YamlReader::string(const Field& field) {
  return substituted(field, Secrecy::text);
}

std::optional<std::string> YamlReader::substituted(const Field& field, Secrecy secrecy) {
  if (!field.node.IsScalar()) {
    error(field, fmt::format("expected a text value, found {}", node_kind(field.node)));
    return std::nullopt;
  }
  std::vector<EnvironmentValue> taken;
  auto text = substitute_environment(field.node.Scalar(), m_environment, taken);
  if (!text) {
    error(field, text.error().message);
    return std::nullopt;
  }
  if (secrecy == Secrecy::text) {
    for (EnvironmentValue& value : taken) {
      value.path = field.path;
      m_from_environment.push_back(std::move(value));
    }
  }
  return std::move(*text);
}

std::optional<std::chrono::seconds> YamlReader::duration(const Field& field, ZeroDuration zero) {
  const auto text = substituted(field, Secrecy::not_secret);
  if (!text) {
    return std::nullopt;
  }
  if (!text->empty() && text->front() == '-') {
    error(field, fmt::format("a duration cannot be negative (got '{}')", *text));
    return std::nullopt;
  }
  auto parsed = parse_duration(*text);
  if (!parsed) {
    error(field, parsed.error().message);
    return std::nullopt;
  }
  if (zero == ZeroDuration::refused && parsed->count() == 0) {
    error(field, "must be longer than 0s");
    return std::nullopt;
  }
  // Instants are nanoseconds since 1970 (about ±292 years): a longer duration
  // would overflow when added to or taken from now.
  if (*parsed > kLongestDuration) {
    error(field, fmt::format("'{}' is too long: durations go up to {} (100 years)", *text,
                             format_duration(kLongestDuration)));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::int64_t> YamlReader::integer(const Field& field, std::int64_t min,
                                                std::int64_t max) {
  const auto text = substituted(field, Secrecy::not_secret);
  if (!text) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, status] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (status != std::errc{} || end != text->data() + text->size()) {
    error(field, fmt::format("expected a whole number, got '{}'", *text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    error(field, fmt::format("{} is out of range {}..{}", value, min, max));
    return std::nullopt;
  }
  return value;
}

std::optional<double> YamlReader::number(const Field& field) {
  const auto text = substituted(field, Secrecy::not_secret);
  if (!text) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, status] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (status != std::errc{} || end != text->data() + text->size() || !std::isfinite(value)) {
    error(field, fmt::format("expected a number, got '{}'", *text));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlReader::boolean(const Field& field) {
  const auto text = substituted(field, Secrecy::not_secret);
  if (!text) {
    return std::nullopt;
  }
  if (*text == "true" || *text == "yes" || *text == "on") {
    return true;
  }
  if (*text == "false" || *text == "no" || *text == "off") {
    return false;
  }
  error(field, fmt::format("expected true or false, got '{}'", *text));
  return std::nullopt;
}

std::optional<std::string> YamlReader::choice(const Field& field,
                                              std::span<const std::string_view> choices) {
  auto text = substituted(field, Secrecy::not_secret);
  if (!text) {
    return std::nullopt;
  }
  if (std::find(choices.begin(), choices.end(), *text) != choices.end()) {
    return text;
  }
  if (const auto suggestion = did_you_mean(*text, choices)) {
    error(field, fmt::format("'{}' is not one of {} (did you mean '{}'?)", *text,
                             fmt::join(choices, ", "), *suggestion));
  } else {
    error(field, fmt::format("'{}' is not one of {}", *text, fmt::join(choices, ", ")));
  }
  return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, std::string>>> YamlReader::string_map(
    const Field& field) {
  if (field.node.IsNull()) {
    return std::vector<std::pair<std::string, std::string>>{};
  }
  if (!field.node.IsMap()) {
    error(field, fmt::format("expected a mapping, found {}", node_kind(field.node)));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> entries;
  std::unordered_set<std::string> keys;
  bool ok = true;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    if (!it->first.IsScalar()) {
      error(it->first.Mark(), fmt::format("{}: keys must be plain words", field.path));
      ok = false;
      continue;
    }
    const std::string& key = it->first.Scalar();
    const Field value{it->second, fmt::format("{}.{}", field.path, key)};
    if (!keys.insert(key).second) {
      error(it->first.Mark(), fmt::format("{}: duplicate key", value.path));
      ok = false;
      continue;
    }
    auto text = string(value);
    if (!text) {
      ok = false;
      continue;
    }
    entries.emplace_back(key, std::move(*text));
  }
  if (!ok) {
    return std::nullopt;
  }
  return entries;
}

std::optional<std::string> YamlReader::optional_string(const MapReader& map,
                                                       std::string_view key) {
  if (const auto value = map.field(key)) {
    return string(*value);
  }
  return std::nullopt;
}

std::optional<Field> YamlReader::required(const MapReader& map, std::string_view key) {
  auto value = map.field(key);
  if (!value) {
    error(map, fmt::format("missing required key '{}'", key));
  }
  return value;
}

}  // namespace gapwatch
