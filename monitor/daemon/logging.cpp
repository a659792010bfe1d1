#include "monitor/daemon/logging.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>

#include <date/date.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "monitor/config/connection_string.h"
#include "rules/mutex.h"
#include "triggers/auth.h"
#include "triggers/template.h"

namespace gapwatch {

namespace {

// What every log line is redacted with: replaced on the control thread, used
// by whichever thread logs (which keeps the one it took for the whole line).
Mutex g_redactor_mutex;
std::shared_ptr<const Redactor> g_redactor GUARDED_BY(g_redactor_mutex) =
    std::make_shared<const Redactor>();

std::shared_ptr<const Redactor> current_redactor() {
  MutexLock lock(g_redactor_mutex);
  return g_redactor;
}

// The secrets of a webhook's credentials, and the header values built from
// them (the Redactor adds their percent-encoded and JSON forms). Tokens
// obtained at run time are not known here; the executor keeps them out of
// what it reports.
void credential_secrets(const AuthSpec& auth, std::vector<std::string>& out) {
  if (const auto* basic = std::get_if<BasicAuth>(&auth)) {
    out.push_back(basic->password);
    const std::string header = basic_authorization(basic->username, basic->password);
    out.push_back(header);
    out.push_back(header.substr(header.find(' ') + 1));
  } else if (const auto* bearer = std::get_if<BearerAuth>(&auth)) {
    out.push_back(bearer->token);
  } else if (const auto* oauth2 = std::get_if<OAuth2ClientCredentials>(&auth)) {
    out.push_back(oauth2->client_secret);
    const std::string header = basic_authorization(percent_encode(oauth2->client_id),
                                                   percent_encode(oauth2->client_secret));
    out.push_back(header.substr(header.find(' ') + 1));
  } else if (const auto* login = std::get_if<AirflowLogin>(&auth)) {
    out.push_back(login->password);
  }
}

// `text` with every control character escaped (\n, \r, \t, \xNN), so that
// a line of the log is one event whatever a command printed or a driver said.
std::string escape_control_characters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_name_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '.' || c == '-';
}

// The first run of `min`..`max` characters satisfying `accept` right after an
// occurrence of `prefix` (and not followed by another such character).
std::optional<std::string_view> field_after(std::string_view text, std::string_view prefix,
                                            bool (*accept)(char), std::size_t min,
                                            std::size_t max) {
  for (std::size_t at = text.find(prefix); at != std::string_view::npos;
       at = text.find(prefix, at + 1)) {
    const std::size_t start = at + prefix.size();
    std::size_t end = start;
    while (end < text.size() && accept(text[end])) {
      ++end;
    }
    if (end - start >= min && end - start <= max) {
      return text.substr(start, end - start);
    }
  }
  return std::nullopt;
}

// The rule a log line is about: "rule NAME: …", or "… for NAME: …" / "… for NAME …".
std::optional<std::string_view> rule_of(std::string_view text) {
  const auto name_then = [&](std::size_t start) -> std::optional<std::string_view> {
    std::size_t end = start;
    while (end < text.size() && is_name_char(text[end])) {
      ++end;
    }
    if (end == start || end == text.size() || (text[end] != ':' && text[end] != ' ')) {
      return std::nullopt;
    }
    return text.substr(start, end - start);
  };
  if (text.starts_with("rule ")) {
    if (auto name = name_then(5); name && text[5 + name->size()] == ':') {
      return name;
    }
  }
  for (std::size_t at = text.find(" for "); at != std::string_view::npos;
       at = text.find(" for ", at + 1)) {
    if (auto name = name_then(at + 5)) {
      return name;
    }
  }
  return std::nullopt;
}

// spdlog's base_sink holds its own mutex while sink_it_ and flush_ run, so
// lines from different threads never interleave. It stays a std::mutex: the
// spdlog library is built with base_sink for std::mutex and null_mutex only.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingSink(LogFormat format) : m_format(format) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const auto level = spdlog::level::to_string_view(message.level);
    const std::string line =
        log_line(m_format, message.time, std::string_view(level.data(), level.size()),
                 std::string_view(message.payload.data(), message.payload.size()),
                 *current_redactor());
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  const LogFormat m_format;
};

}  // namespace

