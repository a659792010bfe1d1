#include "monitor/state/state_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/monitor/state/state_support.h"
#include "tests/rules/printers.h"
#include "tests/rules/support.h"

namespace gapwatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::at;
using testing::open_store;
using testing::TemporaryDirectory;
using testing::value_of;
using Transaction = StateStore::Transaction;

// Built without parsing: doctest's REQUIRE cannot run during static
// initialisation.
const Instant kNow = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2} + hours{10};

// A raw connection, to look at the file as another process would.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) == SQLITE_OK);
  }
  ~RawDatabase() { sqlite3_close(m_db); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  // The first column of the first row of `sql`, as text.
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(m_db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
    std::string value;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(statement, 0);
      value = text == nullptr ? "" : reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(statement);
    return value;
  }
  void execute(const std::string& sql) {
    REQUIRE_MESSAGE(sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK,
                    sqlite3_errmsg(m_db));
  }

 private:
  sqlite3* m_db = nullptr;
};

mode_t permissions_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

Incident make_incident(std::string rule, IncidentState state = IncidentState::open) {
  Incident incident;
  incident.rule = std::move(rule);
  incident.state = state;
  incident.severity = Severity::critical;
  incident.opened_at = kNow;
  incident.updated_at = kNow;
  incident.message = "3 of 24 buckets below 100 rows";
  incident.windows = {Window{kNow - hours{5}, kNow - hours{3}, Status::fail},
                      Window{kNow - hours{2}, kNow - hours{1}, Status::fail}};
  return incident;
}

RequestRecord make_request(std::string id, std::optional<std::int64_t> incident_id,
                           Instant next_attempt_at, Instant created_at = kNow) {
  RequestRecord request;
  request.id = std::move(id);
  request.incident_id = incident_id;
  request.rule = "events_hourly";
  request.executor = "reload";
  request.window = Window{kNow - hours{5}, kNow - hours{3}, Status::fail};
  request.attempt = 1;
  request.state = RequestState::pending;
  request.next_attempt_at = next_attempt_at;
  request.created_at = created_at;
  request.updated_at = created_at;
  request.values_json = R"({"table":"events"})";
  return request;
}

std::vector<std::string> ids_of(const std::vector<RequestRecord>& requests) {
  std::vector<std::string> ids;
  for (const RequestRecord& request : requests) {
    ids.push_back(request.id);
  }
  return ids;
}

TEST_CASE("state store: open creates an owner-only WAL database at schema version 4") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  const mode_t previous = umask(022);
  auto store = StateStore::open(path);
  umask(previous);
  REQUIRE_MESSAGE(store.has_value(), (store ? std::string() : store.error().message));
  CHECK((*store)->path() == path);

  CHECK(permissions_of(path) == 0600);
  for (const std::string suffix : {"-wal", "-shm"}) {
    if (std::filesystem::exists(path + suffix)) {
      CAPTURE(suffix);
      CHECK(permissions_of(path + suffix) == 0600);
    }
  }
  RawDatabase raw(path);
  CHECK(raw.scalar("PRAGMA journal_mode") == "wal");
  CHECK(raw.scalar("PRAGMA user_version") == "4");
  CHECK(StateStore::kSchemaVersion == 4);
  // The process umask is left as it was.
  const mode_t now = umask(022);
  umask(now);
  CHECK(now == 022);
}

TEST_CASE("state store: reopening keeps the data") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  std::int64_t id = 0;
  {
    auto store = open_store(path);
    id = value_of(store->insert_incident(make_incident("orders")));
    REQUIRE(store->insert_request(make_request("r1", id, kNow)).has_value());
  }
  auto store = open_store(path);
  const std::optional<Incident> incident = value_of(store->incident(id));
  REQUIRE(incident.has_value());
  CHECK(incident->rule == "orders");
  CHECK(value_of(store->request("r1")).has_value());
  RawDatabase raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == std::to_string(StateStore::kSchemaVersion));
}

TEST_CASE("state store: a database from a newer gapwatch is refused") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  {
    RawDatabase raw(path);
    raw.execute("CREATE TABLE future (x INTEGER)");
    raw.execute("PRAGMA user_version = 5");
  }
  const std::string message = testing::error_of(StateStore::open(path));
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("schema version 5") != std::string::npos);
  CHECK(message.find("upgrade gapwatch") != std::string::npos);
  // Left untouched.
  RawDatabase raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == "5");
  CHECK(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'incidents'") == "0");
}

// The schema of version 1 as gapwatch released it (state_store.cpp's first
// step), frozen here: the files users have were made by this text.
constexpr const char* kVersion1Schema = R"sql(
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  state TEXT NOT NULL,
  severity TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  resolved_at INTEGER,
  acknowledged_at INTEGER,
  retried_at INTEGER,
  message TEXT NOT NULL DEFAULT '',
  windows TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX incidents_one_active_per_rule ON incidents (rule) WHERE state <> 'resolved';
CREATE TABLE requests (
  id TEXT PRIMARY KEY,
  incident_id INTEGER REFERENCES incidents (id),
  rule TEXT NOT NULL,
  executor TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  verify_by INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  output TEXT NOT NULL DEFAULT '',
  template_values TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX requests_by_state ON requests (state, next_attempt_at);
CREATE INDEX requests_by_incident ON requests (incident_id);
CREATE INDEX requests_by_rule ON requests (rule);
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  incident_id INTEGER,
  request_id TEXT,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_incident ON events (incident_id, id);
)sql";

