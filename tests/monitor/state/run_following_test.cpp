// What each answer about an orchestrator's run means for its request
// (run_following.h), with instants given, not read from a clock.
#include "monitor/state/run_following.h"

#include <chrono>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "tests/rules/printers.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const Instant kAccepted = std::chrono::sys_days{std::chrono::year{2026} / 10 / 25} + hours{9};

RunTiming timing() {
  RunTiming timing;
  timing.poll_every = seconds{30};
  timing.run_timeout = hours{2};
  timing.verify_after = minutes{10};
  return timing;
}

// An accepted request whose run gapwatch follows from kAccepted.
RequestRecord accepted() {
  RequestRecord request;
  request.id = "r1";
  request.incident_id = 7;
  request.rule = "orders";
  request.executor = "airflow";
  request.window = Window{kAccepted - hours{3}, kAccepted - hours{2}, Status::fail};
  request.state = RequestState::accepted;
  request.verify_by = kAccepted + timing().verify_after;
  request.run = start_following(RunRef{"gapwatch-r1", "http://airflow/dags/d/runs/gapwatch-r1"},
                                timing(), kAccepted);
  return request;
}

RunPoll said(RunState state, std::string detail) {
  return RunPoll{RunPoll::Kind::state, state, std::move(detail), std::nullopt};
}

RunPoll unreachable(std::string detail, std::optional<seconds> retry_after = std::nullopt) {
  return RunPoll{RunPoll::Kind::unreachable, RunState::queued, std::move(detail), retry_after};
}

TEST_CASE("run following: the wait doubles per slow poll, up to 8 times poll_every") {
  CHECK(run_poll_delay(seconds{30}, 0) == seconds{30});
  CHECK(run_poll_delay(seconds{30}, 1) == seconds{60});
  CHECK(run_poll_delay(seconds{30}, 2) == seconds{120});
  CHECK(run_poll_delay(seconds{30}, 3) == seconds{240});
  CHECK(run_poll_delay(seconds{30}, 4) == seconds{240});
  CHECK(run_poll_delay(seconds{30}, 1000) == seconds{240});
}

TEST_CASE("run following: a new run is first asked about poll_every after it was accepted") {
  const RequestRecord request = accepted();
  REQUIRE(request.run);
  CHECK(request.run->known == RunRecord::Known::not_yet);
  CHECK(run_state_name(*request.run) == "unknown");
  CHECK(request.run->next_poll_at == kAccepted + seconds{30});
  CHECK(request.run->deadline == kAccepted + hours{2});
  CHECK(request.run->followed());
}

TEST_CASE("run following: queued backs off, running keeps the pace, each change is one event") {
  RequestRecord request = accepted();
  Instant now = kAccepted + seconds{30};
  RunChange change = apply_run_poll(request, said(RunState::queued, "queued"), timing(), now);
  CHECK(change.kind == "run_queued");
  CHECK(change.detail.find("http://airflow/dags/d/runs/gapwatch-r1") != std::string::npos);
  CHECK_FALSE(change.attempt_failed);
  CHECK(request.state == RequestState::accepted);
  CHECK(request.run->next_poll_at == now + seconds{60});
  // An answer moves verify_by: verify_after past the next poll.
  CHECK(request.verify_by == now + seconds{60} + minutes{10});

  now += seconds{60};
  change = apply_run_poll(request, said(RunState::queued, "queued"), timing(), now);
  CHECK(change.kind.empty());  // nothing new to say
  CHECK(request.run->next_poll_at == now + seconds{120});

  now += seconds{120};
  change = apply_run_poll(request, said(RunState::running, "running"), timing(), now);
  CHECK(change.kind == "run_running");
  CHECK(request.run->slow_polls == 0);
  CHECK(request.run->next_poll_at == now + seconds{30});
  CHECK(request.run->answered_at == now);
  CHECK(request.verify_by == now + seconds{30} + minutes{10});
  CHECK(request.run->followed());
}

TEST_CASE("run following: a run queued for long is never failed before its next poll") {
  // Backoff puts the next poll 8 × 2m = 16m away, beyond verify_after (10m).
  RunTiming slow = timing();
  slow.poll_every = minutes{2};
  RequestRecord request = accepted();
  Instant now = kAccepted;
  for (int poll = 0; poll < 4; ++poll) {
    now = request.run->next_poll_at;
    apply_run_poll(request, said(RunState::queued, "queued"), slow, now);
  }
  CHECK(request.run->next_poll_at == now + minutes{16});
  REQUIRE(request.verify_by.has_value());
  CHECK(*request.verify_by > request.run->next_poll_at);
  CHECK(*request.verify_by == request.run->next_poll_at + minutes{10});
}

