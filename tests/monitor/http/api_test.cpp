#include "monitor/http/api.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/monitor/state/state_support.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using testing::at;
using testing::open_store;
using testing::TemporaryDirectory;
using testing::value_of;

const Instant kNow = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + hours{12};
constexpr std::string_view kToken = "test-token-0123456789";
constexpr std::string_view kWithToken = "monitor:\n  api_token: \"test-token-0123456789\"\n";
constexpr std::string_view kWithoutToken = "";

// Two warehouses; events_hourly is backfilled through `reload`, orders_fresh
// has no backfill.
std::string config_text(std::string_view monitor) {
  return "version: 1\n" + std::string(monitor) + R"(warehouses:
  - name: shop
    connection: "Driver=X"
  - name: lake
    connection: "Driver=Y"
executors:
  - name: reload
    command:
      argv: ["/bin/true", "{window_start}", "{window_end}"]
rules:
  - name: events_hourly
    warehouse: shop
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 2d}
    fail: {min: 10}
    backfill: {executor: reload}
  - name: orders_fresh
    warehouse: lake
    table: orders
    check: freshness
    timestamp_column: updated_at
    fail: {max: 2h}
)";
}

std::shared_ptr<const Config> load(std::string_view monitor) {
  ConfigResult loaded = load_config_text(config_text(monitor), "gapwatch.yaml",
                                         [](const std::string&) { return std::nullopt; });
  REQUIRE_MESSAGE(loaded.has_value(), (loaded ? std::string() : loaded.error().front().format()));
  return std::make_shared<const Config>(std::move(*loaded));
}

std::string bearer(std::string_view token = kToken) {
  return "Bearer " + std::string(token);
}

// An Api over a real state database in a temporary directory, with the
// configuration file it reloads from at `config_path` (absent until written).
class ApiFixture {
 public:
  explicit ApiFixture(std::string_view monitor = kWithToken)
      : config(load(monitor)), config_path(directory.file("gapwatch.yaml")), api(context()) {
    board.set_rules(config->rules);
    metrics.set_rules(config->rules);
  }

  HttpResponse call(std::string method, std::string path, std::string body = "",
                    std::string authorization = bearer(),
                    std::map<std::string, std::string> query = {}) const {
    HttpResponse response = api.handle(HttpRequest{std::move(method), std::move(path),
                                                   std::move(query), std::move(authorization),
                                                   std::move(body)});
    response.body = body_of(response);  // a streamed body, whole
    return response;
  }
  HttpResponse get(std::string path, std::map<std::string, std::string> query = {}) const {
    return call("GET", std::move(path), "", "", std::move(query));
  }
  HttpResponse post(std::string path, std::string body = "") const {
    return call("POST", std::move(path), std::move(body));
  }

  std::int64_t add_incident(IncidentState state = IncidentState::open,
                            std::string rule = "events_hourly") {
    Incident incident;
    incident.rule = std::move(rule);
    incident.state = state;
    incident.severity = Severity::critical;
    incident.opened_at = kNow - hours{1};
    incident.updated_at = kNow - hours{1};
    incident.message = "2 bucket(s) below 10 rows";
    incident.windows = {Window{kNow - hours{6}, kNow - hours{4}, Status::fail}};
    return value_of(store->insert_incident(incident));
  }

  Incident incident(std::int64_t id) {
    const std::optional<Incident> found = value_of(store->incident(id));
    REQUIRE(found.has_value());
    return *found;
  }

  std::vector<EventRecord> events(std::int64_t id) {
    return value_of(store->events_for_incident(id));
  }

  void write_config(std::string_view text) const {
    std::ofstream out(config_path, std::ios::binary);
    out << text;
  }

  TemporaryDirectory directory;
  std::unique_ptr<StateStore> store = open_store(directory.file("state.db"));
  Metrics metrics;
  StatusBoard board;
  ManualClock clock{kNow};
  std::shared_ptr<const Config> config;
  std::string config_path;
  int reloads = 0;
  std::vector<std::string> rejected;  // the problems of refused reloads, as reported
  int state_changes = 0;  // writes the daemon is told of
  Api api;

