#include "monitor/state/run_following.h"

#include <algorithm>

#include <fmt/format.h>

#include "rules/duration.h"

namespace gapwatch {

namespace {

constexpr int kMaxSlowdown = 8;  // × poll_every

// "run gapwatch-42 (http://airflow/…)": how the history names a run.
std::string named(const RunRecord& run) {
  return run.ref.link.empty() ? fmt::format("run {}", run.ref.id)
                              : fmt::format("run {} ({})", run.ref.id, run.ref.link);
}

}  // namespace

RunTiming run_timing(const Config& config, const RequestRecord& request) {
  RunTiming timing;
  if (const ExecutorSpec* executor = config.find_executor(request.executor)) {
    if (const auto* webhook = std::get_if<WebhookSpec>(&executor->kind)) {
      timing.poll_every = webhook->poll_every;
      timing.run_timeout = webhook->run_timeout;
    }
  }
  if (const RuleConfig* rule = config.find_rule(request.rule); rule && rule->backfill) {
    timing.verify_after = rule->backfill->verify_after;
  }
  return timing;
}

std::chrono::seconds run_poll_delay(std::chrono::seconds poll_every, int slow_polls) {
  const std::chrono::seconds every = std::max(poll_every, std::chrono::seconds{1});
  int factor = 1;
  for (int i = 0; i < slow_polls && factor < kMaxSlowdown; ++i) {
    factor *= 2;
  }
  return every * std::min(factor, kMaxSlowdown);
}

RunRecord start_following(const RunRef& ref, const RunTiming& timing, Instant now) {
  RunRecord run;
  run.ref = ref;
  run.next_poll_at = now + timing.poll_every;
  run.deadline = now + timing.run_timeout;
  return run;
}

RunChange apply_run_poll(RequestRecord& request, const RunPoll& poll, const RunTiming& timing,
                         Instant now) {
  RunRecord& run = *request.run;
  RunChange change;
  const std::string before(run_state_name(run));
  switch (poll.kind) {
    case RunPoll::Kind::unreachable: {
      ++run.slow_polls;
      auto delay = run_poll_delay(timing.poll_every, run.slow_polls);
      if (poll.retry_after) {
        delay = std::max(delay, *poll.retry_after);
      }
      run.next_poll_at = now + delay;
      if (run.detail != poll.detail) {
        change.kind = "run_unreachable";
        change.detail = fmt::format("cannot ask about {}: {}; asking again in {}", named(run),
                                    poll.detail, format_duration(delay));
      }
      run.detail = poll.detail;
      // verify_by stays where the last answer put it: verify_after without an
      // answer fails the attempt, as for a webhook whose run is not followed.
      return change;
    }
    case RunPoll::Kind::not_found:
      run.known = RunRecord::Known::not_found;
      run.detail = poll.detail;
      run.answered_at = now;
      change.kind = "run_not_found";
      change.detail = fmt::format("the orchestrator no longer knows {} ({}); verified by the data "
                                  "alone from now on",
                                  named(run), poll.detail);
      return change;
    case RunPoll::Kind::state:
      break;
  }
  run.known = RunRecord::Known::state;
  run.state = poll.state;
  run.detail = poll.detail;
  run.answered_at = now;
  run.slow_polls = poll.state == RunState::queued ? run.slow_polls + 1 : 0;
  run.next_poll_at = now + run_poll_delay(timing.poll_every, run.slow_polls);
  const bool changed = before != run_state_name(run);
  switch (poll.state) {
    case RunState::succeeded:
      // Verified by the next evaluation that starts after this answer.
      request.verify_by = now + std::chrono::seconds{1};
      change.kind = "run_succeeded";
      change.detail = fmt::format("{} succeeded ({}); verifying the window", named(run),
                                  poll.detail);
      return change;
    case RunState::failed:
      request.state = RequestState::failed;
      request.last_error = fmt::format("the run failed: {}", poll.detail);
      change.kind = "run_failed";
      change.detail = fmt::format("{} failed: {}", named(run), poll.detail);
      change.attempt_failed = true;
      return change;
    case RunState::queued:
    case RunState::running:
      break;
  }
  if (now >= run.deadline) {
    request.state = RequestState::failed;
    request.last_error = fmt::format("the run did not end within run_timeout ({}); it was {}",
                                     format_duration(timing.run_timeout), poll.detail);
    change.kind = "run_timed_out";
    change.detail = fmt::format("{} still {} after run_timeout ({})", named(run),
                                to_string(poll.state), format_duration(timing.run_timeout));
    change.attempt_failed = true;
    return change;
  }
  // The orchestrator answers: the run has until verify_after past the next
  // poll (however far backoff puts it), and until its deadline at most.
  request.verify_by = std::min(run.deadline, run.next_poll_at + timing.verify_after);
  if (changed) {
    change.kind = fmt::format("run_{}", to_string(poll.state));
    change.detail = fmt::format("{} {} ({})", named(run), to_string(poll.state), poll.detail);
  }
  return change;
}

}  // namespace gapwatch