TEST_CASE("state store: a version 1 database is upgraded in place and keeps its incidents") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  const std::int64_t at_now = kNow.time_since_epoch().count();
  {
    RawDatabase raw(path);
    raw.execute(kVersion1Schema);
    raw.execute(fmt::format(
        "INSERT INTO incidents (id, rule, state, severity, opened_at, updated_at, resolved_at, "
        "message, windows) VALUES (7, 'orders', 'resolved', 'critical', {0}, {0}, {0}, 'old', "
        "'[[{1},{2},\"fail\"]]'), (8, 'orders', 'escalated', 'warning', {0}, {0}, NULL, "
        "'stuck', '[[{2},{0},\"fail\"]]')",
        at_now, at_now - 7200, at_now - 3600));
    raw.execute(fmt::format(
        "INSERT INTO requests (id, incident_id, rule, executor, window_start, window_end, "
        "attempt, state, next_attempt_at, created_at, updated_at) VALUES ('r7', 7, 'orders', "
        "'reload', {1}, {2}, 1, 'failed', {0}, {0}, {0})",
        at_now, at_now - 7200, at_now - 3600));
    raw.execute("PRAGMA user_version = 1");
  }
  auto store = open_store(path);
  RawDatabase raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == std::to_string(StateStore::kSchemaVersion));
  for (const std::string name : {"baselines", "baseline_buckets", "incidents_by_rule"}) {
    CAPTURE(name);
    CHECK(raw.scalar(fmt::format("SELECT count(*) FROM sqlite_master WHERE name = '{}'", name)) ==
          "1");
  }
  const std::vector<Incident> incidents = value_of(store->incidents(IncidentFilter::all));
  REQUIRE(incidents.size() == 2);
  CHECK(incidents[0].id == 7);
  CHECK(incidents[0].state == IncidentState::resolved);
  CHECK(incidents[0].message == "old");
  // Resolved before resolutions were recorded: unknown.
  CHECK_FALSE(incidents[0].resolution.has_value());
  CHECK(incidents[1].state == IncidentState::escalated);
  CHECK(incidents[1].windows ==
        std::vector<Window>{Window{kNow - hours{1}, kNow, Status::fail}});
  CHECK(value_of(store->request("r7")).has_value());
  // Unknown is not healed: both incidents' windows are never learned from.
  CHECK(value_of(store->unhealed_windows("orders", kNow - hours{24})) ==
        std::vector<Window>{Window{kNow - hours{2}, kNow - hours{1}, Status::fail},
                            Window{kNow - hours{1}, kNow, Status::fail}});
  // The upgraded file takes the new columns.
  Incident resolved = incidents[1];
  resolved.state = IncidentState::resolved;
  resolved.resolution = Resolution::by_operator;
  REQUIRE(store->update_incident(resolved).has_value());
  CHECK(value_of(store->incident(8))->resolution == Resolution::by_operator);
  CHECK(raw.scalar("SELECT resolution FROM incidents WHERE id = 8") == "operator");

  // Opened again: already at version 3, nothing to do.
  store.reset();
  store = open_store(path);
  CHECK(value_of(store->incidents(IncidentFilter::all)).size() == 2);
}

TEST_CASE("state store: a file that is not a database is refused with its path") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  std::ofstream(path) << "this is not an SQLite database, not even close to one. "
                         "It is long enough to fill a header though.\n";
  const std::string message = testing::error_of(StateStore::open(path));
  CHECK(message.find(path) != std::string::npos);
}

TEST_CASE("state store: a directory that does not exist is refused") {
  TemporaryDirectory directory;
  const std::string path = directory.file("missing/state.db");
  const std::string message = testing::error_of(StateStore::open(path));
  CHECK(message.find("cannot open the state database") != std::string::npos);
}

TEST_CASE("state store: state names round-trip") {
  for (const IncidentState state :
       {IncidentState::open, IncidentState::backfilling, IncidentState::verifying,
        IncidentState::resolved, IncidentState::escalated}) {
    CHECK(incident_state_from(to_string(state)) == state);
  }
  for (const RequestState state :
       {RequestState::pending, RequestState::sending, RequestState::accepted,
        RequestState::succeeded, RequestState::verified, RequestState::failed,
        RequestState::cancelled, RequestState::dry_run}) {
    CHECK(request_state_from(to_string(state)) == state);
  }
  CHECK_FALSE(incident_state_from("gone").has_value());
  CHECK_FALSE(request_state_from("").has_value());
}

TEST_CASE("state store: incidents round-trip") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  Incident written = make_incident("orders");
  written.windows.push_back(Window{kNow - hours{1}, kNow, Status::warn});
  const std::int64_t id = value_of(store->insert_incident(written));
  CHECK(id > 0);

  std::optional<Incident> read = value_of(store->incident(id));
  REQUIRE(read.has_value());
  CHECK(read->id == id);
  CHECK(read->rule == "orders");
  CHECK(read->state == IncidentState::open);
  CHECK(read->severity == Severity::critical);
  CHECK(read->opened_at == kNow);
  CHECK(read->updated_at == kNow);
  CHECK_FALSE(read->resolved_at.has_value());
  CHECK_FALSE(read->acknowledged_at.has_value());
  CHECK_FALSE(read->retried_at.has_value());
  CHECK(read->message == written.message);
  CHECK(read->windows == written.windows);

  SUBCASE("updates") {
    read->state = IncidentState::resolved;
    read->severity = Severity::info;
    read->updated_at = kNow + minutes{5};
    read->resolved_at = kNow + minutes{5};
    read->acknowledged_at = kNow + minutes{1};
    read->retried_at = kNow + minutes{2};
    read->message = "all buckets pass";
    read->windows.clear();
    REQUIRE(store->update_incident(*read).has_value());
    const std::optional<Incident> updated = value_of(store->incident(id));
    REQUIRE(updated.has_value());
    CHECK(updated->state == IncidentState::resolved);
    CHECK(updated->severity == Severity::info);
    CHECK(updated->opened_at == kNow);
    CHECK(updated->updated_at == kNow + minutes{5});
    CHECK(updated->resolved_at == kNow + minutes{5});
    CHECK(updated->acknowledged_at == kNow + minutes{1});
    CHECK(updated->retried_at == kNow + minutes{2});
    CHECK(updated->message == "all buckets pass");
    CHECK(updated->windows.empty());
    CHECK_FALSE(value_of(store->active_incident("orders")).has_value());
  }
  SUBCASE("lookups") {
    const std::int64_t other = value_of(store->insert_incident(make_incident("events")));
    const std::int64_t resolved =
        value_of(store->insert_incident(make_incident("events", IncidentState::resolved)));
    const std::optional<Incident> active = value_of(store->active_incident("events"));
    REQUIRE(active.has_value());
    CHECK(active->id == other);
    CHECK_FALSE(value_of(store->active_incident("nobody")).has_value());
    CHECK_FALSE(value_of(store->incident(resolved + 100)).has_value());
    CHECK(value_of(store->incidents(IncidentFilter::active)).size() == 2);
    const std::vector<Incident> all = value_of(store->incidents(IncidentFilter::all));
    REQUIRE(all.size() == 3);
    CHECK(all[0].id == id);
    CHECK(all[2].id == resolved);
  }
}

