#include "monitor/daemon/dispatcher.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "monitor/daemon/logging.h"
#include "monitor/state/run_following.h"
#include "triggers/retry_policy.h"

namespace gapwatch {

namespace {

// A stable number in [0, 1) for a request's nth retry: jitter that spreads
// requests apart yet is reproducible.
double jitter_unit(const std::string& id, int deliveries) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const char c : fmt::format("{}/{}", id, deliveries)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return static_cast<double>(hash >> 11) / static_cast<double>(1ULL << 53);
}


}  // namespace

void in_backfill_order(std::vector<RequestRecord>& due, const Config& config) {
  // Each rule's requests take the places its requests had, in its order:
  // rules keep their turns, and within a rule the order decides.
  std::map<std::string, std::vector<std::size_t>> places;
  for (std::size_t i = 0; i < due.size(); ++i) {
    places[due[i].rule].push_back(i);
  }
  std::vector<RequestRecord> ordered(due.size());
  for (auto& [rule, indexes] : places) {
    const RuleConfig* found = config.find_rule(rule);
    const bool oldest_first = found != nullptr && found->backfill &&
                              found->backfill->order == BackfillPolicy::Order::oldest_first;
    std::vector<std::size_t> sorted = indexes;
    std::stable_sort(sorted.begin(), sorted.end(), [&](std::size_t a, std::size_t b) {
      return oldest_first ? due[a].window.start < due[b].window.start
                          : due[a].window.start > due[b].window.start;
    });
    for (std::size_t k = 0; k < indexes.size(); ++k) {
      ordered[indexes[k]] = std::move(due[sorted[k]]);
    }
  }
  due = std::move(ordered);
}

BackfillRequest backfill_request_of(const RequestRecord& record, const Config& config) {
  BackfillRequest request;
  request.id = record.id;
  request.incident_id = record.incident_id.value_or(0);
  request.attempt = record.attempt;
  request.rule = record.rule;
  request.executor = record.executor;
  request.window_start = record.window.start;
  request.window_end = record.window.end;
  if (!record.window.segment.empty()) {
    if (const RuleConfig* rule = config.find_rule(record.rule)) {
      request.segment = segment_columns(rule->spec.segment_by, record.window.segment);
    }
  }
  const auto values = nlohmann::json::parse(record.values_json, nullptr, false);
  if (values.is_object()) {
    for (const auto& [name, value] : values.items()) {
      if (value.is_string()) {
        request.values.emplace(name, value.get<std::string>());
      }
    }
  }
  return request;
}

std::map<std::string, std::unique_ptr<Executor>> make_executors(const Config& config,
                                                                const Clock& clock) {
  std::map<std::string, std::unique_ptr<Executor>> executors;
  const RunDirectory runs = RunDirectory::beside(config.monitor.state_path);
  for (const ExecutorSpec& spec : config.executors) {
    executors.emplace(spec.name, make_executor(spec, clock, runs));
  }
  return executors;
}

Dispatcher::Dispatcher(const Config& config, StateStore& store, IncidentManager& incidents,
                       const Clock& clock,
                       std::map<std::string, std::unique_ptr<Executor>> executors,
                       Listener listener)
    : m_config(config),
      m_store(store),
      m_incidents(incidents),
      m_clock(clock),
      m_executors(std::move(executors)),
      m_listener(std::move(listener)),
      m_redactor(config_secrets(config)) {}

Dispatcher::~Dispatcher() { shutdown(std::chrono::seconds{0}); }

Executor* Dispatcher::executor(const std::string& name) const {
  const auto found = m_executors.find(name);
  return found == m_executors.end() ? nullptr : found->second.get();
}

Expected<int> Dispatcher::resume_interrupted() {
  auto sending = m_store.requests_in_state(RequestState::sending);
  if (!sending) {
    return std::unexpected(sending.error());
  }
  int found = 0;
  for (RequestRecord& request : *sending) {
    {
      MutexLock lock(m_mutex);
      if (m_delivering.contains(request.id)) {
        continue;  // this process's own delivery (the database was reopened)
      }
    }
    ++found;
    // A run that a killed gapwatch started lives on until its supervisor has
    // stopped it, and may have finished unseen: it is awaited, never doubled.
    if (const auto executor = m_executors.find(request.executor); executor != m_executors.end()) {
      auto earlier = executor->second->has_earlier_run(backfill_request_of(request, m_config));
      if (!earlier) {
        spdlog::warn("request {}: cannot tell whether its run from before the restart is alive: {}",
                     request.id, earlier.error().message);
      } else if (*earlier) {
        spdlog::info("request {} for {}: its run from before the restart is still under way or "
                     "ended unrecorded; waiting for it (window {} .. {})",
                     request.id, request.rule, format_rfc3339(request.window.start),
                     format_rfc3339(request.window.end));
        MutexLock lock(m_mutex);
        ++m_busy[request.executor];
        m_delivering.insert(request.id);
        m_threads.emplace_back(
            [this, request](std::stop_token stop) { await_earlier_run(request, stop); });
        continue;
      }
    }
    if (auto sent = send_again(request, "a delivery was under way when gapwatch stopped"); !sent) {
      return std::unexpected(sent.error());
    }
  }
  return found;
}