 private:
  ApiContext context() {
    ApiContext context;
    context.config = [this] { return config; };
    context.store = store.get();
    context.metrics = &metrics;
    context.board = &board;
    context.clock = &clock;
    context.config_path = config_path;
    context.request_reload = [this] { ++reloads; };
    context.reload_rejected = [this](const std::vector<ConfigError>& errors) {
      for (const ConfigError& error : errors) {
        rejected.push_back(error.format());
      }
    };
    context.state_changed = [this] { ++state_changes; };
    return context;
  }
};

json json_of(const HttpResponse& response) {
  CHECK(response.content_type == "application/json");
  const json body = json::parse(response.body, nullptr, false);
  REQUIRE_MESSAGE(!body.is_discarded(), response.body);
  return body;
}

// The response is `status` with a JSON error body; returns the message.
std::string error_of(const HttpResponse& response, int status) {
  CHECK_MESSAGE(response.status == status, response.body);
  const json body = json_of(response);
  REQUIRE_MESSAGE(body.contains("error"), response.body);
  REQUIRE(body["error"].is_string());
  CHECK_FALSE(body["error"].get<std::string>().empty());
  return body["error"].get<std::string>();
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

RuleResult result_for(std::string rule, std::string warehouse, Status status,
                      QueryOutcome query = QueryOutcome::ok) {
  RuleResult result;
  result.rule = std::move(rule);
  result.warehouse = std::move(warehouse);
  result.evaluated_at = kNow;
  result.query = query;
  result.verdict.status = status;
  result.verdict.message = "a message";
  return result;
}

// ---------------------------------------------------------------------------
// Routing

TEST_CASE("api: unknown paths answer 404 with a JSON error") {
  ApiFixture fixture;
  for (const char* path :
       {"/nope", "/api", "/api/v1", "/api/v1/nope", "/api/v2/rules", "/metrics/extra",
        "/api/v1/rules/events_hourly", "/api/v1/incidents/1/bogus", "/api/v1/incidents/1/ack/now",
        "/-", "/-/restart", "/readyz/x"}) {
    CAPTURE(path);
    CHECK(contains(error_of(fixture.get(path), 404), path));
  }
}

TEST_CASE("api: text that is not UTF-8 still gets a JSON answer") {
  ApiFixture fixture;
  // A decoded path is whatever bytes the client sent.
  CHECK(contains(error_of(fixture.get("/caf\xe9"), 404), "caf\xef\xbf\xbd"));
  CHECK(contains(error_of(fixture.get("/api/v1/incidents/\xff"), 400), "\xef\xbf\xbd"));

  // Warehouse drivers may answer in Latin-1.
  RuleResult result = result_for("events_hourly", "shop", Status::error);
  result.verdict.message =
      "relation \xab"
      "events\xbb does not exist";
  result.verdict.error = result.verdict.message;
  fixture.board.record(result);
  const HttpResponse rules = fixture.get("/api/v1/rules");
  CHECK(rules.status == 200);
  CHECK(json_of(rules)["rules"][0]["last_result"]["message"] ==
        "relation \xef\xbf\xbd"
        "events\xef\xbf\xbd does not exist");

  const std::int64_t id = fixture.add_incident();
  Incident incident = fixture.incident(id);
  incident.message = result.verdict.message;
  REQUIRE(fixture.store->update_incident(incident).has_value());
  CHECK(fixture.get("/api/v1/incidents").status == 200);
  CHECK(fixture.get("/api/v1/incidents/" + std::to_string(id)).status == 200);
}

TEST_CASE("api: a wrong method answers 405 with Allow") {
  ApiFixture fixture;
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"POST", "/", "GET"},
      {"POST", "/metrics", "GET"},
      {"PUT", "/healthz", "GET"},
      {"DELETE", "/readyz", "GET"},
      {"POST", "/api/v1/rules", "GET"},
      {"POST", "/api/v1/incidents", "GET"},
      {"DELETE", "/api/v1/incidents/1", "GET"},
      {"GET", "/api/v1/incidents/1/ack", "POST"},
      {"GET", "/api/v1/incidents/1/resolve", "POST"},
      {"PUT", "/api/v1/incidents/1/retry", "POST"},
      {"GET", "/api/v1/backfills", "POST"},
      {"GET", "/-/reload", "POST"},
  };
  for (const auto& [method, path, allowed] : cases) {
    CAPTURE(method);
    CAPTURE(path);
    const HttpResponse response = fixture.call(method, path);
    error_of(response, 405);
    REQUIRE(response.headers.contains("Allow"));
    CHECK(response.headers.at("Allow") == allowed);
  }
  CHECK(fixture.reloads == 0);
}