TEST_CASE("state store: only one active incident per rule") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  const std::int64_t first = value_of(store->insert_incident(make_incident("orders")));

  SUBCASE("a second open one fails") {
    CHECK_FALSE(store->insert_incident(make_incident("orders")).has_value());
    CHECK(value_of(store->active_incident("orders"))->id == first);
    CHECK(value_of(store->incidents(IncidentFilter::all)).size() == 1);
  }
  SUBCASE("an escalated one is active too") {
    CHECK_FALSE(
        store->insert_incident(make_incident("orders", IncidentState::escalated)).has_value());
    CHECK(value_of(store->active_incident("orders"))->id == first);
  }
  SUBCASE("resolved ones do not count") {
    CHECK(store->insert_incident(make_incident("orders", IncidentState::resolved)).has_value());
    Incident incident = *value_of(store->incident(first));
    incident.state = IncidentState::resolved;
    REQUIRE(store->update_incident(incident).has_value());
    CHECK(store->insert_incident(make_incident("orders")).has_value());
  }
  SUBCASE("updating a resolved one back to active fails while another is active") {
    Incident incident = *value_of(store->incident(first));
    incident.state = IncidentState::resolved;
    REQUIRE(store->update_incident(incident).has_value());
    REQUIRE(store->insert_incident(make_incident("orders")).has_value());
    incident.state = IncidentState::open;
    CHECK_FALSE(store->update_incident(incident).has_value());
  }
  SUBCASE("other rules are independent") {
    CHECK(store->insert_incident(make_incident("events")).has_value());
    CHECK(value_of(store->active_incident("orders"))->id == first);
  }
}

TEST_CASE("state store: requests round-trip") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  const std::int64_t incident = value_of(store->insert_incident(make_incident("events_hourly")));
  RequestRecord written = make_request("a1", incident, kNow + seconds{30});
  written.attempt = 2;
  written.deliveries = 1;
  written.verify_by = kNow + minutes{10};
  written.last_error = "HTTP 503";
  written.output = "line 1\nline 2";
  REQUIRE(store->insert_request(written).has_value());

  std::optional<RequestRecord> read = value_of(store->request("a1"));
  REQUIRE(read.has_value());
  CHECK(read->id == "a1");
  CHECK(read->incident_id == incident);
  CHECK(read->rule == "events_hourly");
  CHECK(read->executor == "reload");
  CHECK(read->window == written.window);
  CHECK(read->attempt == 2);
  CHECK(read->state == RequestState::pending);
  CHECK(read->deliveries == 1);
  CHECK(read->next_attempt_at == kNow + seconds{30});
  CHECK(read->verify_by == kNow + minutes{10});
  CHECK(read->created_at == kNow);
  CHECK(read->updated_at == kNow);
  CHECK(read->last_error == "HTTP 503");
  CHECK(read->output == "line 1\nline 2");
  CHECK(read->values_json == written.values_json);

  SUBCASE("without incident or verify_by") {
    REQUIRE(store->insert_request(make_request("m1", std::nullopt, kNow)).has_value());
    const std::optional<RequestRecord> manual = value_of(store->request("m1"));
    REQUIRE(manual.has_value());
    CHECK_FALSE(manual->incident_id.has_value());
    CHECK_FALSE(manual->verify_by.has_value());
  }
  SUBCASE("the same id twice fails") {
    CHECK_FALSE(store->insert_request(written).has_value());
  }
  SUBCASE("an unknown incident fails") {
    CHECK_FALSE(store->insert_request(make_request("x", incident + 100, kNow)).has_value());
  }
  SUBCASE("updates change the delivery fields") {
    read->state = RequestState::accepted;
    read->deliveries = 2;
    read->next_attempt_at = kNow + minutes{1};
    read->verify_by = std::nullopt;
    read->updated_at = kNow + minutes{1};
    read->last_error.clear();
    read->output = "ok";
    REQUIRE(store->update_request(*read).has_value());
    const std::optional<RequestRecord> updated = value_of(store->request("a1"));
    REQUIRE(updated.has_value());
    CHECK(updated->state == RequestState::accepted);
    CHECK(updated->deliveries == 2);
    CHECK(updated->next_attempt_at == kNow + minutes{1});
    CHECK_FALSE(updated->verify_by.has_value());
    CHECK(updated->updated_at == kNow + minutes{1});
    CHECK(updated->last_error.empty());
    CHECK(updated->output == "ok");
    CHECK(updated->created_at == kNow);
  }
  SUBCASE("lookups") {
    RequestRecord other = make_request("b1", std::nullopt, kNow, kNow + seconds{1});
    other.rule = "orders";
    other.state = RequestState::failed;
    REQUIRE(store->insert_request(other).has_value());
    RequestRecord later = make_request("a2", incident, kNow, kNow + seconds{2});
    REQUIRE(store->insert_request(later).has_value());
    CHECK_FALSE(value_of(store->request("nope")).has_value());
    CHECK(ids_of(value_of(store->requests_for_incident(incident))) ==
          std::vector<std::string>{"a1", "a2"});
    CHECK(ids_of(value_of(store->requests_for_rule("events_hourly"))) ==
          std::vector<std::string>{"a1", "a2"});
    CHECK(ids_of(value_of(store->requests_for_rule("orders"))) == std::vector<std::string>{"b1"});
    CHECK(ids_of(value_of(store->requests_in_state(RequestState::failed))) ==
          std::vector<std::string>{"b1"});
    CHECK(value_of(store->requests_in_state(RequestState::sending)).empty());
  }
}

TEST_CASE("state store: events round-trip in order") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  const std::int64_t incident = value_of(store->insert_incident(make_incident("orders")));
  const std::int64_t other = value_of(store->insert_incident(make_incident("events")));
  REQUIRE(store->add_event({0, kNow, incident, std::nullopt, "opened", "3 buckets"}).has_value());
  REQUIRE(store->add_event({0, kNow, other, std::nullopt, "opened", "elsewhere"}).has_value());
  REQUIRE(store
              ->add_event(
                  {0, kNow + seconds{5}, incident, std::string("r1"), "request_created", "queued"})
              .has_value());
  REQUIRE(store->add_event({0, kNow, std::nullopt, std::string("m1"), "request_manual", ""})
              .has_value());

  const std::vector<EventRecord> events = value_of(store->events_for_incident(incident));
  REQUIRE(events.size() == 2);
  CHECK(events[0].id < events[1].id);
  CHECK(events[0].at == kNow);
  CHECK(events[0].incident_id == incident);
  CHECK_FALSE(events[0].request_id.has_value());
  CHECK(events[0].kind == "opened");
  CHECK(events[0].detail == "3 buckets");
  CHECK(events[1].at == kNow + seconds{5});
  CHECK(events[1].request_id == std::optional<std::string>("r1"));
  CHECK(events[1].kind == "request_created");
  CHECK(events[1].detail == "queued");
  CHECK(value_of(store->events_for_incident(other)).size() == 1);
}

