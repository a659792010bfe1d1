// RunDirectory: the trace a command's runs leave beside the state database
// (`<state>.runs/`), so that a run outlives neither its record nor a crash
// unseen. Per request id:
//   <id>.lock    flock()ed by the run's supervisor for as long as the run
//                lives: a gapwatch process that finds it held knows an
//                earlier run of the request is alive (even one started by a
//                process since killed) and starts no other.
//   <id>.result  how the run ended (RunResult), written by the supervisor
//                before it lets go of the lock, and taken (read and removed)
//                by whoever records the outcome.
// The lock is taken by the executor before the supervisor starts and passed
// to it as an open descriptor, so there is no moment in which a run is alive
// and its lock free. Files are created 0600 in a 0700 directory.
//
// Thread-safe: no state beyond the path; the files are the state, shared
// with other processes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rules/error.h"
#include "triggers/dispatch_outcome.h"

namespace gapwatch {

// How a run ended, as its supervisor records it: the outcome the executor
// reports (ran, retry or rejected), and whether it was cut short because
// gapwatch stopped or went away (then the request is sent again, as if this
// run had not been made; a command that still exited 0 has finished).
enum class RunEnd { finished, interrupted };
struct RunResult {
  DispatchOutcome outcome;
  RunEnd end = RunEnd::finished;
};

// The result file's text, and back (nullopt for anything not written by
// format_run_result). The output, bounded by the supervisor, comes last and
// is kept byte for byte.
std::string format_run_result(const RunResult& result);
std::optional<RunResult> parse_run_result(std::string_view text);

class RunDirectory {
 public:
  // `path` is made absolute (a run may change its working directory).
  explicit RunDirectory(const std::string& path);
  // The run directory of the state database at `state_path`.
  static RunDirectory beside(const std::string& state_path);

  // The lock of one request's runs, held while this lives.
  class Lock {
   public:
    Lock(Lock&& other) noexcept;
    Lock& operator=(Lock&& other) noexcept;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    ~Lock();
    // The open descriptor that holds it (close-on-exec): a supervisor is
    // given a copy, which keeps the lock held after this Lock is gone.
    int descriptor() const { return m_fd; }
    // Removes the lock file, then lets go (only a holder may remove it:
    // try_lock checks that the file it locked is still the one named).
    void remove_file_and_release();

   private:
    friend class RunDirectory;
    Lock(int fd, std::string path) : m_fd(fd), m_path(std::move(path)) {}
    int m_fd = -1;
    std::string m_path;
  };

  // Locks `request_id`'s runs if none is alive; nullopt while one is.
  Expected<std::optional<Lock>> try_lock(const std::string& request_id) const;
  // Whether a run of `request_id` is alive, or ended leaving a result that
  // no one has taken.
  Expected<bool> has_trace(const std::string& request_id) const;
  // Reads and removes `request_id`'s result (the caller holds its lock);
  // nullopt when there is none (the run never started, or its supervisor was
  // killed) or it cannot be read.
  std::optional<RunResult> take_result(const Lock& held, const std::string& request_id) const;
  // Removes a result left by an earlier run (the caller holds the lock).
  void discard_result(const Lock& held, const std::string& request_id) const;

  // Where `request_id`'s supervisor writes its result.
  std::string result_path(const std::string& request_id) const;
  const std::string& path() const { return m_path; }

  // Request ids name files here: only letters, digits, '-' and '_', at most
  // 128 characters (gapwatch's own ids are 32 hex digits).
  static bool valid_id(std::string_view request_id);

 private:
  std::string lock_path(const std::string& request_id) const;
  Expected<void> create() const;

  std::string m_path;
};

}  // namespace gapwatch