Expected<void> Dispatcher::send_again(RequestRecord& request, const std::string& why) {
  const Instant now = m_clock.now();
  bool resolved = false;
  auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    if (request.incident_id) {
      auto incident = transaction.incident(*request.incident_id);
      if (!incident) {
        return std::unexpected(incident.error());
      }
      resolved = *incident && (*incident)->state == IncidentState::resolved;
    }
    request.state = resolved ? RequestState::cancelled : RequestState::pending;
    request.next_attempt_at = now;
    request.updated_at = now;
    if (auto updated = transaction.update_request(request); !updated) {
      return updated;
    }
    return transaction.add_event(
        {0, now, request.incident_id, request.id,
         resolved ? "request_cancelled" : "request_resumed",
         why + (resolved ? "; not sent again: the incident has resolved"
                         : "; sending it again with the same request id")});
  });
  if (!done) {
    return done;
  }
  spdlog::info("request {} for {} {} after restart (same id, window {} .. {})", request.id,
               request.rule, resolved ? "cancelled, its incident resolved," : "resumed",
               format_rfc3339(request.window.start), format_rfc3339(request.window.end));
  return {};
}

int Dispatcher::in_flight() const {
  MutexLock lock(m_mutex);
  int total = 0;
  for (const auto& [name, count] : m_busy) {
    total += count;
  }
  return total;
}

int Dispatcher::in_flight(const std::string& executor) const {
  MutexLock lock(m_mutex);
  const auto found = m_busy.find(executor);
  return found == m_busy.end() ? 0 : found->second;
}

void Dispatcher::reap() {
  for (auto it = m_threads.begin(); it != m_threads.end();) {
    const auto finished = std::find(m_finished.begin(), m_finished.end(), it->get_id());
    if (finished != m_finished.end()) {
      m_finished.erase(finished);
      it->join();
      it = m_threads.erase(it);
    } else {
      ++it;
    }
  }
}

Expected<int> Dispatcher::dispatch_due(const std::optional<std::string>& only) {
  {
    MutexLock lock(m_mutex);
    reap();
  }
  const Instant now = m_clock.now();
  auto due = m_store.due_requests(now);
  if (!due) {
    return std::unexpected(due.error());
  }
  in_backfill_order(*due, m_config);
  // Deliveries each executor with max_per_hour has started in the last hour.
  std::map<std::string, std::int64_t> this_hour;
  int started = 0;
  for (RequestRecord& request : *due) {
    if (only && request.id != *only) {
      continue;
    }
    if (request.incident_id) {
      auto incident = m_store.incident(*request.incident_id);
      if (!incident) {
        return std::unexpected(incident.error());
      }
      const auto state = *incident ? std::optional((*incident)->state) : std::nullopt;
      if (state == IncidentState::resolved) {
        // Nothing starts for a resolved incident. Resolving cancels the
        // pending requests in the same transaction, so this is one that a
        // crash left behind.
        if (auto closed = close_unsent(request, RequestState::cancelled, "request_cancelled",
                                       "not sent: the incident has resolved", now);
            !closed) {
          return std::unexpected(closed.error());
        }
        continue;
      }
      // An escalated incident sends nothing more until an operator retries
      // or resolves it; an explicitly named request is the operator's own.
      if (state == IncidentState::escalated && !only) {
        continue;
      }
    }
    const ExecutorSpec* spec = m_config.find_executor(request.executor);
    if (spec == nullptr || !m_executors.contains(request.executor)) {
      if (auto closed =
              close_unsent(request, RequestState::failed, "request_failed",
                           fmt::format("executor '{}' is not configured", request.executor), now);
          !closed) {
        return std::unexpected(closed.error());
      }
      continue;
    }
    if (spec->max_per_hour) {
      auto counted = this_hour.find(request.executor);
      if (counted == this_hour.end()) {
        auto since = m_store.deliveries_since(request.executor, now - std::chrono::hours{1});
        if (!since) {
          return std::unexpected(since.error());
        }
        counted = this_hour.emplace(request.executor, static_cast<std::int64_t>(since->size())).first;
        if (counted->second >= *spec->max_per_hour && m_held.insert(request.executor).second) {
          spdlog::warn("executor {} has started {} deliveries in the last hour (max_per_hour): "
                       "its requests wait until {}",
                       request.executor, counted->second,
                       format_rfc3339(since->front() + std::chrono::hours{1}));
        }
      }
      if (counted->second >= *spec->max_per_hour) {
        continue;
      }
      m_held.erase(request.executor);
    }
    MutexLock lock(m_mutex);
    if (m_busy[request.executor] >= spec->max_concurrent) {
      continue;
    }
    // The claim, its event and the incident's new state are one transaction:
    // a request is never sent without its history saying so.
    bool claimed = false;
    auto recorded =
        m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
          auto claim = transaction.claim_request(request.id, now);
          if (!claim) {
            return std::unexpected(claim.error());
          }
          claimed = *claim;
          if (!claimed) {
            return {};  // another process took it
          }
          if (auto added = transaction.add_event(
                  {0, now, request.incident_id, request.id, "request_sending",
                   fmt::format("delivery {} to {}", request.deliveries + 1, request.executor)});
              !added) {
            return added;
          }
          return request.incident_id ? m_incidents.refresh_state(transaction, *request.incident_id)
                                     : Expected<void>{};
        });
    if (!recorded) {
      return std::unexpected(recorded.error());
    }
    if (!claimed) {
      continue;
    }
    if (const auto counted = this_hour.find(request.executor); counted != this_hour.end()) {
      ++counted->second;
    }
    ++request.deliveries;
    request.state = RequestState::sending;
    ++m_busy[request.executor];
    m_delivering.insert(request.id);
    ++started;
    m_threads.emplace_back([this, request](std::stop_token stop) { deliver(request, stop); });
  }
  return started;
}