TEST_CASE("state store: due requests come oldest first and next_due is the earliest pending") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  CHECK_FALSE(value_of(store->next_due()).has_value());
  CHECK(value_of(store->due_requests(kNow)).empty());

  REQUIRE(
      store->insert_request(make_request("late", std::nullopt, kNow - seconds{10})).has_value());
  REQUIRE(store
              ->insert_request(
                  make_request("early", std::nullopt, kNow - minutes{5}, kNow + seconds{3}))
              .has_value());
  // Same next_attempt_at: the one created first comes first.
  REQUIRE(store
              ->insert_request(
                  make_request("tie_second", std::nullopt, kNow - minutes{1}, kNow + seconds{2}))
              .has_value());
  REQUIRE(store
              ->insert_request(
                  make_request("tie_first", std::nullopt, kNow - minutes{1}, kNow + seconds{1}))
              .has_value());
  REQUIRE(store->insert_request(make_request("at_now", std::nullopt, kNow)).has_value());
  REQUIRE(
      store->insert_request(make_request("future", std::nullopt, kNow + seconds{1})).has_value());
  RequestRecord sent = make_request("sent", std::nullopt, kNow - hours{1});
  sent.state = RequestState::accepted;
  REQUIRE(store->insert_request(sent).has_value());
  RequestRecord dry = make_request("dry", std::nullopt, kNow - hours{1});
  dry.state = RequestState::dry_run;
  REQUIRE(store->insert_request(dry).has_value());

  CHECK(ids_of(value_of(store->due_requests(kNow))) ==
        std::vector<std::string>{"early", "tie_first", "tie_second", "late", "at_now"});
  CHECK(value_of(store->next_due()) == kNow - minutes{5});

  SUBCASE("claimed ones are no longer due") {
    REQUIRE(value_of(store->claim_request("early", kNow)));
    CHECK(value_of(store->next_due()) == kNow - minutes{1});
    CHECK(ids_of(value_of(store->due_requests(kNow - minutes{1}))) ==
          std::vector<std::string>{"tie_first", "tie_second"});
  }
  SUBCASE("a future request is due once its time comes") {
    CHECK(value_of(store->due_requests(kNow + seconds{1})).size() == 6);
  }
}

TEST_CASE("state store: claiming a request is exclusive") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  auto store = open_store(path);
  REQUIRE(store->insert_request(make_request("r1", std::nullopt, kNow)).has_value());

  CHECK(value_of(store->claim_request("r1", kNow + seconds{1})));
  const std::optional<RequestRecord> claimed = value_of(store->request("r1"));
  REQUIRE(claimed.has_value());
  CHECK(claimed->state == RequestState::sending);
  CHECK(claimed->deliveries == 1);
  CHECK(claimed->updated_at == kNow + seconds{1});

  CHECK_FALSE(value_of(store->claim_request("r1", kNow + seconds{2})));
  CHECK_FALSE(value_of(store->claim_request("unknown", kNow)));
  // Another process sees the claim and cannot take it either.
  auto other = open_store(path);
  CHECK(value_of(other->request("r1"))->state == RequestState::sending);
  CHECK_FALSE(value_of(other->claim_request("r1", kNow + seconds{3})));
  CHECK(value_of(store->request("r1"))->deliveries == 1);
}

TEST_CASE("state store: statements kept for reuse hold no snapshot between calls") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  auto daemon = open_store(path);
  auto operator_cli = open_store(path);
  // Reads that stop at their first row, and one that reads to the end.
  CHECK(value_of(daemon->count_requests(RequestState::pending)) == 0);
  CHECK_FALSE(value_of(daemon->next_due()).has_value());
  CHECK(value_of(daemon->due_requests(kNow)).empty());

  REQUIRE(operator_cli->insert_request(make_request("r1", std::nullopt, kNow)).has_value());
  CHECK(value_of(daemon->count_requests(RequestState::pending)) == 1);
  CHECK(value_of(daemon->next_due()) == kNow);
  CHECK(ids_of(value_of(daemon->due_requests(kNow))) == std::vector<std::string>{"r1"});

  // No read is left open: a checkpoint can take the whole log back.
  REQUIRE(operator_cli->insert_request(make_request("r2", std::nullopt, kNow)).has_value());
  CHECK(value_of(daemon->count_requests(RequestState::pending)) == 2);
  RawDatabase raw(path);
  CHECK(raw.scalar("PRAGMA wal_checkpoint(TRUNCATE)") == "0");  // 0: not busy

  SUBCASE("a read nested in a read of the same statement gets its own") {
    for (const RequestRecord& request : value_of(daemon->due_requests(kNow))) {
      CHECK(ids_of(value_of(daemon->due_requests(kNow))) ==
            std::vector<std::string>{"r1", "r2"});
      CHECK(value_of(daemon->request(request.id))->id == request.id);
    }
  }
  SUBCASE("a statement that failed is ready for the next call") {
    RequestRecord duplicate = make_request("r1", std::nullopt, kNow);
    CHECK_FALSE(daemon->insert_request(duplicate).has_value());
    duplicate.id = "r3";
    CHECK(daemon->insert_request(duplicate).has_value());
    CHECK(value_of(operator_cli->count_requests(RequestState::pending)) == 3);
  }
}
TEST_CASE("state store: a failed transaction leaves nothing behind") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));

  SUBCASE("work that returns an error") {
    const auto result = store->transaction([&](Transaction& transaction) -> Expected<void> {
      auto id = transaction.insert_incident(make_incident("orders"));
      REQUIRE(id.has_value());
      REQUIRE(transaction.insert_request(make_request("r1", *id, kNow)).has_value());
      REQUIRE(transaction.add_event({0, kNow, *id, std::nullopt, "opened", ""}).has_value());
      return fail("the executor is gone");
    });
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().message == "the executor is gone");
  }
  SUBCASE("a statement that fails half way") {
    const auto result = store->transaction([&](Transaction& transaction) -> Expected<void> {
      REQUIRE(transaction.insert_incident(make_incident("orders")).has_value());
      REQUIRE(transaction.insert_request(make_request("r1", std::nullopt, kNow)).has_value());
      if (auto again = transaction.insert_request(make_request("r1", std::nullopt, kNow)); !again) {
        return again;
      }
      return {};
    });
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().message.find("state database") != std::string::npos);
  }
  SUBCASE("a step run within the transaction that fails rolls back all of it") {
    const auto step = [&](Transaction& transaction) -> Expected<void> {
      REQUIRE(transaction.insert_request(make_request("r1", std::nullopt, kNow)).has_value());
      return fail("inner");
    };
    const auto result = store->transaction([&](Transaction& transaction) -> Expected<void> {
      REQUIRE(transaction.insert_incident(make_incident("orders")).has_value());
      return step(transaction);
    });
    REQUIRE_FALSE(result.has_value());
  }
  CHECK(value_of(store->incidents(IncidentFilter::all)).empty());
  CHECK_FALSE(value_of(store->request("r1")).has_value());
  CHECK_FALSE(value_of(store->next_due()).has_value());

  // The store is usable afterwards, and a successful transaction commits.
  const auto committed = store->transaction([&](Transaction& transaction) -> Expected<void> {
    auto id = transaction.insert_incident(make_incident("orders"));
    if (!id) {
      return std::unexpected(id.error());
    }
    return transaction.insert_request(make_request("r1", *id, kNow));
  });
  CHECK(committed.has_value());
  CHECK(value_of(store->incidents(IncidentFilter::all)).size() == 1);
  CHECK(value_of(store->request("r1")).has_value());
}

