// Scheduler: when each rule is due. Interval schedules run at a fixed rate
// from a first run spread over the interval by a deterministic jitter (a hash
// of the rule's name), so a thousand rules with the same schedule do not hit
// a warehouse at once, and a restart keeps the same phase. Cron schedules
// fire at their next match in their zone. A rule is never evaluated twice at
// once: when it comes due while still running, that run is skipped and
// counted. Verification asks for an extra evaluation at a given instant.
//
// Pure logic over injected instants (no clock, no sleeping); not thread-safe —
// the daemon's control thread owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "monitor/config/config.h"

namespace gapwatch {

class Scheduler {
 public:
  Scheduler(const std::vector<RuleConfig>& rules, Instant start);

  // The rules due at `now` that are not running; they are marked running.
  // Due rules that are still running are skipped, rescheduled and, if
  // `skipped` is given, listed there.
  std::vector<std::size_t> take_due(Instant now, std::vector<std::size_t>* skipped = nullptr);
  // A rule's evaluation finished at `now`.
  void finished(std::size_t rule, Instant now);
  // Evaluate `rule` at `at` (or as soon as it is not running), besides its
  // schedule.
  void request(std::size_t rule, Instant at);

  // The earliest instant at which a rule not running is due.
  std::optional<Instant> next_due() const;
  bool running(std::size_t rule) const { return m_entries[rule].running; }
  std::uint64_t skipped(std::size_t rule) const { return m_entries[rule].skipped; }
  Instant due_at(std::size_t rule) const;

  // The first evaluation of an interval rule: the first instant in
  // [start, start + interval) on the rule's grid, whose phase is a stable
  // function of its name.
  static Instant first_due(const RuleConfig& rule, Instant start);

 private:
  struct Entry {
    const RuleConfig* rule;
    Instant next;                    // the next scheduled evaluation
    std::optional<Instant> extra;    // an evaluation asked for by verification
    bool running = false;
    std::uint64_t skipped = 0;
  };

  Instant following(const Entry& entry, Instant after) const;

  std::vector<Entry> m_entries;
};

}  // namespace gapwatch