TEST_CASE("api: HEAD is answered like GET") {
  ApiFixture fixture;
  CHECK(fixture.call("HEAD", "/healthz", "", "").status == 200);
  CHECK(fixture.call("HEAD", "/metrics", "", "").status == 200);
}

TEST_CASE("api: repeated and trailing slashes do not change the endpoint") {
  ApiFixture fixture;
  CHECK(fixture.get("/healthz/").status == 200);
  CHECK(fixture.get("//api//v1/rules").status == 200);
}

TEST_CASE("api: an incident id that is not a positive number answers 400") {
  ApiFixture fixture;
  for (const char* id : {"abc", "-1", "0", "00", "1.5", "+1", "1abc", "0x10", " 1",
                         "99999999999999999999", "9223372036854775808"}) {
    CAPTURE(id);
    const std::string path = std::string("/api/v1/incidents/") + id;
    CHECK(contains(error_of(fixture.get(path), 400), "is not an incident id"));
    error_of(fixture.post(path + "/ack"), 400);
  }
}

TEST_CASE("api: an unknown incident answers 404") {
  ApiFixture fixture;
  CHECK(error_of(fixture.get("/api/v1/incidents/42"), 404) == "no incident 42");
  CHECK(error_of(fixture.get("/api/v1/incidents/9223372036854775807"), 404) ==
        "no incident 9223372036854775807");
  for (const char* action : {"ack", "resolve", "retry"}) {
    CAPTURE(action);
    CHECK(error_of(fixture.post(std::string("/api/v1/incidents/42/") + action), 404) ==
          "no incident 42");
  }
}

// ---------------------------------------------------------------------------
// Reads

TEST_CASE("api: /healthz answers alive") {
  ApiFixture fixture;
  const HttpResponse response = fixture.get("/healthz");
  CHECK(response.status == 200);
  CHECK(json_of(response) == json{{"status", "alive"}});
}

