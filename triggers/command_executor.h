// CommandExecutor: runs a command per request, without a shell, so template
// values reach the program as single argv elements whatever they contain.
// Each run is watched by a supervisor process (run_supervisor.h: this binary
// again, in a hidden mode) that holds the request's run lock for as long as
// the run lives, stops the command when gapwatch stops it or dies, and leaves
// how the run ended in the run directory (run_directory.h). So a run never
// outlives gapwatch by more than the grace period, never overlaps another
// run of the same request (even one a killed gapwatch started), and its
// outcome is known to a restarted gapwatch.
//
// The command gets its own process group, a small environment (PATH, HOME,
// LANG, LC_ALL, TZ, TMPDIR, the configured env and GAPWATCH_* variables
// describing the request), stdin from /dev/null and stdout+stderr captured
// (bounded). On timeout or shutdown the group gets SIGTERM, then SIGKILL after
// a grace period. Thread-safe.
#pragma once

#include <string>

#include "triggers/executor.h"
#include "triggers/run_directory.h"

namespace gapwatch {

class CommandExecutor final : public Executor {
 public:
  // `supervisor` is the program started in its supervise-run mode: this
  // process's own executable, whose main must hand that mode to
  // supervise_run.
  CommandExecutor(CommandSpec spec, RunDirectory runs,
                  std::string supervisor = kThisExecutable)
      : m_spec(std::move(spec)), m_runs(std::move(runs)), m_supervisor(std::move(supervisor)) {}

  DispatchOutcome dispatch(const BackfillRequest& request, std::stop_token stop) override;
  Expected<bool> has_earlier_run(const BackfillRequest& request) override;
  std::optional<DispatchOutcome> await_earlier_run(const BackfillRequest& request,
                                                   std::stop_token stop) override;

  // How long a child may take to exit after SIGTERM.
  static constexpr std::chrono::seconds kGracePeriod{5};
  // How often a run that another process started is looked at until it ends.
  static constexpr std::chrono::milliseconds kEarlierRunPoll{100};
  static constexpr const char* kThisExecutable = "/proc/self/exe";

 private:
  // Waits until no run of `request_id` is alive and returns its lock;
  // nullopt when `stop` came first, an error when it cannot be taken.
  Expected<std::optional<RunDirectory::Lock>> lock_when_free(const std::string& request_id,
                                                             std::stop_token stop) const;

  const CommandSpec m_spec;
  const RunDirectory m_runs;
  const std::string m_supervisor;
};

}  // namespace gapwatch
