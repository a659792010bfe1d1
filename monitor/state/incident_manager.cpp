#include "monitor/state/incident_manager.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "triggers/backfill_request.h"

namespace gapwatch {

namespace {

bool awaiting_verification(RequestState state) {
  return state == RequestState::accepted || state == RequestState::succeeded;
}

RequestProgress progress_of(RequestState state) {
  switch (state) {
    case RequestState::pending:
    case RequestState::sending:
    case RequestState::accepted:
    case RequestState::succeeded:
    case RequestState::dry_run:
      return RequestProgress::outstanding;
    case RequestState::failed:
      return RequestProgress::failed;
    case RequestState::verified:
    case RequestState::cancelled:
      return RequestProgress::done;
  }
  return RequestProgress::done;
}

std::string describe(const Window& window) {
  std::string text =
      fmt::format("{} .. {}", format_rfc3339(window.start), format_rfc3339(window.end));
  if (!window.segment.empty()) {
    text += fmt::format(" of segment {}", segment_name(window.segment));
  }
  return text;
}

// A verdict's failing units by segment, each segment's oldest first, to tell
// whether a request's window still fails without comparing it with every
// bucket of every segment.
class FailingUnits {
 public:
  explicit FailingUnits(std::vector<Window> units) {
    for (Window& unit : units) {
      m_by_segment[unit.segment].push_back(std::move(unit));
    }
    for (auto& [segment, list] : m_by_segment) {
      std::sort(list.begin(), list.end(),
                [](const Window& a, const Window& b) { return a.start < b.start; });
    }
  }

  // Whether a unit of the window's segment, or of the whole table, overlaps
  // it; any unit at all for a whole-table window.
  bool overlap(const Window& window) const {
    if (window.segment.empty()) {
      return std::any_of(m_by_segment.begin(), m_by_segment.end(),
                         [&](const auto& entry) { return overlaps_one(entry.second, window); });
    }
    for (const SegmentKey& segment : {SegmentKey{}, window.segment}) {
      const auto found = m_by_segment.find(segment);
      if (found != m_by_segment.end() && overlaps_one(found->second, window)) {
        return true;
      }
    }
    return false;
  }

 private:
  // Units of one segment do not overlap one another: sorted by start, they
  // are sorted by end too.
  static bool overlaps_one(const std::vector<Window>& units, const Window& window) {
    const auto first =
        std::upper_bound(units.begin(), units.end(), window.start,
                         [](Instant start, const Window& unit) { return start < unit.end; });
    return first != units.end() && first->start < window.end;
  }

