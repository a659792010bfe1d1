// YamlReader: typed access to a parsed YAML document that records every
// problem with its file:line:column and key path instead of stopping at the
// first. Mappings are read through MapReader, which rejects unknown keys (with
// a did-you-mean) and duplicate keys. Scalars pass through ${VAR} substitution;
// the reader keeps what the environment put into text values (not into
// numbers, durations, booleans or choices), as secrets of the configuration.
// Not thread-safe; one reader per load.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/mark.h>

#include "monitor/config/config.h"
#include "monitor/config/env_substitution.h"
#include "monitor/config/yaml_document.h"

namespace gapwatch {

// A value in the document and its key path, e.g. rules[2].partition.every.
struct Field {
  YamlNode node;
  std::string path;
  // The file the node comes from when it is not the reader's own (a default
  // from the main file used by a rule in an included file).
  std::string file = {};
};

class YamlReader;

// Whether a duration may be zero: a grace period or a delay may be 0s, an
// interval or a timeout may not.
enum class ZeroDuration { allowed, refused };

class MapReader {
 public:
  // The value under `key`, or else under the same key of the fallback map
  // (rule defaults), or empty.
  std::optional<Field> field(std::string_view key) const;
  bool has(std::string_view key) const { return field(key).has_value(); }
  const std::string& path() const { return m_path; }
  const YamlNode& node() const { return m_node; }

 private:
  friend class YamlReader;
  // Each scalar key with its value, in document order; the views point into
  // the document, which m_node keeps alive.
  using Entries = std::vector<std::pair<std::string_view, YamlNode>>;
  MapReader(const YamlNode& node, Entries entries, std::string path, const MapReader* fallback,
            std::string file)
      : m_node(node),
        m_entries(std::move(entries)),
        m_path(std::move(path)),
        m_fallback(fallback),
        m_file(std::move(file)) {}

  YamlNode m_node;
  // Read once: a rule looks up some twenty keys, most of them absent, and
  // each would otherwise walk the mapping again.
  Entries m_entries;
  std::string m_path;
  const MapReader* m_fallback;
  std::string m_file;  // the file the mapping was read from
};

class YamlReader {
 public:
  YamlReader(std::string file, EnvironmentLookup environment)
      : m_file(std::move(file)), m_environment(std::move(environment)) {}

  void error(const YAML::Mark& mark, std::string message);
  void error(const Field& field, std::string_view message);
  void error(const MapReader& map, std::string_view message);
  bool has_errors() const { return !m_errors.empty(); }
  std::vector<ConfigError> take_errors();
  SourceLocation location(const YAML::Mark& mark) const;
  // Every value the environment put into a text value so far, with its key.
  std::vector<EnvironmentValue> take_from_environment();

  // A mapping whose keys must be among `keys` or `unlisted`; only `keys` are
  // named in "expected one of" (the caller refuses `unlisted` ones itself,
  // with a better message).
  std::optional<MapReader> map(const Field& field, std::span<const std::string_view> keys,
                               const MapReader* fallback = nullptr,
                               std::span<const std::string_view> unlisted = {});
  // The items of a sequence, with paths path[0], path[1], …
  std::vector<Field> sequence(const Field& field);

  // Scalars. Each records an error and returns empty when the value is unusable.
  std::optional<std::string> string(const Field& field);
  std::optional<std::chrono::seconds> duration(const Field& field, ZeroDuration zero);
  std::optional<std::int64_t> integer(const Field& field, std::int64_t min, std::int64_t max);
  std::optional<double> number(const Field& field);
  std::optional<bool> boolean(const Field& field);
  // A string that must be one of `choices`.
  std::optional<std::string> choice(const Field& field, std::span<const std::string_view> choices);
  // A mapping of strings to strings (labels, headers, environment).
  std::optional<std::vector<std::pair<std::string, std::string>>> string_map(const Field& field);

  // The same for a key of a map: empty and no error when the key is absent.
  std::optional<std::string> optional_string(const MapReader& map, std::string_view key);
  // Records "missing required key" when absent.
  std::optional<Field> required(const MapReader& map, std::string_view key);

 private:
  // Whether a scalar's values from the environment are kept as secrets: a
  // number, a duration, a boolean or one of fixed choices is not one.
  enum class Secrecy { text, not_secret };
  std::optional<std::string> substituted(const Field& field, Secrecy secrecy);

  std::string m_file;
  EnvironmentLookup m_environment;
  std::vector<ConfigError> m_errors;
  std::vector<EnvironmentValue> m_from_environment;
};

// The closest of `candidates` to `word` if it is plausibly a typo of it.
std::optional<std::string_view> did_you_mean(std::string_view word,
                                             std::span<const std::string_view> candidates);

}  // namespace gapwatch
