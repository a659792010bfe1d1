#include "triggers/backfill_planner.h"

#include <algorithm>
#include <map>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "rules/duration.h"

namespace gapwatch {

namespace {

bool overlaps(const Window& a, const Window& b) { return a.start < b.end && b.start < a.end; }

// Cuts adjacent units of one segment into pieces of at most `max_window`; a
// unit longer than that is cut by time.
std::vector<Window> cut(const std::vector<Window>& units, std::chrono::seconds max_window) {
  std::vector<Window> pieces;
  for (const Window& unit : units) {
    if (unit.end - unit.start > max_window) {
      for (Instant start = unit.start; start < unit.end; start += max_window) {
        pieces.push_back(
            Window{start, std::min(unit.end, start + max_window), Status::fail, unit.segment});
      }
      continue;
    }
    const bool extends = !pieces.empty() && pieces.back().end == unit.start &&
                         unit.end - pieces.back().start <= max_window;
    if (extends) {
      pieces.back().end = unit.end;
    } else {
      pieces.push_back(Window{unit.start, unit.end, Status::fail, unit.segment});
    }
  }
  return pieces;
}

// A rule's earlier requests by segment, so that a segment's units are
// compared with that segment's requests and the whole table's only (a rule
// with a thousand segments has a thousand times the requests).
class RequestIndex {
 public:
  explicit RequestIndex(const std::vector<PastRequest>& history) : m_all(history) {
    for (const PastRequest& request : history) {
      if (request.window.segment.empty()) {
        m_whole_table.push_back(&request);
      } else {
        m_by_segment[request.window.segment].push_back(&request);
      }
    }
  }

  // Calls visit(request) for each request that concerns rows of `segment`:
  // every request for the whole table; else the segment's own and the whole
  // table's. The order is the history's for the whole table and for a
  // segment's own requests.
  template <class Visit>
  void for_each_meeting(const SegmentKey& segment, Visit visit) const {
    if (segment.empty()) {
      for (const PastRequest& request : m_all) {
        visit(request);
      }
      return;
    }
    for (const PastRequest* request : m_whole_table) {
      visit(*request);
    }
    if (const auto found = m_by_segment.find(segment); found != m_by_segment.end()) {
      for (const PastRequest* request : found->second) {
        visit(*request);
      }
    }
  }

  bool outstanding_overlap(const Window& unit) const {
    bool found = false;
    for_each_meeting(unit.segment, [&](const PastRequest& request) {
      found = found ||
              (request.progress == RequestProgress::outstanding && overlaps(request.window, unit));
    });
    return found;
  }

