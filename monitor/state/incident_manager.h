// IncidentManager: what an evaluation means for incidents and backfills. A
// fail opens the rule's incident (or updates it), verifies or fails the
// requests already made, plans new requests for the windows still missing and
// commits them to the outbox (a window's next attempt due attempt_backoff
// after its last failure, as the planner says); a pass (or warn) resolves it;
// an error changes nothing. A segmented rule's windows, and so its requests,
// are each of one segment; a request is verified once no failing bucket of
// its segment (or, for a whole-table request, of any segment) overlaps it.
// Also the operator actions: acknowledge, resolve, retry, and manual backfill
// requests (always of the whole table); and resolving the incidents of rules
// the configuration no longer has.
//
// Every decision is one transaction on the StateStore, which is the only state
// beside a note of the rules lately seen without an incident (guarded by
// m_mutex). The manager is thread-safe and may run beside `gapwatch
// incidents` commands in other processes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/state/state_store.h"
#include "monitor/warehouse/evaluator.h"
#include "rules/clock.h"
#include "rules/mutex.h"

namespace gapwatch {

struct IncidentEffects {
  std::optional<std::int64_t> incident_id;
  bool opened = false;
  bool resolved = false;
  bool escalated = false;
  std::vector<RequestRecord> new_requests;  // committed to the outbox
  std::vector<std::string> log;             // what happened, for the daemon's log (info)
  std::vector<std::string> warnings;        // what an operator must hear of (warning)
};

// Whether the requests the manager makes are sent, or only recorded as
// dry_run (monitor.dry_run).
enum class Delivery { send, dry_run };
inline Delivery delivery_of(const MonitorConfig& monitor) {
  return monitor.dry_run ? Delivery::dry_run : Delivery::send;
}

class IncidentManager {
 public:
  IncidentManager(StateStore& store, const Clock& clock, Delivery delivery)
      : m_store(store), m_clock(clock), m_delivery(delivery) {}

  Expected<IncidentEffects> record(const RuleConfig& rule, const RuleResult& result)
      EXCLUDES(m_mutex);
  // Forgets which rules were seen without an incident: the state database
  // was replaced (opened after a stand-in) and may hold active incidents.
  void forget_rules_without_incident() EXCLUDES(m_mutex);

  // Recomputes an active incident's state from its requests: backfilling while
  // any is pending or sending, verifying while any awaits verification, else
  // open. Resolved and escalated incidents keep their state. The first form
  // is its own transaction, the second a step of `transaction`.
  Expected<void> refresh_state(std::int64_t incident_id);
  Expected<void> refresh_state(StateStore::Transaction& transaction, std::int64_t incident_id);

  // Operator actions. Each is recorded as an event.
  Expected<void> acknowledge(std::int64_t incident_id, const std::string& who);
  Expected<void> resolve(std::int64_t incident_id, const std::string& who);
  Expected<void> retry(std::int64_t incident_id, const std::string& who);

  // Requests for `windows` of `rule` through `executor`, outside any
  // evaluation (plan_manual_backfill cuts an operator's range into them),
  // committed together; attached to the rule's active incident if there is
  // one. They are due at once: an operator's request does not wait out
  // attempt_backoff. manual_request is the same for one window.
  Expected<std::vector<RequestRecord>> manual_requests(const RuleConfig& rule,
                                                       const std::string& executor,
                                                       const std::vector<Window>& windows);
  Expected<RequestRecord> manual_request(const RuleConfig& rule, const std::string& executor,
                                         Instant start, Instant end);

  // Resolves the active incidents of rules that `config` no longer has (a
  // reload removed them, or the daemon started without them): nothing would
  // ever evaluate, verify or resolve them. Their unsent requests are
  // cancelled, and so are unsent manual requests of those rules. Returns one
  // line per incident or request closed, for the log.
  Expected<std::vector<std::string>> close_removed_rules(const Config& config);

 private:
  // The steps of record().
  //
  // For a pass or warn: true when `rule` has no active incident, so there is
  // nothing to record; known without a read while the note of rules without
  // an incident is fresh. For a fail: false, and the rule leaves the note (an
  // incident may open now).
  Expected<bool> nothing_to_record(const std::string& rule, Status status, Instant now)
      EXCLUDES(m_mutex);
  // A pass or warn: settles the incident's requests and resolves it.
  Expected<void> resolve_on_pass(StateStore::Transaction& transaction, Incident& incident,
                                 const RuleResult& result, IncidentEffects& effects);
  // A fail: the rule's active incident brought up to date with `verdict`, or
  // a new one opened.
  Expected<Incident> open_or_update(StateStore::Transaction& transaction, const RuleConfig& rule,
                                    const Verdict& verdict, std::optional<Incident> active,
                                    Instant now, IncidentEffects& effects);
  // Settles the requests of `incident` that ran or were accepted against this
  // evaluation: verified once their window is judged and no longer fails,
  // failed once verify_after has passed with the window still failing, and
  // expired (cancelled) if the window left the judged range unverified.
  Expected<void> verify_requests(StateStore::Transaction& transaction, const Incident& incident,
                                 const RuleResult& result, std::vector<RequestRecord>& requests,
                                 IncidentEffects& effects);
  // Plans requests for the failing windows against the rule's `history`:
  // queues them, or escalates the incident when the plan says to.
  Expected<void> plan_requests(StateStore::Transaction& transaction, const RuleConfig& rule,
                               const Verdict& verdict, Incident& incident,
                               const std::vector<RequestRecord>& history, Instant now,
                               IncidentEffects& effects);
  Expected<void> escalate(StateStore::Transaction& transaction, Incident& incident,
                          const std::string& reason, Instant now, IncidentEffects& effects);
  Expected<void> queue_request(StateStore::Transaction& transaction, const RuleConfig& rule,
                               const Incident& incident, const PlannedRequest& planned, Instant now,
                               IncidentEffects& effects);

  // Resolves `incident` as `resolution` says it ended, with an event saying
  // `detail`: its unsent requests are cancelled and those awaiting
  // verification become `outstanding_to`.
  Expected<void> close_incident(StateStore::Transaction& transaction, Incident& incident,
                                Resolution resolution, const std::string& detail,
                                RequestState outstanding_to);
  RequestRecord new_request(const RuleConfig& rule, const std::string& executor,
                            std::optional<std::int64_t> incident_id, const Window& window,
                            int attempt) const;
  // Cancels a request that was never sent, with an event saying why.
  Expected<void> cancel_unsent(StateStore::Transaction& transaction, RequestRecord& request,
                               const std::string& why, Instant now);

  StateStore& m_store;
  const Clock& m_clock;
  const Delivery m_delivery;
  // Rules seen without an active incident, and when. Only record() opens
  // incidents, so a rule that keeps passing costs no read of the state
  // database; the entry is trusted for a minute at most, should another
  // gapwatch process share the state file.
  static constexpr std::chrono::seconds kWithoutIncidentFor{60};
  Mutex m_mutex;
  std::unordered_map<std::string, Instant> m_without_incident GUARDED_BY(m_mutex);
};

}  // namespace gapwatch
