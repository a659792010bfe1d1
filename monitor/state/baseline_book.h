// BaselineBook: what the daemon keeps of each baseline rule's history between
// evaluations, so that the warehouse reads the whole history once and then
// only the rule's lookback (rules/baseline.h decides how far back a statement
// reads from what is kept).
//
// In memory: per rule, the bucket counts of the history and of the last judged
// range, as an immutable snapshot (a BaselineHistory) that evaluations share;
// a segmented rule's by segment (BaselineHistory::segments, in key order: a
// segment no longer judged keeps its counts until they leave the history).
// In the state database (tables baselines and baseline_buckets): the settled
// buckets only, those older than the last judged range, written when they
// settle (about once per bucket, not once per evaluation) and in full after a
// full read. After a restart the first evaluation reads from where the settled
// counts end.
//
// Never learned from (BaselineHistory::excluded): the windows of the rule's
// incidents that were not healed, read from the state database with every
// snapshot (open, escalated, or resolved by an operator or by the rule's
// removal; incidents resolved because the rule passed again were healed).
//
// A verified backfill makes its window's counts be read again: reread().
// (StateStore::delete_baseline forgets a rule's kept counts in the database.)
//
// Thread-safe: history_for() is called by evaluation workers, record() and
// reread() by the control thread; the map of rules is guarded by m_mutex,
// and the StateStore has its own lock. A failing state database never fails an
// evaluation: the book then works from memory and says so in the log once.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>

#include "monitor/state/state_store.h"
#include "rules/baseline.h"
#include "rules/mutex.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"

namespace gapwatch {

class BaselineBook {
 public:
  explicit BaselineBook(StateStore& store) : m_store(store) {}
  BaselineBook(const BaselineBook&) = delete;
  BaselineBook& operator=(const BaselineBook&) = delete;

  // The rule's kept history (loaded from the state database the first time)
  // with its excluded windows as of now; null for a rule without a baseline.
  std::shared_ptr<const BaselineHistory> history_for(const RuleSpec& spec, Instant now)
      EXCLUDES(m_mutex);

  // Keeps what an evaluation read (its history_read and judged buckets);
  // persists the buckets that settled. A verdict without buckets (an error)
  // changes nothing.
  void record(const RuleSpec& spec, const Verdict& verdict, Instant now) EXCLUDES(m_mutex);

  // The counts from `from` on are read again at the rule's next evaluation
  // (a backfill of a window starting there was verified).
  void reread(const std::string& rule, Instant from) EXCLUDES(m_mutex);

  // Forgets the kept counts of every rule not in `rules` (removed from the
  // configuration), in memory and in the state database. Returns how many
  // rules' counts the database dropped.
  Expected<std::size_t> forget_all_but(const std::set<std::string>& rules) EXCLUDES(m_mutex);

  // Bytes of bucket counts kept in memory, for docs and metrics.
  std::size_t memory_bytes() const EXCLUDES(m_mutex);

 private:
  struct Entry {
    std::shared_ptr<const BaselineHistory> history;  // without excluded windows; never null
    // Settled buckets written up to here (the database's covered_to); empty
    // when the next write must replace all the rule's kept buckets (nothing
    // written yet, or a full read not written yet).
    std::optional<Instant> persisted_to;
    // A reread() that no evaluation has read again yet: an evaluation that
    // was under way when it came read from later on, and must not cover it.
    std::optional<Instant> reread_from;
    bool warned = false;  // about the state database, once per rule
  };
  // Puts the rule's kept baseline from the state database into m_rules on
  // first use. The read runs outside m_mutex (the store has its own lock), so
  // evaluations of other rules do not wait for it.
  void load(const RuleSpec& spec) EXCLUDES(m_mutex);
  // Logs a failure of the state database for `rule`, the first time only.
  void warn_once(const std::string& rule, const Error& error) EXCLUDES(m_mutex);

  StateStore& m_store;
  mutable Mutex m_mutex;
  std::map<std::string, Entry> m_rules GUARDED_BY(m_mutex);
};

}  // namespace gapwatch
