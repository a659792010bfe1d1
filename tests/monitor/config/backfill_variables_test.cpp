// check_backfill_variables and segments: {segment} and {segment.<column>} in
// an executor's templates are defined for the rules with segment_by that send
// to it, and a config error at the place of use for any other.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "monitor/config/config_loader.h"
#include "monitor/config/yaml_document.h"
#include "monitor/config/yaml_reader.h"

namespace gapwatch {
namespace {

// An executor `reload` whose argv uses `variables`, one per line from line 2,
// and rules sending to it; check_backfill_variables' errors, formatted.
class Check {
 public:
  explicit Check(const std::vector<std::string>& variables) {
    std::string text = "argv:\n";
    for (const std::string& variable : variables) {
      text += "  - \"{" + variable + "}\"\n";
    }
    m_document = load_yaml(text);
    std::size_t index = 0;
    for (const YamlNode& item : m_document["argv"]) {
      m_uses.push_back(
          VariableUse{"reload", variables[index],
                      Field{item, "executors[0].command.argv[" + std::to_string(index) + "]"}});
      ++index;
    }
  }

  Check& rule(std::string name, std::vector<std::string> segment_by,
              std::map<std::string, std::string> params = {}, std::string executor = "reload") {
    RuleConfig rule;
    rule.spec.name = name;
    rule.spec.segment_by = std::move(segment_by);
    BackfillPolicy policy;
    policy.executor = std::move(executor);
    policy.params = std::move(params);
    rule.backfill = policy;
    m_config.rules.push_back(rule);
    m_backfills.emplace_back(name, Field{m_document, "rules[0].backfill"});
    return *this;
  }

  std::vector<std::string> errors() {
    YamlReader reader("gapwatch.yaml", [](const std::string&) { return std::nullopt; });
    check_backfill_variables(reader, m_config, m_uses, m_backfills);
    std::vector<std::string> formatted;
    for (const ConfigError& error : reader.take_errors()) {
      formatted.push_back(error.format());
    }
    return formatted;
  }

 private:
  YamlNode m_document;
  std::vector<VariableUse> m_uses;
  Config m_config;
  std::vector<std::pair<std::string, Field>> m_backfills;
};

using Errors = std::vector<std::string>;

TEST_CASE(
    "backfill variables: {segment} and each segment_by column are defined for a segmented "
    "rule") {
  CHECK(Check({"segment", "segment.country", "segment.channel", "window_start"})
            .rule("orders_by_country", {"country", "channel"})
            .errors()
            .empty());
}

TEST_CASE("backfill variables: a column not in segment_by is an error naming it and the rule") {
  CHECK(Check({"segment.country", "segment.region"})
            .rule("orders_by_country", {"country"})
            .errors() ==
        Errors{"gapwatch.yaml:3:5: error: executors[0].command.argv[1]: unknown template variable "
               "{segment.region}: not a segment_by column of rule 'orders_by_country' (country)"});
}

TEST_CASE("backfill variables: segment variables need every rule of the executor to define them") {
  CHECK(Check({"segment.country"})
            .rule("orders_by_country", {"country"})
            .rule("orders_total", {})
            .errors() ==
        Errors{"gapwatch.yaml:2:5: error: executors[0].command.argv[0]: template variable "
               "{segment.country} is defined for rules with segment_by only, and rule "
               "'orders_total' has none"});
  CHECK(Check({"segment"}).rule("orders_total", {}).errors() ==
        Errors{"gapwatch.yaml:2:5: error: executors[0].command.argv[0]: template variable "
               "{segment} is defined for rules with segment_by only, and rule 'orders_total' has "
               "none"});
  SUBCASE("a rule sending elsewhere does not matter") {
    CHECK(Check({"segment.country"})
              .rule("orders_by_country", {"country"})
              .rule("orders_total", {}, {}, "other")
              .errors()
              .empty());
  }
}

TEST_CASE("backfill variables: an executor no rule uses may use any rule's segment variables") {
  CHECK(Check({"segment.country"})
            .rule("orders_by_country", {"country"}, {}, "other")
            .errors()
            .empty());
  CHECK(Check({"segment.country"}).rule("orders_total", {}, {}, "other").errors() ==
        Errors{"gapwatch.yaml:2:5: error: executors[0].command.argv[0]: unknown template variable "
               "{segment.country}"});
}

TEST_CASE("backfill variables: a segmented rule's parameter may not hide {segment}") {
  CHECK(Check({}).rule("orders_by_country", {"country"}, {{"segment", "all"}}).errors() ==
        Errors{"gapwatch.yaml:1:1: error: rules[0].backfill: parameter 'segment' would hide the "
               "built-in variable {segment} of a rule with segment_by"});
  // Without segment_by there is no built-in {segment}: the parameter is the
  // rule's own, as before segments existed.
  CHECK(Check({"segment"}).rule("orders_total", {}, {{"segment", "all"}}).errors().empty());
}

}  // namespace
}  // namespace gapwatch