TEST_CASE("api: /metrics is the Prometheus text format") {
  ApiFixture fixture;
  const HttpResponse response = fixture.get("/metrics");
  CHECK(response.status == 200);
  CHECK(response.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(contains(response.body, "gapwatch_build_info{version=\"" GAPWATCH_VERSION "\"} 1"));
  CHECK(contains(response.body, "gapwatch_rule_status{"));
}

TEST_CASE("api: /readyz is 503 with reasons until every warehouse has been reached") {
  ApiFixture fixture;
  HttpResponse response = fixture.get("/readyz");
  CHECK(response.status == 503);
  json body = json_of(response);
  CHECK(body["ready"] == false);
  CHECK(body["reasons"] ==
        json{"warehouse shop has not been reached yet", "warehouse lake has not been reached yet"});

  fixture.metrics.record_result(result_for("events_hourly", "shop", Status::fail));
  body = json_of(fixture.get("/readyz"));
  CHECK(body["reasons"] == json{"warehouse lake has not been reached yet"});

  SUBCASE("a warehouse that could not be reached keeps it not ready") {
    fixture.metrics.record_result(
        result_for("orders_fresh", "lake", Status::error, QueryOutcome::not_run));
    response = fixture.get("/readyz");
    CHECK(response.status == 503);
    CHECK(json_of(response)["reasons"] == json{"warehouse lake is unreachable"});
  }
  SUBCASE("once every warehouse was reached it is ready, whatever the verdicts") {
    fixture.metrics.record_result(
        result_for("orders_fresh", "lake", Status::error, QueryOutcome::timeout));
    response = fixture.get("/readyz");
    CHECK(response.status == 200);
    CHECK(json_of(response) == json{{"ready", true}});
  }
}

TEST_CASE("api: /readyz ignores a warehouse that no rule uses") {
  // Nothing ever connects to it, so waiting for it would never end.
  std::string text = config_text(kWithToken);
  const std::string lake = "  - name: lake\n";
  text.insert(text.find(lake), "  - name: spare\n    connection: \"Driver=Z\"\n");
  ConfigResult loaded =
      load_config_text(text, "gapwatch.yaml", [](const std::string&) { return std::nullopt; });
  REQUIRE(loaded.has_value());
  REQUIRE(loaded->warehouses.size() == 3);
  ApiFixture fixture;
  fixture.config = std::make_shared<const Config>(std::move(*loaded));
  fixture.metrics.record_result(result_for("events_hourly", "shop", Status::pass));
  fixture.metrics.record_result(result_for("orders_fresh", "lake", Status::pass));
  const HttpResponse response = fixture.get("/readyz");
  CHECK(response.status == 200);
  CHECK(json_of(response) == json{{"ready", true}});
}

TEST_CASE("api: /api/v1/rules lists every rule with its last result and next evaluation") {
  ApiFixture fixture;
  json body = json_of(fixture.get("/api/v1/rules"));
  REQUIRE(body["rules"].size() == 2);
  CHECK(body["rules"][0]["rule"] == "events_hourly");
  CHECK(body["rules"][0]["check"] == "row_count");
  CHECK(body["rules"][0]["warehouse"] == "shop");
  CHECK(body["rules"][0]["last_result"].is_null());
  CHECK(body["rules"][0]["next_evaluation"].is_null());
  CHECK(body["rules"][1]["rule"] == "orders_fresh");

  fixture.board.record(result_for("orders_fresh", "lake", Status::fail));
  fixture.board.set_next_due("orders_fresh", kNow + minutes{5});
  fixture.board.record_skipped("orders_fresh");
  body = json_of(fixture.get("/api/v1/rules"));
  CHECK(body["rules"][1]["last_result"]["status"] == "fail");
  CHECK(body["rules"][1]["last_result"]["message"] == "a message");
  CHECK(body["rules"][1]["next_evaluation"] == "2026-03-02T12:05:00Z");
  CHECK(body["rules"][1]["skipped_evaluations"] == 1);
}

TEST_CASE("api: /api/v1/incidents lists open incidents, or all with state=all") {
  ApiFixture fixture;
  const std::int64_t open = fixture.add_incident(IncidentState::open);
  const std::int64_t resolved = fixture.add_incident(IncidentState::resolved, "orders_fresh");

  json body = json_of(fixture.get("/api/v1/incidents"));
  REQUIRE(body["incidents"].size() == 1);
  CHECK(body["incidents"][0]["id"] == open);

  body = json_of(fixture.get("/api/v1/incidents", {{"state", "open"}}));
  CHECK(body["incidents"].size() == 1);

  body = json_of(fixture.get("/api/v1/incidents", {{"state", "all"}}));
  std::vector<std::int64_t> ids;
  for (const json& item : body["incidents"]) {
    ids.push_back(item["id"].get<std::int64_t>());
  }
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::int64_t>{open, resolved});

  CHECK(error_of(fixture.get("/api/v1/incidents", {{"state", "closed"}}), 400) ==
        "state must be open or all");
}

TEST_CASE("api: /api/v1/incidents/{id} shows the windows, requests and history") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident();
  REQUIRE(fixture
              .post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "2026-03-02T06:00:00Z", "to": "2026-03-02T08:00:00Z"})")
              .status == 201);
  CHECK(fixture.state_changes == 1);  // the daemon reads its outbox now
  const HttpResponse response = fixture.get("/api/v1/incidents/" + std::to_string(id));
  CHECK(response.status == 200);
  const json body = json_of(response);
  CHECK(body["id"] == id);
  CHECK(body["rule"] == "events_hourly");
  CHECK(body["windows"] ==
        json::array({json{{"start", "2026-03-02T06:00:00Z"}, {"end", "2026-03-02T08:00:00Z"}}}));
  REQUIRE(body["requests"].size() == 1);
  CHECK(body["requests"][0]["executor"] == "reload");
  CHECK(body["requests"][0]["attempt"] == 1);
  REQUIRE(body["events"].size() == 2);
  CHECK(body["events"][0]["kind"] == "request_manual");
  CHECK(body["events"][1]["kind"] == "state_backfilling");
}

// ---------------------------------------------------------------------------
// Authorization

