// Fuzz target: Api::handle on requests decoded from arbitrary bytes, without
// sockets. The input is read as lines — method, path (with an optional
// ?query of k=v pairs joined by &), the Authorization header, then the body —
// so the fuzzer can reach every endpoint, the token check and the JSON body
// parsers. The Api runs over a StateStore in a temporary directory made once
// per process (removed at exit) holding an open and a resolved incident, and
// a config with an api_token, a dry-run executor and a backfilled rule.
// Properties: no crash or exception; the status is 200..599; a JSON response
// is valid JSON; a 401 names the scheme; a 405 says what is allowed.
#include <stdlib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "monitor/http/api.h"
#include "monitor/config/config.h"
#include "monitor/http/metrics.h"
#include "monitor/state/state_store.h"
#include "monitor/http/status_board.h"
#include "rules/clock.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace gapwatch;
using namespace std::chrono;

constexpr std::string_view kConfig = R"(version: 1
monitor:
  api_token: fuzz-token-0123456789
  dry_run: true
warehouses:
  - name: shop
    connection: "Driver=SQLite3;Database=/nonexistent/warehouse.db"
executors:
  - name: reload
    command:
      argv: ["/bin/true", "{table}", "{window_start}", "{window_end}"]
rules:
  - name: events_hourly
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 2d}
    fail: {min: 10}
    backfill: {executor: reload, max_window: 6h}
  - name: orders_fresh
    table: orders
    check: freshness
    timestamp_column: updated_at
    fail: {max: 2h}
)";

const Instant kNow = sys_days{2026y / March / 2} + hours{12};

// Everything the Api needs, built once per process.
class Fixture {
 public:
  Fixture() {
    const std::filesystem::path base = std::filesystem::temp_directory_path();
    std::string pattern = (base / "gapwatch-api-fuzz-XXXXXX").string();
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
    m_directory = pattern;
    const std::string config_path = (m_directory / "gapwatch.yaml").string();
    std::ofstream(config_path) << kConfig;

    auto loaded = load_config_text(kConfig, config_path,
                                   [](const std::string&) { return std::nullopt; });
    FUZZ_CHECK(loaded.has_value());
    m_config = std::make_shared<const Config>(std::move(*loaded));
    auto store = StateStore::open((m_directory / "state.db").string());
    FUZZ_CHECK(store.has_value());
    m_store = std::move(*store);
    add_incident("events_hourly", IncidentState::open, std::nullopt);
    add_incident("orders_fresh", IncidentState::resolved, kNow - hours{1});

    m_board.set_rules(m_config->rules);
    m_metrics.set_rules(m_config->rules);
    m_api = std::make_unique<Api>(ApiContext{
        [config = m_config] { return config; }, m_store.get(), &m_metrics, &m_board, &m_clock,
        config_path, [] {}, [] {}, {}});
  }

  ~Fixture() {
    m_api.reset();
    m_store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(m_directory, ignored);
  }

  const Api& api() const { return *m_api; }

 private:
  void add_incident(const std::string& rule, IncidentState state,
                    std::optional<Instant> resolved_at) {
    Incident incident;
    incident.rule = rule;
    incident.state = state;
    incident.opened_at = kNow - hours{3};
    incident.updated_at = kNow - hours{2};
    incident.resolved_at = resolved_at;
    incident.message = "2 buckets below 10 rows";
    incident.windows = {Window{kNow - hours{5}, kNow - hours{4}, Status::fail}};
    FUZZ_CHECK(m_store->insert_incident(incident).has_value());
  }

  std::filesystem::path m_directory;
  std::shared_ptr<const Config> m_config;
  std::unique_ptr<StateStore> m_store;
  Metrics m_metrics;
  StatusBoard m_board;
  ManualClock m_clock{kNow};
  std::unique_ptr<Api> m_api;
};

// The next line of `input` (without its '\n'); consumes it.
std::string_view take_line(std::string_view& input) {
  const std::size_t end = input.find('\n');
  const std::string_view line = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return line;
}

HttpRequest decode(std::string_view input) {
  HttpRequest request;
  request.method = std::string(take_line(input));
  std::string_view target = take_line(input);
  const std::size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const std::size_t equals = pair.find('=');
      request.query[std::string(pair.substr(0, equals))] =
          equals == std::string_view::npos ? "" : std::string(pair.substr(equals + 1));
      query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    }
  }
  request.authorization = std::string(take_line(input));
  request.body = std::string(input);
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  const HttpRequest request =
      decode(std::string_view(reinterpret_cast<const char*>(data), size));
  HttpResponse response = fixture.api().handle(request);
  response.body = body_of(response);
  FUZZ_CHECK(response.status >= 200 && response.status <= 599);
  FUZZ_CHECK(!response.content_type.empty());
  if (response.content_type == "application/json") {
    FUZZ_CHECK(!nlohmann::json::parse(response.body, nullptr, false).is_discarded());
  }
  if (response.status == 401) {
    FUZZ_CHECK(response.headers.contains("WWW-Authenticate"));
  }
  if (response.status == 405) {
    FUZZ_CHECK(response.headers.contains("Allow"));
  }
  return 0;
}
