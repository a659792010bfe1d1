#include "triggers/run_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "triggers/run_directory.h"

extern char** environ;

namespace gapwatch {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Owns a spawn's attributes and file actions.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// An open descriptor, closed when this goes unless released.
class Descriptor {
 public:
  explicit Descriptor(int fd) : m_fd(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (m_fd >= 0) {
      close(m_fd);
    }
  }
  int get() const { return m_fd; }
  void release() { m_fd = -1; }

 private:
  int m_fd;
};

// A close-on-exec copy of `fd` numbered above the descriptors the spawn's
// file actions move things to, so that no move overwrites a source not yet
// moved.
int above_targets(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, kRunLockDescriptor + 1); }

struct Arguments {
  std::string result_path;
  std::chrono::seconds timeout{0};
  std::chrono::seconds grace{0};
  std::vector<char*> command;  // null-terminated, pointing into argv
};

std::optional<std::chrono::seconds> seconds_from(std::string_view text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return std::chrono::seconds{value};
}

std::optional<Arguments> parse(int argc, char** argv) {
  if (argc < 7 || std::string_view(argv[5]) != "--") {
    return std::nullopt;
  }
  Arguments arguments;
  arguments.result_path = argv[2];
  const auto timeout = seconds_from(argv[3]);
  const auto grace = seconds_from(argv[4]);
  if (!timeout || !grace) {
    return std::nullopt;
  }
  arguments.timeout = *timeout;
  arguments.grace = *grace;
  arguments.command.assign(argv + 6, argv + argc);
  arguments.command.push_back(nullptr);
  return arguments;
}

void append_bounded(std::string& output, const char* data, std::size_t size) {
  output.append(data, size);
  if (output.size() > 2 * kMaxCapturedOutput) {
    output.erase(0, output.size() - kMaxCapturedOutput);
  }
}

std::string tail(std::string output) {
  if (output.size() > kMaxCapturedOutput) {
    return "[…]" + output.substr(output.size() - kMaxCapturedOutput);
  }
  return output;
}

// Writes the result beside its final name and renames it into place, so a
// reader sees all of it or nothing.
bool write_result(const std::string& path, const RunResult& result) {
  const std::string text = format_run_result(result);
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return false;
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t put = write(fd, text.data() + written, text.size() - written);
    if (put < 0 && errno == EINTR) {
      continue;
    }
    if (put <= 0) {
      close(fd);
      unlink(temporary.c_str());
      return false;
    }
    written += static_cast<std::size_t>(put);
  }
  close(fd);
  return rename(temporary.c_str(), path.c_str()) == 0;
}

// In the child between fork and exec (the supervisor has one thread, so
// anything goes here): its own process group, killed with the supervisor,
// stdin /dev/null, output to the supervisor, signals as a fresh process has
// them. Reports a failed exec's errno on `exec_error`.
[[noreturn]] void exec_command(const Arguments& arguments, pid_t supervisor, int dev_null,
                               int output, int exec_error) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != supervisor) {
    _exit(127);  // the supervisor died already
  }
  dup2(dev_null, STDIN_FILENO);
  dup2(output, STDOUT_FILENO);
  dup2(output, STDERR_FILENO);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvp(arguments.command[0], arguments.command.data());
  const int error = errno;
  (void)!write(exec_error, &error, sizeof error);
  _exit(127);
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exit status {}", WEXITSTATUS(status));
  }
  return fmt::format("killed by signal {}", WTERMSIG(status));
}

// What the run came to. Exit status 0 means the command ran, whenever it came
// (gapwatch verifies every run against the warehouse anyway).
RunResult judge(int status, const std::string& stopped_because, bool interrupted,
                std::string output) {
  RunResult result;
  result.outcome.output = tail(std::move(output));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    result.outcome.kind = DispatchOutcome::Kind::ran;
    result.outcome.detail = "exit status 0";
    return result;
  }
  result.outcome.kind = DispatchOutcome::Kind::retry;
  result.outcome.detail = stopped_because.empty() ? describe_exit(status) : stopped_because;
  result.end = interrupted ? RunEnd::interrupted : RunEnd::finished;
  return result;
}

}  // namespace

bool is_supervise_run(int argc, char** argv) {
  return argc > 1 && std::string_view(argv[1]) == kSuperviseRunFlag;
}

