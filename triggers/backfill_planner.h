// Backfill planning: which windows to request now, from the failing buckets of
// one evaluation and the requests made before. Pure; thread-safe.
//
// Failing units (buckets, or the one window of an unpartitioned rule) that
// overlap an outstanding request are left alone; the rest are clipped at
// not_before, counted against min_buckets, merged where adjacent and cut into
// pieces no longer than max_window on bucket boundaries. Each piece's attempt
// is one more than the highest earlier attempt that overlapped it; once
// max_attempts requests for a piece have failed (counted from the last
// operator retry) the incident escalates instead.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/verdict.h"

namespace gapwatch {

struct BackfillPolicy {
  std::string executor;
  std::map<std::string, std::string> params;
  std::chrono::seconds max_window{86400};
  int min_buckets = 1;
  std::optional<Instant> not_before;
  std::chrono::seconds verify_after{600};
  int max_attempts = 3;
};

enum class RequestProgress {
  outstanding,  // pending, sending, accepted or run, not yet verified
  failed,       // delivery failed for good, or the data did not arrive
  done,         // verified, cancelled or superseded
};

struct PastRequest {
  Window window;
  int attempt = 1;
  RequestProgress progress = RequestProgress::outstanding;
  // Whether a failure counts against max_attempts: made for the current
  // incident since its last operator retry.
  bool counts = true;
};

struct PlannedRequest {
  Window window;
  int attempt = 1;
  friend bool operator==(const PlannedRequest&, const PlannedRequest&) = default;
};

struct BackfillPlan {
  std::vector<PlannedRequest> requests;
  bool escalate = false;
  std::string reason;  // why nothing or less was planned, for the log
};

struct PlanningInput {
  std::vector<Window> failing_units;  // oldest first, status fail
  // Every earlier request of the rule. Attempt numbers continue across
  // incidents, so a window requested again never reuses a request id.
  std::vector<PastRequest> history;
};

BackfillPlan plan_backfill(const PlanningInput& input, const BackfillPolicy& policy);

// The failing units of a verdict: its fail buckets, or its fail windows when
// it has no buckets.
std::vector<Window> failing_units(const Verdict& verdict);

}  // namespace gapwatch
