// StorePolling: when the daemon's control thread reads the state database
// though nothing told it the database changed. A change made by this process
// or through the HTTP API is read at once (the daemon checks that first);
// what an operator changes from the command line is only found by reading
// again, so each read also happens on a timer of the clock's monotonic time:
//
// - the outbox: when its earliest pending request comes due (once per
//   instant), and every kOutboxPollInterval. Not after every result, and not
//   every second: with 100 rules every 5 s, reading it once a second was 4.5%
//   of the daemon's CPU samples.
// - the gauges drawn from it (pending requests, active incidents): every
//   kGaugeInterval.
// - the database itself while it could not be opened: every kReopenInterval.
//
// Pure decisions over an injected clock; not thread-safe (the control thread
// owns it).
#pragma once

#include <chrono>
#include <optional>

#include "rules/clock.h"

namespace gapwatch {

class StorePolling {
 public:
  static constexpr std::chrono::seconds kOutboxPollInterval{5};
  static constexpr std::chrono::seconds kGaugeInterval{5};
  static constexpr std::chrono::seconds kReopenInterval{5};

  explicit StorePolling(const Clock& clock) : m_clock(clock) {}

  // Whether to read the outbox at `now` (the pass's instant) unasked.
  bool outbox_due(Instant now) const;
  // The outbox is being read at `now`.
  void outbox_reading(Instant now);
  // The earliest pending request the read found (std::nullopt: none). One in
  // the past (held back by max_concurrent or an escalated incident) has the
  // outbox read once a second.
  void set_outbox_pending_due(std::optional<Instant> earliest);

  bool gauges_due() const;
  void gauges_reading();

  bool reopen_due() const;
  void reopen_trying();

 private:
  const Clock& m_clock;
  std::optional<Instant> m_outbox_pending_due;  // the earliest pending, as last read
  Instant m_last_outbox_read;  // read again within the same instant only when changed
  // Monotonic times of the next timed reads; the first read is due at once.
  SteadyTime m_next_outbox_poll{};
  SteadyTime m_next_gauge_read{};
  SteadyTime m_next_reopen{};
};

}  // namespace gapwatch
