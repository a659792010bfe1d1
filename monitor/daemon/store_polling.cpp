#include "monitor/daemon/store_polling.h"

namespace gapwatch {

bool StorePolling::outbox_due(Instant now) const {
  const bool comes_due =
      m_outbox_pending_due && *m_outbox_pending_due <= now && now != m_last_outbox_read;
  return comes_due || m_clock.steady_now() >= m_next_outbox_poll;
}

void StorePolling::outbox_reading(Instant now) {
  m_last_outbox_read = now;
  m_next_outbox_poll = m_clock.steady_now() + kOutboxPollInterval;
}

void StorePolling::set_outbox_pending_due(std::optional<Instant> earliest) {
  m_outbox_pending_due = earliest;
}

bool StorePolling::gauges_due() const {
  return m_clock.steady_now() >= m_next_gauge_read;
}

void StorePolling::gauges_reading() {
  m_next_gauge_read = m_clock.steady_now() + kGaugeInterval;
}

bool StorePolling::reopen_due() const {
  return m_clock.steady_now() >= m_next_reopen;
}

void StorePolling::reopen_trying() {
  m_next_reopen = m_clock.steady_now() + kReopenInterval;
}

}  // namespace gapwatch