TEST_CASE("run following: a run that succeeded is verified by the next evaluation") {
  RequestRecord request = accepted();
  const Instant now = kAccepted + minutes{5};
  const RunChange change =
      apply_run_poll(request, said(RunState::succeeded, "success"), timing(), now);
  CHECK(change.kind == "run_succeeded");
  CHECK_FALSE(change.attempt_failed);
  CHECK(request.state == RequestState::accepted);  // the data decides
  CHECK(request.verify_by == now + seconds{1});
  CHECK_FALSE(request.run->followed());
  CHECK(run_state_name(*request.run) == "succeeded");
}

TEST_CASE("run following: a run that failed fails the attempt at once with the reason") {
  RequestRecord request = accepted();
  const RunChange change = apply_run_poll(
      request, said(RunState::failed, "failed: task extract_orders failed"), timing(),
      kAccepted + minutes{2});
  CHECK(change.kind == "run_failed");
  CHECK(change.attempt_failed);
  CHECK(request.state == RequestState::failed);
  CHECK(request.last_error == "the run failed: failed: task extract_orders failed");
  CHECK(change.detail.find("task extract_orders failed") != std::string::npos);
  CHECK_FALSE(request.run->followed());
}

TEST_CASE("run following: an orchestrator that does not answer is asked again, later") {
  RequestRecord request = accepted();
  const auto verify_by = request.verify_by;
  Instant now = kAccepted + seconds{30};
  RunChange change = apply_run_poll(request, unreachable("HTTP 503"), timing(), now);
  CHECK(change.kind == "run_unreachable");
  CHECK_FALSE(change.attempt_failed);
  CHECK(request.state == RequestState::accepted);
  CHECK(request.run->known == RunRecord::Known::not_yet);
  CHECK(request.run->next_poll_at == now + seconds{60});
  // Not an answer: verify_after since the last answer still bounds the wait.
  CHECK(request.verify_by == verify_by);
  CHECK(request.run->followed());

  now += seconds{60};
  change = apply_run_poll(request, unreachable("HTTP 503"), timing(), now);
  CHECK(change.kind.empty());  // the same trouble is said once
  CHECK(request.run->next_poll_at == now + seconds{120});

  // A Retry-After longer than the backoff is honoured.
  now += seconds{120};
  change = apply_run_poll(request, unreachable("HTTP 429", seconds{900}), timing(), now);
  CHECK(change.kind == "run_unreachable");
  CHECK(request.run->next_poll_at == now + seconds{900});
}

TEST_CASE("run following: a run the orchestrator no longer knows is said, and not asked again") {
  RequestRecord request = accepted();
  const auto verify_by = request.verify_by;
  const RunChange change =
      apply_run_poll(request, RunPoll{RunPoll::Kind::not_found, RunState::queued, "HTTP 404",
                                      std::nullopt},
                     timing(), kAccepted + seconds{30});
  CHECK(change.kind == "run_not_found");
  CHECK(change.detail.find("no longer knows run gapwatch-r1") != std::string::npos);
  CHECK_FALSE(change.attempt_failed);
  CHECK(request.state == RequestState::accepted);
  CHECK(request.verify_by == verify_by);  // the data alone decides, by verify_after
  CHECK_FALSE(request.run->followed());
  CHECK(run_state_name(*request.run) == "not_found");
}

TEST_CASE("run following: a run still going at run_timeout fails the attempt") {
  RequestRecord request = accepted();
  RunChange change =
      apply_run_poll(request, said(RunState::running, "running"), timing(), kAccepted + hours{1});
  CHECK(request.verify_by == kAccepted + hours{1} + seconds{30} + minutes{10});
  // verify_by never passes the deadline.
  change = apply_run_poll(request, said(RunState::running, "running"), timing(),
                          kAccepted + hours{2} - minutes{5});
  CHECK(request.verify_by == kAccepted + hours{2});
  change =
      apply_run_poll(request, said(RunState::running, "running"), timing(), kAccepted + hours{2});
  CHECK(change.kind == "run_timed_out");
  CHECK(change.attempt_failed);
  CHECK(request.state == RequestState::failed);
  CHECK(request.last_error.find("run_timeout (2h)") != std::string::npos);
}

}  // namespace
}  // namespace gapwatch