TEST_CASE("api: a write without the right bearer token answers 401 with WWW-Authenticate") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident();
  const std::string ack = "/api/v1/incidents/" + std::to_string(id) + "/ack";
  const std::string token(kToken);
  for (const std::string& authorization :
       {std::string(), std::string("Bearer"), std::string("Bearer "),
        bearer("wrong-token-0123456789"), bearer(token + "x"),
        bearer(token.substr(0, token.size() - 1)), "Basic " + token,
        std::string("Basic dXNlcjp0ZXN0LXRva2VuLTAxMjM0NTY3ODk="), token, "Bearer  " + token,
        "Token " + token}) {
    CAPTURE(authorization);
    for (const std::string& path :
         {ack, std::string("/api/v1/backfills"), std::string("/-/reload")}) {
      CAPTURE(path);
      const HttpResponse response = fixture.call("POST", path, "{}", authorization);
      error_of(response, 401);
      REQUIRE(response.headers.contains("WWW-Authenticate"));
      CHECK(response.headers.at("WWW-Authenticate") == "Bearer");
    }
  }
  CHECK_FALSE(fixture.incident(id).acknowledged_at.has_value());
  CHECK(fixture.events(id).empty());
  CHECK(fixture.reloads == 0);
  CHECK(fixture.state_changes == 0);
}

TEST_CASE("api: the token is checked before the body") {
  ApiFixture fixture;
  const HttpResponse response = fixture.call("POST", "/api/v1/backfills", "not json", "");
  error_of(response, 401);
}

TEST_CASE("api: with no token configured every write answers 403 and reads still work") {
  ApiFixture fixture(kWithoutToken);
  const std::int64_t id = fixture.add_incident();
  const std::string base = "/api/v1/incidents/" + std::to_string(id);
  for (const std::string& authorization : {std::string(), bearer(), std::string("Bearer ")}) {
    CAPTURE(authorization);
    for (const std::string& path : {base + "/ack", base + "/resolve", base + "/retry",
                                    std::string("/api/v1/backfills"), std::string("/-/reload")}) {
      CAPTURE(path);
      const HttpResponse response = fixture.call("POST", path, "{}", authorization);
      CHECK(contains(error_of(response, 403), "monitor.api_token"));
      CHECK_FALSE(response.headers.contains("WWW-Authenticate"));
    }
  }
  CHECK(fixture.incident(id).state == IncidentState::open);
  CHECK(fixture.events(id).empty());
  CHECK(value_of(fixture.store->requests_for_rule("events_hourly")).empty());
  CHECK(fixture.reloads == 0);
  CHECK(fixture.get("/api/v1/incidents").status == 200);
  CHECK(fixture.get(base).status == 200);
}

TEST_CASE("api: constant_time_equal compares whole strings") {
  CHECK(constant_time_equal("secret-token", "secret-token"));
  CHECK_FALSE(constant_time_equal("secret-token", "secret-tokem"));
  CHECK_FALSE(constant_time_equal("secret-token", "secret-token-longer"));
  CHECK_FALSE(constant_time_equal("secret-token", ""));
  CHECK(constant_time_equal("", ""));
}

// ---------------------------------------------------------------------------
// Incident actions

TEST_CASE("api: ack records who acknowledged and answers with the incident") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident();
  fixture.clock.advance(minutes{3});
  const HttpResponse response =
      fixture.post("/api/v1/incidents/" + std::to_string(id) + "/ack", R"({"by": "alice"})");
  CHECK(response.status == 200);
  const json body = json_of(response);
  CHECK(body["id"] == id);
  CHECK(body["acknowledged_at"] == "2026-03-02T12:03:00Z");

  const Incident stored = fixture.incident(id);
  CHECK(stored.acknowledged_at == kNow + minutes{3});
  CHECK(stored.state == IncidentState::open);
  const std::vector<EventRecord> events = fixture.events(id);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == "acknowledged");
  CHECK(events[0].detail == "acknowledged by api: alice");
  CHECK(body["events"][0]["detail"] == "acknowledged by api: alice");
}

TEST_CASE("api: an action without a body is recorded as by the api") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident();
  CHECK(fixture.post("/api/v1/incidents/" + std::to_string(id) + "/ack").status == 200);
  CHECK(fixture.post("/api/v1/incidents/" + std::to_string(id) + "/resolve", "{}").status == 200);
  const std::vector<EventRecord> events = fixture.events(id);
  REQUIRE(events.size() == 2);
  CHECK(events[0].detail == "acknowledged by api");
  CHECK(events[1].detail == "resolved by api");
}

