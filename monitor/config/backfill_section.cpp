// A rule's `backfill:` section: the executor to send requests to, the
// parameters they carry, and how requests are cut, delayed, verified and
// retried; and, once every rule is loaded, the check that each template
// variable an executor uses is defined for the rules that send to it. Not
// thread-safe: part of one ConfigLoader's load.
#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "monitor/config/config_loader.h"
#include "monitor/config/template_config.h"
#include "rules/duration.h"
#include "rules/time.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 9> kBackfillKeys{
    "executor",     "params",       "max_window",      "min_buckets", "not_before",
    "verify_after", "max_attempts", "attempt_backoff", "order"};
// BackfillPolicy::Order's names, in its order.
constexpr std::array<std::string_view, 2> kOrders{"newest_first", "oldest_first"};

// params: names that neither are invalid nor hide a built-in variable.
void load_params(YamlReader& reader, KeyReader& keys, BackfillPolicy& policy) {
  const auto params = keys.field("params");
  if (!params) {
    return;
  }
  const auto entries = reader.string_map(*params);
  if (!entries) {
    keys.fail();
    return;
  }
  for (const auto& [name, value] : *entries) {
    if (!valid_variable_name(name)) {
      reader.error(*params, fmt::format("invalid parameter name '{}'", name));
      keys.fail();
    } else if (request_variables().contains(name)) {
      reader.error(*params, fmt::format("parameter '{}' would hide the built-in variable {{{}}}",
                                        name, name));
      keys.fail();
    }
    policy.params[name] = value;
  }
}

}  // namespace

std::optional<BackfillPolicy> load_backfill(YamlReader& reader, const Field& field,
                                            const Config& config) {
  const auto map = reader.map(field, kBackfillKeys);
  if (!map) {
    return std::nullopt;
  }
  KeyReader keys(reader, *map);
  BackfillPolicy policy;
  if (const auto executor = keys.required("executor")) {
    const auto name = reader.string(*executor);
    if (name && config.find_executor(*name) == nullptr) {
      std::vector<std::string> declared;
      for (const ExecutorSpec& spec : config.executors) {
        declared.push_back(spec.name);
      }
      report_unknown_name(reader, *executor, "executor", *name, declared);
      keys.fail();
    }
    policy.executor = name.value_or("");
    if (!name) {
      keys.fail();
    }
  }
  load_params(reader, keys, policy);
  keys.duration("max_window", ZeroDuration::refused, policy.max_window);
  keys.integer("min_buckets", 1, 1000000, policy.min_buckets);
  if (const auto not_before = keys.field("not_before")) {
    if (const auto text = reader.string(*not_before)) {
      auto instant = parse_rfc3339(*text);
      if (instant) {
        policy.not_before = *instant;
      } else {
        reader.error(*not_before, instant.error().message);
        keys.fail();
      }
    } else {
      keys.fail();
    }
  }
  keys.duration("verify_after", ZeroDuration::allowed, policy.verify_after);
  keys.integer("max_attempts", 1, 100, policy.max_attempts);
  keys.enumeration("order", kOrders, policy.order);
  if (const auto backoff = keys.field("attempt_backoff")) {
    // A wait longer than the cap would be shortened without a word: refused.
    keys.duration("attempt_backoff", ZeroDuration::allowed, policy.attempt_backoff);
    if (policy.attempt_backoff > kMaxAttemptBackoff) {
      reader.error(*backoff, fmt::format("attempt_backoff must be at most {} (the longest wait "
                                         "between two attempts)",
                                         format_duration(kMaxAttemptBackoff)));
      keys.fail();
    }
  }
  if (!keys.ok()) {
    return std::nullopt;
  }
  return policy;
}

namespace {

// Why `variable`, a segment variable, is not defined for `rule`; empty when
// it is ({segment} and a {segment.<column>} of the rule's segment_by).
// (Without segment_by, a parameter may still be named `segment`.)
std::string undefined_segment_variable(const std::string& variable, const RuleConfig& rule) {
  const std::vector<std::string>& columns = rule.spec.segment_by;
  if (columns.empty()) {
    return fmt::format(
        "template variable {{{}}} is defined for rules with segment_by only, and "
        "rule '{}' has none",
        variable, rule.spec.name);
  }
  const bool defined = variable == kSegmentVariable ||
                       std::any_of(columns.begin(), columns.end(), [&](const std::string& column) {
                         return variable == segment_variable(column);
                       });
  if (defined) {
    return {};
  }
  return fmt::format("unknown template variable {{{}}}: not a segment_by column of rule '{}' ({})",
                     variable, rule.spec.name, fmt::join(columns, ", "));
}

}  // namespace

void check_backfill_variables(YamlReader& reader, const Config& config,
                              const std::vector<VariableUse>& uses,
                              const std::vector<std::pair<std::string, Field>>& rule_backfills) {
  for (const auto& [rule_name, backfill_field] : rule_backfills) {
    const RuleConfig* rule = config.find_rule(rule_name);
    if (rule == nullptr || !rule->backfill) {
      continue;
    }
    // A segmented rule defines {segment}: a parameter of that name would
    // never be seen.
    if (!rule->spec.segment_by.empty() &&
        rule->backfill->params.contains(std::string(kSegmentVariable))) {
      reader.error(backfill_field,
                   fmt::format("parameter '{}' would hide the built-in variable {{{}}} of a rule "
                               "with segment_by",
                               kSegmentVariable, kSegmentVariable));
    }
    for (const VariableUse& use : uses) {
      if (use.executor != rule->backfill->executor || request_variables().contains(use.variable)) {
        continue;
      }
      const bool segmented = !rule->spec.segment_by.empty();
      if (segmented && is_segment_variable(use.variable)) {
        if (const std::string why = undefined_segment_variable(use.variable, *rule); !why.empty()) {
          reader.error(use.where, why);
        }
        continue;
      }
      if (rule->backfill->params.contains(use.variable)) {
        continue;
      }
      if (is_segment_variable(use.variable)) {
        reader.error(use.where, undefined_segment_variable(use.variable, *rule));
        continue;
      }
      reader.error(use.where, fmt::format("unknown template variable {{{}}}: not a built-in "
                                          "variable, and rule '{}' defines no such "
                                          "backfill.params key",
                                          use.variable, rule_name));
    }
  }
  // Variables of executors no rule uses must still be built-in ones or
  // defined by some rule, or they are plain typos.
  std::set<std::string> used_executors;
  std::set<std::string, std::less<>> defined_somewhere;
  for (const RuleConfig& rule : config.rules) {
    if (rule.backfill) {
      used_executors.insert(rule.backfill->executor);
      for (const auto& [name, value] : rule.backfill->params) {
        defined_somewhere.insert(name);
      }
    }
    if (!rule.spec.segment_by.empty()) {
      defined_somewhere.insert(std::string(kSegmentVariable));
      for (const std::string& column : rule.spec.segment_by) {
        defined_somewhere.insert(segment_variable(column));
      }
    }
  }
  for (const VariableUse& use : uses) {
    if (!used_executors.contains(use.executor) && !request_variables().contains(use.variable) &&
        !defined_somewhere.contains(use.variable)) {
      reader.error(use.where, fmt::format("unknown template variable {{{}}}", use.variable));
    }
  }
}

}  // namespace gapwatch
