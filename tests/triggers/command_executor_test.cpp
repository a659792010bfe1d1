// CommandExecutor with real child processes (/bin/sh, env, printf from the
// base system), each under its supervisor (this test binary again): what the
// child's environment holds and what it does not, argv elements arriving
// intact, exit statuses, bounded output, a shutdown that stops a running
// command, and a run left by a gapwatch that went away: stopped, never
// doubled, its outcome reported to the next one. No test waits on a timer.
#include "triggers/command_executor.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/rules/support.h"
#include "triggers/run_supervisor.h"

namespace gapwatch {
namespace {

using testing::value_of;

CommandSpec command(std::vector<std::string> argv,
                    std::vector<std::pair<std::string, std::string>> env = {}) {
  CommandSpec spec;
  for (const std::string& argument : argv) {
    spec.argv.push_back(value_of(Template::parse(argument)));
  }
  for (const auto& [name, value] : env) {
    spec.env.emplace_back(name, value_of(Template::parse(value)));
  }
  spec.timeout = std::chrono::seconds{60};
  return spec;
}

BackfillRequest request(std::string note = "a note") {
  BackfillRequest request;
  request.id = "0123456789abcdef0123456789abcdef";
  request.rule = "events_hourly";
  request.executor = "reload";
  request.values = {{"rule", "events_hourly"},
                    {"request_id", request.id},
                    {"window_start", "2026-11-24T12:00:00Z"},
                    {"window_end", "2026-11-24T15:00:00Z"},
                    {"note", std::move(note)}};
  return request;
}

// Each test's runs keep their locks and results here.
struct Runs {
  testing::TemporaryDirectory directory;
  RunDirectory runs{directory.file("state.db.runs")};
};

DispatchOutcome run(CommandSpec spec, const BackfillRequest& backfill = request()) {
  Runs where;
  CommandExecutor executor(std::move(spec), where.runs);
  std::stop_source never;
  return executor.dispatch(backfill, never.get_token());
}

TEST_CASE("command executor: the child gets a small environment, not the daemon's secrets") {
  REQUIRE(setenv("GAPWATCH_TEST_DAEMON_SECRET", "daemon-Secret-1234", 1) == 0);
  REQUIRE(setenv("PGPASSWORD", "pg-Secret-5678", 1) == 0);
  const DispatchOutcome outcome =
      run(command({"env"}, {{"LOAD_MODE", "replace"}, {"WINDOW", "{window_start}"}}));
  unsetenv("GAPWATCH_TEST_DAEMON_SECRET");
  unsetenv("PGPASSWORD");
  REQUIRE(outcome.kind == DispatchOutcome::Kind::ran);
  SUBCASE("what it describes the request with") {
    CHECK(outcome.output.find("GAPWATCH_RULE=events_hourly\n") != std::string::npos);
    CHECK(outcome.output.find("GAPWATCH_WINDOW_START=2026-11-24T12:00:00Z\n") != std::string::npos);
    CHECK(outcome.output.find("GAPWATCH_REQUEST_ID=0123456789abcdef0123456789abcdef\n") !=
          std::string::npos);
  }
  SUBCASE("the configured env, templates expanded") {
    CHECK(outcome.output.find("LOAD_MODE=replace\n") != std::string::npos);
    CHECK(outcome.output.find("WINDOW=2026-11-24T12:00:00Z\n") != std::string::npos);
  }
  SUBCASE("PATH passes through, so that commands are found") {
    CHECK(outcome.output.find("PATH=") != std::string::npos);
  }
  SUBCASE("nothing else of the daemon's environment") {
    CHECK(outcome.output.find("daemon-Secret-1234") == std::string::npos);
    CHECK(outcome.output.find("pg-Secret-5678") == std::string::npos);
    CHECK(outcome.output.find("PGPASSWORD") == std::string::npos);
  }
}

TEST_CASE("command executor: a value that looks like shell arrives as one argv element") {
  const std::string hostile = "$(touch pwned) `id`; rm -rf / \"double\" 'single'\nsecond line";
  const DispatchOutcome outcome = run(command({"printf", "[%s]", "{note}"}), request(hostile));
  REQUIRE(outcome.kind == DispatchOutcome::Kind::ran);
  CHECK(outcome.output == "[" + hostile + "]");
}

TEST_CASE("command executor: exit status 0 means the backfill ran, anything else is retried") {
  SUBCASE("0") {
    const DispatchOutcome outcome = run(command({"/bin/sh", "-c", "echo loaded"}));
    CHECK(outcome.kind == DispatchOutcome::Kind::ran);
    CHECK(outcome.detail == "exit status 0");
    CHECK(outcome.output == "loaded\n");
  }
  SUBCASE("3, with stderr captured too") {
    const DispatchOutcome outcome = run(command({"/bin/sh", "-c", "echo broken >&2; exit 3"}));
    CHECK(outcome.kind == DispatchOutcome::Kind::retry);
    CHECK(outcome.detail == "exit status 3");
    CHECK(outcome.output == "broken\n");
  }
  SUBCASE("killed by a signal") {
    const DispatchOutcome outcome = run(command({"/bin/sh", "-c", "kill -KILL $$"}));
    CHECK(outcome.kind == DispatchOutcome::Kind::retry);
    CHECK(outcome.detail == "killed by signal 9");
  }
}

TEST_CASE("command executor: a program that does not exist is rejected, not retried") {
  const DispatchOutcome outcome = run(command({"/nonexistent/backfill-program"}));
  CHECK(outcome.kind == DispatchOutcome::Kind::rejected);
  CHECK(outcome.detail.find("cannot run /nonexistent/backfill-program") == 0);
}

TEST_CASE("command executor: megabytes of output are cut to the last 16 KiB") {
  const DispatchOutcome outcome = run(command(
      {"/bin/sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo the last line"}));
  REQUIRE(outcome.kind == DispatchOutcome::Kind::ran);
  CHECK(outcome.output.size() <= kMaxCapturedOutput + 8);
  CHECK(outcome.output.rfind("[…]", 0) == 0);
  CHECK(outcome.output.ends_with("xxx\nthe last line\n"));
}

TEST_CASE("command executor: a shutdown stops a running command and says why") {
  Runs where;
  CommandExecutor executor(command({"/bin/sh", "-c", "echo started; exec sleep 300"}), where.runs);
  std::stop_source shutdown;
  shutdown.request_stop();
  const DispatchOutcome outcome = executor.dispatch(request(), shutdown.get_token());
  CHECK(outcome.kind == DispatchOutcome::Kind::retry);
  CHECK(outcome.detail == "stopped: gapwatch is shutting down");
}

// A run started as a gapwatch process would have started it, outside any
// executor: under its supervisor, holding the request's lock, with this test
// as the gapwatch whose end of the lifeline it watches.
SupervisorProcess start_as_gapwatch_would(const RunDirectory& runs,
                                          std::vector<std::string> command) {
  const std::optional<RunDirectory::Lock> lock = value_of(runs.try_lock(request().id));
  REQUIRE(lock.has_value());
  SupervisedRun run;
  run.result_path = runs.result_path(request().id);
  run.timeout = std::chrono::seconds{60};
  run.command = std::move(command);
  run.environment = {"PATH=/usr/bin:/bin"};
  return value_of(start_supervisor(CommandExecutor::kThisExecutable, run, lock->descriptor()));
}

int exit_status_of(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

TEST_CASE("command executor: a run whose gapwatch went away is stopped, never doubled") {
  Runs where;
  const std::string started = where.directory.file("started");
  REQUIRE(mkfifo(started.c_str(), 0600) == 0);
  const SupervisorProcess earlier = start_as_gapwatch_would(
      where.runs, {"/bin/sh", "-c", "echo started >\"$0\"; exec sleep 300", started});
  std::string word;
  std::ifstream(started) >> word;  // returns once the command has written
  REQUIRE(word == "started");

  // The next gapwatch process finds it alive and does not start another:
  // a delivery would wait for it (here, told to stop, it gives up at once).
  CommandExecutor executor(command({"/bin/sh", "-c", "echo second run"}), where.runs);
  CHECK(value_of(executor.has_earlier_run(request())));
  std::stop_source shutdown;
  shutdown.request_stop();
  const DispatchOutcome refused = executor.dispatch(request(), shutdown.get_token());
  CHECK(refused.kind == DispatchOutcome::Kind::retry);
  CHECK(refused.detail == "stopped: gapwatch is shutting down");
  CHECK(refused.output.empty());

  // Its gapwatch dies: the lifeline closes, the supervisor stops the command.
  close(earlier.lifeline);
  std::stop_source never;
  CHECK_FALSE(executor.await_earlier_run(request(), never.get_token()).has_value());
  CHECK(exit_status_of(earlier.pid) == 0);
  CHECK_FALSE(value_of(executor.has_earlier_run(request())));
  CHECK(std::filesystem::is_empty(where.runs.path()));
  // Now it may run again.
  const DispatchOutcome again = executor.dispatch(request(), never.get_token());
  CHECK(again.kind == DispatchOutcome::Kind::ran);
  CHECK(again.output == "second run\n");
}

TEST_CASE("command executor: a run that ended while no gapwatch was there is reported next time") {
  Runs where;
  std::string script = "echo loaded; exit 0";
  DispatchOutcome::Kind kind = DispatchOutcome::Kind::ran;
  std::string detail = "exit status 0";
  SUBCASE("it ran") {}
  SUBCASE("it failed: a delivery that failed, not one to send again as if never made") {
    script = "echo loaded; exit 3";
    kind = DispatchOutcome::Kind::retry;
    detail = "exit status 3";
  }
  const SupervisorProcess earlier =
      start_as_gapwatch_would(where.runs, {"/bin/sh", "-c", script});
  CHECK(exit_status_of(earlier.pid) == 0);
  close(earlier.lifeline);  // its gapwatch is gone before anyone read the outcome

  CommandExecutor executor(command({"/bin/sh", "-c", "echo second run"}), where.runs);
  CHECK(value_of(executor.has_earlier_run(request())));
  std::stop_source never;
  const std::optional<DispatchOutcome> outcome =
      executor.await_earlier_run(request(), never.get_token());
  REQUIRE(outcome.has_value());
  CHECK(outcome->kind == kind);
  CHECK(outcome->detail == detail);
  CHECK(outcome->output == "loaded\n");
  CHECK_FALSE(value_of(executor.has_earlier_run(request())));
  CHECK(std::filesystem::is_empty(where.runs.path()));
}

TEST_CASE("command executor: the command gets no descriptor beyond stdin, stdout and stderr") {
  const DispatchOutcome outcome = run(command(
      {"/bin/sh", "-c",
       "for fd in 3 4 5 6 7 8 9 10 11 12; do [ -e /proc/$$/fd/$fd ] && echo \"open: $fd\"; done; "
       "readlink /proc/$$/fd/0"}));
  REQUIRE(outcome.kind == DispatchOutcome::Kind::ran);
  CHECK(outcome.output == "/dev/null\n");
}

}  // namespace
}  // namespace gapwatch
