#include "monitor/daemon/store_polling.h"

#include <chrono>

#include <doctest/doctest.h>

#include "rules/clock.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Instant kStart = std::chrono::sys_days{std::chrono::year{2026} / 11 / 24} + hours{12};

TEST_CASE("store polling: the first read of each kind is due at once") {
  ManualClock clock(kStart);
  const StorePolling polling(clock);
  CHECK(polling.outbox_due(kStart));
  CHECK(polling.gauges_due());
  CHECK(polling.reopen_due());
}

TEST_CASE("store polling: the outbox is read again every 5 s of monotonic time") {
  ManualClock clock(kStart);
  StorePolling polling(clock);
  polling.outbox_reading(clock.now());
  polling.set_outbox_pending_due(std::nullopt);
  clock.advance(milliseconds{4999});
  CHECK_FALSE(polling.outbox_due(clock.now()));
  clock.advance(milliseconds{1});
  CHECK(polling.outbox_due(clock.now()));
}

TEST_CASE("store polling: setting the wall clock does not move the outbox poll") {
  ManualClock clock(kStart);
  StorePolling polling(clock);
  polling.outbox_reading(clock.now());
  clock.set(kStart + hours{1});
  CHECK_FALSE(polling.outbox_due(clock.now()));
  clock.set(kStart - hours{1});
  CHECK_FALSE(polling.outbox_due(clock.now()));
}

TEST_CASE("store polling: a pending request coming due has the outbox read once per instant") {
  ManualClock clock(kStart);
  StorePolling polling(clock);
  polling.outbox_reading(kStart);
  polling.set_outbox_pending_due(kStart + seconds{2});
  CHECK_FALSE(polling.outbox_due(kStart + seconds{1}));
  CHECK(polling.outbox_due(kStart + seconds{2}));

  SUBCASE("read at that instant: not again within it") {
    polling.outbox_reading(kStart + seconds{2});
    CHECK_FALSE(polling.outbox_due(kStart + seconds{2}));
    SUBCASE("still pending (held back): read again the next second") {
      CHECK(polling.outbox_due(kStart + seconds{3}));
    }
    SUBCASE("none pending any more: only the 5 s poll") {
      polling.set_outbox_pending_due(std::nullopt);
      CHECK_FALSE(polling.outbox_due(kStart + seconds{3}));
    }
  }
}

TEST_CASE("store polling: the gauges are read again every 5 s of monotonic time") {
  ManualClock clock(kStart);
  StorePolling polling(clock);
  polling.gauges_reading();
  clock.advance(seconds{4});
  CHECK_FALSE(polling.gauges_due());
  clock.set(kStart + hours{2});  // the wall clock alone
  CHECK_FALSE(polling.gauges_due());
  clock.advance(seconds{1});
  CHECK(polling.gauges_due());
}

TEST_CASE("store polling: an unavailable state database is tried again every 5 s") {
  ManualClock clock(kStart);
  StorePolling polling(clock);
  polling.reopen_trying();
  clock.advance(milliseconds{4500});
  CHECK_FALSE(polling.reopen_due());
  clock.advance(milliseconds{500});
  CHECK(polling.reopen_due());
}

}  // namespace
}  // namespace gapwatch
