// BaselineBook (see baseline_book.h): the kept history of baseline rules, in
// memory as immutable snapshots and in the state database as settled counts.
//
// Thread-safe: m_rules under m_mutex; every read or write of the state
// database runs outside it. record() and reread() come from one thread (the
// control thread), so the entry a record() changes is changed by nobody else
// between its steps; history_for() only adds entries that are missing.
#include "monitor/state/baseline_book.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

namespace gapwatch {

namespace {

std::optional<Instant> earlier(std::optional<Instant> a, Instant b) {
  return a ? std::min(*a, b) : a;
}

// Whether the statement of `verdict` read the whole history again rather
// than continuing what was kept: nothing usable was kept, it was kept for
// another fingerprint, or the read starts at the history's start or before
// the kept counts end (an incremental read starts exactly where they end).
bool full_read(const BaselineHistory& kept, const std::string& fingerprint, Instant read_from,
               Instant history_start) {
  return !kept.covered_from || !kept.covered_to || kept.fingerprint != fingerprint ||
         read_from <= history_start || read_from < *kept.covered_to;
}

// The segments of a history made of kept buckets (indexing `kept`, absent
// when none is kept) and a verdict's (indexing `judged`): every key of
// either, in key order, and where each one's index goes. Empty when all is
// the whole table's (a rule without segment_by).
struct SegmentIndexes {
  std::vector<SegmentKey> segments;
  std::vector<std::uint32_t> kept;    // by index into the kept segments
  std::vector<std::uint32_t> judged;  // by index into the verdict's

