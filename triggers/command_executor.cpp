#include "triggers/command_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace gapwatch {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Environment variables passed through from the daemon; everything else the
// child needs is configured explicitly (secrets are not inherited by default).
constexpr const char* kInherited[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"};

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
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

}  // namespace

DispatchOutcome CommandExecutor::dispatch(const BackfillRequest& request, std::stop_token stop) {
  DispatchOutcome outcome;
  std::vector<std::string> arguments;
  for (const Template& argument : m_spec.argv) {
    auto expanded = argument.expand(request.values, Template::Encoding::raw);
    if (!expanded) {
      return DispatchOutcome{DispatchOutcome::Kind::rejected, expanded.error().message, {}, {}};
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
      return DispatchOutcome{DispatchOutcome::Kind::rejected, expanded.error().message, {}, {}};
    }
    environment.push_back(fmt::format("{}={}", name, *expanded));
  }
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

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return DispatchOutcome{DispatchOutcome::Kind::retry,
                           fmt::format("cannot create a pipe: {}", std::strerror(errno)), {}, {}};
  }
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, pipe_fds[1], STDERR_FILENO);
  if (m_spec.workdir) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, m_spec.workdir->c_str());
  }
  // Its own process group (so a timeout kills its children too), no blocked
  // signals and default dispositions whatever the daemon uses.
  sigset_t no_signals, default_signals;
  sigemptyset(&no_signals);
  sigfillset(&default_signals);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attributes, &default_signals);
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &setup.actions, &setup.attributes, argv.data(),
                                   envp.data());
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    return DispatchOutcome{DispatchOutcome::Kind::rejected,
                           fmt::format("cannot run {}: {}", arguments.front(),
                                       std::strerror(spawned)),
                           {}, {}};
  }

  const auto deadline = SteadyClock::now() + m_spec.timeout;
  std::optional<SteadyClock::time_point> kill_at;  // set once SIGTERM was sent
  std::string output;
  std::string stopped_because;
  bool pipe_open = true;
  int status = 0;
  bool exited = false;
  while (!exited) {
    const auto now = SteadyClock::now();
    if (stopped_because.empty() && (now >= deadline || stop.stop_requested())) {
      stopped_because = now >= deadline ? fmt::format("timed out after {}s",
                                                      m_spec.timeout.count())
                                        : "stopped: gapwatch is shutting down";
      kill(-pid, SIGTERM);
      kill_at = now + kGracePeriod;
    }
    if (kill_at && now >= *kill_at) {
      kill(-pid, SIGKILL);
      kill_at.reset();
    }
    if (pipe_open) {
      pollfd readable{pipe_fds[0], POLLIN, 0};
      if (poll(&readable, 1, 100) > 0) {
        char buffer[4096];
        const ssize_t got = read(pipe_fds[0], buffer, sizeof buffer);
        if (got > 0) {
          append_bounded(output, buffer, static_cast<std::size_t>(got));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          pipe_open = false;
        }
      }
    } else {
      usleep(20000);  // the child closed its output but has not exited yet
    }
    const pid_t waited = waitpid(pid, &status, WNOHANG);
    exited = waited == pid;
  }
  // Drain what is left in the pipe (the child's children may still hold it:
  // read only what is there now).
  char buffer[4096];
  fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
  for (ssize_t got = 0; (got = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    append_bounded(output, buffer, static_cast<std::size_t>(got));
  }
  close(pipe_fds[0]);
  // Whatever the command left running in its group goes too.
  kill(-pid, SIGKILL);

  outcome.output = tail(std::move(output));
  if (!stopped_because.empty()) {
    outcome.kind = DispatchOutcome::Kind::retry;
    outcome.detail = stopped_because;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    outcome.kind = DispatchOutcome::Kind::ran;
    outcome.detail = "exit status 0";
  } else if (WIFEXITED(status)) {
    outcome.kind = DispatchOutcome::Kind::retry;
    outcome.detail = fmt::format("exit status {}", WEXITSTATUS(status));
  } else {
    outcome.kind = DispatchOutcome::Kind::retry;
    outcome.detail = fmt::format("killed by signal {}", WTERMSIG(status));
  }
  return outcome;
}

}  // namespace gapwatch
