// StateStore: gapwatch's own state in SQLite (libsqlite3): incidents, the
// backfill request outbox, an event history and the kept bucket counts of
// baseline rules (see BaselineBook). WAL mode with
// synchronous=FULL, so a committed change is on disk before the call returns;
// a request is committed before anything tries to send it. The file is created
// with mode 0600 and carries a schema version (PRAGMA user_version).
//
// The operations are StateStore::Transaction's methods. transaction(work) runs
// several as one IMMEDIATE transaction: `work` is handed the Transaction and
// calls them on it. StateStore's methods of the same names run one operation
// alone (a write commits when it returns).
//
// Thread-safe: one connection, held under m_mutex for the whole of an
// operation or a transaction. The mutex is not recursive: inside `work`, use
// the Transaction, never the store (a call on the store would wait for itself).
//
// Secrets never reach the file: the free text a write stores (an incident's
// message, a request's error and output, an event's detail) passes through
// the configuration's Redactor first, so no later reader can see them.
// Other processes (the `gapwatch incidents` commands) may use the same file at
// the same time; the database is the source of truth, nothing is cached here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "rules/error.h"
#include "rules/baseline.h"
#include "rules/mutex.h"
#include "rules/rule_spec.h"
#include "rules/verdict.h"
#include "triggers/redaction.h"
#include "triggers/run_tracking.h"

struct sqlite3;

namespace gapwatch {

class StateDatabase;  // the connection and its cached statements (state_store.cpp)

enum class IncidentState { open, backfilling, verifying, resolved, escalated };
enum class RequestState {
  pending,    // committed, waiting to be sent (or to be sent again)
  sending,    // a delivery is under way (resumed with the same id after a crash)
  accepted,   // a webhook accepted it; waiting for the data (verify_by)
  succeeded,  // a command ran; verifying
  verified,   // the window passes again
  failed,     // delivery failed for good, or the data did not arrive
  cancelled,  // the incident resolved before it was sent
  dry_run,    // recorded but never sent (monitor.dry_run)
};

// How a resolved incident ended. Only a healed incident's windows hold the
// data they should (the rule passed over them again): a baseline learns from
// them, and from no other incident's windows.
enum class Resolution {
  healed,        // the rule passed again over the incident's windows ("healed")
  aged_out,      // the rule passed because the windows left its lookback, their data
                 // never seen ("aged_out")
  by_operator,   // a person resolved it ("operator")
  rule_removed,  // the configuration no longer has the rule ("rule_removed")
};

std::string_view to_string(IncidentState state);
std::string_view to_string(RequestState state);
std::string_view to_string(Resolution resolution);
std::optional<IncidentState> incident_state_from(std::string_view text);
std::optional<RequestState> request_state_from(std::string_view text);
std::optional<Resolution> resolution_from(std::string_view text);

struct Incident {
  std::int64_t id = 0;
  std::string rule;
  IncidentState state = IncidentState::open;
  Severity severity = Severity::warning;
  Instant opened_at;
  Instant updated_at;
  std::optional<Instant> resolved_at;
  std::optional<Instant> acknowledged_at;
  std::optional<Instant> retried_at;  // the last operator retry
  std::string message;                // the latest verdict message
  // The windows failing at the last evaluation, each of its segment (empty:
  // the whole table).
  std::vector<Window> windows;
  // Set when resolved; empty while active, and for incidents resolved
  // before schema version 2 (unknown).
  std::optional<Resolution> resolution;
};

// The orchestrator's run a delivery started (an accepted request of a preset
// that follows runs), and what gapwatch last heard of it (RunTracker).
struct RunRecord {
  enum class Known {
    not_yet,    // not asked yet, or never answered
    state,      // `state` is what the orchestrator said last
    not_found,  // the orchestrator said it does not know the run: no more polls
  };
  RunRef ref;
  Known known = Known::not_yet;
  RunState state = RunState::queued;  // when known == state
  // The orchestrator's words at its last answer; or, while it cannot be
  // asked, why ("HTTP 503").
  std::string detail;
  std::optional<Instant> answered_at;  // its last answer
  Instant next_poll_at;
  // Polls in a row that found the run queued, or could not ask: the next
  // waits longer (run_poll_delay).
  int slow_polls = 0;
  Instant deadline;  // accepted + run_timeout: a run still going then fails the attempt