  std::map<SegmentKey, std::vector<Window>> m_by_segment;
};

// Where `window` lies against this evaluation's judged range. A rule without
// buckets judges everything it reads; a partitioned rule only a range that
// moves on with time: an old window leaves it at the lookback's end, a recent
// one enters it once `delay` has passed.
enum class Judged { whole, not_yet, left };
Judged judged(const Verdict& verdict, const Window& window) {
  if (verdict.buckets.empty()) {
    return Judged::whole;
  }
  if (window.start < verdict.buckets.front().start) {
    return Judged::left;
  }
  return window.end <= verdict.buckets.back().end ? Judged::whole : Judged::not_yet;
}

std::vector<Window> fail_windows(const Verdict& verdict) {
  std::vector<Window> windows;
  for (const Window& window : verdict.windows) {
    if (window.status == Status::fail) {
      windows.push_back(window);
    }
  }
  return windows;
}

// The incident an operator named; an error if there is none.
Expected<Incident> named_incident(StateStore::Transaction& transaction, std::int64_t id) {
  auto found = transaction.incident(id);
  if (!found) {
    return std::unexpected(found.error());
  }
  if (!*found) {
    return fail(fmt::format("no incident #{}", id));
  }
  return std::move(**found);
}

}  // namespace

RequestRecord IncidentManager::new_request(const RuleConfig& rule, const std::string& executor,
                                           std::optional<std::int64_t> incident_id,
                                           const Window& window, int attempt) const {
  const Instant now = m_clock.now();
  BackfillRequest request;
  request.id = make_request_id(rule.spec.name, window.segment, window.start, window.end, attempt);
  request.incident_id = incident_id.value_or(0);
  request.attempt = attempt;
  request.rule = rule.spec.name;
  request.executor = executor;
  request.window_start = window.start;
  request.window_end = window.end;
  request.segment = segment_columns(rule.spec.segment_by, window.segment);
  const std::map<std::string, std::string> no_params;
  const TemplateValues values =
      request_values(rule.spec, rule.backfill ? rule.backfill->params : no_params, request);

  RequestRecord record;
  record.id = request.id;
  record.incident_id = incident_id;
  record.rule = rule.spec.name;
  record.executor = executor;
  record.window = Window{window.start, window.end, Status::fail, window.segment};
  record.attempt = attempt;
  record.state = m_delivery == Delivery::dry_run ? RequestState::dry_run : RequestState::pending;
  record.next_attempt_at = now;
  record.created_at = now;
  record.updated_at = now;
  // A segment's values come from the warehouse and may not be UTF-8; JSON
  // cannot hold such bytes, and an exception must not escape here.
  record.values_json =
      nlohmann::json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return record;
}

Expected<IncidentEffects> IncidentManager::record(const RuleConfig& rule,
                                                  const RuleResult& result) {
  IncidentEffects effects;
  const Verdict& verdict = result.verdict;
  if (verdict.status == Status::error) {
    return effects;  // an evaluation problem is not missing data
  }
  const Instant now = m_clock.now();
  auto nothing = nothing_to_record(rule.spec.name, verdict.status, now);
  if (!nothing) {
    return std::unexpected(nothing.error());
  }
  if (*nothing) {
    return effects;
  }
  auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    auto active = transaction.active_incident(rule.spec.name);
    if (!active) {
      return std::unexpected(active.error());
    }
    if (verdict.status != Status::fail) {
      return *active ? resolve_on_pass(transaction, **active, result, effects) : Expected<void>{};
    }
    auto incident = open_or_update(transaction, rule, verdict, std::move(*active), now, effects);
    if (!incident) {
      return std::unexpected(incident.error());
    }
    auto requests = transaction.requests_for_rule(rule.spec.name);
    if (!requests) {
      return std::unexpected(requests.error());
    }
    if (auto settled = verify_requests(transaction, *incident, result, *requests, effects);
        !settled) {
      return settled;
    }
    if (!rule.backfill || incident->state == IncidentState::escalated) {
      return refresh_state(transaction, incident->id);
    }
    return plan_requests(transaction, rule, verdict, *incident, *requests, now, effects);
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  return effects;
}

Expected<bool> IncidentManager::nothing_to_record(const std::string& rule, Status status,
                                                  Instant now) {
  if (status == Status::fail) {
    MutexLock lock(m_mutex);
    m_without_incident.erase(rule);  // an incident may open now
    return false;
  }
  // The common case, a rule that passes with nothing open, needs no write
  // transaction, and once known no read either.
  {
    MutexLock lock(m_mutex);
    const auto seen = m_without_incident.find(rule);
    if (seen != m_without_incident.end() && now < seen->second + kWithoutIncidentFor) {
      return true;
    }
  }
  auto active = m_store.active_incident(rule);
  if (!active) {
    return std::unexpected(active.error());
  }
  if (*active) {
    return false;
  }
  MutexLock lock(m_mutex);
  m_without_incident[rule] = now;
  return true;
}

Expected<void> IncidentManager::resolve_on_pass(StateStore::Transaction& transaction,
                                                Incident& incident, const RuleResult& result,
                                                IncidentEffects& effects) {
  const Verdict& verdict = result.verdict;
  effects.incident_id = incident.id;
  effects.resolved = true;
  auto requests = transaction.requests_for_incident(incident.id);
  if (!requests) {
    return std::unexpected(requests.error());
  }
  if (auto settled = verify_requests(transaction, incident, result, *requests, effects); !settled) {
    return settled;
  }
  // Healed only if the rule passed over every window it failed on; a window
  // that left the lookback unseen was never filled, and a baseline must not
  // learn from it (Resolution::aged_out).
  const bool healed = std::all_of(incident.windows.begin(), incident.windows.end(),
                                  [&](const Window& window) {
                                    return judged(verdict, window) == Judged::whole;
                                  });
  effects.log.push_back(fmt::format("incident #{} for {} resolved: rule is {} ({}){}", incident.id,
                                    incident.rule, to_string(verdict.status), verdict.message,
                                    healed ? "" : "; its windows left the lookback unseen"));
  return close_incident(transaction, incident, healed ? Resolution::healed : Resolution::aged_out,
                        fmt::format("rule is {}: {}", to_string(verdict.status), verdict.message),
                        RequestState::verified);
}

Expected<Incident> IncidentManager::open_or_update(StateStore::Transaction& transaction,
                                                   const RuleConfig& rule, const Verdict& verdict,
                                                   std::optional<Incident> active, Instant now,
                                                   IncidentEffects& effects) {
  if (active) {
    Incident& incident = *active;
    incident.message = verdict.message;
    incident.windows = fail_windows(verdict);
    incident.updated_at = now;
    if (auto updated = transaction.update_incident(incident); !updated) {
      return std::unexpected(updated.error());
    }
    effects.incident_id = incident.id;
    return std::move(incident);
  }
  Incident incident;
  incident.rule = rule.spec.name;
  incident.state = IncidentState::open;
  incident.severity = rule.spec.severity;
  incident.opened_at = now;
  incident.updated_at = now;
  incident.message = verdict.message;
  incident.windows = fail_windows(verdict);
  auto id = transaction.insert_incident(incident);
  if (!id) {
    return std::unexpected(id.error());
  }
  incident.id = *id;
  effects.incident_id = incident.id;
  effects.opened = true;
  std::vector<std::string> windows;
  for (const Window& window : incident.windows) {
    windows.push_back(describe(window));
  }
  const std::string detail =
      fmt::format("{}; window(s): {}", verdict.message, fmt::join(windows, ", "));
  effects.log.push_back(
      fmt::format("incident #{} opened for {}: {}", incident.id, incident.rule, detail));
  if (auto added = transaction.add_event({0, now, incident.id, std::nullopt, "opened", detail});
      !added) {
    return std::unexpected(added.error());
  }
  return incident;
}

Expected<void> IncidentManager::plan_requests(StateStore::Transaction& transaction,
                                              const RuleConfig& rule, const Verdict& verdict,
                                              Incident& incident,
                                              const std::vector<RequestRecord>& history,
                                              Instant now, IncidentEffects& effects) {
  PlanningInput input;
  input.failing_units = failing_units(verdict);
  for (const RequestRecord& request : history) {
    const bool counts = request.incident_id == incident.id &&
                        (!incident.retried_at || request.created_at >= *incident.retried_at);
    PastRequest past;
    past.window = request.window;
    past.attempt = request.attempt;
    past.progress = progress_of(request.state);
    past.counts = counts;
    if (request.state == RequestState::failed) {
      // Nothing writes a failed request again: updated_at is when it failed,
      // which the next attempt's wait counts from, across restarts.
      past.failed_at = request.updated_at;
      past.error = request.last_error;
    }
    input.history.push_back(std::move(past));
  }
  const BackfillPlan plan = plan_backfill(input, *rule.backfill);
  if (plan.escalate) {
    return escalate(transaction, incident, plan.reason, now, effects);
  }
  for (const PlannedRequest& planned : plan.requests) {
    if (auto queued = queue_request(transaction, rule, incident, planned, now, effects); !queued) {
      return queued;
    }
  }
  return refresh_state(transaction, incident.id);
}

Expected<void> IncidentManager::escalate(StateStore::Transaction& transaction, Incident& incident,
                                         const std::string& reason, Instant now,
                                         IncidentEffects& effects) {
  incident.state = IncidentState::escalated;
  incident.updated_at = now;
  effects.escalated = true;
  effects.warnings.push_back(fmt::format(
      "incident #{} for {} escalated: {}; nothing more is sent until an operator retries or "
      "resolves it",
      incident.id, incident.rule, reason));
  if (auto updated = transaction.update_incident(incident); !updated) {
    return updated;
  }
  return transaction.add_event({0, now, incident.id, std::nullopt, "escalated", reason});
}

Expected<void> IncidentManager::queue_request(StateStore::Transaction& transaction,
                                              const RuleConfig& rule, const Incident& incident,
                                              const PlannedRequest& planned, Instant now,
                                              IncidentEffects& effects) {
  RequestRecord request =
      new_request(rule, rule.backfill->executor, incident.id, planned.window, planned.attempt);
  const bool dry_run = m_delivery == Delivery::dry_run;
  std::string detail =
      fmt::format("{} window {} attempt {} for {}", dry_run ? "dry run, not sent:" : "queued",
                  describe(request.window), request.attempt, request.executor);
  if (planned.not_before && *planned.not_before > now && !dry_run) {
    request.next_attempt_at = *planned.not_before;
    detail += fmt::format(", due {} (backfill.attempt_backoff after the last failed attempt)",
                          format_rfc3339(request.next_attempt_at));
  }
  if (auto inserted = transaction.insert_request(request); !inserted) {
    return inserted;
  }
  if (auto added = transaction.add_event({0, now, incident.id, request.id,
                                          dry_run ? "request_dry_run" : "request_created", detail});
      !added) {
    return added;
  }
  effects.log.push_back(fmt::format("request {} {}", request.id, detail));
  effects.new_requests.push_back(std::move(request));
  return {};
}

void IncidentManager::forget_rules_without_incident() {
  MutexLock lock(m_mutex);
  m_without_incident.clear();
}

Expected<void> IncidentManager::verify_requests(StateStore::Transaction& transaction,
                                                const Incident& incident, const RuleResult& result,
                                                std::vector<RequestRecord>& requests,
                                                IncidentEffects& effects) {
  const Instant now = m_clock.now();
  const FailingUnits units(failing_units(result.verdict));
  for (RequestRecord& request : requests) {
    // A manual request made while no incident was open is verified by the
    // rule's next incident: nothing else ever would, and until then it
    // counts as outstanding and blocks new requests for its window.
    const bool ours = !request.incident_id || *request.incident_id == incident.id;
    if (!ours || !awaiting_verification(request.state)) {
      continue;
    }
    const bool still_failing = units.overlap(request.window);
    std::string kind;
    std::string detail;
    const Judged seen = judged(result.verdict, request.window);
    if (!still_failing && seen == Judged::not_yet) {
      continue;  // part of the window is not judged yet: wait for it
    }
    if (!still_failing && seen == Judged::whole) {
      request.state = RequestState::verified;
      request.last_error.clear();
      kind = "request_verified";
      detail = fmt::format("data arrived: window {}", describe(request.window));
    } else if (!still_failing) {
      request.state = RequestState::cancelled;
      request.last_error = "the window left the rule's judged range (lookback) before its data "
                           "was seen";
      kind = "request_expired";
      detail = fmt::format("not verified: window {} is no longer judged", describe(request.window));
    } else if (request.verify_by && result.evaluated_at >= *request.verify_by) {
      request.state = RequestState::failed;
      kind = "request_unverified";
      const RunRecord* run = request.run ? &*request.run : nullptr;
      if (run && run->known == RunRecord::Known::state && run->state == RunState::succeeded) {
        // Tells a broken source from a broken DAG.
        request.last_error = "the run succeeded but the window is still below threshold";
        detail = fmt::format("run {} succeeded but data still missing: window {}", run->ref.id,
                             describe(request.window));
      } else if (run && run->known == RunRecord::Known::state) {
        request.last_error = fmt::format(
            "the backfill was delivered but the window still fails (the run was last seen {})",
            to_string(run->state));
        detail = fmt::format("data still missing: window {}", describe(request.window));
      } else {
        request.last_error = "the backfill was delivered but the window still fails";
        detail = fmt::format("data still missing: window {}", describe(request.window));
      }
    } else {
      continue;
    }
    request.updated_at = now;
    if (auto updated = transaction.update_request(request); !updated) {
      return updated;
    }
    effects.log.push_back(fmt::format("request {} {}", request.id, detail));
    if (auto added = transaction.add_event({0, now, incident.id, request.id, kind, detail});
        !added) {
      return added;
    }
  }
  return {};
}

Expected<void> IncidentManager::close_incident(StateStore::Transaction& transaction,
                                               Incident& incident, Resolution resolution,
                                               const std::string& detail,
                                               RequestState outstanding_to) {
  const Instant now = m_clock.now();
  auto requests = transaction.requests_for_incident(incident.id);
  if (!requests) {
    return std::unexpected(requests.error());
  }
  for (RequestRecord& request : *requests) {
    // A delivery under way finishes on its own; the dispatcher settles it.
    if (request.state == RequestState::pending || request.state == RequestState::dry_run) {
      if (auto cancelled = cancel_unsent(transaction, request,
                                         "the incident is resolved", now);
          !cancelled) {
        return cancelled;
      }
      continue;
    }
    if (!awaiting_verification(request.state)) {
      continue;
    }
    request.state = outstanding_to;
    if (auto added = transaction.add_event(
            {0, now, incident.id, request.id,
             outstanding_to == RequestState::verified ? "request_verified" : "request_cancelled",
             fmt::format("window {}", describe(request.window))});
        !added) {
      return added;
    }
    request.updated_at = now;
    if (auto updated = transaction.update_request(request); !updated) {
      return updated;
    }
  }
  incident.state = IncidentState::resolved;
  incident.resolution = resolution;
  incident.resolved_at = now;
  incident.updated_at = now;
  if (auto updated = transaction.update_incident(incident); !updated) {
    return updated;
  }
  return transaction.add_event({0, now, incident.id, std::nullopt, "resolved", detail});
}

Expected<void> IncidentManager::cancel_unsent(StateStore::Transaction& transaction,
                                              RequestRecord& request, const std::string& why,
                                              Instant now) {
  request.state = RequestState::cancelled;
  request.updated_at = now;
  if (auto updated = transaction.update_request(request); !updated) {
    return updated;
  }
  return transaction.add_event(
      {0, now, request.incident_id, request.id, "request_cancelled",
       fmt::format("window {}: not sent, {}", describe(request.window), why)});
}

Expected<std::vector<std::string>> IncidentManager::close_removed_rules(const Config& config) {
  std::vector<std::string> closed;
  auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    closed.clear();
    const Instant now = m_clock.now();
    auto active = transaction.incidents(IncidentFilter::active);
    if (!active) {
      return std::unexpected(active.error());
    }
    for (Incident& incident : *active) {
      if (config.find_rule(incident.rule) != nullptr) {
        continue;
      }
      const IncidentState was = incident.state;
      if (auto done_closing = close_incident(transaction, incident, Resolution::rule_removed,
                                             "rule removed from the configuration",
                                             RequestState::cancelled);
          !done_closing) {
        return done_closing;
      }
      closed.push_back(fmt::format(
          "incident #{} for {} resolved: rule removed from the configuration (it was {}); "
          "its unsent requests are cancelled",
          incident.id, incident.rule, to_string(was)));
    }
    // What is left unsent of those rules, such as a manual request made while
    // no incident was open: nothing could verify it any more.
    auto pending = transaction.requests_in_state(RequestState::pending);
    if (!pending) {
      return std::unexpected(pending.error());
    }
    for (RequestRecord& request : *pending) {
      if (config.find_rule(request.rule) != nullptr) {
        continue;
      }
      if (auto cancelled = cancel_unsent(transaction, request,
                                         "the rule was removed from the configuration", now);
          !cancelled) {
        return cancelled;
      }
      closed.push_back(fmt::format("request {} for {} cancelled unsent: rule removed from the "
                                   "configuration",
                                   request.id, request.rule));
    }
    return {};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  return closed;
}

Expected<void> IncidentManager::refresh_state(std::int64_t incident_id) {
  return m_store.transaction([&](StateStore::Transaction& transaction) {
    return refresh_state(transaction, incident_id);
  });
}

Expected<void> IncidentManager::refresh_state(StateStore::Transaction& transaction,
                                              std::int64_t incident_id) {
  auto found = transaction.incident(incident_id);
  if (!found) {
    return std::unexpected(found.error());
  }
  if (!*found) {
    return {};
  }
  Incident& incident = **found;
  if (incident.state == IncidentState::resolved || incident.state == IncidentState::escalated) {
    return {};
  }
  auto requests = transaction.requests_for_incident(incident_id);
  if (!requests) {
    return std::unexpected(requests.error());
  }
  IncidentState state = IncidentState::open;
  for (const RequestRecord& request : *requests) {
    if (request.state == RequestState::pending || request.state == RequestState::sending) {
      state = IncidentState::backfilling;
      break;
    }
    if (awaiting_verification(request.state)) {
      state = IncidentState::verifying;
    }
  }
  if (state == incident.state) {
    return {};
  }
  const IncidentState previous = incident.state;
  incident.state = state;
  incident.updated_at = m_clock.now();
  if (auto updated = transaction.update_incident(incident); !updated) {
    return updated;
  }
  return transaction.add_event({0, incident.updated_at, incident.id, std::nullopt,
                                fmt::format("state_{}", to_string(state)),
                                fmt::format("was {}", to_string(previous))});
}

Expected<void> IncidentManager::acknowledge(std::int64_t incident_id, const std::string& who) {
  return m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    auto incident = named_incident(transaction, incident_id);
    if (!incident) {
      return std::unexpected(incident.error());
    }
    const Instant now = m_clock.now();
    incident->acknowledged_at = now;
    incident->updated_at = now;
    if (auto updated = transaction.update_incident(*incident); !updated) {
      return updated;
    }
    return transaction.add_event({0, now, incident->id, std::nullopt, "acknowledged",
                                  fmt::format("acknowledged by {}", who)});
  });
}