  std::uint32_t of_kept(std::uint32_t index) const { return at(kept, index); }
  std::uint32_t of_verdict(std::uint32_t index) const { return at(judged, index); }
  static std::uint32_t at(const std::vector<std::uint32_t>& map, std::uint32_t index) {
    return index < map.size() ? map[index] : 0;
  }
};

SegmentIndexes merge_segments(const std::vector<SegmentKey>* kept,
                              const std::vector<SegmentKey>& judged) {
  // An empty list of segments is the whole table's one.
  const std::vector<SegmentKey> whole_table{SegmentKey{}};
  const auto keys = [&](const std::vector<SegmentKey>& list) -> const std::vector<SegmentKey>& {
    return list.empty() ? whole_table : list;
  };
  std::vector<SegmentKey> all = keys(judged);
  if (kept != nullptr) {
    all.insert(all.end(), keys(*kept).begin(), keys(*kept).end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  SegmentIndexes indexes;
  const auto map = [&](const std::vector<SegmentKey>& list, std::vector<std::uint32_t>& to) {
    for (const SegmentKey& key : keys(list)) {
      to.push_back(
          static_cast<std::uint32_t>(std::lower_bound(all.begin(), all.end(), key) - all.begin()));
    }
  };
  map(judged, indexes.judged);
  if (kept != nullptr) {
    map(*kept, indexes.kept);
  }
  if (!(all.size() == 1 && all.front().empty())) {
    indexes.segments = std::move(all);
  }
  return indexes;
}

}  // namespace

void BaselineBook::load(const RuleSpec& spec) {
  {
    MutexLock lock(m_mutex);
    if (m_rules.contains(spec.name)) {
      return;
    }
  }
  Entry loaded;
  auto history = std::make_shared<BaselineHistory>();
  auto kept = m_store.baseline(spec.name);
  if (!kept) {
    warn_once(spec.name, kept.error());
  } else if (*kept) {
    *history = std::move(**kept);
    // Rows past the kept range were invalidated (reread): not counts to use.
    if (history->covered_to) {
      const Instant covered_to = *history->covered_to;
      std::erase_if(history->buckets,
                    [&](const CountedBucket& bucket) { return bucket.start >= covered_to; });
    }
    loaded.persisted_to = history->covered_to;
  }
  loaded.history = std::move(history);
  MutexLock lock(m_mutex);
  const auto [entry, inserted] = m_rules.try_emplace(spec.name, std::move(loaded));
  if (inserted && !kept) {
    entry->second.warned = true;  // warn_once has said it
  }
}

void BaselineBook::warn_once(const std::string& rule, const Error& error) {
  {
    MutexLock lock(m_mutex);
    const auto found = m_rules.find(rule);
    if (found != m_rules.end()) {
      if (found->second.warned) {
        return;
      }
      found->second.warned = true;
    }
  }
  spdlog::warn(
      "rule {}: the kept baseline counts cannot be read or written ({}); they are kept in "
      "memory only, and read again from the warehouse after a restart",
      rule, error.message);
}

std::shared_ptr<const BaselineHistory> BaselineBook::history_for(const RuleSpec& spec,
                                                                 Instant now) {
  if (!spec.baseline) {
    return nullptr;
  }
  load(spec);
  std::shared_ptr<const BaselineHistory> kept;
  {
    MutexLock lock(m_mutex);
    kept = m_rules.at(spec.name).history;
  }
  auto history = std::make_shared<BaselineHistory>(*kept);
  const auto lookback = spec.partition ? spec.partition->lookback : std::chrono::seconds{0};
  auto excluded = m_store.unhealed_windows(
      spec.name, history_start(*spec.baseline, now - lookback));
  if (excluded) {
    history->excluded = std::move(*excluded);
  } else {
    warn_once(spec.name, excluded.error());
  }
  return history;
}

void BaselineBook::record(const RuleSpec& spec, const Verdict& verdict, Instant now) {
  if (!spec.baseline || verdict.buckets.empty()) {
    return;
  }
  load(spec);
  const Instant judged_start = verdict.buckets.front().start;
  const Instant judged_end = verdict.buckets.back().end;
  const Instant start_of_history = history_start(*spec.baseline, judged_start);
  const std::string fingerprint = baseline_fingerprint(spec);
  // Where this statement's counts begin: what was kept from there on is
  // replaced.
  const Instant read_from = verdict.history_read_from.value_or(judged_start);

  BaselineWrite write;
  {
    MutexLock lock(m_mutex);
    Entry& entry = m_rules.at(spec.name);
    const BaselineHistory& kept = *entry.history;
    const bool full = verdict.history_read_from &&
                      full_read(kept, fingerprint, read_from, start_of_history);
    auto next = std::make_shared<BaselineHistory>();
    next->fingerprint = full ? fingerprint : kept.fingerprint;
    next->covered_from = full ? std::optional(read_from) : kept.covered_from;
    next->full_read_at = full ? std::optional(now) : kept.full_read_at;
    if (full) {
      entry.persisted_to.reset();  // the next write replaces everything
    }
    if (entry.reread_from && read_from <= *entry.reread_from) {
      entry.reread_from.reset();  // this statement read it again
    }
    next->covered_to = entry.reread_from ? std::min(judged_end, *entry.reread_from) : judged_end;
    if (next->covered_from) {
      next->covered_from = std::max(*next->covered_from, start_of_history);
    }

    // Kept, then read, then judged; older than the history is dropped. Each
    // segment's together, in key order, oldest first; sized exactly: there
    // is one such vector per rule for as long as it runs.
    const auto learned = [&](const auto& bucket) { return bucket.start >= start_of_history; };
    const auto still_kept = [&](const CountedBucket& bucket) {
      return !full && learned(bucket) && bucket.start < read_from;
    };
    const bool keeps_any = std::any_of(kept.buckets.begin(), kept.buckets.end(), still_kept);
    std::vector<SegmentKey> judged_segments;
    judged_segments.reserve(verdict.segments.size());
    for (const SegmentVerdict& segment : verdict.segments) {
      judged_segments.push_back(segment.key);
    }
    const SegmentIndexes indexes =
        merge_segments(keeps_any ? &kept.segments : nullptr, judged_segments);
    next->segments = indexes.segments;
    std::vector<std::size_t> offsets(std::max<std::size_t>(indexes.segments.size(), 1) + 1, 0);
    const auto count = [&](std::uint32_t segment) { ++offsets[segment + 1]; };
    for (const CountedBucket& bucket : kept.buckets) {
      if (still_kept(bucket)) {
        count(indexes.of_kept(bucket.segment));
      }
    }
    for (const CountedBucket& bucket : verdict.history_read) {
      if (learned(bucket)) {
        count(indexes.of_verdict(bucket.segment));
      }
    }
    for (const BucketVerdict& bucket : verdict.buckets) {
      if (learned(bucket)) {
        count(indexes.of_verdict(bucket.segment));
      }
    }
    std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
    std::vector<CountedBucket>& buckets = next->buckets;
    buckets.resize(offsets.back());
    std::vector<std::size_t> next_slot(offsets.begin(), offsets.end() - 1);
    const auto place = [&](CountedBucket bucket, std::uint32_t segment) {
      bucket.segment = segment;
      buckets[next_slot[segment]++] = bucket;
    };
    for (const CountedBucket& bucket : kept.buckets) {
      if (still_kept(bucket)) {
        place(bucket, indexes.of_kept(bucket.segment));
      }
    }
    for (const CountedBucket& bucket : verdict.history_read) {
      if (learned(bucket)) {
        place(bucket, indexes.of_verdict(bucket.segment));
      }
    }
    for (const BucketVerdict& bucket : verdict.buckets) {
      if (learned(bucket)) {
        place(CountedBucket{bucket.start, bucket.end, bucket.rows, bucket.nulls},
              indexes.of_verdict(bucket.segment));
      }
    }
    // Kept, read and judged follow each other in time; a statement's history
    // read in another order is put in order here.
    const auto by_start = [](const CountedBucket& a, const CountedBucket& b) {
      return a.start < b.start;
    };
    for (std::size_t segment = 0; segment + 1 < offsets.size(); ++segment) {
      const auto first = buckets.begin() + static_cast<std::ptrdiff_t>(offsets[segment]);
      const auto last = buckets.begin() + static_cast<std::ptrdiff_t>(offsets[segment + 1]);
      if (!std::is_sorted(first, last, by_start)) {
        std::stable_sort(first, last, by_start);
      }
    }

    // The judged buckets change with every evaluation: only those before
    // them have settled and go to the database, once.
    const Instant settled_to = std::min(judged_start, *next->covered_to);
    const bool replace = !entry.persisted_to;
    const bool skip = !replace && settled_to <= *entry.persisted_to;
    if (!skip) {
      write.fingerprint = next->fingerprint;
      write.covered_from = next->covered_from;
      write.covered_to = settled_to;
      write.full_read_at = next->full_read_at;
      write.keep_from = start_of_history;
      write.others = replace ? BaselineWrite::Others::deleted : BaselineWrite::Others::kept;
      write.segments = next->segments;
      for (const CountedBucket& bucket : buckets) {
        if (bucket.start < settled_to && (replace || bucket.start >= *entry.persisted_to)) {
          write.buckets.push_back(bucket);
        }
      }
    }
    entry.history = std::move(next);
    if (skip) {
      return;
    }
  }
  if (auto saved = m_store.save_baseline(spec.name, write); !saved) {
    // persisted_to stays: the next record() writes these buckets again.
    warn_once(spec.name, saved.error());
    return;
  }
  MutexLock lock(m_mutex);
  m_rules.at(spec.name).persisted_to = write.covered_to;
}

void BaselineBook::reread(const std::string& rule, Instant from) {
  {
    MutexLock lock(m_mutex);
    const auto found = m_rules.find(rule);
    if (found != m_rules.end()) {
      Entry& entry = found->second;
      auto next = std::make_shared<BaselineHistory>(*entry.history);
      next->covered_to = earlier(next->covered_to, from);
      entry.history = std::move(next);
      entry.persisted_to = earlier(entry.persisted_to, from);
      entry.reread_from = entry.reread_from ? std::min(*entry.reread_from, from) : from;
    }
  }
  if (auto invalidated = m_store.invalidate_baseline(rule, from); !invalidated) {
    warn_once(rule, invalidated.error());
  }
}

std::size_t BaselineBook::memory_bytes() const {
  MutexLock lock(m_mutex);
  std::size_t bytes = 0;
  for (const auto& [rule, entry] : m_rules) {
    bytes += sizeof(Entry) + rule.capacity() + sizeof(BaselineHistory) +
             entry.history->fingerprint.capacity() +
             entry.history->buckets.capacity() * sizeof(CountedBucket) +
             entry.history->segments.capacity() * sizeof(SegmentKey);
    for (const SegmentKey& segment : entry.history->segments) {
      bytes += segment.capacity() * sizeof(SegmentValue);
      for (const SegmentValue& value : segment) {
        bytes += value ? value->capacity() : 0;
      }
    }
  }
  return bytes;
}

Expected<std::size_t> BaselineBook::forget_all_but(const std::set<std::string>& rules) {
  {
    MutexLock lock(m_mutex);
    std::erase_if(m_rules, [&](const auto& entry) { return !rules.contains(entry.first); });
  }
  auto kept = m_store.baseline_rules();
  if (!kept) {
    return std::unexpected(kept.error());
  }
  std::size_t dropped = 0;
  for (const std::string& rule : *kept) {
    if (rules.contains(rule)) {
      continue;
    }
    if (auto deleted = m_store.delete_baseline(rule); !deleted) {
      return std::unexpected(deleted.error());
    }
    ++dropped;
  }
  return dropped;
}

}  // namespace gapwatch
