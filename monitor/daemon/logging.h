// Logging: spdlog to stderr, as text or one JSON object per line, with every
// known secret (every value taken from the environment, passwords in
// connection strings, tokens, signing secrets, header values) replaced by ***
// before a line is written — whatever logged it, including output echoed back
// by a remote system — and, in text, control characters escaped so that a
// line is one event. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "triggers/redaction.h"

namespace gapwatch {

// Installs the default logger. `format` is text or json; `level` is debug,
// info, warn or error.
void configure_logging(const std::string& format, const std::string& level);

// Replaces what log lines are redacted with (on start and on every reload).
void set_log_redactor(std::shared_ptr<const Redactor> redactor);

// The secret values in a configuration: every value taken from the
// environment and the credentials written in it. A Redactor built from them
// masks them at every sink.
std::vector<std::string> config_secrets(const Config& config);

// A Redactor of config_secrets(config), to share among the sinks.
std::shared_ptr<const Redactor> config_redactor(const Config& config);

// Logs a warning for each value taken from the environment that is too short
// to be masked (kShortestSecret).
void warn_about_unmasked_values(const Config& config);

enum class LogFormat { text, json };

// One line of the log, ending in a newline: `message` redacted, and in text
// its control characters escaped (\n, \r, \t, \xNN; JSON escapes its own).
std::string log_line(LogFormat format, std::chrono::system_clock::time_point time,
                     std::string_view level, std::string_view message, const Redactor& redactor);

// What a JSON log line names besides its message, read off the message:
// "rule NAME: …" or "… for NAME: …", "incident #N", "request <32 hex>".
struct LogFields {
  std::optional<std::string> rule;
  std::optional<std::int64_t> incident;
  std::optional<std::string> request;
};
LogFields log_fields(std::string_view message);

}  // namespace gapwatch