TEST_CASE("api: resolve closes the incident, cancels its pending requests and cannot repeat") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident();
  REQUIRE(fixture
              .post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "2026-03-02T06:00:00Z", "to": "2026-03-02T08:00:00Z"})")
              .status == 201);
  const std::string resolve = "/api/v1/incidents/" + std::to_string(id) + "/resolve";

  const HttpResponse response = fixture.post(resolve, R"({"by": "bob"})");
  CHECK(response.status == 200);
  CHECK(json_of(response)["state"] == "resolved");
  CHECK(fixture.state_changes == 2);
  const Incident stored = fixture.incident(id);
  CHECK(stored.state == IncidentState::resolved);
  CHECK(stored.resolved_at == kNow);
  const std::vector<RequestRecord> requests = value_of(fixture.store->requests_for_incident(id));
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].state == RequestState::cancelled);
  const std::vector<EventRecord> events = fixture.events(id);
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().kind == "resolved");
  CHECK(events.back().detail == "resolved by api: bob");

  const HttpResponse again = fixture.post(resolve, R"({"by": "bob"})");
  CHECK(contains(error_of(again, 409), "already resolved"));
  CHECK(fixture.events(id).size() == events.size());

  CHECK(contains(error_of(fixture.post("/api/v1/incidents/" + std::to_string(id) + "/retry"), 409),
                 "resolved"));  CHECK(fixture.state_changes == 2);  // refused writes change nothing
}

TEST_CASE("api: retry reopens an escalated incident and records who") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident(IncidentState::escalated);
  fixture.clock.advance(minutes{1});
  const HttpResponse response =
      fixture.post("/api/v1/incidents/" + std::to_string(id) + "/retry", R"({"by": "carol"})");
  CHECK(response.status == 200);
  const Incident stored = fixture.incident(id);
  CHECK(stored.state == IncidentState::open);
  CHECK(stored.retried_at == kNow + minutes{1});
  const std::vector<EventRecord> events = fixture.events(id);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == "retried");
  CHECK(contains(events[0].detail, "retried by api: carol"));
  CHECK(json_of(response)["retried_at"] == "2026-03-02T12:01:00Z");
}

TEST_CASE("api: a malformed action body answers 400 and changes nothing") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident();
  const std::string ack = "/api/v1/incidents/" + std::to_string(id) + "/ack";
  for (const std::string& body :
       {std::string("{"), std::string("not json"), std::string("[]"), std::string("\"alice\""),
        std::string("42"), std::string("null"), std::string(R"({"by": 5})"),
        std::string(R"({"by": null})"), std::string(R"({"by": ["alice"]})"),
        std::string(R"({"by": {"name": "alice"}})"),
        R"({"by": ")" + std::string(201, 'a') + "\"}"}) {
    CAPTURE(body);
    error_of(fixture.post(ack, body), 400);
  }
  CHECK_FALSE(fixture.incident(id).acknowledged_at.has_value());
  CHECK(fixture.events(id).empty());

  CHECK(fixture.post(ack, R"({"by": ")" + std::string(200, 'a') + "\"}").status == 200);
}

// ---------------------------------------------------------------------------
// Manual backfills

TEST_CASE("api: a good backfill answers 201 and the request is pending in the store") {
  ApiFixture fixture;
  const HttpResponse response = fixture.post(
      "/api/v1/backfills",
      R"({"rule": "events_hourly", "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T06:00:00Z"})");
  CHECK(response.status == 201);
  const json body = json_of(response);
  CHECK(body["state"] == "pending");
  CHECK(body["executor"] == "reload");
  CHECK(body["window"] == json{{"start", "2026-03-01T00:00:00Z"}, {"end", "2026-03-01T06:00:00Z"}});

  const std::vector<RequestRecord> stored =
      value_of(fixture.store->requests_for_rule("events_hourly"));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].id == body["id"].get<std::string>());
  CHECK(stored[0].state == RequestState::pending);
  CHECK(stored[0].executor == "reload");
  CHECK(stored[0].window.start == at("2026-03-01T00:00:00Z"));
  CHECK(stored[0].window.end == at("2026-03-01T06:00:00Z"));
  CHECK_FALSE(stored[0].incident_id.has_value());
  CHECK(stored[0].created_at == kNow);
}

TEST_CASE("api: a backfill joins the rule's open incident") {
  ApiFixture fixture;
  const std::int64_t id = fixture.add_incident();
  REQUIRE(fixture
              .post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "2026-03-02T06:00:00Z", "to": "2026-03-02T08:00:00Z"})")
              .status == 201);
  const std::vector<RequestRecord> stored = value_of(fixture.store->requests_for_incident(id));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].incident_id == std::optional<std::int64_t>(id));
  CHECK(fixture.incident(id).state == IncidentState::backfilling);
}