  // Whether the run is still to be asked about.
  bool followed() const {
    return known == Known::not_yet || (known == Known::state && !is_terminal(state));
  }
};

// "queued", "running", "succeeded", "failed", "not_found", or "unknown" (not
// answered yet): a run's state as the API, the CLI and the metrics say it.
std::string_view run_state_name(const RunRecord& run);

struct RequestRecord {
  std::string id;
  std::optional<std::int64_t> incident_id;  // empty for manual requests without incident
  std::string rule;
  std::string executor;
  Window window;  // its segment: the request's (empty: the whole table)
  int attempt = 1;
  RequestState state = RequestState::pending;
  int deliveries = 0;  // delivery tries made
  Instant next_attempt_at;
  std::optional<Instant> verify_by;
  Instant created_at;
  Instant updated_at;
  std::string last_error;
  std::string output;
  std::string values_json;  // the template values, so a resend is identical
  std::optional<RunRecord> run;  // the run its delivery started, when followed
};

struct EventRecord {
  std::int64_t id = 0;
  Instant at;
  std::optional<std::int64_t> incident_id;
  std::optional<std::string> request_id;
  std::string kind;
  std::string detail;
};

// A write of a rule's kept baseline counts (Transaction::save_baseline).
struct BaselineWrite {
  // Whether the rule's other kept buckets stay (the new ones are added or
  // replace those of the same start) or are all deleted first (a full read).
  enum class Others { kept, deleted };

  std::string fingerprint;
  std::optional<Instant> covered_from;
  std::optional<Instant> covered_to;
  std::optional<Instant> full_read_at;
  // Written, replacing any of the same segment and start; a segmented rule's
  // index `segments` (empty: every bucket is the whole table's).
  std::vector<CountedBucket> buckets;
  std::vector<SegmentKey> segments;
  Instant keep_from;                   // kept buckets starting before this are deleted
  Others others = Others::kept;
};

// Which incidents StateStore::incidents lists.
enum class IncidentFilter {
  active,  // not resolved
  all,
};

class StateStore {
 public:
  class Transaction;

  static Expected<std::unique_ptr<StateStore>> open(const std::string& path);
  // A stand-in for a state database that cannot be opened (a read-only or
  // full disk, a missing directory): empty, and every write fails (a
  // transaction saying `reason`). reopen() replaces it with the real file
  // once that opens.
  static std::unique_ptr<StateStore> unavailable(const std::string& path, std::string reason);
  // For a stand-in: tries to open the real file again; true once it is open.
  // A store that is not a stand-in is open already.
  Expected<bool> reopen() EXCLUDES(m_mutex);
  // Why the real file could not be opened; empty when it is open.
  std::string unavailable_reason() const EXCLUDES(m_mutex);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  static constexpr int kSchemaVersion = 4;

  // Runs `work` in one IMMEDIATE transaction, committed if it returns a value
  // and rolled back if it returns an error. `work` reads and writes through
  // the Transaction it is given; a step that is part of a larger transaction
  // takes a Transaction& rather than opening its own.
  using Work = std::function<Expected<void>(Transaction&)>;
  Expected<void> transaction(const Work& work) EXCLUDES(m_mutex);