std::string log_line(LogFormat format, std::chrono::system_clock::time_point time,
                     std::string_view level, std::string_view message,
                     const Redactor& redactor) {
  const std::string text = redactor.redact(std::string(message));
  const std::string stamp =
      date::format("%Y-%m-%dT%H:%M:%SZ", date::floor<std::chrono::milliseconds>(time));
  if (format == LogFormat::text) {
    return fmt::format("{} {} {}\n", stamp, level, escape_control_characters(text));
  }
  // JSON escapes control characters itself.
  nlohmann::json object = {{"time", stamp}, {"level", level}, {"message", text}};
  const LogFields fields = log_fields(text);
  if (fields.rule) {
    object["rule"] = *fields.rule;
  }
  if (fields.incident) {
    object["incident"] = *fields.incident;
  }
  if (fields.request) {
    object["request"] = *fields.request;
  }
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

LogFields log_fields(std::string_view message) {
  LogFields fields;
  if (auto rule = rule_of(message)) {
    fields.rule = std::string(*rule);
  }
  if (auto incident = field_after(message, "incident #", is_digit, 1, 18)) {
    fields.incident = std::stoll(std::string(*incident));
  }
  if (auto request = field_after(message, "request ", is_hex_digit, 32, 32)) {
    fields.request = std::string(*request);
  }
  return fields;
}

void set_log_redactor(std::shared_ptr<const Redactor> redactor) {
  MutexLock lock(g_redactor_mutex);
  g_redactor = std::move(redactor);
}

std::shared_ptr<const Redactor> config_redactor(const Config& config) {
  return std::make_shared<const Redactor>(config_secrets(config));
}

void warn_about_unmasked_values(const Config& config) {
  for (const EnvironmentValue& value : config.from_environment) {
    if (!value.value.empty() && value.value.size() < kShortestSecret) {
      spdlog::warn("{}: the value of ${{{}}} has fewer than {} characters: it is not masked in "
                   "the log, the state database or the API",
                   value.path, value.name, kShortestSecret);
    }
  }
}

std::vector<std::string> config_secrets(const Config& config) {
  std::vector<std::string> secrets;
  // Whatever came from the environment, wherever it went (docs/security.md).
  for (const EnvironmentValue& value : config.from_environment) {
    secrets.push_back(value.value);
  }
  for (const WarehouseConfig& warehouse : config.warehouses) {
    const std::vector<std::string> found = connection_string_secrets(warehouse.connection);
    secrets.insert(secrets.end(), found.begin(), found.end());
  }
  if (!config.monitor.api_token.empty()) {
    secrets.push_back(config.monitor.api_token);
  }
  for (const ExecutorSpec& executor : config.executors) {
    if (const auto* webhook = std::get_if<WebhookSpec>(&executor.kind)) {
      if (webhook->signing_secret) {
        secrets.push_back(*webhook->signing_secret);
      }
      credential_secrets(webhook->auth, secrets);
      if (webhook->preset) {
        if (const auto* dagster = std::get_if<DagsterSpec>(&*webhook->preset)) {
          if (dagster->api_token) {
            secrets.push_back(*dagster->api_token);
          }
        }
      }
      for (const auto& [name, value] : webhook->headers) {
        // Header values are usually credentials; their literal parts are
        // what could leak (templates are filled per request).
        if (value.variables().empty()) {
          secrets.push_back(value.text());
          const std::size_t space = value.text().find(' ');
          if (space != std::string::npos) {
            secrets.push_back(value.text().substr(space + 1));  // the token of "Bearer <token>"
          }
        }
      }
    }
  }
  std::erase(secrets, std::string());
  // Longest first; equal lengths by value, so that duplicates are adjacent.
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

void configure_logging(const std::string& format, const std::string& level) {
  auto sink = std::make_shared<RedactingSink>(format == "json" ? LogFormat::json : LogFormat::text);
  auto logger = std::make_shared<spdlog::logger>("gapwatch", sink);
  logger->set_level(spdlog::level::from_str(level == "warn" ? "warning" : level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace gapwatch
