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
    const PastRequest* last_failure = nullptr;
    for (const PastRequest& request : input.history) {
      if (!overlaps(request.window, piece)) {
        continue;
      }
      attempt = std::max(attempt, request.attempt + 1);
      if (!request.counts || request.progress != RequestProgress::failed) {
        continue;
      }
      ++failures;
      if (request.failed_at &&
          (last_failure == nullptr || *request.failed_at >= *last_failure->failed_at)) {
        last_failure = &request;
      }
    }
    if (failures >= policy.max_attempts) {
      plan.requests.clear();
      plan.escalate = true;
      plan.reason = fmt::format("window {} .. {} still fails after {} failed attempt(s)",
                                format_rfc3339(piece.start), format_rfc3339(piece.end), failures);
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
