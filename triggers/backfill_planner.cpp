#include "triggers/backfill_planner.h"

#include <algorithm>

#include <fmt/format.h>

#include "rules/duration.h"

namespace gapwatch {

namespace {

bool overlaps(const Window& a, const Window& b) { return a.start < b.end && b.start < a.end; }

// Cuts adjacent units into pieces of at most `max_window`; a unit longer than
// that is cut by time.
std::vector<Window> cut(const std::vector<Window>& units, std::chrono::seconds max_window) {
  std::vector<Window> pieces;
  for (const Window& unit : units) {
    if (unit.end - unit.start > max_window) {
      for (Instant start = unit.start; start < unit.end; start += max_window) {
        pieces.push_back(Window{start, std::min(unit.end, start + max_window), Status::fail});
      }
      continue;
    }
    const bool extends = !pieces.empty() && pieces.back().end == unit.start &&
                         unit.end - pieces.back().start <= max_window;
    if (extends) {
      pieces.back().end = unit.end;
    } else {
      pieces.push_back(Window{unit.start, unit.end, Status::fail});
    }
  }
  return pieces;
}

}  // namespace

std::vector<Window> failing_units(const Verdict& verdict) {
  std::vector<Window> units;
  if (!verdict.buckets.empty()) {
    for (const BucketVerdict& bucket : verdict.buckets) {
      if (bucket.status == Status::fail) {
        units.push_back(Window{bucket.start, bucket.end, Status::fail});
      }
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
  std::vector<Window> units;
  for (Window unit : input.failing_units) {
    const bool requested = std::any_of(
        input.history.begin(), input.history.end(), [&](const PastRequest& request) {
          return request.progress == RequestProgress::outstanding &&
                 overlaps(request.window, unit);
        });
    if (requested) {
      continue;
    }
    if (policy.not_before) {
      if (unit.end <= *policy.not_before) {
        continue;
      }
      unit.start = std::max(unit.start, *policy.not_before);
    }
    units.push_back(unit);
  }
  if (units.empty()) {
    plan.reason = input.failing_units.empty() ? "no failing buckets"
                                              : "every failing bucket is already requested or "
                                                "lies before not_before";
    return plan;
  }
  if (static_cast<int>(units.size()) < policy.min_buckets) {
    plan.reason = fmt::format("{} failing bucket(s) to request, waiting for min_buckets ({})",
                              units.size(), policy.min_buckets);
    return plan;
  }
  for (const Window& piece : cut(units, policy.max_window)) {
    int attempt = 1;
    int failures = 0;
    for (const PastRequest& request : input.history) {
      if (!overlaps(request.window, piece)) {
        continue;
      }
      attempt = std::max(attempt, request.attempt + 1);
      failures += request.counts && request.progress == RequestProgress::failed ? 1 : 0;
    }
    if (failures >= policy.max_attempts) {
      plan.requests.clear();
      plan.escalate = true;
      plan.reason = fmt::format("window {} .. {} still fails after {} failed attempt(s)",
                                format_rfc3339(piece.start), format_rfc3339(piece.end), failures);
      return plan;
    }
    plan.requests.push_back(PlannedRequest{piece, attempt});
  }
  return plan;
}

}  // namespace gapwatch