Expected<void> Dispatcher::close_unsent(RequestRecord& request, RequestState state,
                                        const std::string& kind, const std::string& why,
                                        Instant now) {
  return m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    request.state = state;
    if (state == RequestState::failed) {
      request.last_error = why;
    }
    request.updated_at = now;
    if (auto updated = transaction.update_request(request); !updated) {
      return updated;
    }
    return transaction.add_event({0, now, request.incident_id, request.id, kind, why});
  });
}

void Dispatcher::deliver(RequestRecord request, std::stop_token stop) {
  spdlog::info("request {} for {}: sending window {} .. {} (attempt {}, delivery {}) to {}",
               request.id, request.rule, format_rfc3339(request.window.start),
               format_rfc3339(request.window.end), request.attempt, request.deliveries,
               request.executor);
  const BackfillRequest sent = backfill_request_of(request, m_config);
  if (!request.window.segment.empty() && sent.segment.empty()) {
    // Sent without its columns, a segment's request would read as the whole
    // table's to an orchestrator.
    DispatchOutcome outcome;
    outcome.kind = DispatchOutcome::Kind::rejected;
    outcome.detail = fmt::format(
        "the rule's segment_by no longer names segment {} (changed or removed since the request "
        "was queued); its next evaluation plans requests for its segments as they are now",
        segment_name(request.window.segment));
    conclude(request, outcome, stop);
    return;
  }
  const DispatchOutcome outcome = m_executors.at(request.executor)->dispatch(sent, stop);
  conclude(request, outcome, stop);
}

void Dispatcher::await_earlier_run(RequestRecord request, std::stop_token stop) {
  const std::optional<DispatchOutcome> outcome =
      m_executors.at(request.executor)->await_earlier_run(backfill_request_of(request, m_config), stop);
  if (outcome) {
    conclude(request, *outcome, stop);
    return;
  }
  if (stop.stop_requested()) {
    spdlog::warn("request {} still waits for its run from before the restart; it stays sending "
                 "for the next start",
                 request.id);
  } else if (auto sent = send_again(request, "its run was stopped when gapwatch went away");
             !sent) {
    spdlog::error("request {}: cannot record that it is to be sent again: {}", request.id,
                  sent.error().message);
  }
  free_slot(request);
}

void Dispatcher::conclude(RequestRecord& request, const DispatchOutcome& outcome,
                          std::stop_token stop) {
  const bool interrupted = stop.stop_requested() && outcome.kind == DispatchOutcome::Kind::retry;
  if (interrupted) {
    // Left `sending`: the next start resumes it with the same id.
    spdlog::warn("request {} interrupted by shutdown; it will be sent again on restart",
                 request.id);
  } else if (auto settled = settle(request, outcome); !settled) {
    spdlog::error("request {}: cannot record the outcome ({}): {}", request.id,
                  outcome.detail, settled.error().message);
  }
  if (!interrupted && m_listener) {
    m_listener(DispatchReport{request, outcome});
  }
  free_slot(request);
}

