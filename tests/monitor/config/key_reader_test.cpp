#include "monitor/config/key_reader.h"

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "monitor/config/yaml_document.h"

namespace gapwatch {
namespace {

using std::chrono::seconds;

constexpr std::array<std::string_view, 6> kKeys{"timeout", "workers", "enabled",
                                                "format",  "level",   "name"};
constexpr std::array<std::string_view, 2> kFormats{"text", "json"};
enum class Level { low, high };
constexpr std::array<std::string_view, 2> kLevels{"low", "high"};

YamlReader reader_without_environment() {
  return YamlReader("test.yaml", [](const std::string&) { return std::optional<std::string>(); });
}

// A struct as a section fills it, with its defaults.
struct Settings {
  seconds timeout{15};
  int workers = 4;
  bool enabled = true;
  std::string format = "text";
  Level level = Level::high;
};

void read_settings(KeyReader& keys, Settings& settings) {
  keys.duration("timeout", ZeroDuration::refused, settings.timeout);
  keys.integer("workers", 1, 256, settings.workers);
  keys.boolean("enabled", settings.enabled);
  keys.choice("format", kFormats, settings.format);
  keys.enumeration("level", kLevels, settings.level);
}

TEST_CASE("key_reader: keys left out keep the defaults and count no problem") {
  YamlReader reader = reader_without_environment();
  const auto map = reader.map(Field{load_yaml("{}"), ""}, kKeys);
  REQUIRE(map);
  KeyReader keys(reader, *map);
  Settings settings;
  read_settings(keys, settings);
  CHECK(keys.ok());
  CHECK_FALSE(reader.has_errors());
  CHECK(settings.timeout == seconds{15});
  CHECK(settings.workers == 4);
  CHECK(settings.enabled);
  CHECK(settings.format == "text");
  CHECK(settings.level == Level::high);
}

TEST_CASE("key_reader: usable values are read into their fields") {
  YamlReader reader = reader_without_environment();
  const auto map = reader.map(
      Field{load_yaml("{timeout: 2m, workers: 8, enabled: false, format: json, level: low}"), ""},
      kKeys);
  REQUIRE(map);
  KeyReader keys(reader, *map);
  Settings settings;
  read_settings(keys, settings);
  CHECK(keys.ok());
  CHECK(settings.timeout == seconds{120});
  CHECK(settings.workers == 8);
  CHECK_FALSE(settings.enabled);
  CHECK(settings.format == "json");
  CHECK(settings.level == Level::low);
}

TEST_CASE("key_reader: every unusable value is reported and counted, its field left as it was") {
  YamlReader reader = reader_without_environment();
  const auto map =
      reader.map(Field{load_yaml("{timeout: 0s, workers: 999, format: xml}"), ""}, kKeys);
  REQUIRE(map);
  KeyReader keys(reader, *map);
  Settings settings;
  read_settings(keys, settings);
  CHECK_FALSE(keys.ok());
  CHECK(reader.take_errors().size() == 3);
  CHECK(settings.timeout == seconds{15});
  CHECK(settings.workers == 4);
  CHECK(settings.format == "text");
}

TEST_CASE("key_reader: a missing required key is reported and counted") {
  YamlReader reader = reader_without_environment();
  const auto map = reader.map(Field{load_yaml("{workers: 2}"), ""}, kKeys);
  REQUIRE(map);
  KeyReader keys(reader, *map);
  CHECK(keys.required("workers").has_value());
  CHECK(keys.ok());
  CHECK_FALSE(keys.required("name").has_value());
  CHECK_FALSE(keys.ok());
  const auto errors = reader.take_errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "missing required key 'name'");
}

TEST_CASE("key_reader: fail counts a problem the caller found") {
  YamlReader reader = reader_without_environment();
  const auto map = reader.map(Field{load_yaml("{}"), ""}, kKeys);
  REQUIRE(map);
  KeyReader keys(reader, *map);
  keys.fail();
  CHECK_FALSE(keys.ok());
}

}  // namespace
}  // namespace gapwatch