Expected<SupervisorProcess> start_supervisor(const std::string& program, const SupervisedRun& run,
                                             int lock_descriptor) {
  std::vector<std::string> arguments{"gapwatch",
                                     kSuperviseRunFlag,
                                     run.result_path,
                                     std::to_string(run.timeout.count()),
                                     std::to_string(run.grace.count()),
                                     "--"};
  arguments.insert(arguments.end(), run.command.begin(), run.command.end());
  std::vector<std::string> environment = run.environment;
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (std::string& argument : arguments) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(environment.size() + 1);
  for (std::string& entry : environment) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);

  // The lifeline: this end stays here, close-on-exec (no other child may
  // inherit it, or the supervisor would not see this process die).
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail(fmt::format("cannot create a socket pair: {}", std::strerror(errno)));
  }
  Descriptor lifeline(pair[0]);
  Descriptor their_lifeline(above_targets(pair[1]));
  close(pair[1]);
  Descriptor their_lock(above_targets(lock_descriptor));
  if (their_lifeline.get() < 0 || their_lock.get() < 0) {
    return fail(fmt::format("cannot pass descriptors on: {}", std::strerror(errno)));
  }
  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, their_lifeline.get(), kLifelineDescriptor);
  posix_spawn_file_actions_addopen(&setup.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, their_lock.get(), kRunLockDescriptor);
  if (run.workdir) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, run.workdir->c_str());
  }
  // Its own process group (a Ctrl-C meant for gapwatch is not its to take:
  // gapwatch stops its runs itself), no blocked signals and default
  // dispositions whatever the caller uses.
  sigset_t no_signals;
  sigset_t default_signals;
  sigemptyset(&no_signals);
  sigfillset(&default_signals);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attributes, &default_signals);
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attributes, argv.data(), envp.data());
  if (spawned != 0) {
    return fail(std::strerror(spawned));
  }
  SupervisorProcess started{pid, lifeline.get()};
  lifeline.release();
  return started;
}

SupervisorExit wait_for_supervisor(const SupervisorProcess& process, const SupervisedRun& run,
                                   std::stop_token stop) {
  const Descriptor lifeline(process.lifeline);
  SupervisorExit exit;
  auto give_up_at = SteadyClock::now() + run.timeout + 2 * run.grace + std::chrono::seconds{5};
  bool killed = false;
  while (true) {
    const auto now = SteadyClock::now();
    if (!exit.stopped && stop.stop_requested()) {
      exit.stopped = true;
      shutdown(lifeline.get(), SHUT_WR);
      give_up_at = std::min(give_up_at, now + 2 * run.grace + std::chrono::seconds{5});
    }
    if (!killed && now >= give_up_at) {
      killed = true;
      kill(process.pid, SIGKILL);  // its command gets SIGKILL too (PR_SET_PDEATHSIG)
    }
    // Wakes for the supervisor's exit at once; every 100 ms for `stop`.
    pollfd readable{lifeline.get(), POLLIN, 0};
    if (poll(&readable, 1, 100) > 0) {
      char byte = 0;
      const ssize_t got = read(lifeline.get(), &byte, 1);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        break;  // the supervisor has exited
      }
    }
  }
  while (waitpid(process.pid, &exit.status, 0) < 0 && errno == EINTR) {
  }
  return exit;
}

