#include "monitor/config/yaml_document.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

namespace gapwatch {
namespace {

std::string mark_text(const YAML::Mark& mark) {
  return std::to_string(mark.line) + ":" + std::to_string(mark.column) + "@" +
         std::to_string(mark.pos);
}

// Every node of `ours` is the node of yaml-cpp's tree at the same place: the
// same kind, mark, tag, text and entries. Aliases may make cycles: `depth`
// bounds the walk.
void check_same(const YamlNode& ours, const YAML::Node& theirs, const std::string& path,
                int depth = 0) {
  INFO("at ", path);
  REQUIRE(ours.Type() == theirs.Type());
  CHECK(mark_text(ours.Mark()) == mark_text(theirs.Mark()));
  CHECK(ours.Tag() == theirs.Tag());
  CHECK(ours.Scalar() == theirs.Scalar());
  REQUIRE(ours.size() == theirs.size());
  if (depth > 8) {
    return;
  }
  if (theirs.IsSequence()) {
    std::size_t index = 0;
    auto it = theirs.begin();
    for (const YamlEntry& item : ours) {
      check_same(item, *it, path + "[" + std::to_string(index++) + "]", depth + 1);
      CHECK_FALSE(item.first.IsDefined());
      ++it;
    }
  } else if (theirs.IsMap()) {
    auto it = theirs.begin();
    for (const YamlEntry& entry : ours) {
      CHECK_FALSE(entry.IsDefined());
      check_same(entry.first, it->first, path + ".key", depth + 1);
      check_same(entry.second, it->second, path + "." + it->first.Scalar(), depth + 1);
      ++it;
    }
  }
}

// The first item of a sequence, as a node of its own.
YamlNode first_item(const YamlNode& sequence) {
  for (const YamlNode& item : sequence) {
    return item;
  }
  return YamlNode();
}

void check_same_as_yaml_cpp(const std::string& text) {
  INFO("document: ", text);
  check_same(load_yaml(text), YAML::Load(text), "");
}

// What yaml-cpp's exception says, as "line:column message".
std::string error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const YAML::Exception& exception) {
    return std::to_string(exception.mark.line) + ":" + std::to_string(exception.mark.column) + " " +
           exception.msg;
  }
  return "no error";
}

TEST_CASE("yaml document: nodes are yaml-cpp's, kind for kind, mark for mark") {
  check_same_as_yaml_cpp(
      "version: 1\nrules:\n  - name: a\n    table: t\n  - {name: b, table: u}\n");
  check_same_as_yaml_cpp("- [1, 2, [3, [4]]]\n- {a: {b: {c: d}}}\n-\n- ~\n- null\n- ''\n- \"\"\n");
  check_same_as_yaml_cpp("a:\nb: |\n  text\n  more\nc: >\n  folded\n? d\n: e\n");
  check_same_as_yaml_cpp("[a, b: c, {d: e}]\n");
  check_same_as_yaml_cpp("key: value # comment\n# another\nother:   spaced\n");
  check_same_as_yaml_cpp("\xEF\xBB\xBFkey: after a byte-order mark\n");
  check_same_as_yaml_cpp("just a scalar\n");
  check_same_as_yaml_cpp("? [complex, key]\n: value\n");
}

TEST_CASE("yaml document: marks are 0-based line and byte column of where a node starts") {
  const YamlNode root = load_yaml("a: 1\nlist:\n  - x\n  - {k: v}\n");
  CHECK(mark_text(root.Mark()) == "0:0@0");
  CHECK(mark_text(root["a"].Mark()) == "0:3@3");
  const YamlNode list = root["list"];
  CHECK(mark_text(list.Mark()) == "2:2@13");
  std::vector<std::string> marks;
  for (const YamlEntry& item : list) {
    marks.push_back(mark_text(item.Mark()));
  }
  CHECK(marks == std::vector<std::string>{"2:4@15", "3:4@21"});
  CHECK(mark_text(YamlNode().Mark()) == mark_text(YAML::Mark::null_mark()));
}

TEST_CASE("yaml document: a null is a node with a mark and no tag") {
  const YamlNode root = load_yaml("a:\nb: ~\nc: null\nd: ''\ne: 'null'\n");
  CHECK(root["a"].IsNull());
  CHECK(mark_text(root["a"].Mark()) == "1:0@3");  // where the next key starts, as yaml-cpp says
  CHECK(root["b"].IsNull());
  CHECK(root["c"].IsNull());
  CHECK(root["a"].Tag() == "");
  CHECK(root["d"].IsScalar());
  CHECK(root["d"].Scalar() == "");
  CHECK(root["e"].IsScalar());
  CHECK(root["e"].Scalar() == "null");
  CHECK(root["a"].Scalar() == "");
  CHECK(root["a"].size() == 0);
}

TEST_CASE("yaml document: tags tell plain from quoted scalars, and keep explicit ones") {
  const YamlNode root = load_yaml(
      "plain: 1\nsingle: '1'\ndouble: \"1\"\nstring: !!str 1\nmine: !thing x\n"
      "map: {}\nlist: []\ntagged_map: !m {a: b}\n");
  CHECK(root["plain"].Tag() == "?");
  CHECK(root["single"].Tag() == "!");
  CHECK(root["double"].Tag() == "!");
  CHECK(root["string"].Tag() == "tag:yaml.org,2002:str");
  CHECK(root["mine"].Tag() == "!thing");
  CHECK(root["map"].Tag() == "?");
  CHECK(root["list"].Tag() == "?");
  CHECK(root["tagged_map"].Tag() == "!m");
  CHECK(root.Tag() == "?");
}