TEST_CASE("state store: a stand-in for a file that cannot be opened reads empty and records nothing") {
  TemporaryDirectory directory;
  const std::string path = (directory.path() / "missing-directory" / "state.db").string();
  const auto opened = StateStore::open(path);
  REQUIRE_FALSE(opened.has_value());
  const std::string reason = opened.error().message;
  CHECK(reason.find("cannot open the state database") == 0);

  const std::unique_ptr<StateStore> store = StateStore::unavailable(path, reason);
  CHECK(store->unavailable_reason() == reason);
  CHECK(value_of(store->incidents(IncidentFilter::active)).empty());
  CHECK(value_of(store->due_requests(kNow)).empty());
  SUBCASE("every write fails with the reason") {
    const auto written = store->transaction([&](Transaction& transaction) -> Expected<void> {
      auto id = transaction.insert_incident(make_incident("orders"));
      if (!id) {
        return std::unexpected(id.error());
      }
      return {};
    });
    REQUIRE_FALSE(written.has_value());
    CHECK(written.error().message == reason);
    CHECK_FALSE(store->insert_incident(make_incident("orders")).has_value());
    CHECK(value_of(store->incidents(IncidentFilter::all)).empty());
    CHECK_FALSE(store->check_writable().has_value());
  }
  SUBCASE("reopen fails while the file cannot be opened, then takes it") {
    CHECK_FALSE(store->reopen().has_value());
    std::filesystem::create_directory(directory.path() / "missing-directory");
    CHECK(value_of(store->reopen()));
    CHECK(store->unavailable_reason().empty());
    CHECK(store->check_writable().has_value());
    const std::int64_t id = value_of(store->insert_incident(make_incident("orders")));
    CHECK(value_of(store->incident(id)).has_value());
    CHECK(std::filesystem::exists(path));
  }
}

TEST_CASE("state store: secrets are masked before they are written, so no reader sees them") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  auto store = open_store(path);
  store->set_redactor(std::make_shared<const Redactor>(std::vector<std::string>{"tok-12345"}));
  Incident incident = make_incident("events_hourly");
  incident.message = "driver said: login tok-12345 refused";
  const std::int64_t id = value_of(store->insert_incident(incident));
  RequestRecord request = make_request("r1", id, kNow);
  request.values_json = R"({"table":"tok-12345"})";  // sent again as is on a resend
  REQUIRE(store->insert_request(request).has_value());
  request.last_error = "HTTP 400 from /run?apikey=tok-12345";
  request.output = "echo: {\"key\": \"tok-12345\"}\nLOADER_TOKEN=tok-12345";
  REQUIRE(store->update_request(request).has_value());
  REQUIRE(store->add_event({0, kNow, id, std::string("r1"), "request_failed",
                            "exit status 1: tok-12345"})
              .has_value());
  incident.id = id;
  incident.message = "still tok-12345";
  REQUIRE(store->update_incident(incident).has_value());
  store.reset();

  RawDatabase raw(path);
  CHECK(raw.scalar("SELECT message FROM incidents") == "still ***");
  CHECK(raw.scalar("SELECT last_error FROM requests") == "HTTP 400 from /run?apikey=***");
  CHECK(raw.scalar("SELECT output FROM requests") == "echo: {\"key\": \"***\"}\nLOADER_TOKEN=***");
  CHECK(raw.scalar("SELECT detail FROM events") == "exit status 1: ***");
  CHECK(raw.scalar("SELECT template_values FROM requests") == R"({"table":"tok-12345"})");
}

TEST_CASE("state store: a new store masks nothing") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  Incident incident = make_incident("events_hourly");
  incident.message = "tok-12345";
  const std::int64_t id = value_of(store->insert_incident(incident));
  CHECK(value_of(store->incident(id))->message == "tok-12345");
}

// --- baselines -------------------------------------------------------------

Window hours_ago(int from, int to) {
  return Window{kNow - hours{from}, kNow - hours{to}, Status::fail};
}

// An incident of `rule` in `state` (resolved as `resolution`), failing over
// `window`, updated at `updated_at`, with one request for `requested`.
std::int64_t add_incident(StateStore& store, const std::string& rule, IncidentState state,
                          std::optional<Resolution> resolution, Window window,
                          Window requested, Instant updated_at = kNow) {
  Incident incident = make_incident(rule, state);
  incident.resolution = resolution;
  incident.updated_at = updated_at;
  incident.windows = {window};
  const std::int64_t id = value_of(store.insert_incident(incident));
  RequestRecord request = make_request(fmt::format("request-{}", id), id, kNow);
  request.rule = rule;
  request.window = requested;
  REQUIRE(store.insert_request(request).has_value());
  return id;
}

TEST_CASE("state store: unhealed_windows lists the windows of incidents that did not heal") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  using enum IncidentState;
  // Each resolved one first: only one incident per rule may be active.
  add_incident(*store, "orders", resolved, Resolution::healed, hours_ago(40, 39),
               hours_ago(40, 39));
  add_incident(*store, "orders", resolved, Resolution::by_operator, hours_ago(30, 29),
               hours_ago(31, 30));
  add_incident(*store, "orders", resolved, Resolution::rule_removed, hours_ago(20, 19),
               hours_ago(20, 19));
  add_incident(*store, "orders", resolved, std::nullopt, hours_ago(15, 14), hours_ago(15, 14));
  // Too long ago to matter (updated before `since`).
  add_incident(*store, "orders", resolved, Resolution::by_operator, hours_ago(100, 99),
               hours_ago(100, 99), kNow - hours{90});
  // Another rule's.
  add_incident(*store, "payments", escalated, std::nullopt, hours_ago(12, 11), hours_ago(12, 11));
  SUBCASE("an escalated incident") {
    add_incident(*store, "orders", escalated, std::nullopt, hours_ago(10, 8), hours_ago(10, 9));
  }
  SUBCASE("an open incident") {
    add_incident(*store, "orders", open, std::nullopt, hours_ago(10, 8), hours_ago(10, 9));
  }
  const std::vector<Window> expected{hours_ago(31, 30), hours_ago(30, 29), hours_ago(20, 19),
                                     hours_ago(15, 14), hours_ago(10, 9), hours_ago(10, 8)};
  CHECK(value_of(store->unhealed_windows("orders", kNow - hours{48})) == expected);
  // The same from inside a transaction.
  REQUIRE(store
              ->transaction([&](Transaction& transaction) -> Expected<void> {
                CHECK(value_of(transaction.unhealed_windows("orders", kNow - hours{48})) ==
                      expected);
                return {};
              })
              .has_value());
  CHECK(value_of(store->unhealed_windows("nothing", kNow - hours{48})).empty());
}

