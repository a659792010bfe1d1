// Logging: spdlog to stderr, as text or one JSON object per line, with every
// known secret (passwords in connection strings, tokens, signing secrets,
// header values) replaced by *** before a line is written — whatever logged
// it, including output echoed back by a remote system. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "triggers/redaction.h"  // redact()

namespace gapwatch {

// Installs the default logger. `format` is text or json; `level` is debug,
// info, warn or error.
void configure_logging(const std::string& format, const std::string& level);

// Replaces the secrets to redact (on start and on every reload).
void set_log_secrets(std::vector<std::string> secrets);

// The secret values in a configuration.
std::vector<std::string> config_secrets(const Config& config);

// What a JSON log line names besides its message, read off the message:
// "rule NAME: …" or "… for NAME: …", "incident #N", "request <32 hex>".
struct LogFields {
  std::optional<std::string> rule;
  std::optional<std::int64_t> incident;
  std::optional<std::string> request;
};
LogFields log_fields(std::string_view message);

}  // namespace gapwatch
