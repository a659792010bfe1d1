// The commands that read the configuration and the warehouses but keep no
// state: validate, check (evaluate rules once) and explain (print their SQL).
#include "monitor/cli/commands.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "monitor/cli/load_config.h"
#include "monitor/cli/report.h"
#include "monitor/config/config.h"
#include "monitor/config/yaml_reader.h"
#include "monitor/daemon/logging.h"
#include "monitor/daemon/system_clock.h"
#include "monitor/state/baseline_book.h"
#include "monitor/state/state_store.h"
#include "monitor/warehouse/evaluator.h"
#include "rules/baseline.h"
#include "rules/duration.h"

namespace gapwatch {

namespace {

constexpr std::size_t kCheckWorkers = 8;

// The rules named with --rule (all when none), or empty after reporting an
// unknown name.
std::optional<std::vector<const RuleConfig*>> select_rules(const Config& config,
                                                           const std::vector<std::string>& names) {
  std::vector<const RuleConfig*> selected;
  if (names.empty()) {
    for (const RuleConfig& rule : config.rules) {
      selected.push_back(&rule);
    }
    return selected;
  }
  std::vector<std::string_view> known;
  for (const RuleConfig& rule : config.rules) {
    known.push_back(rule.spec.name);
  }
  for (const std::string& name : names) {
    const RuleConfig* rule = config.find_rule(name);
    if (rule == nullptr) {
      const auto suggestion = did_you_mean(name, known);
      fmt::print(stderr, "error: no rule named '{}' in {}{}\n", name, config.path,
                 suggestion ? fmt::format(" (did you mean '{}'?)", *suggestion) : "");
      return std::nullopt;
    }
    selected.push_back(rule);
  }
  return selected;
}

std::optional<Instant> resolve_now(const std::optional<std::string>& text) {
  if (!text) {
    return SystemClock().now();
  }
  auto parsed = parse_rfc3339(*text);
  if (!parsed) {
    fmt::print(stderr, "error: --now: {}\n", parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

// What check and explain share: the configuration, the rules chosen with
// --rule, the instant given with --now, and an evaluator over the configured
// warehouses. Built in place, as the warehouses and the evaluator hold
// references.
struct RuleEvaluation {
  RuleEvaluation(std::unique_ptr<const Config> loaded, std::vector<const RuleConfig*> chosen,
                 Instant at)
      : config(std::move(loaded)),
        rules(std::move(chosen)),
        now(at),
        warehouses(*config, watchdog),
        evaluator(warehouses, clock) {}

  std::unique_ptr<const Config> config;
  std::vector<const RuleConfig*> rules;  // into *config
  Instant now;
  QueryWatchdog watchdog;
  Warehouses warehouses;
  SystemClock clock;  // measures how long each evaluation takes
  Evaluator evaluator;
  // Baseline rules learn what the daemon kept, when its state database
  // exists: its counts (so check reads no more than the daemon would) and
  // the windows of incidents that were not healed. Read only.
  std::unique_ptr<StateStore> store;
  std::unique_ptr<BaselineBook> baselines;
};

// The daemon's state database, if a chosen rule has a baseline and the file
// exists (check never creates one).
void open_baselines(RuleEvaluation& evaluation) {
  const bool any_baseline =
      std::any_of(evaluation.rules.begin(), evaluation.rules.end(),
                  [](const RuleConfig* rule) { return rule->spec.baseline.has_value(); });
  const std::string& path = evaluation.config->monitor.state_path;
  std::error_code ignored;
  if (!any_baseline || !std::filesystem::exists(path, ignored)) {
    return;
  }
  auto store = StateStore::open(path);
  if (!store) {
    spdlog::warn("baselines are learned without the state database {}: {}", path,
                 store.error().message);
    return;
  }
  evaluation.store = std::move(*store);
  evaluation.baselines = std::make_unique<BaselineBook>(*evaluation.store);
}

// The evaluation `options` ask for, or null after reporting an invalid
// configuration, rule name or --now.
std::unique_ptr<RuleEvaluation> prepare_evaluation(const CheckOptions& options) {
  auto loaded = load_config_or_report(options.config_path);
  if (!loaded) {
    return nullptr;
  }
  auto config = std::make_unique<const Config>(std::move(*loaded));
  set_log_redactor(config_redactor(*config));
  warn_about_unmasked_values(*config);
  auto rules = select_rules(*config, options.rules);
  const auto now = resolve_now(options.now);
  if (!rules || !now) {
    return nullptr;
  }
  auto evaluation =
      std::make_unique<RuleEvaluation>(std::move(config), std::move(*rules), *now);
  open_baselines(*evaluation);
  return evaluation;
}

// Evaluates `rules` concurrently; results keep the order of `rules`.
std::vector<RuleResult> evaluate_all(RuleEvaluation& evaluation) {
  const std::vector<const RuleConfig*>& rules = evaluation.rules;
  std::vector<RuleResult> results(rules.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < rules.size(); i = next++) {
      const auto history = evaluation.baselines
                               ? evaluation.baselines->history_for(rules[i]->spec, evaluation.now)
                               : nullptr;
      results[i] = evaluation.evaluator.evaluate(*rules[i], evaluation.now, nullptr, history.get());
    }
  };
  std::vector<std::jthread> workers;
  const std::size_t count = std::min(kCheckWorkers, rules.size());
  for (std::size_t i = 1; i < count; ++i) {
    workers.emplace_back(work);
  }
  work();
  return results;
}

// The statement with its parameters written in as literals, for running by
// hand in psql or sqlite3.
std::string inline_parameters(const QueryPlan& plan) {
  std::string out;
  std::size_t next = 0;
  bool in_string = false;
  for (const char c : plan.sql) {
    if (c == '\'') {
      in_string = !in_string;
    }
    if (c == '?' && !in_string && next < plan.params.size()) {
      out += plan.params[next++].display();
    } else {
      out += c;
    }
  }
  return out;
}

void print_plan(const QueryPlan& plan, ExplainParams params) {
  switch (params) {
    case ExplainParams::inline_literals:
      fmt::print("{};\n\n", inline_parameters(plan));
      break;
    case ExplainParams::listed:
      fmt::print("{};\n", plan.sql);
      for (std::size_t i = 0; i < plan.params.size(); ++i) {
        fmt::print("-- ${} = {}\n", i + 1, plan.params[i].display());
      }
      fmt::print("\n");
      break;
  }
}

}  // namespace

int validate_command(const std::string& config_path) {
  const auto config = load_config_or_report(config_path);
  if (!config) {
    return kExitInvalid;
  }
  fmt::print("{}: valid ({} warehouse(s), {} rule(s))\n", config_path, config->warehouses.size(),
             config->rules.size());
  return 0;
}

int check_command(const CheckOptions& options) {
  if (options.output != "text" && options.output != "json") {
    fmt::print(stderr, "error: --output must be text or json\n");
    return kExitInvalid;
  }
  const auto evaluation = prepare_evaluation(options);
  if (!evaluation) {
    return kExitInvalid;
  }
  const Instant now = evaluation->now;
  std::vector<RuleResult> results = evaluate_all(*evaluation);
  const Redactor redactor(config_secrets(*evaluation->config));
  for (RuleResult& result : results) {
    result = redacted(std::move(result), redactor);
  }
  for (const RuleResult& result : results) {
    if (result.verdict.status == Status::error) {
      spdlog::debug("rule {}: {}", result.rule, result.verdict.message);
    }
  }
  const std::string rendered =
      options.output == "json" ? render_json(results, now) : render_text(results);
  std::fwrite(rendered.data(), 1, rendered.size(), stdout);
  return check_exit_code(results);
}

int explain_command(const CheckOptions& options, ExplainParams params) {
  const auto evaluation = prepare_evaluation(options);
  if (!evaluation) {
    return kExitInvalid;
  }
  const Instant now = evaluation->now;
  int exit_code = 0;
  for (const RuleConfig* rule : evaluation->rules) {
    fmt::print("-- rule {}: {} on {}.{} at {}\n", rule->spec.name, to_string(rule->spec.check),
               rule->spec.warehouse, rule->spec.table.display(), format_rfc3339(now));
    // A baseline rule reads its lookback only once its history is kept; the
    // first evaluation (and each refresh) reads history and lookback at once.
    std::optional<BaselineHistory> kept;
    if (rule->spec.baseline) {
      kept = BaselineHistory{};
      kept->fingerprint = baseline_fingerprint(rule->spec);
      kept->covered_from = Instant::min();
      kept->covered_to = Instant::max();
      kept->full_read_at = now;
    }
    auto plan = evaluation->evaluator.plan(*rule, now, kept ? &*kept : nullptr);
    if (!plan) {
      fmt::print("-- error: {}\n\n", plan.error().message);
      exit_code = 3;
      continue;
    }
    if (!plan->buckets.empty()) {
      fmt::print("-- {} bucket(s) from {} to {}; rows grouped by {}s granules\n",
                 plan->buckets.size(), format_rfc3339(plan->buckets.front().start),
                 format_rfc3339(plan->buckets.back().end), plan->granules.size);
    }
    print_plan(*plan, params);
    if (rule->spec.source) {
      const auto source = evaluation->evaluator.plan_source(*rule, now);
      if (!source) {
        fmt::print("-- error: source {}: {}\n\n", rule->spec.source->warehouse,
                   source.error().message);
        exit_code = 3;
        continue;
      }
      fmt::print("-- source: {}.{}, counted over the same buckets\n", rule->spec.source->warehouse,
                 rule->spec.source->table.display());
      print_plan(*source, params);
    }
    if (kept) {
      const auto first = evaluation->evaluator.plan(*rule, now, nullptr);
      if (first) {
        fmt::print("-- baseline: the first evaluation, and one every {} (baseline.refresh), reads "
                   "{} of history with the lookback: the same statement from {}, {} buckets "
                   "more\n",
                   format_duration(rule->spec.baseline->refresh),
                   format_duration(rule->spec.baseline->history),
                   format_rfc3339(*first->range_start), first->history_buckets.size());
        print_plan(*first, params);
      }
    }
  }
  return exit_code;
}

}  // namespace gapwatch
