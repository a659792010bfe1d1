#include "triggers/run_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace gapwatch {

namespace {

constexpr std::string_view kResultHeader = "gapwatch run result 1\n";

std::optional<DispatchOutcome::Kind> kind_from(std::string_view text) {
  for (const auto kind : {DispatchOutcome::Kind::ran, DispatchOutcome::Kind::accepted,
                          DispatchOutcome::Kind::retry, DispatchOutcome::Kind::rejected}) {
    if (text == to_string(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

// One line of "name value" from the front of `text`, which moves past it.
std::optional<std::string_view> field(std::string_view& text, std::string_view name) {
  const auto end = text.find('\n');
  if (end == std::string_view::npos || !text.starts_with(name) || text.size() <= name.size() ||
      text[name.size()] != ' ') {
    return std::nullopt;
  }
  const std::string_view value = text.substr(name.size() + 1, end - name.size() - 1);
  text.remove_prefix(end + 1);
  return value;
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

Error system_error(std::string_view what, const std::string& path) {
  return Error::of(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

}  // namespace

std::string format_run_result(const RunResult& result) {
  std::string text(kResultHeader);
  text += fmt::format("outcome {}\n", to_string(result.outcome.kind));
  text += fmt::format("end {}\n", result.end == RunEnd::interrupted ? "interrupted" : "finished");
  text += fmt::format("detail {}\n\n", one_line(result.outcome.detail));
  text += result.outcome.output;
  return text;
}

std::optional<RunResult> parse_run_result(std::string_view text) {
  if (!text.starts_with(kResultHeader)) {
    return std::nullopt;
  }
  text.remove_prefix(kResultHeader.size());
  const auto kind = field(text, "outcome");
  const auto end = field(text, "end");
  const auto detail = field(text, "detail");
  if (!kind || !end || !detail || !kind_from(*kind) ||
      (*end != "finished" && *end != "interrupted") || !text.starts_with('\n')) {
    return std::nullopt;
  }
  text.remove_prefix(1);
  RunResult result;
  result.outcome.kind = *kind_from(*kind);
  result.outcome.detail = std::string(*detail);
  result.outcome.output = std::string(text);
  result.end = *end == "interrupted" ? RunEnd::interrupted : RunEnd::finished;
  return result;
}

RunDirectory::RunDirectory(const std::string& path) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  m_path = error ? path : absolute.lexically_normal().string();
}

RunDirectory RunDirectory::beside(const std::string& state_path) {
  return RunDirectory(state_path + ".runs");
}

bool RunDirectory::valid_id(std::string_view request_id) {
  if (request_id.empty() || request_id.size() > 128) {
    return false;
  }
  for (const char c : request_id) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

std::string RunDirectory::lock_path(const std::string& request_id) const {
  return fmt::format("{}/{}.lock", m_path, request_id);
}

std::string RunDirectory::result_path(const std::string& request_id) const {
  return fmt::format("{}/{}.result", m_path, request_id);
}

Expected<void> RunDirectory::create() const {
  if (mkdir(m_path.c_str(), 0700) != 0 && errno != EEXIST) {
    return std::unexpected(system_error("cannot create the run directory", m_path));
  }
  return {};
}

RunDirectory::Lock::Lock(Lock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)) {}

RunDirectory::Lock& RunDirectory::Lock::operator=(Lock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      close(m_fd);
    }
    m_fd = std::exchange(other.m_fd, -1);
    m_path = std::move(other.m_path);
  }
  return *this;
}

RunDirectory::Lock::~Lock() {
  if (m_fd >= 0) {
    close(m_fd);
  }
}

void RunDirectory::Lock::remove_file_and_release() {
  if (m_fd >= 0) {
    unlink(m_path.c_str());
    close(m_fd);
    m_fd = -1;
  }
}

Expected<std::optional<RunDirectory::Lock>> RunDirectory::try_lock(
    const std::string& request_id) const {
  if (!valid_id(request_id)) {
    return fail(fmt::format("request id '{}' cannot name a file", request_id));
  }
  if (auto created = create(); !created) {
    return std::unexpected(created.error());
  }
  const std::string path = lock_path(request_id);
  // A holder may remove the file (remove_file_and_release): a lock taken on
  // a file that is no longer the one named protects nothing, so try again.
  while (true) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return std::unexpected(system_error("cannot open the run lock", path));
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      close(fd);
      if (error == EWOULDBLOCK) {
        return std::nullopt;
      }
      errno = error;
      return std::unexpected(system_error("cannot lock", path));
    }
    struct stat opened {};
    struct stat named {};
    if (fstat(fd, &opened) == 0 && stat(path.c_str(), &named) == 0 &&
        opened.st_dev == named.st_dev && opened.st_ino == named.st_ino) {
      return Lock(fd, path);
    }
    close(fd);
  }
}

Expected<bool> RunDirectory::has_trace(const std::string& request_id) const {
  if (!valid_id(request_id)) {
    return false;
  }
  if (access(result_path(request_id).c_str(), F_OK) == 0) {
    return true;
  }
  const std::string path = lock_path(request_id);
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      return false;
    }
    return std::unexpected(system_error("cannot open the run lock", path));
  }
  const bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);  // lets go of the lock if this took it
  // A run that ended between the two looks gives a result now.
  return held || access(result_path(request_id).c_str(), F_OK) == 0;
}

std::optional<RunResult> RunDirectory::take_result(const Lock& /*held*/,
                                                   const std::string& request_id) const {
  const std::string path = result_path(request_id);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string text;
  char buffer[8192];
  // The supervisor bounds the output; a file much larger is not its own.
  constexpr std::size_t kMostRead = 4 * kMaxCapturedOutput;
  for (ssize_t got = 0; (got = read(fd, buffer, sizeof buffer)) > 0 && text.size() < kMostRead;) {
    text.append(buffer, static_cast<std::size_t>(got));
  }
  close(fd);
  unlink(path.c_str());
  return parse_run_result(text);
}

void RunDirectory::discard_result(const Lock& /*held*/, const std::string& request_id) const {
  unlink(result_path(request_id).c_str());
}

}  // namespace gapwatch
