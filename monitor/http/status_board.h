// StatusBoard: the latest result of every rule and when it runs next, for the
// HTTP API and the status page. The daemon writes, HTTP threads read copies.
// Thread-safe: m_mutex guards the table.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/warehouse/rule_result.h"
#include "rules/mutex.h"

namespace gapwatch {

struct RuleStatus : RuleIdentity {
  std::string schedule;
  std::optional<RuleResult> last;
  std::optional<Instant> next_due;
  std::uint64_t skipped = 0;
  // Set while an evaluation runs: since when (a hung warehouse shows here
  // before its evaluation is abandoned).
  std::optional<Instant> running_since;
};

class StatusBoard {
 public:
  // The configured rules, in config order; keeps the results of rules that
  // stay.
  void set_rules(const std::vector<RuleConfig>& rules);
  void record(const RuleResult& result);
  void set_next_due(const std::string& rule, std::optional<Instant> due);
  void record_skipped(const std::string& rule);
  // The rules being evaluated now (rule, since), replacing the last such
  // list; the daemon sets it on every pass.
  void set_running(const std::vector<std::pair<std::string, Instant>>& running);

  std::vector<RuleStatus> snapshot() const;

 private:
  mutable Mutex m_mutex;
  std::vector<RuleStatus> m_rules GUARDED_BY(m_mutex);
  // Where each rule is in m_rules: every result looks its rule up, and a scan
  // made a round of 10,000 rules cost 10,000² string comparisons.
  std::unordered_map<std::string, std::size_t> m_index GUARDED_BY(m_mutex);
  // The rules evaluated now, by name: a handful, not a field of every rule,
  // so that replacing it costs nothing at 10,000 rules.
  std::unordered_map<std::string, Instant> m_running GUARDED_BY(m_mutex);

  RuleStatus* find(const std::string& rule) REQUIRES(m_mutex);
};

}  // namespace gapwatch
