// The run supervisor: a hidden mode of the gapwatch binary (re-executed from
// /proc/self/exe by CommandExecutor) that runs one backfill command and
// watches over it, so that a command never runs unwatched, even after the
// daemon that started it was killed:
//   - stdin is the "lifeline", one end of a socket pair whose other end only
//     the daemon holds: end of file means the daemon stopped the run or died
//     (kill -9 included). The command's process group then gets SIGTERM, and
//     SIGKILL after the grace period; so does it at the timeout.
//   - descriptor 3 holds the request's run lock (RunDirectory) for as long as
//     the supervisor lives, which is until the command has exited and the
//     rest of its process group is killed.
//   - before it exits, it writes how the run ended (RunResult, with the last
//     16 KiB of output) to the result file, for whichever gapwatch process
//     records the outcome: the one that started it, or the one that restarted
//     after it.
// The command is started with fork and execvp (the supervisor has one thread),
// in a process group of its own, with the supervisor's environment, which is
// exactly the environment CommandExecutor built for it; stdin /dev/null;
// stdout and stderr to the supervisor; PR_SET_PDEATHSIG SIGKILL, should the
// supervisor itself be killed.
//
// Why a process and not PR_SET_PDEATHSIG on the command alone: the death
// signal is tied to the thread that started the child and reaches only that
// child, not the processes it starts, and nothing would record how a run
// ended or hold the run's lock. Why not a pid and start time in the state
// database, killed or awaited at the next start: a restarted gapwatch cannot
// learn the exit status of a process that is not its child, and a command
// would run unwatched for as long as gapwatch stays down.
//
// One thread; nothing shared.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "rules/error.h"

namespace gapwatch {

// argv[1] of the supervisor mode.
inline constexpr const char* kSuperviseRunFlag = "--supervise-run";

// Whether `argv` asks for the supervisor mode: a program's main calls
// supervise_run first thing when it does (before it touches its environment).
bool is_supervise_run(int argc, char** argv);

// The supervisor mode's main: `PROGRAM --supervise-run RESULT_PATH
// TIMEOUT_SECONDS GRACE_SECONDS -- COMMAND ARGS...`, the lifeline on stdin
// and the run lock on descriptor 3. Returns 0 once the result is written.
int supervise_run(int argc, char** argv);

// One run to supervise.
struct SupervisedRun {
  std::string result_path;                 // RunDirectory::result_path
  std::chrono::seconds timeout{1800};      // SIGTERM to the command's group then
  std::chrono::seconds grace{5};           // SIGKILL this long after SIGTERM
  std::vector<std::string> command;        // argv; argv[0] is looked up in PATH
  std::vector<std::string> environment;    // NAME=value, all the command gets
  std::optional<std::string> workdir;      // where it runs
};

// A supervisor under way: its process id, and this side of its lifeline
// (shutting it down for writing, or closing it, stops the run; it reads end
// of file once the supervisor has exited).
struct SupervisorProcess {
  pid_t pid = 0;
  int lifeline = -1;  // close-on-exec; the caller closes it
};

// Starts `program` in its supervise-run mode for `run`, in a process group of
// its own, handing it the run lock held by `lock_descriptor` (the lock stays
// held by the supervisor's copy whatever the caller does with its own).
Expected<SupervisorProcess> start_supervisor(const std::string& program, const SupervisedRun& run,
                                             int lock_descriptor);

// How a supervisor ended: its wait status, and whether it was told to stop.
struct SupervisorExit {
  int status = 0;
  bool stopped = false;
};

// Waits for `process` to exit and closes its lifeline. Once `stop` is
// requested, shuts the lifeline down (the supervisor stops the command); a
// supervisor still there well after it should have ended (the timeout or the
// stop, plus twice the grace period) is killed, and its command with it.
SupervisorExit wait_for_supervisor(const SupervisorProcess& process, const SupervisedRun& run,
                                   std::stop_token stop);

// Descriptors the supervisor is handed.
inline constexpr int kLifelineDescriptor = 0;
inline constexpr int kRunLockDescriptor = 3;

}  // namespace gapwatch
