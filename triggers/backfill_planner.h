// Backfill planning: which windows to request now, from the failing buckets of
// one evaluation and the requests made before. Pure; thread-safe.
//
// Failing units (buckets, or the one window of an unpartitioned rule) that
// overlap an outstanding request are left alone; the rest are clipped at
// not_before, counted against min_buckets, merged where adjacent and cut into
// pieces no longer than max_window on bucket boundaries. Each piece's attempt
// is one more than the highest earlier attempt that overlapped it; once
// max_attempts requests for a piece have failed (counted from the last
// operator retry) the incident escalates instead. A piece with counted
// failures waits before it is sent: attempt_backoff after the latest of them,
// doubling with each failure, at most kMaxAttemptBackoff.
//
// Segments (a rule with segment_by): every unit, request and piece has its
// segment (Window::segment, empty for the whole table). A segment's units are
// counted, merged and cut on their own. Requests of one segment and of the
// whole table concern the same rows, those of two segments do not: a
// segment's unit is left alone where an outstanding request of the segment or
// of the whole table overlaps it, a whole-table unit where any outstanding
// request does, and attempts continue over the requests so related. Whole-table
// and segment requests of a rule therefore never overlap.
//
// A manual backfill's range is cut the same way (plan_manual_backfill), and
// refused when it would make more than kMaxManualWindows requests.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/error.h"
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
  // The wait after a failed attempt before the next (0: none).
  std::chrono::seconds attempt_backoff{300};
  // Which of the rule's requests due at once go out first: the newest window
  // (the data people look at today comes back first) or the oldest.
  enum class Order { newest_first, oldest_first };
  Order order = Order::newest_first;
};

// The longest wait between two attempts for a window, however many failed.
inline constexpr std::chrono::seconds kMaxAttemptBackoff{7200};

// How long the next attempt waits after `failures` counted failed attempts:
// none for the first attempt, `backoff` before the second, twice that before
// the third, and so on, at most kMaxAttemptBackoff.
std::chrono::seconds attempt_wait(std::chrono::seconds backoff, int failures);

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
  // For a failed request: when it failed (kept in the state database, so a
  // wait survives a restart), and why.
  std::optional<Instant> failed_at;
  std::string error;
};

struct PlannedRequest {
  Window window;
  int attempt = 1;
  // Not to be sent before this (attempt_backoff after the last failure);
  // empty: at once.
  std::optional<Instant> not_before;
  friend bool operator==(const PlannedRequest&, const PlannedRequest&) = default;
};

struct BackfillPlan {
  std::vector<PlannedRequest> requests;
  bool escalate = false;
  std::string reason;  // why nothing or less was planned, for the log
};

struct PlanningInput {
  // Status fail; each segment's oldest first, a segment's units together.
  std::vector<Window> failing_units;
  // Every earlier request of the rule. Attempt numbers continue across
  // incidents, so a window requested again never reuses a request id.
  std::vector<PastRequest> history;
};

BackfillPlan plan_backfill(const PlanningInput& input, const BackfillPolicy& policy);

// The most requests one manual backfill makes: a longer range is refused
// rather than queued (documented in docs/backfill.md).
inline constexpr int kMaxManualWindows = 1000;

// The windows of a manual backfill of `range`: clipped at not_before and cut
// into pieces of at most max_window from its start. An error (for the
// operator) when nothing is left after not_before, or when there would be
// more than kMaxManualWindows pieces.
Expected<std::vector<Window>> plan_manual_backfill(const Window& range,
                                                   const BackfillPolicy& policy);

// Whether two windows concern some of the same rows: they overlap in time,
// and they are of one segment or one of them is the whole table's.
bool windows_meet(const Window& a, const Window& b);

// The failing units of a verdict: its fail buckets, or its fail windows when
// it has no buckets; each with its segment (a bucket's from
// Verdict::segments).
std::vector<Window> failing_units(const Verdict& verdict);

}  // namespace gapwatch