TEST_CASE("api: a backfill in dry-run mode is recorded but not pending") {
  ApiFixture fixture("monitor:\n  api_token: \"test-token-0123456789\"\n  dry_run: true\n");
  REQUIRE(fixture
              .post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "2026-03-02T06:00:00Z", "to": "2026-03-02T08:00:00Z"})")
              .status == 201);
  const std::vector<RequestRecord> stored =
      value_of(fixture.store->requests_for_rule("events_hourly"));
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].state == RequestState::dry_run);
}

TEST_CASE("api: a malformed backfill body answers 400") {
  ApiFixture fixture;
  const std::vector<std::string> bodies = {
      "",
      "not json",
      "{\"rule\": ",
      "[1, 2]",
      "\"events_hourly\"",
      "{}",
      R"({"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T06:00:00Z"})",
      R"({"rule": "events_hourly", "to": "2026-03-01T06:00:00Z"})",
      R"({"rule": "events_hourly", "from": "2026-03-01T00:00:00Z"})",
      R"({"rule": 5, "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T06:00:00Z"})",
      R"({"rule": "events_hourly", "from": 1772323200, "to": "2026-03-01T06:00:00Z"})",
      R"({"rule": "events_hourly", "from": "2026-03-01T00:00:00Z", "to": null})",
      R"({"rule": "events_hourly", "from": "yesterday", "to": "2026-03-01T06:00:00Z"})",
      R"({"rule": "events_hourly", "from": "2026-03-01T00:00:00Z", "to": "2026-13-01T06:00:00Z"})",
  };
  for (const std::string& body : bodies) {
    CAPTURE(body);
    error_of(fixture.post("/api/v1/backfills", body), 400);
  }
  CHECK(contains(error_of(fixture.post("/api/v1/backfills", R"({"rule": "events_hourly"})"), 400),
                 "'from'"));
  CHECK(value_of(fixture.store->requests_for_rule("events_hourly")).empty());
}

TEST_CASE("api: a backfill for an unknown rule answers 404") {
  ApiFixture fixture;
  CHECK(error_of(fixture.post("/api/v1/backfills", R"({"rule": "nope",
      "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T06:00:00Z"})"),
                 404) == "no rule named 'nope'");
}

TEST_CASE("api: a backfill for a rule without backfill answers 400") {
  ApiFixture fixture;
  CHECK(error_of(fixture.post("/api/v1/backfills", R"({"rule": "orders_fresh",
      "from": "2026-03-01T00:00:00Z", "to": "2026-03-01T06:00:00Z"})"),
                 400) == "rule 'orders_fresh' has no backfill executor");
  CHECK(value_of(fixture.store->requests_for_rule("orders_fresh")).empty());
}

TEST_CASE("api: a backfill window that is reversed or empty answers 400") {
  ApiFixture fixture;
  CHECK(error_of(fixture.post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "2026-03-01T06:00:00Z", "to": "2026-03-01T00:00:00Z"})"),
                 400) == "to must be after from");
  CHECK(error_of(fixture.post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "2026-03-01T06:00:00Z", "to": "2026-03-01T06:00:00Z"})"),
                 400) == "to must be after from");
  CHECK(value_of(fixture.store->requests_for_rule("events_hourly")).empty());
}

// Issue 14, item 7: 1970 .. 2100 was accepted as one request over 130 years.
TEST_CASE("api: a backfill longer than max_window is cut into windows, as automatic ones are") {
  ApiFixture fixture;  // events_hourly: max_window 24h
  const HttpResponse response = fixture.post(
      "/api/v1/backfills",
      R"({"rule": "events_hourly", "from": "2026-03-01T00:00:00Z", "to": "2026-03-03T12:00:00Z"})");
  CHECK(response.status == 201);
  const json body = json_of(response);
  REQUIRE(body["requests"].is_array());
  REQUIRE(body["requests"].size() == 3);
  CHECK(body["requests"][0]["window"] ==
        json{{"start", "2026-03-01T00:00:00Z"}, {"end", "2026-03-02T00:00:00Z"}});
  CHECK(body["requests"][1]["window"] ==
        json{{"start", "2026-03-02T00:00:00Z"}, {"end", "2026-03-03T00:00:00Z"}});
  CHECK(body["requests"][2]["window"] ==
        json{{"start", "2026-03-03T00:00:00Z"}, {"end", "2026-03-03T12:00:00Z"}});
  CHECK(body["id"] == body["requests"][0]["id"]);  // the first, as before
  CHECK(value_of(fixture.store->requests_for_rule("events_hourly")).size() == 3);
}