  // Transaction's operations, each run alone; see there.
  Expected<std::optional<Incident>> active_incident(const std::string& rule) EXCLUDES(m_mutex);
  Expected<std::optional<Incident>> incident(std::int64_t id) EXCLUDES(m_mutex);
  Expected<std::vector<Incident>> incidents(IncidentFilter filter) EXCLUDES(m_mutex);
  Expected<std::int64_t> insert_incident(const Incident& incident) EXCLUDES(m_mutex);
  Expected<void> update_incident(const Incident& incident) EXCLUDES(m_mutex);
  Expected<void> insert_request(const RequestRecord& request) EXCLUDES(m_mutex);
  Expected<void> update_request(const RequestRecord& request) EXCLUDES(m_mutex);
  Expected<std::optional<RequestRecord>> request(const std::string& id) EXCLUDES(m_mutex);
  Expected<std::vector<RequestRecord>> requests_for_incident(std::int64_t incident_id)
      EXCLUDES(m_mutex);
  Expected<std::vector<RequestRecord>> requests_for_rule(const std::string& rule) EXCLUDES(m_mutex);
  Expected<std::vector<RequestRecord>> requests_in_state(RequestState state) EXCLUDES(m_mutex);
  Expected<std::vector<RequestRecord>> due_requests(Instant now) EXCLUDES(m_mutex);
  Expected<bool> claim_request(const std::string& id, Instant now) EXCLUDES(m_mutex);
  Expected<std::int64_t> count_requests(RequestState state) EXCLUDES(m_mutex);
  Expected<std::optional<Instant>> next_due() EXCLUDES(m_mutex);
  Expected<std::vector<RequestRecord>> runs_to_poll(const std::string& executor, Instant now)
      EXCLUDES(m_mutex);
  Expected<std::vector<Instant>> deliveries_since(const std::string& executor, Instant since)
      EXCLUDES(m_mutex);
  Expected<std::optional<Instant>> next_run_poll() EXCLUDES(m_mutex);
  Expected<std::vector<std::tuple<std::string, std::string, std::int64_t>>> count_runs()
      EXCLUDES(m_mutex);
  Expected<void> add_event(const EventRecord& event) EXCLUDES(m_mutex);
  Expected<std::vector<EventRecord>> events_for_incident(std::int64_t incident_id)
      EXCLUDES(m_mutex);
  Expected<std::optional<BaselineHistory>> baseline(const std::string& rule) EXCLUDES(m_mutex);
  // One transaction of its own (its statements commit together).
  Expected<void> save_baseline(const std::string& rule, const BaselineWrite& write)
      EXCLUDES(m_mutex);
  Expected<void> invalidate_baseline(const std::string& rule, Instant from) EXCLUDES(m_mutex);
  Expected<void> delete_baseline(const std::string& rule) EXCLUDES(m_mutex);
  Expected<std::vector<std::string>> baseline_rules() EXCLUDES(m_mutex);
  Expected<std::vector<Window>> unhealed_windows(const std::string& rule, Instant since)
      EXCLUDES(m_mutex);

  // Whether writes work (for /readyz): a write lock can be taken and the last
  // write did not fail for want of space or permission.
  Expected<void> check_writable() EXCLUDES(m_mutex);

  const std::string& path() const { return m_path; }

  // What masks secrets in the text written from now on (at start and on
  // every reload); a new store masks nothing.
  void set_redactor(std::shared_ptr<const Redactor> redactor) EXCLUDES(m_mutex);

 private:
  StateStore(sqlite3* db, std::string path);
  Expected<void> migrate() EXCLUDES(m_mutex);
  Expected<void> run_transaction(const Work& work) REQUIRES(m_mutex);
  // Remembers `error` for check_writable if the connection's last error says
  // the disk is full or the file cannot be written.
  void note_write_failure(const Error& error) REQUIRES(m_mutex);
  // Runs Transaction's `Operation` alone, under the lock.
  template <auto Operation, class... Args>
  auto alone(const Args&... args) EXCLUDES(m_mutex);

