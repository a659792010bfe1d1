#include "triggers/command_executor.h"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "triggers/run_supervisor.h"

namespace gapwatch {

namespace {

// Environment variables passed through from the daemon; everything else the
// child needs is configured explicitly (secrets are not inherited by default).
constexpr const char* kInherited[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"};

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exit status {}", WEXITSTATUS(status));
  }
  return fmt::format("killed by signal {}", WTERMSIG(status));
}

DispatchOutcome outcome_of(DispatchOutcome::Kind kind, std::string detail) {
  return DispatchOutcome{kind, std::move(detail), {}, {}, {}};
}

}  // namespace

Expected<std::optional<RunDirectory::Lock>> CommandExecutor::lock_when_free(
    const std::string& request_id, std::stop_token stop) const {
  while (true) {
    auto lock = m_runs.try_lock(request_id);
    if (!lock || *lock) {
      return lock;
    }
    if (stop.stop_requested()) {
      return std::optional<RunDirectory::Lock>{};
    }
    // An earlier run of the request is alive, started by a gapwatch process
    // since killed (its supervisor is stopping it): not a second one beside it.
    std::this_thread::sleep_for(kEarlierRunPoll);
  }
}

Expected<bool> CommandExecutor::has_earlier_run(const BackfillRequest& request) {
  return m_runs.has_trace(request.id);
}

std::optional<DispatchOutcome> CommandExecutor::await_earlier_run(const BackfillRequest& request,
                                                                  std::stop_token stop) {
  auto lock = lock_when_free(request.id, stop);
  if (!lock || !*lock) {
    return std::nullopt;
  }
  std::optional<RunResult> result = m_runs.take_result(**lock, request.id);
  (*lock)->remove_file_and_release();
  if (!result || result->end == RunEnd::interrupted) {
    return std::nullopt;
  }
  return std::move(result->outcome);
}

DispatchOutcome CommandExecutor::dispatch(const BackfillRequest& request, std::stop_token stop) {
  std::vector<std::string> arguments;
  for (const Template& argument : m_spec.argv) {
    auto expanded = argument.expand(request.values, Template::Encoding::raw);
    if (!expanded) {
      return outcome_of(DispatchOutcome::Kind::rejected, expanded.error().message);
    }
    arguments.push_back(std::move(*expanded));
  }
  std::vector<std::string> environment;
  for (const char* name : kInherited) {
    if (const char* value = std::getenv(name)) {
      environment.push_back(fmt::format("{}={}", name, value));
    }
  }
  for (const auto& [name, value] : request.values) {
    if (request_variables().contains(name)) {
      environment.push_back(fmt::format("GAPWATCH_{}={}", upper(name), value));
    }
  }
  for (const auto& [name, value] : m_spec.env) {
    auto expanded = value.expand(request.values, Template::Encoding::raw);
    if (!expanded) {
      return outcome_of(DispatchOutcome::Kind::rejected, expanded.error().message);
    }
    environment.push_back(fmt::format("{}={}", name, *expanded));
  }
  if (!RunDirectory::valid_id(request.id)) {
    return outcome_of(DispatchOutcome::Kind::rejected,
                      fmt::format("request id '{}' cannot name a run", request.id));
  }

  // Never two runs of one request at once: wait out one that a killed
  // gapwatch left (its supervisor stops it within the grace period).
  auto lock = lock_when_free(request.id, stop);
  if (!lock) {
    return outcome_of(DispatchOutcome::Kind::retry, lock.error().message);
  }
  if (!*lock) {
    return outcome_of(DispatchOutcome::Kind::retry, "stopped: gapwatch is shutting down");
  }
  // A result still here is of a run whose outcome was recorded otherwise.
  m_runs.discard_result(**lock, request.id);

  SupervisedRun run;
  run.result_path = m_runs.result_path(request.id);
  run.timeout = m_spec.timeout;
  run.grace = kGracePeriod;
  run.command = std::move(arguments);
  run.environment = std::move(environment);
  run.workdir = m_spec.workdir;
  auto started = start_supervisor(m_supervisor, run, (*lock)->descriptor());
  if (!started) {
    (*lock)->remove_file_and_release();
    return outcome_of(DispatchOutcome::Kind::rejected,
                      fmt::format("cannot run {}: cannot start its supervisor {}: {}",
                                  run.command.front(), m_supervisor, started.error().message));
  }
  // The supervisor holds the lock now, with its own descriptor of it.
  lock->reset();
  const SupervisorExit exit = wait_for_supervisor(*started, run, stop);

  std::optional<RunResult> result;
  if (auto relocked = m_runs.try_lock(request.id); relocked && *relocked) {
    result = m_runs.take_result(**relocked, request.id);
    (*relocked)->remove_file_and_release();
  }
  if (!result) {
    return outcome_of(DispatchOutcome::Kind::retry,
                      fmt::format("the run's supervisor ended without a result ({})",
                                  describe_exit(exit.status)));
  }
  if (result->end == RunEnd::interrupted && exit.stopped) {
    result->outcome.detail = "stopped: gapwatch is shutting down";
  }
  return std::move(result->outcome);
}

}  // namespace gapwatch