std::vector<CountedBucket> hourly_buckets(Instant from, int count, std::int64_t rows = 10) {
  std::vector<CountedBucket> buckets;
  for (int i = 0; i < count; ++i) {
    const Instant start = from + hours{i};
    buckets.push_back(CountedBucket{start, start + hours{1}, rows + i, i % 2});
  }
  return buckets;
}

TEST_CASE("state store: a rule's kept baseline is saved, loaded, invalidated and deleted") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  auto store = open_store(path);
  CHECK_FALSE(value_of(store->baseline("orders")).has_value());

  const Instant from = kNow - hours{10};
  BaselineWrite write;
  write.fingerprint = "abc";
  write.covered_from = from;
  write.covered_to = from + hours{6};
  write.full_read_at = kNow;
  write.buckets = hourly_buckets(from, 6);
  write.keep_from = from;
  write.others = BaselineWrite::Others::deleted;
  REQUIRE(store->save_baseline("orders", write).has_value());
  REQUIRE(store->save_baseline("payments", write).has_value());

  std::optional<BaselineHistory> kept = value_of(store->baseline("orders"));
  REQUIRE(kept.has_value());
  CHECK(kept->fingerprint == "abc");
  CHECK(kept->covered_from == from);
  CHECK(kept->covered_to == from + hours{6});
  CHECK(kept->full_read_at == kNow);
  CHECK(kept->buckets == hourly_buckets(from, 6));
  CHECK(kept->excluded.empty());

  SUBCASE("a later write adds buckets, replaces those of the same start, prunes the old") {
    BaselineWrite later = write;
    later.covered_from = from + hours{2};
    later.covered_to = from + hours{8};
    later.buckets = hourly_buckets(from + hours{5}, 3, 50);
    later.keep_from = from + hours{2};
    later.others = BaselineWrite::Others::kept;
    REQUIRE(store->save_baseline("orders", later).has_value());
    kept = value_of(store->baseline("orders"));
    REQUIRE(kept.has_value());
    std::vector<CountedBucket> expected = hourly_buckets(from, 5);
    expected.erase(expected.begin(), expected.begin() + 2);
    const std::vector<CountedBucket> replaced = hourly_buckets(from + hours{5}, 3, 50);
    expected.insert(expected.end(), replaced.begin(), replaced.end());
    CHECK(kept->buckets == expected);
    CHECK(kept->covered_from == from + hours{2});
    CHECK(kept->covered_to == from + hours{8});
  }
  SUBCASE("a full write replaces every bucket") {
    BaselineWrite full = write;
    full.buckets = hourly_buckets(from + hours{3}, 2, 70);
    REQUIRE(store->save_baseline("orders", full).has_value());
    CHECK(value_of(store->baseline("orders"))->buckets == hourly_buckets(from + hours{3}, 2, 70));
  }
  SUBCASE("invalidating moves covered_to back, never forward") {
    REQUIRE(store->invalidate_baseline("orders", from + hours{4}).has_value());
    CHECK(value_of(store->baseline("orders"))->covered_to == from + hours{4});
    REQUIRE(store->invalidate_baseline("orders", from + hours{5}).has_value());
    CHECK(value_of(store->baseline("orders"))->covered_to == from + hours{4});
    // The counts stay (the next read replaces them); another rule is untouched.
    CHECK(value_of(store->baseline("orders"))->buckets.size() == 6);
    CHECK(value_of(store->baseline("payments"))->covered_to == from + hours{6});
  }
  SUBCASE("deleting forgets the rule's meta and buckets only") {
    REQUIRE(store->delete_baseline("orders").has_value());
    CHECK_FALSE(value_of(store->baseline("orders")).has_value());
    RawDatabase raw(path);
    CHECK(raw.scalar("SELECT count(*) FROM baseline_buckets WHERE rule = 'orders'") == "0");
    CHECK(value_of(store->baseline("payments"))->buckets.size() == 6);
  }
  SUBCASE("a stand-in reads nothing and saves nothing") {
    auto stand_in = StateStore::unavailable(path, "disk full");
    CHECK_FALSE(value_of(stand_in->baseline("orders")).has_value());
    CHECK(testing::error_of(stand_in->save_baseline("orders", write)) == "disk full");
    CHECK_FALSE(stand_in->invalidate_baseline("orders", from).has_value());
  }
}

// Version 2's step as gapwatch released it (issue 15), frozen here.
constexpr const char* kVersion2Step = R"sql(
ALTER TABLE incidents ADD COLUMN resolution TEXT;
CREATE INDEX incidents_by_rule ON incidents (rule, updated_at);
CREATE TABLE baselines (
  rule TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  covered_from INTEGER,
  covered_to INTEGER,
  full_read_at INTEGER
);
CREATE TABLE baseline_buckets (
  rule TEXT NOT NULL,
  start INTEGER NOT NULL,
  "end" INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  nulls INTEGER NOT NULL,
  PRIMARY KEY (rule, start)
) WITHOUT ROWID;
)sql";