Expected<void> IncidentManager::resolve(std::int64_t incident_id, const std::string& who) {
  return m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    auto incident = named_incident(transaction, incident_id);
    if (!incident) {
      return std::unexpected(incident.error());
    }
    if (incident->state == IncidentState::resolved) {
      return fail(fmt::format("incident #{} is already resolved", incident_id));
    }
    return close_incident(transaction, *incident, Resolution::by_operator,
                          fmt::format("resolved by {}", who),
                          RequestState::cancelled);
  });
}

Expected<void> IncidentManager::retry(std::int64_t incident_id, const std::string& who) {
  return m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    auto incident = named_incident(transaction, incident_id);
    if (!incident) {
      return std::unexpected(incident.error());
    }
    if (incident->state == IncidentState::resolved) {
      return fail(fmt::format("incident #{} is resolved; nothing to retry", incident_id));
    }
    const Instant now = m_clock.now();
    incident->state = IncidentState::open;
    incident->retried_at = now;
    incident->updated_at = now;
    if (auto updated = transaction.update_incident(*incident); !updated) {
      return updated;
    }
    // The operator asks for another try now: what waits out a backoff goes
    // at once.
    auto requests = transaction.requests_for_incident(incident->id);
    if (!requests) {
      return std::unexpected(requests.error());
    }
    int hurried = 0;
    for (RequestRecord& request : *requests) {
      if (request.state != RequestState::pending || request.next_attempt_at <= now) {
        continue;
      }
      request.next_attempt_at = now;
      request.updated_at = now;
      if (auto updated = transaction.update_request(request); !updated) {
        return updated;
      }
      ++hurried;
    }
    std::string detail = fmt::format("retried by {}: attempts count afresh", who);
    if (hurried > 0) {
      detail += fmt::format("; {} waiting request(s) due now", hurried);
    }
    if (auto added =
            transaction.add_event({0, now, incident->id, std::nullopt, "retried", detail});
        !added) {
      return added;
    }
    return refresh_state(transaction, incident->id);
  });
}