int supervise_run(int argc, char** argv) {
  const std::optional<Arguments> arguments = parse(argc, argv);
  if (!arguments) {
    return 2;
  }
  // Nothing but the lifeline, /dev/null on stdout and stderr and the run lock
  // is meant for this process: whatever else a multi-threaded daemon let slip
  // through (another run's lifeline would keep that run alive) goes, and the
  // lock stays out of the command.
  close_range(kRunLockDescriptor + 1, ~0U, 0);
  fcntl(kRunLockDescriptor, F_SETFD, FD_CLOEXEC);
  fcntl(kLifelineDescriptor, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  // Signals arrive through a descriptor, beside the lifeline and the output:
  // the child's end, and a request to stop (SIGTERM from an operator or a
  // service manager stopping everything).
  sigset_t watched;
  sigemptyset(&watched);
  for (const int signal_number : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
    sigaddset(&watched, signal_number);
  }
  sigprocmask(SIG_BLOCK, &watched, nullptr);
  const int signals = signalfd(-1, &watched, SFD_CLOEXEC | SFD_NONBLOCK);
  const int dev_null = open("/dev/null", O_RDWR | O_CLOEXEC);
  int output_pipe[2];
  int error_pipe[2];
  if (signals < 0 || dev_null < 0 || pipe2(output_pipe, O_CLOEXEC) != 0 ||
      pipe2(error_pipe, O_CLOEXEC) != 0) {
    RunResult failed;
    failed.outcome.kind = DispatchOutcome::Kind::retry;
    failed.outcome.detail = fmt::format("cannot supervise the run: {}", std::strerror(errno));
    return write_result(arguments->result_path, failed) ? 0 : 1;
  }

  const pid_t supervisor = getpid();
  const pid_t child = fork();
  if (child == 0) {
    exec_command(*arguments, supervisor, dev_null, output_pipe[1], error_pipe[1]);
  }
  close(output_pipe[1]);
  close(error_pipe[1]);
  if (child < 0) {
    RunResult failed;
    failed.outcome.kind = DispatchOutcome::Kind::retry;
    failed.outcome.detail = fmt::format("cannot start a process: {}", std::strerror(errno));
    return write_result(arguments->result_path, failed) ? 0 : 1;
  }
  setpgid(child, child);  // as the child does: whichever runs first
  int exec_errno = 0;
  ssize_t got = 0;
  while ((got = read(error_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(error_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    waitpid(child, nullptr, 0);
    RunResult failed;
    failed.outcome.kind = DispatchOutcome::Kind::rejected;
    failed.outcome.detail =
        fmt::format("cannot run {}: {}", arguments->command[0], std::strerror(exec_errno));
    return write_result(arguments->result_path, failed) ? 0 : 1;
  }

  const auto deadline = SteadyClock::now() + arguments->timeout;
  constexpr auto kNever = SteadyClock::time_point::max();
  auto kill_at = kNever;  // set once SIGTERM was sent, until SIGKILL is
  std::string stopped_because;
  bool interrupted = false;
  bool output_open = true;
  bool lifeline_open = true;
  std::string output;
  int status = 0;
  bool exited = false;
  const auto stop = [&](std::string why, bool by_gapwatch) {
    if (stopped_because.empty()) {
      stopped_because = std::move(why);
      interrupted = by_gapwatch;
      kill(-child, SIGTERM);
      kill_at = SteadyClock::now() + arguments->grace;
    }
  };
  while (!exited) {
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      stop(fmt::format("timed out after {}s", arguments->timeout.count()), false);
    }
    if (now >= kill_at) {
      kill(-child, SIGKILL);
      kill_at = kNever;
    }
    // The child's end wakes the poll (SIGCHLD on the signal descriptor); the
    // timeout is for the next step of stopping it.
    auto until = now + std::chrono::seconds{1};
    if (stopped_because.empty()) {
      until = std::min(until, deadline);
    }
    until = std::min(until, kill_at);
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    pollfd watch[3] = {{signals, POLLIN, 0},
                       {lifeline_open ? kLifelineDescriptor : -1, POLLIN, 0},
                       {output_open ? output_pipe[0] : -1, POLLIN, 0}};
    if (poll(watch, 3, static_cast<int>(std::max<std::int64_t>(wait.count(), 0))) < 0) {
      continue;  // EINTR (nothing else can fail here)
    }
    if (watch[0].revents != 0) {
      signalfd_siginfo info{};
      while (read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (info.ssi_signo != SIGCHLD) {
          stop(fmt::format("stopped: the run's supervisor got signal {}", info.ssi_signo), true);
        }
      }
    }
    if (watch[1].revents != 0) {
      char byte = 0;
      const ssize_t read_bytes = read(kLifelineDescriptor, &byte, 1);
      if (read_bytes == 0 || (read_bytes < 0 && errno != EINTR && errno != EAGAIN)) {
        lifeline_open = false;
        stop("stopped: gapwatch stopped the run or went away", true);
      }
    }
    if (watch[2].revents != 0) {
      char buffer[4096];
      const ssize_t read_bytes = read(output_pipe[0], buffer, sizeof buffer);
      if (read_bytes > 0) {
        append_bounded(output, buffer, static_cast<std::size_t>(read_bytes));
      } else if (read_bytes == 0 || (errno != EINTR && errno != EAGAIN)) {
        output_open = false;
      }
    }
    exited = waitpid(child, &status, WNOHANG) == child;
  }
  // What is left in the pipe (the child's children may still hold it: read
  // only what is there now), then whatever the command left running in its
  // group goes too.
  fcntl(output_pipe[0], F_SETFL, O_NONBLOCK);
  char buffer[4096];
  for (ssize_t read_bytes = 0; (read_bytes = read(output_pipe[0], buffer, sizeof buffer)) > 0;) {
    append_bounded(output, buffer, static_cast<std::size_t>(read_bytes));
  }
  kill(-child, SIGKILL);
  const RunResult result = judge(status, stopped_because, interrupted, std::move(output));
  return write_result(arguments->result_path, result) ? 0 : 1;
}

}  // namespace gapwatch
