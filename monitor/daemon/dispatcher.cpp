#include "monitor/daemon/dispatcher.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "monitor/daemon/logging.h"
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

BackfillRequest to_request(const RequestRecord& record) {
  BackfillRequest request;
  request.id = record.id;
  request.incident_id = record.incident_id.value_or(0);
  request.attempt = record.attempt;
  request.rule = record.rule;
  request.executor = record.executor;
  request.window_start = record.window.start;
  request.window_end = record.window.end;
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

}  // namespace

std::map<std::string, std::unique_ptr<Executor>> make_executors(const Config& config,
                                                                const Clock& clock) {
  std::map<std::string, std::unique_ptr<Executor>> executors;
  for (const ExecutorSpec& spec : config.executors) {
    executors.emplace(spec.name, make_executor(spec, clock));
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

Expected<int> Dispatcher::resume_interrupted() {
  auto sending = m_store.requests_in_state(RequestState::sending);
  if (!sending) {
    return std::unexpected(sending.error());
  }
  const Instant now = m_clock.now();
  for (RequestRecord& request : *sending) {
    auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
      request.state = RequestState::pending;
      request.next_attempt_at = now;
      request.updated_at = now;
      if (auto updated = transaction.update_request(request); !updated) {
        return updated;
      }
      return transaction.add_event({0, now, request.incident_id, request.id, "request_resumed",
                                    "a delivery was under way when gapwatch stopped; sending it "
                                    "again with the same request id"});
    });
    if (!done) {
      return std::unexpected(done.error());
    }
    spdlog::info("request {} for {} resumed after restart (same id, window {} .. {})", request.id,
                 request.rule, format_rfc3339(request.window.start),
                 format_rfc3339(request.window.end));
  }
  return static_cast<int>(sending->size());
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
  int started = 0;
  for (RequestRecord& request : *due) {
    if (only && request.id != *only) {
      continue;
    }
    if (request.incident_id && !only) {
      // An escalated incident sends nothing more until an operator retries
      // or resolves it; an explicitly named request is the operator's own.
      auto incident = m_store.incident(*request.incident_id);
      if (!incident) {
        return std::unexpected(incident.error());
      }
      if (*incident && (*incident)->state == IncidentState::escalated) {
        continue;
      }
    }
    const ExecutorSpec* spec = m_config.find_executor(request.executor);
    if (spec == nullptr || !m_executors.contains(request.executor)) {
      auto done = m_store.transaction([&](StateStore::Transaction& transaction) -> Expected<void> {
        request.state = RequestState::failed;
        request.last_error = fmt::format("executor '{}' is not configured", request.executor);
        request.updated_at = now;
        if (auto updated = transaction.update_request(request); !updated) {
          return updated;
        }
        return transaction.add_event(
            {0, now, request.incident_id, request.id, "request_failed", request.last_error});
      });
      if (!done) {
        return std::unexpected(done.error());
      }
      continue;
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
    ++request.deliveries;
    request.state = RequestState::sending;
    ++m_busy[request.executor];
    ++started;
    m_threads.emplace_back([this, request](std::stop_token stop) { deliver(request, stop); });
  }
  return started;
}

void Dispatcher::deliver(RequestRecord request, std::stop_token stop) {
  spdlog::info("request {} for {}: sending window {} .. {} (attempt {}, delivery {}) to {}",
               request.id, request.rule, format_rfc3339(request.window.start),
               format_rfc3339(request.window.end), request.attempt, request.deliveries,
               request.executor);
  const DispatchOutcome outcome =
      m_executors.at(request.executor)->dispatch(to_request(request), stop);
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
  MutexLock lock(m_mutex);
  --m_busy[request.executor];
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
