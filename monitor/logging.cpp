#include "monitor/logging.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <regex>

#include <date/date.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace gapwatch {

namespace {

// Secrets shorter than this are not redacted: replacing "x" everywhere would
// garble every line and protect nothing.
constexpr std::size_t kShortestSecret = 4;

std::mutex g_secrets_mutex;
std::vector<std::string> g_secrets;  // guarded by g_secrets_mutex

std::vector<std::string> current_secrets() {
  std::lock_guard lock(g_secrets_mutex);
  return g_secrets;
}

// The password-like values of an ODBC connection string.
void connection_secrets(std::string_view connection, std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start < connection.size()) {
    std::size_t end = connection.find(';', start);
    if (end == std::string_view::npos) {
      end = connection.size();
    }
    const std::string_view part = connection.substr(start, end - start);
    const std::size_t equals = part.find('=');
    if (equals != std::string_view::npos) {
      std::string key(part.substr(0, equals));
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (key == "pwd" || key == "password" || key.find("secret") != std::string::npos ||
          key.find("token") != std::string::npos) {
        std::string value(part.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '{' && value.back() == '}') {
          value = value.substr(1, value.size() - 2);
        }
        out.push_back(value);
      }
    }
    start = end + 1;
  }
}

class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingSink(bool json) : m_json(json) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const std::string text =
        redact(std::string(message.payload.data(), message.payload.size()), current_secrets());
    const auto time = date::floor<std::chrono::milliseconds>(message.time);
    const std::string stamp = date::format("%Y-%m-%dT%H:%M:%SZ", time);
    const auto level_view = spdlog::level::to_string_view(message.level);
    const std::string level(level_view.data(), level_view.size());
    std::string line;
    if (m_json) {
      nlohmann::json object = {{"time", stamp}, {"level", level}, {"message", text}};
      std::smatch match;
      static const std::regex rule(R"(^rule ([A-Za-z0-9_.-]+):)");
      static const std::regex incident(R"(incident #([0-9]+))");
      static const std::regex request(R"(request ([0-9a-f]{32}))");
      if (std::regex_search(text, match, rule) ||
          std::regex_search(text, match, std::regex(R"( for ([A-Za-z0-9_.-]+)[: ])"))) {
        object["rule"] = match[1].str();
      }
      if (std::regex_search(text, match, incident)) {
        object["incident"] = std::stoll(match[1].str());
      }
      if (std::regex_search(text, match, request)) {
        object["request"] = match[1].str();
      }
      line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
      line = fmt::format("{} {} {}\n", stamp, level, text);
    }
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  bool m_json;
};

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() < kShortestSecret) {
      continue;
    }
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

void set_log_secrets(std::vector<std::string> secrets) {
  std::lock_guard lock(g_secrets_mutex);
  g_secrets = std::move(secrets);
}

std::vector<std::string> config_secrets(const Config& config) {
  std::vector<std::string> secrets;
  for (const WarehouseConfig& warehouse : config.warehouses) {
    connection_secrets(warehouse.connection, secrets);
  }
  if (!config.monitor.api_token.empty()) {
    secrets.push_back(config.monitor.api_token);
  }
  for (const ExecutorSpec& executor : config.executors) {
    if (const auto* webhook = std::get_if<WebhookSpec>(&executor.kind)) {
      if (webhook->signing_secret) {
        secrets.push_back(*webhook->signing_secret);
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
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  return secrets;
}

void configure_logging(const std::string& format, const std::string& level) {
  auto sink = std::make_shared<RedactingSink>(format == "json");
  auto logger = std::make_shared<spdlog::logger>("gapwatch", sink);
  logger->set_level(spdlog::level::from_str(level == "warn" ? "warning" : level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace gapwatch