TEST_CASE("state store: a version 2 database is upgraded and keeps requests and baselines") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  const std::int64_t at_now = kNow.time_since_epoch().count();
  const Instant from = kNow - hours{10};
  {
    RawDatabase raw(path);
    raw.execute(kVersion1Schema);
    raw.execute(kVersion2Step);
    raw.execute(fmt::format(
        "INSERT INTO incidents (id, rule, state, severity, opened_at, updated_at, message, "
        "windows) VALUES (3, 'orders', 'open', 'critical', {0}, {0}, 'low', "
        "'[[{1},{2},\"fail\"]]')",
        at_now, at_now - 7200, at_now - 3600));
    raw.execute(fmt::format(
        "INSERT INTO requests (id, incident_id, rule, executor, window_start, window_end, "
        "attempt, state, next_attempt_at, created_at, updated_at) VALUES ('r3', 3, 'orders', "
        "'reload', {1}, {2}, 1, 'pending', {0}, {0}, {0})",
        at_now, at_now - 7200, at_now - 3600));
    raw.execute(fmt::format("INSERT INTO baselines VALUES ('orders', 'abc', {0}, {1}, {2})",
                            from.time_since_epoch().count(),
                            (from + hours{3}).time_since_epoch().count(), at_now));
    for (const CountedBucket& bucket : hourly_buckets(from, 3)) {
      raw.execute(fmt::format("INSERT INTO baseline_buckets VALUES ('orders', {}, {}, {}, {})",
                              bucket.start.time_since_epoch().count(),
                              bucket.end.time_since_epoch().count(), bucket.rows, bucket.nulls));
    }
    raw.execute("PRAGMA user_version = 2");
  }
  auto store = open_store(path);
  RawDatabase raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == std::to_string(StateStore::kSchemaVersion));
  // What was there is the whole table's, without a run to follow.
  const std::optional<RequestRecord> request = value_of(store->request("r3"));
  REQUIRE(request.has_value());
  CHECK_FALSE(request->run.has_value());
  CHECK(request->window == Window{kNow - hours{2}, kNow - hours{1}, Status::fail});
  CHECK(raw.scalar("SELECT segment IS NULL FROM requests WHERE id = 'r3'") == "1");
  CHECK(value_of(store->incident(3))->windows ==
        std::vector<Window>{Window{kNow - hours{2}, kNow - hours{1}, Status::fail}});
  std::optional<BaselineHistory> kept = value_of(store->baseline("orders"));
  REQUIRE(kept.has_value());
  CHECK(kept->buckets == hourly_buckets(from, 3));
  CHECK(kept->segments.empty());
  CHECK(kept->covered_to == from + hours{3});
  CHECK(raw.scalar("SELECT count(*) FROM baseline_buckets WHERE segment = '[]'") == "3");
  // The upgraded file takes segments.
  RequestRecord segmented = make_request("s1", 3, kNow);
  segmented.rule = "orders";
  segmented.window.segment = {"FR"};
  REQUIRE(store->insert_request(segmented).has_value());
  CHECK(value_of(store->request("s1"))->window.segment == SegmentKey{"FR"});
  BaselineWrite write;
  write.fingerprint = "abc";
  write.covered_from = from;
  write.covered_to = from + hours{3};
  write.buckets = hourly_buckets(from, 3);
  for (CountedBucket& bucket : write.buckets) {
    bucket.segment = 0;
  }
  write.segments = {SegmentKey{"FR"}};
  write.keep_from = from;
  write.others = BaselineWrite::Others::kept;
  REQUIRE(store->save_baseline("orders", write).has_value());
  kept = value_of(store->baseline("orders"));
  REQUIRE(kept.has_value());
  CHECK(kept->segments == std::vector<SegmentKey>{SegmentKey{}, SegmentKey{"FR"}});
  CHECK(kept->buckets.size() == 6);
}

TEST_CASE("state store: a request's segment round-trips; the whole table's is NULL") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  auto store = open_store(path);
  RequestRecord whole = make_request("w1", std::nullopt, kNow);
  RequestRecord segment = make_request("s1", std::nullopt, kNow);
  segment.window.segment = {"FR", std::nullopt};
  RequestRecord odd = make_request("s2", std::nullopt, kNow);
  odd.window.segment = {"null", std::string("\xff\x00x", 3), ""};
  for (const RequestRecord& request : {whole, segment, odd}) {
    REQUIRE(store->insert_request(request).has_value());
  }
  CHECK(value_of(store->request("w1"))->window.segment.empty());
  CHECK(value_of(store->request("s1"))->window == segment.window);
  CHECK(value_of(store->request("s2"))->window == odd.window);
  RawDatabase raw(path);
  CHECK(raw.scalar("SELECT segment IS NULL FROM requests WHERE id = 'w1'") == "1");
  CHECK(raw.scalar("SELECT segment FROM requests WHERE id = 's1'") == R"(["FR",null])");
  CHECK(raw.scalar("SELECT segment FROM requests WHERE id = 's2'") ==
        R"(["null",{"hex":"ff0078"},""])");
}

TEST_CASE("state store: incident windows keep their segments; old entries read as the table's") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  auto store = open_store(path);
  Incident incident = make_incident("orders");
  incident.windows = {
      Window{kNow - hours{5}, kNow - hours{3}, Status::fail},
      Window{kNow - hours{5}, kNow - hours{3}, Status::fail, {"FR"}},
      Window{kNow - hours{2}, kNow - hours{1}, Status::warn, {std::nullopt, "web"}}};
  const std::int64_t id = value_of(store->insert_incident(incident));
  CHECK(value_of(store->incident(id))->windows == incident.windows);
  RawDatabase raw(path);
  const std::int64_t five = (kNow - hours{5}).time_since_epoch().count();
  const std::int64_t three = (kNow - hours{3}).time_since_epoch().count();
  CHECK(
      raw.scalar(fmt::format("SELECT windows FROM incidents WHERE id = {}", id))
          .starts_with(fmt::format(R"([[{0},{1},"fail"],[{0},{1},"fail",["FR"]],)", five, three)));
  // Entries of another shape are skipped, not misread.
  raw.execute(fmt::format(
      "UPDATE incidents SET windows = '[[{0},{1},\"fail\"],[{0},{1},\"fail\",7],[{0}]]' "
      "WHERE id = {2}",
      five, three, id));
  CHECK(value_of(store->incident(id))->windows ==
        std::vector<Window>{Window{kNow - hours{5}, kNow - hours{3}, Status::fail}});
}

TEST_CASE("state store: unhealed_windows keep each window's segment") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  Incident incident = make_incident("orders", IncidentState::escalated);
  incident.windows = {Window{kNow - hours{5}, kNow - hours{3}, Status::fail, {"FR"}},
                      Window{kNow - hours{5}, kNow - hours{3}, Status::fail, {"DE"}}};
  const std::int64_t id = value_of(store->insert_incident(incident));
  RequestRecord request = make_request("r1", id, kNow);
  request.rule = "orders";
  request.window = Window{kNow - hours{5}, kNow - hours{4}, Status::fail, {"FR"}};
  REQUIRE(store->insert_request(request).has_value());
  CHECK(value_of(store->unhealed_windows("orders", kNow - hours{48})) ==
        std::vector<Window>{Window{kNow - hours{5}, kNow - hours{4}, Status::fail, {"FR"}},
                            Window{kNow - hours{5}, kNow - hours{3}, Status::fail, {"DE"}},
                            Window{kNow - hours{5}, kNow - hours{3}, Status::fail, {"FR"}}});
}

