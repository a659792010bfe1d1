// The `monitor:` section: the daemon's own settings (state database,
// workers, dry run, shutdown grace, HTTP listener and its token, logging).
// Problems are reported through the YamlReader and make the load fail; what
// is usable is kept. Not thread-safe: part of one ConfigLoader's load.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "monitor/config/config_loader.h"

namespace gapwatch {

namespace {

constexpr std::array<std::string_view, 8> kMonitorKeys{
    "state", "workers", "dry_run", "shutdown_grace", "listen", "api_token", "log_format",
    "log_level"};
constexpr std::array<std::string_view, 2> kLogFormats{"text", "json"};
constexpr std::array<std::string_view, 4> kLogLevels{"debug", "info", "warn", "error"};

// host:port with a port of at most 65535 (0: any free port) and a host that
// is a name, an IPv4 address or a bracketed IPv6 address.
bool valid_listen_address(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() ||
      text.size() - colon - 1 > 5) {
    return false;
  }
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  int number = 0;
  const auto [end, status] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.front() < '0' || port.front() > '9' || status != std::errc{} ||
      end != port.data() + port.size() || number > 65535) {
    return false;
  }
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']' &&
           std::all_of(host.begin() + 1, host.end() - 1, [](char c) {
             return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
           });
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-';
  });
}

}  // namespace

MonitorConfig load_monitor_section(YamlReader& reader, const Field& field) {
  MonitorConfig monitor;
  const auto map = reader.map(field, kMonitorKeys);
  if (!map) {
    return monitor;
  }
  KeyReader keys(reader, *map);
  if (const auto state = keys.field("state")) {
    const auto path = reader.string(*state);
    if (path && path->empty()) {
      // SQLite would open a private temporary database: every incident lost.
      reader.error(*state, "the state path is empty");
    } else {
      monitor.state_path = path.value_or(monitor.state_path);
    }
  }
  keys.integer("workers", 1, 256, monitor.workers);
  keys.boolean("dry_run", monitor.dry_run);
  keys.duration("shutdown_grace", ZeroDuration::allowed, monitor.shutdown_grace);
  if (const auto listen = keys.field("listen")) {
    if (const auto text = reader.string(*listen)) {
      const bool valid = *text == "off" || valid_listen_address(*text);
      if (valid) {
        monitor.listen = *text;
      } else {
        reader.error(*listen, fmt::format("'{}' is not host:port (e.g. 127.0.0.1:9464, port "
                                          "0-65535) or off",
                                          *text));
      }
    }
  }
  if (const auto token = keys.field("api_token")) {
    monitor.api_token = reader.string(*token).value_or("");
    if (!monitor.api_token.empty() && monitor.api_token.size() < 16) {
      reader.error(*token, "api_token is shorter than 16 characters; use a long random value");
    }
  }
  keys.choice("log_format", kLogFormats, monitor.log_format);
  keys.choice("log_level", kLogLevels, monitor.log_level);
  return monitor;
}

}  // namespace gapwatch
