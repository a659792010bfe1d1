#include "monitor/daemon/scheduler.h"

#include <algorithm>

#include "rules/stable_hash.h"

namespace gapwatch {

Instant Scheduler::first_due(const RuleConfig& rule, Instant start) {
  if (const auto* interval = std::get_if<std::chrono::seconds>(&rule.schedule.when)) {
    // The rule's grid is anchored at the epoch, not at `start`, so that a
    // restart keeps the phase.
    const std::int64_t period = std::max<std::int64_t>(interval->count(), 1);
    const auto phase =
        static_cast<std::int64_t>(stable_hash(rule.spec.name) % static_cast<std::uint64_t>(period));
    const std::int64_t into_period = start.time_since_epoch().count() % period;
    const std::int64_t offset = ((phase - into_period) % period + period) % period;
    return start + std::chrono::seconds{offset};
  }
  const auto& cron = std::get<CronExpression>(rule.schedule.when);
  return cron.next_after(start - std::chrono::seconds{1}, rule.schedule.zone);
}

Scheduler::Scheduler(const std::vector<RuleConfig>& rules, Instant start) {
  m_entries.reserve(rules.size());
  for (const RuleConfig& rule : rules) {
    m_entries.push_back(Entry{&rule, first_due(rule, start), std::nullopt, false, 0});
  }
}

Instant Scheduler::following(const Entry& entry, Instant after) const {
  if (const auto* interval = std::get_if<std::chrono::seconds>(&entry.rule->schedule.when)) {
    // Fixed rate: the next slot after `after` on the rule's grid.
    const std::int64_t period = std::max<std::int64_t>(interval->count(), 1);
    const std::int64_t behind = (after - entry.next).count();
    const std::int64_t steps = behind < 0 ? 1 : behind / period + 1;
    return entry.next + std::chrono::seconds{steps * period};
  }
  const auto& cron = std::get<CronExpression>(entry.rule->schedule.when);
  return cron.next_after(after, entry.rule->schedule.zone);
}

Instant Scheduler::due_at(std::size_t rule) const {
  const Entry& entry = m_entries[rule];
  return entry.extra ? std::min(*entry.extra, entry.next) : entry.next;
}

std::vector<std::size_t> Scheduler::take_due(Instant now, std::vector<std::size_t>* skipped) {
  std::vector<std::size_t> due;
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    Entry& entry = m_entries[i];
    const bool scheduled = entry.next <= now;
    const bool asked = entry.extra && *entry.extra <= now;
    if (!scheduled && !asked) {
      continue;
    }
    if (entry.running) {
      if (scheduled) {
        // The previous evaluation overran its slot: skip this one.
        ++entry.skipped;
        entry.next = following(entry, now);
        if (skipped != nullptr) {
          skipped->push_back(i);
        }
      }
      continue;  // an extra evaluation waits until the running one ends
    }
    if (scheduled) {
      entry.next = following(entry, now);
    }
    if (asked) {
      // An extra evaluation asked for later than this one still happens.
      entry.extra.reset();
    }
    entry.running = true;
    due.push_back(i);
  }
  return due;
}

void Scheduler::finished(std::size_t rule, Instant /*now*/) { m_entries[rule].running = false; }

void Scheduler::request(std::size_t rule, Instant at) {
  Entry& entry = m_entries[rule];
  entry.extra = entry.extra ? std::min(*entry.extra, at) : at;
}

std::optional<Instant> Scheduler::next_due() const {
  std::optional<Instant> earliest;
  for (std::size_t i = 0; i < m_entries.size(); ++i) {
    if (m_entries[i].running) {
      continue;
    }
    const Instant due = due_at(i);
    earliest = earliest ? std::min(*earliest, due) : due;
  }
  return earliest;
}

}  // namespace gapwatch