void Dispatcher::free_slot(const RequestRecord& request) {
  MutexLock lock(m_mutex);
  --m_busy[request.executor];
  m_delivering.erase(request.id);
  m_finished.push_back(std::this_thread::get_id());
  m_idle.notify_all();
}

Expected<void> Dispatcher::settle(RequestRecord& request, const DispatchOutcome& outcome) {
  const Instant now = m_clock.now();
  const ExecutorSpec& spec = *m_config.find_executor(request.executor);
  const RuleConfig* rule = m_config.find_rule(request.rule);
  std::string kind;
  std::string detail = m_redactor.redact(outcome.detail);
  auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
    std::optional<Incident> incident;
    if (request.incident_id) {
      auto found = transaction.incident(*request.incident_id);
      if (!found) {
        return std::unexpected(found.error());
      }
      incident = *found;
    }
    const bool incident_closed = incident && incident->state == IncidentState::resolved;
    request.output = m_redactor.redact(outcome.output);
    request.updated_at = now;
    switch (outcome.kind) {
      case DispatchOutcome::Kind::ran:
      case DispatchOutcome::Kind::accepted: {
        const bool ran = outcome.kind == DispatchOutcome::Kind::ran;
        request.last_error.clear();
        if (incident_closed) {
          request.state = RequestState::verified;
          kind = "request_verified";
          detail += "; the incident had already resolved";
          break;
        }
        request.state = ran ? RequestState::succeeded : RequestState::accepted;
        // A command has finished: verify with the next evaluation that starts
        // after it. A webhook only queued the work: give it verify_after.
        const auto wait = ran ? std::chrono::seconds{1}
                              : (rule && rule->backfill ? rule->backfill->verify_after
                                                        : std::chrono::seconds{600});
        request.verify_by = now + wait;
        kind = ran ? "request_ran" : "request_accepted";
        if (outcome.run && !ran) {
          // Followed from now on (RunTracker); its answers move verify_by.
          const RunTiming timing = run_timing(m_config, request);
          request.run = start_following(*outcome.run, timing, now);
          // verify_after counts from the first poll, not before it.
          request.verify_by =
              std::min(request.run->deadline, request.run->next_poll_at + timing.verify_after);
          detail += outcome.run->link.empty()
                        ? fmt::format("; following run {}", outcome.run->id)
                        : fmt::format("; following run {} ({})", outcome.run->id,
                                      outcome.run->link);
        }
        break;
      }
      case DispatchOutcome::Kind::retry:
        if (incident_closed) {
          request.state = RequestState::cancelled;
          kind = "request_cancelled";
          detail += "; not retried: the incident has resolved";
        } else if (request.deliveries >= spec.retry.max_attempts) {
          request.state = RequestState::failed;
          request.last_error = detail;
          kind = "request_failed";
          detail = fmt::format("{}; gave up after {} deliveries", detail, request.deliveries);
        } else {
          const auto delay = retry_delay(spec.retry, request.deliveries,
                                         jitter_unit(request.id, request.deliveries),
                                         outcome.retry_after);
          request.state = RequestState::pending;
          request.last_error = detail;
          request.next_attempt_at = now + delay;
          kind = "request_retry";
          detail = fmt::format("{}; retrying in {}s", detail, delay.count());
        }
        break;
      case DispatchOutcome::Kind::rejected:
        request.state = RequestState::failed;
        request.last_error = detail;
        kind = "request_failed";
        break;
    }
    if (auto updated = transaction.update_request(request); !updated) {
      return updated;
    }
    return transaction.add_event({0, now, request.incident_id, request.id, kind, detail});
  });
  if (!done) {
    return done;
  }
  const auto level = kind == "request_failed" ? spdlog::level::warn : spdlog::level::info;
  std::string output = request.output.substr(0, 500);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) {
    output.pop_back();
  }
  spdlog::log(level, "request {} for {}: {} ({}){}", request.id, request.rule,
              to_string(request.state), detail,
              output.empty() ? "" : fmt::format("; output: {}", output));
  if (request.incident_id) {
    return m_incidents.refresh_state(*request.incident_id);
  }
  return {};
}

bool Dispatcher::busy() const {
  return std::any_of(m_busy.begin(), m_busy.end(),
                     [](const auto& entry) { return entry.second > 0; });
}

void Dispatcher::shutdown(std::chrono::seconds grace) {
  // A real wait, on the system's monotonic clock whatever clock is injected.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  std::list<std::jthread> threads;
  {
    MutexLock lock(m_mutex);
    while (busy() && m_idle.wait_until(m_mutex, deadline)) {
    }
    for (std::jthread& thread : m_threads) {
      thread.request_stop();
    }
    threads = std::move(m_threads);
    m_threads.clear();
    m_finished.clear();
  }
  for (std::jthread& thread : threads) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

}  // namespace gapwatch
