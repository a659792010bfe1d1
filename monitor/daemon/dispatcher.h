// Dispatcher: sends due requests from the outbox to their executors. A request
// is claimed (pending → sending, committed) before its executor sees it, and
// every outcome is committed with an event: ran/accepted → awaits
// verification; retry → pending again after backoff (same request id) until the
// executor's retry.max_attempts; rejected or out of retries → failed. At most
// max_concurrent deliveries per executor run at once, each on its own thread,
// and at most max_per_hour start in any hour (counted from the state
// database's history, so a restart does not reset it).
//
// After a crash: a request left `sending` whose run may outlive the process
// that started it (a command's run, until its supervisor has stopped it) is
// not sent again beside that run: a delivery thread awaits it, counted
// against max_concurrent like any delivery, and records what it came to.
// Nothing is sent for an incident that has resolved.
//
// Thread-safe: dispatch_due() and the outcome handling run on different
// threads; the StateStore serialises their writes, and m_mutex guards the
// deliveries under way.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/state/incident_manager.h"
#include "monitor/state/state_store.h"
#include "rules/clock.h"
#include "rules/mutex.h"
#include "triggers/executor.h"
#include "triggers/redaction.h"

namespace gapwatch {

struct DispatchReport {
  RequestRecord request;  // as committed after the outcome
  DispatchOutcome outcome;
};

class Dispatcher {
 public:
  using Listener = std::function<void(const DispatchReport&)>;

  // `executors` maps executor names to their implementation (tests inject
  // their own); `listener` hears every outcome, on the delivering thread.
  Dispatcher(const Config& config, StateStore& store, IncidentManager& incidents,
             const Clock& clock, std::map<std::string, std::unique_ptr<Executor>> executors,
             Listener listener);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Requests left in `sending` by a crash (returns how many): one whose run
  // may still be alive or ended unseen (Executor::has_earlier_run) is awaited
  // on a delivery thread and its outcome recorded; the others go back to
  // pending, keeping their id, or are cancelled if their incident resolved.
  Expected<int> resume_interrupted() EXCLUDES(m_mutex);
  // Starts every due request whose executor has room (or only request `only`);
  // returns how many. Requests of an escalated incident wait until an
  // operator retries or resolves it, unless named by `only`.
  Expected<int> dispatch_due(const std::optional<std::string>& only = std::nullopt)
      EXCLUDES(m_mutex);
  // Waits up to `grace` for deliveries under way, then stops them (they stay
  // `sending` and are resumed on the next start).
  void shutdown(std::chrono::seconds grace) EXCLUDES(m_mutex);

  // The executor named `name` (the run tracker polls through it); null if
  // there is none.
  Executor* executor(const std::string& name) const;

  int in_flight() const EXCLUDES(m_mutex);
  int in_flight(const std::string& executor) const EXCLUDES(m_mutex);

 private:
  void deliver(RequestRecord request, std::stop_token stop) EXCLUDES(m_mutex);
  // The delivery thread of a request whose run an earlier process started.
  void await_earlier_run(RequestRecord request, std::stop_token stop) EXCLUDES(m_mutex);
  // Records `outcome` and tells the listener, or leaves the request sending
  // when `stop` cut the delivery short; then frees its slot.
  void conclude(RequestRecord& request, const DispatchOutcome& outcome, std::stop_token stop)
      EXCLUDES(m_mutex);
  void free_slot(const RequestRecord& request) EXCLUDES(m_mutex);
  // A delivery cut short by a crash: pending again with the same id, or
  // cancelled if its incident has resolved meanwhile.
  Expected<void> send_again(RequestRecord& request, const std::string& why);
  // Closes a request that will not be sent, with an event `kind` saying why.
  Expected<void> close_unsent(RequestRecord& request, RequestState state, const std::string& kind,
                              const std::string& why, Instant now);
  Expected<void> settle(RequestRecord& request, const DispatchOutcome& outcome);
  // Joins the delivery threads that have finished.
  void reap() REQUIRES(m_mutex);
  bool busy() const REQUIRES(m_mutex);

  const Config& m_config;
  StateStore& m_store;
  IncidentManager& m_incidents;
  const Clock& m_clock;
  std::map<std::string, std::unique_ptr<Executor>> m_executors;
  Listener m_listener;
  // Masks the configuration's secrets in output and errors before they are
  // cut for the log or stored (a receiver may echo a token back).
  const Redactor m_redactor;

  mutable Mutex m_mutex;
  CondVar m_idle;  // a delivery finished
  std::map<std::string, int> m_busy GUARDED_BY(m_mutex);  // deliveries per executor
  std::list<std::jthread> m_threads GUARDED_BY(m_mutex);
  std::list<std::thread::id> m_finished GUARDED_BY(m_mutex);  // threads to join
  std::set<std::string> m_delivering GUARDED_BY(m_mutex);     // request ids under way
  // Executors whose requests wait for max_per_hour (said once in the log);
  // dispatch_due's alone, like the outbox reading.
  std::set<std::string> m_held;
};

// The request an executor is given for `record`. A segment's values are
// named by the rule's segment_by as configured now; they stay unnamed
// (request.segment empty) when it no longer has as many columns.
BackfillRequest backfill_request_of(const RequestRecord& record, const Config& config);

// Orders requests due at once as their rules' backfill.order says: each rule's
// requests keep the places they had in `due` (the oldest due first), and are
// put into them newest window first, or oldest first.
void in_backfill_order(std::vector<RequestRecord>& due, const Config& config);

// Executors for every configured executor; command runs keep their locks and
// results in the state database's run directory (RunDirectory::beside).
std::map<std::string, std::unique_ptr<Executor>> make_executors(const Config& config,
                                                                const Clock& clock);

}  // namespace gapwatch