TEST_CASE("api: a backfill beyond the bound on windows answers 400 and queues nothing") {
  ApiFixture fixture;
  const std::string message = error_of(fixture.post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "1970-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"})"),
                                       400);
  CHECK(contains(message, "47482 requests"));
  CHECK(contains(message, "at most 1000"));
  CHECK(value_of(fixture.store->requests_for_rule("events_hourly")).empty());
  // 1000 windows of 24h are still accepted.
  CHECK(fixture
            .post("/api/v1/backfills", R"({"rule": "events_hourly",
      "from": "2020-01-01T00:00:00Z", "to": "2022-09-27T00:00:00Z"})")
            .status == 201);
  CHECK(value_of(fixture.store->requests_for_rule("events_hourly")).size() == 1000);
}

// ---------------------------------------------------------------------------
// Reload

TEST_CASE("api: reload of a missing config file answers 400 and does not reload") {
  ApiFixture fixture;
  const HttpResponse response = fixture.post("/-/reload");
  CHECK(response.status == 400);
  const json body = json_of(response);
  CHECK(body["error"] == "the configuration is invalid; the running one is kept");
  REQUIRE(body["problems"].is_array());
  REQUIRE_FALSE(body["problems"].empty());
  CHECK(contains(body["problems"][0].get<std::string>(), fixture.config_path));
  CHECK(fixture.reloads == 0);
  CHECK(fixture.rejected == body["problems"].get<std::vector<std::string>>());
}

TEST_CASE("api: reload of a broken config file answers 400 with every problem") {
  ApiFixture fixture;
  fixture.write_config(R"(version: 1
warehouses:
  - name: shop
    connection: "Driver=X"
rules:
  - name: orders_fresh
    table: orders
    check: freshnes
    fail: {max: 2h}
    colour: blue
)");
  const HttpResponse response = fixture.post("/-/reload");
  CHECK(response.status == 400);
  const json body = json_of(response);
  REQUIRE(body["problems"].is_array());
  CHECK(body["problems"].size() >= 2);
  for (const json& problem : body["problems"]) {
    CHECK(contains(problem.get<std::string>(), fixture.config_path + ":"));
  }
  CHECK(fixture.reloads == 0);
  // Reported for the log, as a refused SIGHUP is: every problem, nothing more.
  CHECK(fixture.rejected == body["problems"].get<std::vector<std::string>>());
}

TEST_CASE("api: reload of a good config file answers 202 and requests one reload") {
  ApiFixture fixture;
  fixture.write_config(config_text(kWithToken));
  const HttpResponse response = fixture.post("/-/reload");
  CHECK(response.status == 202);
  CHECK(json_of(response) == json{{"status", "reload requested"}});
  CHECK(fixture.rejected.empty());
  CHECK(fixture.reloads == 1);
}

// ---------------------------------------------------------------------------
// Status page

TEST_CASE("api: GET / is the HTML status page with every text escaped") {
  ApiFixture fixture;
  RuleResult result = result_for("events_hourly", "shop", Status::fail);
  result.verdict.message = "<script>alert(1)</script>";
  fixture.board.record(result);
  const std::int64_t id = fixture.add_incident();
  Incident incident = fixture.incident(id);
  incident.message = "<script>alert(2)</script>";
  REQUIRE(fixture.store->update_incident(incident).has_value());

  const HttpResponse response = fixture.get("/");
  CHECK(response.status == 200);
  CHECK(response.content_type == "text/html; charset=utf-8");
  CHECK(response.body.starts_with("<!doctype html>"));
  CHECK_FALSE(contains(response.body, "<script"));
  CHECK(contains(response.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(contains(response.body, "&lt;script&gt;alert(2)&lt;/script&gt;"));
  CHECK(contains(response.body, "<b>events_hourly</b>"));
  CHECK(contains(response.body, "<h2>Open incidents (1)</h2>"));
}

TEST_CASE("api: the status page leaves resolved incidents out") {
  ApiFixture fixture;
  fixture.add_incident(IncidentState::resolved);
  CHECK(contains(fixture.get("/").body, "<h2>Open incidents (0)</h2>"));
}

}  // namespace
}  // namespace gapwatch