Expected<RequestRecord> IncidentManager::manual_request(const RuleConfig& rule,
                                                        const std::string& executor,
                                                        Instant start, Instant end) {
  auto requests = manual_requests(rule, executor, {Window{start, end, Status::fail}});
  if (!requests) {
    return std::unexpected(requests.error());
  }
  return std::move(requests->front());
}

Expected<std::vector<RequestRecord>> IncidentManager::manual_requests(
    const RuleConfig& rule, const std::string& executor, const std::vector<Window>& windows) {
  std::vector<RequestRecord> made;
  auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    made.clear();
    auto active = transaction.active_incident(rule.spec.name);
    if (!active) {
      return std::unexpected(active.error());
    }
    auto history = transaction.requests_for_rule(rule.spec.name);
    if (!history) {
      return std::unexpected(history.error());
    }
    const std::optional<std::int64_t> incident_id =
        *active ? std::optional((*active)->id) : std::nullopt;
    for (const Window& requested : windows) {
      const Window window{requested.start, requested.end, Status::fail};
      int attempt = 1;
      for (const RequestRecord& past : *history) {
        if (windows_meet(past.window, window)) {
          attempt = std::max(attempt, past.attempt + 1);
        }
      }
      RequestRecord request = new_request(rule, executor, incident_id, window, attempt);
      if (auto inserted = transaction.insert_request(request); !inserted) {
        return inserted;
      }
      if (auto added = transaction.add_event(
              {0, request.created_at, incident_id, request.id, "request_manual",
               fmt::format("manual request for window {} via {}", describe(window), executor)});
          !added) {
        return added;
      }
      made.push_back(std::move(request));
    }
    return incident_id ? refresh_state(transaction, *incident_id) : Expected<void>{};
  });
  if (!done) {
    return std::unexpected(done.error());
  }
  if (made.empty()) {
    return fail("no window to request");
  }
  return made;
}

}  // namespace gapwatch
