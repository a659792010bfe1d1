// Heartbeat: a running evaluation's driver calls as the pool sees them (see
// heartbeat.h).
#include "monitor/warehouse/heartbeat.h"

#include <algorithm>

namespace gapwatch {

namespace {

std::int64_t nanoseconds_of(SteadyTime time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

Heartbeat::Call::Call(Heartbeat* heartbeat, std::chrono::seconds budget)
    : m_heartbeat(heartbeat), m_outer(kNoCall) {
  if (m_heartbeat == nullptr) {
    return;
  }
  // Never kNoCall itself: a steady clock that starts at zero (ManualClock)
  // still marks a call.
  const std::int64_t overdue =
      std::max<std::int64_t>(1, nanoseconds_of(m_heartbeat->m_clock.steady_now() + budget + kGrace));
  m_outer = m_heartbeat->m_overdue_ns.exchange(overdue);
}

Heartbeat::Call::~Call() {
  if (m_heartbeat != nullptr) {
    m_heartbeat->m_overdue_ns.store(m_outer);
  }
}

std::optional<SteadyTime> Heartbeat::overdue_at() const {
  const std::int64_t overdue = m_overdue_ns.load();
  if (overdue == kNoCall) {
    return std::nullopt;
  }
  return SteadyTime{std::chrono::duration_cast<SteadyTime::duration>(std::chrono::nanoseconds{overdue})};
}

bool Heartbeat::abandon() {
  int expected = kRunning;
  return m_state.compare_exchange_strong(expected, kAbandoned);
}

bool Heartbeat::finish() {
  int expected = kRunning;
  return m_state.compare_exchange_strong(expected, kFinished);
}

}  // namespace gapwatch