  mutable Mutex m_mutex;
  std::unique_ptr<StateDatabase> m_db GUARDED_BY(m_mutex);
  // Why the last write failed for lack of space or permission; empty once a
  // write succeeds again.
  std::string m_write_error GUARDED_BY(m_mutex);
  const std::string m_path;
  // Set while this is a stand-in for a file that could not be opened.
  std::string m_unavailable GUARDED_BY(m_mutex);
  // Never null. A transaction keeps the one it started with.
  std::shared_ptr<const Redactor> m_redactor GUARDED_BY(m_mutex) =
      std::make_shared<const Redactor>();
};

// The operations on the state, valid inside one StateStore call: the work of
// StateStore::transaction (all in that transaction), or one operation of the
// store's own. Only the store makes one, with its mutex held for the
// Transaction's whole life, so its methods take no lock.
class StateStore::Transaction {
 public:
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Incidents.
  Expected<std::optional<Incident>> active_incident(const std::string& rule);
  Expected<std::optional<Incident>> incident(std::int64_t id);
  Expected<std::vector<Incident>> incidents(IncidentFilter filter);
  Expected<std::int64_t> insert_incident(const Incident& incident);
  Expected<void> update_incident(const Incident& incident);

  // Requests.
  Expected<void> insert_request(const RequestRecord& request);
  Expected<void> update_request(const RequestRecord& request);
  Expected<std::optional<RequestRecord>> request(const std::string& id);
  Expected<std::vector<RequestRecord>> requests_for_incident(std::int64_t incident_id);
  Expected<std::vector<RequestRecord>> requests_for_rule(const std::string& rule);
  Expected<std::vector<RequestRecord>> requests_in_state(RequestState state);
  // Pending requests due at `now`, oldest first.
  Expected<std::vector<RequestRecord>> due_requests(Instant now);
  // Moves a pending request to sending if it still is pending (so that two
  // processes never send it at once); false if someone else took it.
  Expected<bool> claim_request(const std::string& id, Instant now);
  Expected<std::int64_t> count_requests(RequestState state);
  // The earliest next_attempt_at of a pending request.
  Expected<std::optional<Instant>> next_due();
  // When the deliveries of `executor`'s requests started after `since`
  // began (their request_sending events), oldest first.
  Expected<std::vector<Instant>> deliveries_since(const std::string& executor, Instant since);
  // Accepted requests of `executor` whose run is followed and due a poll at
  // `now`, the most overdue first.
  Expected<std::vector<RequestRecord>> runs_to_poll(const std::string& executor, Instant now);
  // The earliest next poll of a followed run, of any executor.
  Expected<std::optional<Instant>> next_run_poll();
  // How many accepted requests have a followed or settled run, by executor
  // and run_state_name.
  Expected<std::vector<std::tuple<std::string, std::string, std::int64_t>>> count_runs();

  // Events.
  Expected<void> add_event(const EventRecord& event);
  Expected<std::vector<EventRecord>> events_for_incident(std::int64_t incident_id);

  // Baselines: the settled bucket counts kept for a rule (BaselineBook).
  //
  // The rule's kept baseline, `excluded` empty; empty if nothing is kept for
  // it. Buckets oldest first; a segmented rule's by segment (in key order,
  // NULL first), then oldest first, indexing `segments`.
  Expected<std::optional<BaselineHistory>> baseline(const std::string& rule);
  // Writes `write.buckets`, deletes the rule's buckets older than
  // `write.keep_from` (all of them first with Others::deleted) and writes the
  // rule's row of baselines (fingerprint and range).
  Expected<void> save_baseline(const std::string& rule, const BaselineWrite& write);
  // The counts from `from` on are to be read again: the kept range ends there
  // at the latest (covered_to = MIN(covered_to, from)).
  Expected<void> invalidate_baseline(const std::string& rule, Instant from);
  Expected<void> delete_baseline(const std::string& rule);
  // The rules with kept baseline counts.
  Expected<std::vector<std::string>> baseline_rules();
  // The windows a baseline of `rule` must not learn from: those of the
  // rule's incidents updated at or after `since` that did not heal (active,
  // or resolved otherwise than healed, or before resolutions were recorded),
  // with the windows of their backfill requests, each with its segment
  // (empty: the whole table); oldest first, without repeats.
  Expected<std::vector<Window>> unhealed_windows(const std::string& rule, Instant since);

 private:
  friend class StateStore;
  Transaction(StateDatabase& db, const Redactor& redactor) : m_db(db), m_redactor(redactor) {}

  StateDatabase& m_db;
  const Redactor& m_redactor;  // applied to the free text each write stores
};

}  // namespace gapwatch
