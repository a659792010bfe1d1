// Gauges: the daemon's current values, published to the metrics and the
// status board — when each rule is due next, the deliveries in flight per
// executor, the outbox's pending requests and the active incidents. The
// daemon decides when (see StorePolling); this says what and where.
//
// Not thread-safe: the daemon's control thread owns it (Metrics and
// StatusBoard are thread-safe themselves).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "monitor/http/metrics.h"
#include "monitor/http/status_board.h"
#include "monitor/state/state_store.h"
#include "rules/time.h"

namespace gapwatch {

struct Generation;

class Gauges {
 public:
  Gauges(Metrics& metrics, StatusBoard& board, StateStore& store);

  // Publishes `generation`'s values from now on; every rule's next due time
  // is published afresh at the next publish_next_due.
  void use(const Generation& generation);

  // Publishes a rule's next due time (none while it runs) if it changed. Only
  // the rules whose schedule moved are looked at: a look at all 10,000 rules
  // per batch of results was costly.
  void publish_next_due(std::size_t rule);
  void publish_all_next_due();
  // Deliveries in flight, per executor.
  void publish_in_flight();
  // The outbox's pending requests and the active incidents, as the state
  // database has them.
  void publish_from_store();

 private:
  // What was last published as a rule's next due time.
  struct PublishedDue {
    bool published = false;
    std::optional<Instant> due;
  };

  Metrics& m_metrics;
  StatusBoard& m_board;
  StateStore& m_store;
  const Generation* m_generation = nullptr;
  std::vector<PublishedDue> m_published_due;  // per rule of m_generation
};

}  // namespace gapwatch