TEST_CASE("state store: a segmented rule's kept baseline comes back by segment, NULL first") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  const Instant from = kNow - hours{10};
  BaselineWrite write;
  write.fingerprint = "abc";
  write.covered_from = from;
  write.covered_to = from + hours{2};
  write.segments = {SegmentKey{"FR"}, SegmentKey{std::nullopt}, SegmentKey{"DE"}};
  // Written in any order: segment 0 (FR), then 2 (DE), then 1 (NULL).
  for (const std::uint32_t segment : {0U, 2U, 1U}) {
    for (int hour = 1; hour >= 0; --hour) {
      const Instant start = from + hours{hour};
      write.buckets.push_back(
          CountedBucket{start, start + hours{1}, std::int64_t{10} * segment + hour, 0, segment});
    }
  }
  write.keep_from = from;
  write.others = BaselineWrite::Others::deleted;
  REQUIRE(store->save_baseline("orders", write).has_value());
  const std::optional<BaselineHistory> kept = value_of(store->baseline("orders"));
  REQUIRE(kept.has_value());
  CHECK(kept->segments ==
        std::vector<SegmentKey>{SegmentKey{std::nullopt}, SegmentKey{"DE"}, SegmentKey{"FR"}});
  const auto bucket = [&](std::uint32_t segment, int hour, std::int64_t rows) {
    const Instant start = from + hours{hour};
    return CountedBucket{start, start + hours{1}, rows, 0, segment};
  };
  CHECK(kept->buckets == std::vector<CountedBucket>{bucket(0, 0, 10), bucket(0, 1, 11),
                                                    bucket(1, 0, 20), bucket(1, 1, 21),
                                                    bucket(2, 0, 0), bucket(2, 1, 1)});
  SUBCASE("a later write replaces a segment's bucket of the same start only") {
    BaselineWrite later = write;
    later.others = BaselineWrite::Others::kept;
    later.segments = {SegmentKey{"DE"}};
    later.buckets = {CountedBucket{from, from + hours{1}, 99, 0, 0}};
    REQUIRE(store->save_baseline("orders", later).has_value());
    const std::optional<BaselineHistory> again = value_of(store->baseline("orders"));
    REQUIRE(again.has_value());
    CHECK(again->buckets == std::vector<CountedBucket>{bucket(0, 0, 10), bucket(0, 1, 11),
                                                       bucket(1, 0, 99), bucket(1, 1, 21),
                                                       bucket(2, 0, 0), bucket(2, 1, 1)});
  }
}

TEST_CASE("state store: a request's run round-trips, and the runs due a poll are listed") {
  TemporaryDirectory directory;
  auto store = open_store(directory.file("state.db"));
  const std::int64_t incident = value_of(store->insert_incident(make_incident("events_hourly")));
  RequestRecord followed = make_request("f1", incident, kNow);
  followed.state = RequestState::accepted;
  RunRecord run;
  run.ref = RunRef{"gapwatch-f1", "http://airflow/dags/d/runs/gapwatch-f1"};
  run.next_poll_at = kNow + seconds{30};
  run.deadline = kNow + hours{24};
  followed.run = run;
  REQUIRE(store->insert_request(followed).has_value());
  RequestRecord later = make_request("f2", incident, kNow);
  later.state = RequestState::accepted;
  later.window = Window{kNow - hours{1}, kNow, Status::fail};
  run.ref = RunRef{"gapwatch-f2", ""};
  run.next_poll_at = kNow + seconds{90};
  later.run = run;
  REQUIRE(store->insert_request(later).has_value());
  RequestRecord plain = make_request("p1", incident, kNow);  // a plain webhook's
  plain.state = RequestState::accepted;
  plain.window = Window{kNow - hours{3}, kNow - hours{2}, Status::fail};
  REQUIRE(store->insert_request(plain).has_value());

  std::optional<RequestRecord> read = value_of(store->request("f1"));
  REQUIRE(read.has_value());
  REQUIRE(read->run.has_value());
  CHECK(read->run->ref.id == "gapwatch-f1");
  CHECK(read->run->ref.link == "http://airflow/dags/d/runs/gapwatch-f1");
  CHECK(read->run->known == RunRecord::Known::not_yet);
  CHECK(read->run->next_poll_at == kNow + seconds{30});
  CHECK(read->run->deadline == kNow + hours{24});
  CHECK_FALSE(value_of(store->request("p1"))->run.has_value());

  CHECK(value_of(store->runs_to_poll("reload", kNow)).empty());
  CHECK(value_of(store->next_run_poll()) == kNow + seconds{30});
  std::vector<RequestRecord> due = value_of(store->runs_to_poll("reload", kNow + seconds{90}));
  REQUIRE(due.size() == 2);
  CHECK(due[0].id == "f1");  // the most overdue first
  CHECK(due[1].id == "f2");
  CHECK(value_of(store->runs_to_poll("other", kNow + seconds{90})).empty());

  // An answer is kept; a settled run is not asked again but still counted.
  read->run->known = RunRecord::Known::state;
  read->run->state = RunState::succeeded;
  read->run->detail = "success";
  read->run->answered_at = kNow + seconds{31};
  read->run->slow_polls = 2;
  REQUIRE(store->update_request(*read).has_value());
  read = value_of(store->request("f1"));
  CHECK(read->run->known == RunRecord::Known::state);
  CHECK(read->run->state == RunState::succeeded);
  CHECK(read->run->detail == "success");
  CHECK(read->run->answered_at == kNow + seconds{31});
  CHECK(read->run->slow_polls == 2);
  due = value_of(store->runs_to_poll("reload", kNow + hours{1}));
  REQUIRE(due.size() == 1);
  CHECK(due[0].id == "f2");
  CHECK(value_of(store->next_run_poll()) == kNow + seconds{90});
  using Count = std::tuple<std::string, std::string, std::int64_t>;
  std::vector<Count> counts = value_of(store->count_runs());
  std::sort(counts.begin(), counts.end());
  CHECK(counts == std::vector<Count>{{"reload", "succeeded", 1}, {"reload", "unknown", 1}});

  // A request that moved on (verified) leaves the runs being followed.
  later.state = RequestState::verified;
  REQUIRE(store->update_request(later).has_value());
  CHECK(value_of(store->runs_to_poll("reload", kNow + hours{1})).empty());
  CHECK_FALSE(value_of(store->next_run_poll()).has_value());
}

TEST_CASE("state store: an orchestrator's words about a run are masked before they are written") {
  TemporaryDirectory directory;
  const std::string path = directory.file("state.db");
  auto store = open_store(path);
  store->set_redactor(std::make_shared<const Redactor>(std::vector<std::string>{"hunter2-secret"}));
  RequestRecord request = make_request("m1", std::nullopt, kNow);
  request.state = RequestState::accepted;
  RunRecord run;
  run.ref = RunRef{"run-1", "https://admin:hunter2-secret@airflow/dags/d/grid?dag_run_id=run-1"};
  run.detail = "failed: login with hunter2-secret refused";
  request.run = run;
  REQUIRE(store->insert_request(request).has_value());
  RawDatabase raw(path);
  CHECK(raw.scalar("SELECT run_detail FROM requests WHERE id = 'm1'").find("hunter2-secret") ==
        std::string::npos);
  // A base URL with credentials in it does not carry them into the link.
  CHECK(raw.scalar("SELECT run_link FROM requests WHERE id = 'm1'").find("hunter2-secret") ==
        std::string::npos);
}

}  // namespace
}  // namespace gapwatch