TEST_CASE("yaml document: an alias is the anchored node itself, not a copy") {
  const YamlNode root = load_yaml("base: &b {every: 1h, lookback: 1d}\none: *b\ntwo: *b\n");
  CHECK(root["one"].is(root["base"]));
  CHECK(root["two"].is(root["base"]));
  CHECK_FALSE(root["one"].is(root));
  CHECK(mark_text(root["two"].Mark()) == mark_text(root["base"].Mark()));
  CHECK(root["two"]["every"].Scalar() == "1h");

  // A node may name itself: a cycle, as in yaml-cpp's tree.
  const YamlNode cycle = load_yaml("&a [*a, x]\n");
  REQUIRE(cycle.size() == 2);
  CHECK(cycle.begin()->is(cycle));

  // An anchor given again names the later node from there on.
  const YamlNode again = load_yaml("- &a one\n- *a\n- &a two\n- *a\n");
  std::vector<std::string> items;
  for (const YamlEntry& item : again) {
    items.push_back(item.Scalar());
  }
  CHECK(items == std::vector<std::string>{"one", "one", "two", "two"});
  check_same_as_yaml_cpp("base: &b {every: 1h, lookback: 1d}\none: *b\nlist: &l [1, *b]\nx: *l\n");
}

TEST_CASE("yaml document: nesting, in block and flow style") {
  std::string deep;
  for (int i = 0; i < 100; ++i) {
    deep += "[";
  }
  deep += "x";
  for (int i = 0; i < 100; ++i) {
    deep += "]";
  }
  YamlNode node = load_yaml(deep);
  for (int i = 0; i < 100; ++i) {
    REQUIRE(node.IsSequence());
    REQUIRE(node.size() == 1);
    node = first_item(node);
  }
  CHECK(node.Scalar() == "x");
  CHECK(mark_text(node.Mark()) == "0:100@100");

  const YamlNode rules = load_yaml(
      "rules:\n  - name: a\n    partition: {every: 1h, lookback: [1d, 2d]}\n"
      "  - name: b\n")["rules"];
  REQUIRE(rules.size() == 2);
  const YamlNode first = first_item(rules);
  CHECK(first["partition"]["every"].Scalar() == "1h");
  CHECK(first["partition"]["lookback"].size() == 2);
  CHECK(first["partition"]["delay"].IsDefined() == false);
  check_same_as_yaml_cpp(
      "rules:\n  - name: a\n    partition: {every: 1h, lookback: [1d, 2d]}\n"
      "  - name: b\n");
}

TEST_CASE("yaml document: a map keeps duplicate keys in order; [] finds the first") {
  const YamlNode root = load_yaml("a: 1\nb: 2\na: 3\n");
  CHECK(root.size() == 3);
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (const YamlEntry& entry : root) {
    keys.push_back(entry.first.Scalar());
    values.push_back(entry.second.Scalar());
  }
  CHECK(keys == std::vector<std::string>{"a", "b", "a"});
  CHECK(values == std::vector<std::string>{"1", "2", "3"});
  CHECK(root["a"].Scalar() == "1");
  CHECK_FALSE(root["c"].IsDefined());
  CHECK(root["c"].Type() == YAML::NodeType::Undefined);
  CHECK_FALSE(load_yaml("[a]")["a"].IsDefined());
  CHECK_FALSE(load_yaml("a")["a"].IsDefined());
}

TEST_CASE("yaml document: text without a document is a null without a mark, as YAML::Load's") {
  for (const std::string text : {"", "\n", "# only a comment\n", "   \n\n"}) {
    INFO("text: '", text, "'");
    const YamlNode root = load_yaml(text);
    CHECK(root.IsDefined());
    CHECK(root.IsNull());
    CHECK(root.begin() == root.end());
    check_same_as_yaml_cpp(text);
  }
  // An empty document is one whose only node is a null.
  for (const std::string text : {"---\n", "--- ~\n", "...\n"}) {
    INFO("text: '", text, "'");
    CHECK(load_yaml(text).IsNull());
    check_same_as_yaml_cpp(text);
  }
}

TEST_CASE("yaml document: only the first document is read") {
  const YamlNode root = load_yaml("a: 1\n---\nb: 2\n");
  CHECK(root["a"].Scalar() == "1");
  CHECK_FALSE(root["b"].IsDefined());
}

TEST_CASE("yaml document: invalid YAML throws yaml-cpp's exception, mark and message") {
  const std::vector<std::string> texts{
      "[a, b\n",     "{a: b\n",   "a: 'open\n#",        "a: *nowhere\n",
      "a:\n\t- b\n", "a: b: c\n", std::string(600, '[')};
  for (const std::string& text : texts) {
    INFO("text: ", text);
    const std::string theirs = error_of([&] { YAML::Load(text); });
    CHECK(theirs != "no error");
    CHECK(error_of([&] { load_yaml(text); }) == theirs);
  }
  CHECK_THROWS_AS(load_yaml(std::string(600, '[')), YAML::DeepRecursion);
}

}  // namespace
}  // namespace gapwatch
