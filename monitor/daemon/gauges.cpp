#include "monitor/daemon/gauges.h"

#include <map>
#include <string>

#include "monitor/daemon/generation.h"

namespace gapwatch {

Gauges::Gauges(Metrics& metrics, StatusBoard& board, StateStore& store)
    : m_metrics(metrics), m_board(board), m_store(store) {}

void Gauges::use(const Generation& generation) {
  m_generation = &generation;
  m_published_due.assign(generation.config.rules.size(), PublishedDue{});
}

void Gauges::publish_next_due(std::size_t rule) {
  const Generation& generation = *m_generation;
  const std::optional<Instant> due =
      generation.scheduler.running(rule)
          ? std::nullopt
          : std::optional<Instant>(generation.scheduler.due_at(rule));
  PublishedDue& published = m_published_due[rule];
  if (published.published && published.due == due) {
    return;
  }
  published = PublishedDue{true, due};
  const std::string& name = generation.config.rules[rule].spec.name;
  m_board.set_next_due(name, due);
  m_metrics.set_next_evaluation(name, due);
}

void Gauges::publish_all_next_due() {
  for (std::size_t rule = 0; rule < m_generation->config.rules.size(); ++rule) {
    publish_next_due(rule);
  }
}

void Gauges::publish_in_flight() {
  for (const ExecutorSpec& executor : m_generation->config.executors) {
    m_metrics.set_in_flight(executor.name, m_generation->dispatcher.in_flight(executor.name));
  }
}

void Gauges::publish_from_store() {
  if (auto pending = m_store.count_requests(RequestState::pending)) {
    m_metrics.set_outbox_pending(*pending);
  }
  if (auto runs = m_store.count_runs()) {
    std::vector<std::string> presets;
    for (const ExecutorSpec& executor : m_generation->config.executors) {
      if (const auto* webhook = std::get_if<WebhookSpec>(&executor.kind); webhook && webhook->preset) {
        presets.push_back(executor.name);
      }
    }
    m_metrics.set_runs(presets, *runs);
  }
  if (auto active = m_store.incidents(IncidentFilter::active)) {
    std::map<std::string, bool> incidents;
    for (const Incident& incident : *active) {
      incidents[incident.rule] = incident.state == IncidentState::escalated;
    }
    m_metrics.set_incidents(incidents);
  }
}

}  // namespace gapwatch
