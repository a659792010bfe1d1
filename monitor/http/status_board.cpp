// StatusBoard: the rules' latest results, by name (see status_board.h).
#include "monitor/http/status_board.h"

namespace gapwatch {

RuleStatus* StatusBoard::find(const std::string& rule) {
  const auto found = m_index.find(rule);
  return found == m_index.end() ? nullptr : &m_rules[found->second];
}

void StatusBoard::set_rules(const std::vector<RuleConfig>& rules) {
  MutexLock lock(m_mutex);
  std::vector<RuleStatus> next;
  std::unordered_map<std::string, std::size_t> index;
  next.reserve(rules.size());
  index.reserve(rules.size());
  for (const RuleConfig& rule : rules) {
    RuleStatus status;
    if (const RuleStatus* existing = find(rule.spec.name)) {
      status = *existing;
    }
    static_cast<RuleIdentity&>(status) = RuleIdentity(rule.spec);
    status.schedule = rule.schedule.text;
    index.emplace(status.rule, next.size());
    next.push_back(std::move(status));
  }
  m_rules = std::move(next);
  m_index = std::move(index);
}

void StatusBoard::record(const RuleResult& result) {
  MutexLock lock(m_mutex);
  if (RuleStatus* status = find(result.rule)) {
    status->last = result;
  }
}

void StatusBoard::set_next_due(const std::string& rule, std::optional<Instant> due) {
  MutexLock lock(m_mutex);
  if (RuleStatus* status = find(rule)) {
    status->next_due = due;
  }
}

void StatusBoard::record_skipped(const std::string& rule) {
  MutexLock lock(m_mutex);
  if (RuleStatus* status = find(rule)) {
    ++status->skipped;
  }
}

void StatusBoard::set_running(const std::vector<std::pair<std::string, Instant>>& running) {
  MutexLock lock(m_mutex);
  m_running.clear();
  for (const auto& [rule, since] : running) {
    m_running.emplace(rule, since);
  }
}

std::vector<RuleStatus> StatusBoard::snapshot() const {
  MutexLock lock(m_mutex);
  std::vector<RuleStatus> rules = m_rules;
  for (const auto& [rule, since] : m_running) {
    if (const auto found = m_index.find(rule); found != m_index.end()) {
      rules[found->second].running_since = since;
    }
  }
  return rules;
}

}  // namespace gapwatch
