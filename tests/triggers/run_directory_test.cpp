// RunDirectory on a real directory: the result file's format, one lock per
// request (taken with flock, so it holds across processes), what counts as a
// trace of an earlier run, and nothing left behind once an outcome is taken.
#include "triggers/run_directory.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using testing::value_of;

constexpr const char* kId = "0123456789abcdef0123456789abcdef";

int mode_of(const std::string& path) {
  struct stat status {};
  REQUIRE(stat(path.c_str(), &status) == 0);
  return static_cast<int>(status.st_mode & 0777);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST_CASE("run directory: a result file keeps the outcome, how the run ended and the output") {
  RunResult result;
  result.outcome.kind = DispatchOutcome::Kind::retry;
  result.outcome.detail = "stopped: gapwatch stopped the run or went away";
  result.outcome.output = std::string("line one\n\nend \0 of\r\nit", 22);
  result.end = RunEnd::interrupted;
  const std::optional<RunResult> read = parse_run_result(format_run_result(result));
  REQUIRE(read.has_value());
  CHECK(read->outcome.kind == DispatchOutcome::Kind::retry);
  CHECK(read->outcome.detail == result.outcome.detail);
  CHECK(read->outcome.output == result.outcome.output);
  CHECK(read->end == RunEnd::interrupted);

  SUBCASE("a detail stays one line") {
    result.outcome.detail = "two\nlines";
    const std::optional<RunResult> one_line = parse_run_result(format_run_result(result));
    REQUIRE(one_line.has_value());
    CHECK(one_line->outcome.detail == "two lines");
  }
  SUBCASE("anything else is no result") {
    const std::string text = format_run_result(result);
    CHECK_FALSE(parse_run_result("").has_value());
    CHECK_FALSE(parse_run_result(text.substr(0, 30)).has_value());
    CHECK_FALSE(parse_run_result("gapwatch run result 2\n" + text.substr(22)).has_value());
    std::string unknown_kind = text;
    unknown_kind.replace(unknown_kind.find("retry"), 5, "maybe");
    CHECK_FALSE(parse_run_result(unknown_kind).has_value());
  }
}

TEST_CASE("run directory: one lock per request, held until let go, in private files") {
  testing::TemporaryDirectory directory;
  const RunDirectory runs(directory.file("state.db.runs"));
  CHECK_FALSE(value_of(runs.has_trace(kId)));

  std::optional<RunDirectory::Lock> lock = value_of(runs.try_lock(kId));
  REQUIRE(lock.has_value());
  CHECK(mode_of(runs.path()) == 0700);
  CHECK(mode_of(runs.path() + "/" + kId + ".lock") == 0600);
  SUBCASE("a second taker is refused while it is held, and it is a trace") {
    CHECK_FALSE(value_of(runs.try_lock(kId)).has_value());
    CHECK(value_of(runs.has_trace(kId)));
    CHECK(value_of(runs.try_lock("another_request")).has_value());
  }
  SUBCASE("let go, the lock is free and no trace is left") {
    lock.reset();
    CHECK_FALSE(value_of(runs.has_trace(kId)));
    CHECK(value_of(runs.try_lock(kId)).has_value());
  }
  SUBCASE("removed by its holder, the next taker gets a new file") {
    lock->remove_file_and_release();
    CHECK(std::filesystem::is_empty(runs.path()));
    CHECK(value_of(runs.try_lock(kId)).has_value());
  }
}

TEST_CASE("run directory: a result left behind is a trace until it is taken") {
  testing::TemporaryDirectory directory;
  const RunDirectory runs(directory.file("state.db.runs"));
  RunResult result;
  result.outcome.kind = DispatchOutcome::Kind::ran;
  result.outcome.detail = "exit status 0";
  result.outcome.output = "loaded\n";
  std::optional<RunDirectory::Lock> lock = value_of(runs.try_lock(kId));
  REQUIRE(lock.has_value());
  write_file(runs.result_path(kId), format_run_result(result));
  lock.reset();
  CHECK(value_of(runs.has_trace(kId)));

  lock = value_of(runs.try_lock(kId));
  REQUIRE(lock.has_value());
  const std::optional<RunResult> taken = runs.take_result(*lock, kId);
  REQUIRE(taken.has_value());
  CHECK(taken->outcome.kind == DispatchOutcome::Kind::ran);
  CHECK(taken->outcome.output == "loaded\n");
  CHECK_FALSE(runs.take_result(*lock, kId).has_value());
  lock->remove_file_and_release();
  CHECK_FALSE(value_of(runs.has_trace(kId)));
  CHECK(std::filesystem::is_empty(runs.path()));
}

TEST_CASE("run directory: a request id that cannot name a file is refused") {
  testing::TemporaryDirectory directory;
  const RunDirectory runs(directory.file("runs"));
  for (const std::string& id :
       std::vector<std::string>{"", "../escape", "a/b", "with space", std::string(129, 'a')}) {
    CAPTURE(id);
    CHECK_FALSE(RunDirectory::valid_id(id));
    CHECK_FALSE(runs.try_lock(id).has_value());
  }
  CHECK(RunDirectory::valid_id(kId));
  CHECK(RunDirectory::valid_id("manual-request_2"));
}

TEST_CASE("run directory: beside a state database, with an absolute path") {
  const RunDirectory runs = RunDirectory::beside("gapwatch-state.db");
  CHECK(std::filesystem::path(runs.path()).is_absolute());
  CHECK(runs.path().ends_with("/gapwatch-state.db.runs"));
}

}  // namespace
}  // namespace gapwatch