 private:
  const std::vector<PastRequest>& m_all;
  std::vector<const PastRequest*> m_whole_table;
  std::map<SegmentKey, std::vector<const PastRequest*>> m_by_segment;
};

// The units still to request, by segment, in the order segments first appear.
struct SegmentUnits {
  SegmentKey segment;
  std::vector<Window> units;
};

// How a reason names a segment: not at all for the whole table.
std::string segment_label(const SegmentKey& segment) {
  return segment.empty() ? std::string() : fmt::format("segment {}: ", segment_name(segment));
}

}  // namespace

std::chrono::seconds attempt_wait(std::chrono::seconds backoff, int failures) {
  if (failures <= 0 || backoff <= std::chrono::seconds{0}) {
    return std::chrono::seconds{0};
  }
  std::chrono::seconds wait = std::min(backoff, kMaxAttemptBackoff);
  for (int doubled = 1; doubled < failures && wait < kMaxAttemptBackoff; ++doubled) {
    wait = std::min(wait * 2, kMaxAttemptBackoff);
  }
  return wait;
}

bool windows_meet(const Window& a, const Window& b) {
  return overlaps(a, b) && (a.segment.empty() || b.segment.empty() || a.segment == b.segment);
}

std::vector<Window> failing_units(const Verdict& verdict) {
  std::vector<Window> units;
  if (!verdict.buckets.empty()) {
    for (const BucketVerdict& bucket : verdict.buckets) {
      if (bucket.status != Status::fail) {
        continue;
      }
      SegmentKey segment;
      if (bucket.segment < verdict.segments.size()) {
        segment = verdict.segments[bucket.segment].key;
      }
      units.push_back(Window{bucket.start, bucket.end, Status::fail, std::move(segment)});
    }
    return units;
  }
  for (const Window& window : verdict.windows) {
    if (window.status == Status::fail) {
      units.push_back(window);
    }
  }
  return units;
}

BackfillPlan plan_backfill(const PlanningInput& input, const BackfillPolicy& policy) {
  BackfillPlan plan;
  const RequestIndex history(input.history);
  std::vector<SegmentUnits> groups;
  std::map<SegmentKey, std::size_t> group_of;
  bool any_left = false;
  for (Window unit : input.failing_units) {
    if (history.outstanding_overlap(unit)) {
      continue;
    }
    if (policy.not_before) {
      if (unit.end <= *policy.not_before) {
        continue;
      }
      unit.start = std::max(unit.start, *policy.not_before);
    }
    any_left = true;
    // A verdict lists a segment's units together: the group is looked up
    // only when the segment changes.
    std::size_t group = 0;
    if (!groups.empty() && groups.back().segment == unit.segment) {
      group = groups.size() - 1;
    } else {
      const auto [found, added] = group_of.try_emplace(unit.segment, groups.size());
      if (added) {
        groups.push_back(SegmentUnits{unit.segment, {}});
      }
      group = found->second;
    }
    groups[group].units.push_back(std::move(unit));
  }
  if (!any_left) {
    plan.reason = input.failing_units.empty() ? "no failing buckets"
                                              : "every failing bucket is already requested or "
                                                "lies before not_before";
    return plan;
  }
  // A request for the whole table reloads every segment: a segment's units
  // that one of this plan's whole-table units covers are not requested twice.
  if (const auto whole = group_of.find(SegmentKey{}); whole != group_of.end()) {
    const std::vector<Window>& whole_units = groups[whole->second].units;
    for (SegmentUnits& group : groups) {
      if (group.segment.empty()) {
        continue;
      }
      std::erase_if(group.units, [&](const Window& unit) {
        return std::any_of(whole_units.begin(), whole_units.end(),
                           [&](const Window& other) { return overlaps(unit, other); });
      });
    }
  }
  std::vector<std::string> waiting;
  for (SegmentUnits& group : groups) {
    if (group.units.empty()) {
      continue;
    }
    if (static_cast<int>(group.units.size()) < policy.min_buckets) {
      waiting.push_back(
          fmt::format("{}{} failing bucket(s) to request, waiting for min_buckets ({})",
                      segment_label(group.segment), group.units.size(), policy.min_buckets));
      continue;
    }
    std::stable_sort(group.units.begin(), group.units.end(),
                     [](const Window& a, const Window& b) { return a.start < b.start; });
    for (const Window& piece : cut(group.units, policy.max_window)) {
      int attempt = 1;
      int failures = 0;
      const PastRequest* last_failure = nullptr;
      history.for_each_meeting(piece.segment, [&](const PastRequest& request) {
        if (!overlaps(request.window, piece)) {
          return;
        }
        attempt = std::max(attempt, request.attempt + 1);
        if (!request.counts || request.progress != RequestProgress::failed) {
          return;
        }
        ++failures;
        if (request.failed_at &&
            (last_failure == nullptr || *request.failed_at >= *last_failure->failed_at)) {
          last_failure = &request;
        }
      });
      if (failures >= policy.max_attempts) {
        plan.requests.clear();
        plan.escalate = true;
        plan.reason = fmt::format("window {} .. {}{} still fails after {} failed attempt(s)",
                                  format_rfc3339(piece.start), format_rfc3339(piece.end),
                                  piece.segment.empty()
                                      ? std::string()
                                      : fmt::format(" of segment {}", segment_name(piece.segment)),
                                  failures);
        if (last_failure != nullptr && !last_failure->error.empty()) {
          plan.reason += fmt::format("; the last: {}", last_failure->error);
        }
        return plan;
      }
      std::optional<Instant> not_before;
      const std::chrono::seconds wait = attempt_wait(policy.attempt_backoff, failures);
      if (last_failure != nullptr && wait > std::chrono::seconds{0}) {
        not_before = *last_failure->failed_at + wait;
      }
      plan.requests.push_back(PlannedRequest{piece, attempt, not_before});
    }
  }
  if (!waiting.empty()) {
    plan.reason = fmt::format("{}", fmt::join(waiting, "; "));
  }
  return plan;
}

Expected<std::vector<Window>> plan_manual_backfill(const Window& range,
                                                   const BackfillPolicy& policy) {
  Window clipped{range.start, range.end, Status::fail};
  if (policy.not_before) {
    if (clipped.end <= *policy.not_before) {
      return fail(fmt::format("the range {} .. {} lies before the rule's backfill.not_before ({})",
                              format_rfc3339(range.start), format_rfc3339(range.end),
                              format_rfc3339(*policy.not_before)));
    }
    clipped.start = std::max(clipped.start, *policy.not_before);
  }
  // Counted before cutting, so that 130 years are refused without building
  // 47,000 windows first.
  const auto span = clipped.end - clipped.start;
  const auto pieces = (span + policy.max_window - std::chrono::seconds{1}) / policy.max_window;
  if (pieces > kMaxManualWindows) {
    return fail(fmt::format("the range {} .. {} would make {} requests of at most {} "
                            "(backfill.max_window); a manual backfill makes at most {}: request "
                            "a shorter range, or several",
                            format_rfc3339(clipped.start), format_rfc3339(clipped.end), pieces,
                            format_duration(policy.max_window), kMaxManualWindows));
  }
  return cut({clipped}, policy.max_window);
}

}  // namespace gapwatch
