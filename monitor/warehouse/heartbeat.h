// Heartbeat: what the evaluation pool sees of one running evaluation: whether
// it is inside a call to the warehouse's driver, until when that call may
// last, and whether the pool gave up on it.
//
// A driver call that the server never answers (a server stopped with SIGSTOP,
// a blackholed network, a half-open TCP connection) cannot be interrupted:
// SQLCancel itself needs the server to answer, and the thread in the call
// stays there until the kernel or the server lets it go. So the pool does not
// wait for it: once a call has run kGrace past its budget (query_timeout), the
// pool abandons the evaluation, records an error for the rule and gives its
// work to a new thread; the session drops its connection whenever the call
// returns, and the abandoned thread then ends without touching the pool.
//
// Thread-safe and lock-free: the evaluating thread opens and closes calls and
// claims the finish; the pool reads the deadline and claims the abandonment.
// Exactly one of finish() and abandon() succeeds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "rules/clock.h"

namespace gapwatch {

class Heartbeat {
 public:
  // How long a driver call may overrun its budget before the evaluation is
  // abandoned: time for a server that does answer to act on a cancel.
  static constexpr std::chrono::seconds kGrace{5};

  explicit Heartbeat(const Clock& clock) : m_clock(clock) {}
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // A driver call that may block on the server, allowed `budget`, for the
  // scope of the object. `heartbeat` may be null (evaluations outside the
  // pool: `gapwatch check`, `explain`). Calls may nest: the inner one's
  // deadline holds until it returns.
  class Call {
   public:
    Call(Heartbeat* heartbeat, std::chrono::seconds budget);
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    Heartbeat* m_heartbeat;
    std::int64_t m_outer;  // the enclosing call's deadline, restored on return
  };

  // When the call in progress becomes overdue (its start + budget + kGrace);
  // std::nullopt outside a call.
  std::optional<SteadyTime> overdue_at() const;

  // The pool gives up on the evaluation; false if it had already finished
  // (or was abandoned before).
  bool abandon();
  // The evaluating thread claims its result; false if the pool abandoned it
  // (the pool may be gone by then: touch nothing of it).
  bool finish();
  bool abandoned() const { return m_state.load() == kAbandoned; }

 private:
  static constexpr int kRunning = 0;
  static constexpr int kFinished = 1;
  static constexpr int kAbandoned = 2;
  static constexpr std::int64_t kNoCall = 0;

  const Clock& m_clock;
  // The overdue instant of the call in progress, in nanoseconds of the
  // clock's steady time; kNoCall outside a call.
  std::atomic<std::int64_t> m_overdue_ns{kNoCall};
  std::atomic<int> m_state{kRunning};
};

}  // namespace gapwatch
