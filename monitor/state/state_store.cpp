#include "monitor/state/state_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "monitor/state/segment_values.h"

namespace gapwatch {

namespace {

// The schema, as the steps that made it: step i brings a database at version
// i to version i + 1 (user_version), so a file of an older gapwatch is
// upgraded in place and a new file takes every step. A step, once released,
// never changes: a change is a new step.
//
// Version 1: incidents, requests, events.
constexpr const char* kSchemaVersion1 = R"sql(
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
-- At most one incident per rule that is not resolved.
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

// Version 2 (issue 15, learned baselines): how an incident was resolved
// (NULL while active, and for incidents resolved before this step); the
// incidents of a rule by time, for the windows a baseline must not learn
// from; the kept bucket counts of baseline rules.
constexpr const char* kSchemaVersion2 = R"sql(
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

// Version 3 (issue 16, segments): the segment of a request (NULL for the
// whole table, else the JSON array of its values: segment_values.h); the
// kept bucket counts by segment ('[]' for the whole table: part of the key,
// so not NULL), copied from version 2's table (SQLite cannot change a
// primary key in place). Incident windows, kept as JSON, take their segment
// as a fourth element without a step.
constexpr const char* kSchemaVersion3 = R"sql(
ALTER TABLE requests ADD COLUMN segment TEXT;
CREATE TABLE baseline_buckets_v3 (
  rule TEXT NOT NULL,
  segment TEXT NOT NULL,
  start INTEGER NOT NULL,
  "end" INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  nulls INTEGER NOT NULL,
  PRIMARY KEY (rule, segment, start)
) WITHOUT ROWID;
INSERT INTO baseline_buckets_v3 (rule, segment, start, "end", rows, nulls)
  SELECT rule, '[]', start, "end", rows, nulls FROM baseline_buckets;
DROP TABLE baseline_buckets;
ALTER TABLE baseline_buckets_v3 RENAME TO baseline_buckets;
)sql";

// Version 4 (issue 17, following runs): the orchestrator's run an accepted
// request started (NULL run_id: none followed) and what was last heard of it;
// the followed runs by their next poll; events by kind and time (the
// deliveries an executor started in the last hour, for max_per_hour).
constexpr const char* kSchemaVersion4 = R"sql(
ALTER TABLE requests ADD COLUMN run_id TEXT;
ALTER TABLE requests ADD COLUMN run_link TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN run_state TEXT;
ALTER TABLE requests ADD COLUMN run_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN run_answered_at INTEGER;
ALTER TABLE requests ADD COLUMN run_next_poll_at INTEGER;
ALTER TABLE requests ADD COLUMN run_slow_polls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN run_deadline INTEGER;
CREATE INDEX requests_by_run_poll ON requests (executor, run_next_poll_at)
  WHERE state = 'accepted' AND run_id IS NOT NULL;
CREATE INDEX events_by_kind ON events (kind, at);
)sql";

constexpr std::array kSchemaSteps = {kSchemaVersion1, kSchemaVersion2, kSchemaVersion3,
                                     kSchemaVersion4};
static_assert(kSchemaSteps.size() == StateStore::kSchemaVersion);

using Value = std::variant<std::nullptr_t, std::int64_t, std::string>;

std::int64_t seconds(Instant instant) { return instant.time_since_epoch().count(); }
Instant instant(std::int64_t value) { return Instant{std::chrono::seconds{value}}; }
Value optional_seconds(const std::optional<Instant>& value) {
  return value ? Value{seconds(*value)} : Value{nullptr};
}

Error sqlite_error(sqlite3* db, std::string_view what) {
  return Error::of(fmt::format("state database: {}: {}", what, sqlite3_errmsg(db)));
}

}  // namespace

// The state database's connection, with its prepared statements kept for
// reuse: the daemon runs the same few statements over and over, and preparing
// one costs more than running it.
class StateDatabase {
 public:
  using Cache = std::unordered_map<std::string, sqlite3_stmt*>;

  explicit StateDatabase(sqlite3* db) : m_db(db) {}
  ~StateDatabase() {
    for (const auto& [sql, statement] : m_cache) {
      sqlite3_finalize(statement);
    }
    sqlite3_close(m_db);
  }
  StateDatabase(const StateDatabase&) = delete;
  StateDatabase& operator=(const StateDatabase&) = delete;

  sqlite3* handle() const { return m_db; }

  // The statement for `sql`, taken out of the cache while it is in use (so
  // that a statement nested in another's loop gets its own) or prepared now;
  // an empty node if it cannot be prepared (sqlite3_errmsg says why).
  Cache::node_type take(const std::string& sql) {
    if (Cache::node_type cached = m_cache.extract(sql)) {
      return cached;
    }
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(m_db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &statement,
                           nullptr) != SQLITE_OK) {
      sqlite3_finalize(statement);
      return {};
    }
    Cache made;  // a node is made by a map; it joins m_cache in give_back
    return made.extract(made.emplace(sql, statement).first);
  }
  // Hands a statement back, reset. A statement made for a text that is
  // cached meanwhile, or beyond the cache's bound, is finalized.
  void give_back(Cache::node_type node) {
    sqlite3_stmt* statement = node.mapped();
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (m_cache.size() >= kMaxCached || m_cache.contains(node.key())) {
      sqlite3_finalize(statement);
      return;
    }
    m_cache.insert(std::move(node));
  }

 private:
  // The store's statements are a fixed set of texts, well under this.
  static constexpr std::size_t kMaxCached = 64;
  sqlite3* m_db;
  Cache m_cache;
};

namespace {

// A prepared statement from the connection's cache, handed back reset on
// scope exit.
class Statement {
 public:
  Statement(StateDatabase& db, const std::string& sql)
      : m_db(db),
        m_node(db.take(sql)),
        m_statement(m_node.empty() ? nullptr : m_node.mapped()) {}
  ~Statement() {
    if (!m_node.empty()) {
      m_db.give_back(std::move(m_node));
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Expected<void> bind(const std::vector<Value>& values) {
    if (m_statement == nullptr) {
      return std::unexpected(sqlite_error(m_db.handle(), "preparing a statement"));
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      if (const auto* number = std::get_if<std::int64_t>(&values[i])) {
        rc = sqlite3_bind_int64(m_statement, index, *number);
      } else if (const auto* text = std::get_if<std::string>(&values[i])) {
        rc = sqlite3_bind_text(m_statement, index, text->data(), static_cast<int>(text->size()),
                               SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(m_statement, index);
      }
      if (rc != SQLITE_OK) {
        return std::unexpected(sqlite_error(m_db.handle(), "binding a value"));
      }
    }
    return {};
  }
  // SQLITE_ROW, SQLITE_DONE or an error.
  Expected<bool> step() {
    if (m_statement == nullptr) {
      return std::unexpected(sqlite_error(m_db.handle(), "preparing a statement"));
    }
    const int rc = sqlite3_step(m_statement);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc == SQLITE_DONE) {
      return false;
    }
    return std::unexpected(sqlite_error(m_db.handle(), "running a statement"));
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(m_statement, column); }
  bool is_null(int column) const { return sqlite3_column_type(m_statement, column) == SQLITE_NULL; }
  std::optional<std::int64_t> optional_integer(int column) const {
    return is_null(column) ? std::nullopt : std::optional(integer(column));
  }
  std::optional<Instant> optional_instant(int column) const {
    return is_null(column) ? std::nullopt : std::optional(instant(integer(column)));
  }
  std::string text(int column) const {
    const auto* value = sqlite3_column_text(m_statement, column);
    return value == nullptr ? std::string{} : reinterpret_cast<const char*>(value);
  }

 private:
  StateDatabase& m_db;
  StateDatabase::Cache::node_type m_node;
  sqlite3_stmt* m_statement;
};

Expected<void> execute(StateDatabase& db, const std::string& sql,
                       const std::vector<Value>& values = {}) {
  Statement statement(db, sql);
  if (auto bound = statement.bind(values); !bound) {
    return bound;
  }
  if (auto done = statement.step(); !done) {
    return std::unexpected(done.error());
  }
  return {};
}

// Every row `sql` selects, each made a value by `read_row(statement)`.
template <class ReadRow>
auto query_rows(StateDatabase& db, const std::string& sql, const std::vector<Value>& values,
                ReadRow read_row)
    -> Expected<std::vector<std::invoke_result_t<ReadRow, const Statement&>>> {
  Statement statement(db, sql);
  if (auto bound = statement.bind(values); !bound) {
    return std::unexpected(bound.error());
  }
  std::vector<std::invoke_result_t<ReadRow, const Statement&>> rows;
  while (true) {
    auto row = statement.step();
    if (!row) {
      return std::unexpected(row.error());
    }
    if (!*row) {
      return rows;
    }
    rows.push_back(read_row(statement));
  }
}

// The first row `sql` selects, made a value by `read_row(statement)`; empty if
// it selects none.
template <class ReadRow>
auto query_one(StateDatabase& db, const std::string& sql, const std::vector<Value>& values,
               ReadRow read_row)
    -> Expected<std::optional<std::invoke_result_t<ReadRow, const Statement&>>> {
  Statement statement(db, sql);
  if (auto bound = statement.bind(values); !bound) {
    return std::unexpected(bound.error());
  }
  auto row = statement.step();
  if (!row) {
    return std::unexpected(row.error());
  }
  if (!*row) {
    return std::nullopt;
  }
  return read_row(statement);
}

// An incident's windows: [start, end, status] for the whole table (as before
// segments), [start, end, status, [values]] for a segment.
std::string windows_json(const std::vector<Window>& windows) {
  nlohmann::json list = nlohmann::json::array();
  for (const Window& window : windows) {
    nlohmann::json item{seconds(window.start), seconds(window.end), to_string(window.status)};
    if (!window.segment.empty()) {
      item.push_back(segment_values_json(window.segment));
    }
    list.push_back(std::move(item));
  }
  return list.dump();
}

std::vector<Window> windows_from_json(const std::string& text) {
  std::vector<Window> windows;
  const auto list = nlohmann::json::parse(text, nullptr, false);
  if (!list.is_array()) {
    return windows;
  }
  for (const auto& item : list) {
    const bool shaped = item.is_array() && (item.size() == 3 || item.size() == 4) &&
                        item[0].is_number_integer() && item[1].is_number_integer() &&
                        item[2].is_string();
    if (!shaped) {
      continue;
    }
    SegmentKey segment;
    if (item.size() == 4) {
      auto read = segment_from_values_json(item[3]);
      if (!read) {
        continue;
      }
      segment = std::move(*read);
    }
    const std::string status = item[2].get<std::string>();
    windows.push_back(Window{instant(item[0].get<std::int64_t>()),
                             instant(item[1].get<std::int64_t>()),
                             status == "warn" ? Status::warn : Status::fail, std::move(segment)});
  }
  return windows;
}

// A request's segment column: NULL for the whole table.
Value segment_column(const SegmentKey& segment) {
  return segment.empty() ? Value{nullptr} : Value{segment_values_text(segment)};
}

Severity severity_from(const std::string& text) {
  if (text == "info") {
    return Severity::info;
  }
  return text == "critical" ? Severity::critical : Severity::warning;
}

// SELECT ... FROM incidents, and a row of it as an Incident.
constexpr std::string_view kSelectIncidents =
    "SELECT id, rule, state, severity, opened_at, updated_at, resolved_at, acknowledged_at, "
    "retried_at, message, windows, resolution FROM incidents";

Incident read_incident(const Statement& row) {
  Incident incident;
  incident.id = row.integer(0);
  incident.rule = row.text(1);
  incident.state = incident_state_from(row.text(2)).value_or(IncidentState::open);
  incident.severity = severity_from(row.text(3));
  incident.opened_at = instant(row.integer(4));
  incident.updated_at = instant(row.integer(5));
  incident.resolved_at = row.optional_instant(6);
  incident.acknowledged_at = row.optional_instant(7);
  incident.retried_at = row.optional_instant(8);
  incident.message = row.text(9);
  incident.windows = windows_from_json(row.text(10));
  if (!row.is_null(11)) {
    incident.resolution = resolution_from(row.text(11));
  }
  return incident;
}

// The requests table's columns, in the order read_request reads them.
constexpr std::string_view kRequestColumns =
    "id, incident_id, rule, executor, window_start, window_end, attempt, state, deliveries, "
    "next_attempt_at, verify_by, created_at, updated_at, last_error, output, template_values, "
    "segment, run_id, run_link, run_state, run_detail, run_answered_at, run_next_poll_at, "
    "run_slow_polls, run_deadline";

// A run's state as stored in run_state: run_state_name; NULL when not answered yet.
Value run_state_column(const std::optional<RunRecord>& run) {
  if (!run || run->known == RunRecord::Known::not_yet) {
    return nullptr;
  }
  return std::string(run_state_name(*run));
}

// The run columns' values, in kRequestColumns' order (from run_id on).
std::vector<Value> run_columns(const std::optional<RunRecord>& run, const Redactor& redactor) {
  if (!run) {
    return {nullptr, std::string(), nullptr, std::string(), nullptr, nullptr, std::int64_t{0},
            nullptr};
  }
  // The id and link come from the orchestrator's answer and the configured
  // base URL, which may carry credentials: masked like any free text.
  return {redactor.redact(run->ref.id),
          redactor.redact(run->ref.link),
          run_state_column(run),
          redactor.redact(run->detail),
          optional_seconds(run->answered_at),
          seconds(run->next_poll_at),
          std::int64_t{run->slow_polls},
          seconds(run->deadline)};
}

std::optional<RunRecord> read_run(const Statement& row, int first) {
  if (row.is_null(first)) {
    return std::nullopt;
  }
  RunRecord run;
  run.ref.id = row.text(first);
  run.ref.link = row.text(first + 1);
  if (!row.is_null(first + 2)) {
    const std::string state = row.text(first + 2);
    if (state == "not_found") {
      run.known = RunRecord::Known::not_found;
    } else if (const auto known = run_state_from(state)) {
      run.known = RunRecord::Known::state;
      run.state = *known;
    }
  }
  run.detail = row.text(first + 3);
  run.answered_at = row.optional_instant(first + 4);
  run.next_poll_at = row.optional_instant(first + 5).value_or(Instant{});
  run.slow_polls = static_cast<int>(row.integer(first + 6));
  run.deadline = row.optional_instant(first + 7).value_or(Instant{});
  return run;
}

RequestRecord read_request(const Statement& row) {
  RequestRecord request;
  request.id = row.text(0);
  request.incident_id = row.optional_integer(1);
  request.rule = row.text(2);
  request.executor = row.text(3);
  request.window =
      Window{instant(row.integer(4)), instant(row.integer(5)), Status::fail,
             row.is_null(16) ? SegmentKey{}
                             : segment_from_values_text(row.text(16)).value_or(SegmentKey{})};
  request.attempt = static_cast<int>(row.integer(6));
  request.state = request_state_from(row.text(7)).value_or(RequestState::failed);
  request.deliveries = static_cast<int>(row.integer(8));
  request.next_attempt_at = instant(row.integer(9));
  request.verify_by = row.optional_instant(10);
  request.created_at = instant(row.integer(11));
  request.updated_at = instant(row.integer(12));
  request.last_error = row.text(13);
  request.output = row.text(14);
  request.values_json = row.text(15);
  request.run = read_run(row, 17);
  return request;
}

EventRecord read_event(const Statement& row) {
  EventRecord event;
  event.id = row.integer(0);
  event.at = instant(row.integer(1));
  event.incident_id = row.optional_integer(2);
  if (!row.is_null(3)) {
    event.request_id = row.text(3);
  }
  event.kind = row.text(4);
  event.detail = row.text(5);
  return event;
}

std::int64_t read_integer(const Statement& row) {
  return row.integer(0);
}
std::string read_text(const Statement& row) { return row.text(0); }
Instant read_instant(const Statement& row) {
  return instant(row.integer(0));
}

Value optional_id(const std::optional<std::int64_t>& id) {
  return id ? Value{*id} : Value{nullptr};
}

Value optional_resolution(const std::optional<Resolution>& resolution) {
  return resolution ? Value{std::string(to_string(*resolution))} : Value{nullptr};
}

// A row of baselines (without its buckets).
BaselineHistory read_baseline(const Statement& row) {
  BaselineHistory history;
  history.fingerprint = row.text(0);
  history.covered_from = row.optional_instant(1);
  history.covered_to = row.optional_instant(2);
  history.full_read_at = row.optional_instant(3);
  return history;
}

// A row of baseline_buckets: its segment's text and the bucket.
struct KeptBucket {
  std::string segment;
  CountedBucket bucket;
};

KeptBucket read_kept_bucket(const Statement& row) {
  return KeptBucket{row.text(0), CountedBucket{instant(row.integer(1)), instant(row.integer(2)),
                                               row.integer(3), row.integer(4)}};
}

// The kept rows (ordered by segment text, then start) as a history's buckets:
// by segment in key order (NULL first, as a verdict lists them), oldest
// first within one, each indexing `segments`; `segments` stays empty when
// every row is the whole table's. Rows of an unreadable segment are left out.
void group_by_segment(std::vector<KeptBucket> rows, BaselineHistory& history) {
  std::vector<std::pair<SegmentKey, std::string>> keys;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0 && rows[i].segment == rows[i - 1].segment) {
      continue;
    }
    if (auto key = segment_from_values_text(rows[i].segment)) {
      keys.emplace_back(std::move(*key), rows[i].segment);
    }
  }
  std::sort(keys.begin(), keys.end());
  std::unordered_map<std::string, std::uint32_t> index_of;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    index_of.emplace(keys[i].second, static_cast<std::uint32_t>(i));
  }
  const bool whole_table_only = keys.size() == 1 && keys.front().first.empty();
  if (!whole_table_only) {
    for (auto& [key, text] : keys) {
      history.segments.push_back(std::move(key));
    }
  }
  history.buckets.reserve(rows.size());
  for (KeptBucket& row : rows) {
    const auto found = index_of.find(row.segment);
    if (found != index_of.end()) {
      row.bucket.segment = whole_table_only ? 0 : found->second;
      history.buckets.push_back(row.bucket);
    }
  }
  // Rows come by segment text; put the segments in key order, each stays
  // oldest first.
  std::stable_sort(
      history.buckets.begin(), history.buckets.end(),
      [](const CountedBucket& a, const CountedBucket& b) { return a.segment < b.segment; });
}

Window read_window(const Statement& row) {
  return Window{
      instant(row.integer(0)), instant(row.integer(1)), Status::fail,
      row.is_null(2) ? SegmentKey{} : segment_from_values_text(row.text(2)).value_or(SegmentKey{})};
}

}  // namespace

std::string_view to_string(IncidentState state) {
  switch (state) {
    case IncidentState::open:
      return "open";
    case IncidentState::backfilling:
      return "backfilling";
    case IncidentState::verifying:
      return "verifying";
    case IncidentState::resolved:
      return "resolved";
    case IncidentState::escalated:
      return "escalated";
  }
  return "?";
}

std::string_view run_state_name(const RunRecord& run) {
  switch (run.known) {
    case RunRecord::Known::not_yet:
      return "unknown";
    case RunRecord::Known::not_found:
      return "not_found";
    case RunRecord::Known::state:
      break;
  }
  return to_string(run.state);
}

std::string_view to_string(RequestState state) {
  switch (state) {
    case RequestState::pending:
      return "pending";
    case RequestState::sending:
      return "sending";
    case RequestState::accepted:
      return "accepted";
    case RequestState::succeeded:
      return "succeeded";
    case RequestState::verified:
      return "verified";
    case RequestState::failed:
      return "failed";
    case RequestState::cancelled:
      return "cancelled";
    case RequestState::dry_run:
      return "dry_run";
  }
  return "?";
}

std::string_view to_string(Resolution resolution) {
  switch (resolution) {
    case Resolution::healed:
      return "healed";
    case Resolution::aged_out:
      return "aged_out";
    case Resolution::by_operator:
      return "operator";
    case Resolution::rule_removed:
      return "rule_removed";
  }
  return "?";
}

std::optional<Resolution> resolution_from(std::string_view text) {
  for (const Resolution resolution :
       {Resolution::healed, Resolution::aged_out, Resolution::by_operator,
        Resolution::rule_removed}) {
    if (to_string(resolution) == text) {
      return resolution;
    }
  }
  return std::nullopt;
}

std::optional<IncidentState> incident_state_from(std::string_view text) {
  for (const IncidentState state : {IncidentState::open, IncidentState::backfilling,
                                    IncidentState::verifying, IncidentState::resolved,
                                    IncidentState::escalated}) {
    if (to_string(state) == text) {
      return state;
    }
  }
  return std::nullopt;
}

std::optional<RequestState> request_state_from(std::string_view text) {
  for (const RequestState state :
       {RequestState::pending, RequestState::sending, RequestState::accepted,
        RequestState::succeeded, RequestState::verified, RequestState::failed,
        RequestState::cancelled, RequestState::dry_run}) {
    if (to_string(state) == text) {
      return state;
    }
  }
  return std::nullopt;
}

Expected<std::unique_ptr<StateStore>> StateStore::open(const std::string& path) {
  // Created owner-only: the state names tables, windows and executor output.
  const mode_t previous = umask(077);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                                 nullptr);
  umask(previous);
  if (rc != SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return fail(fmt::format("cannot open the state database {}: {}", path, message));
  }
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  sqlite3_busy_timeout(db, 10000);
  for (const char* pragma : {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL",
                             "PRAGMA foreign_keys = ON"}) {
    if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return fail(fmt::format("cannot set up the state database {}: {}", path,
                              sqlite3_errmsg(db)));
    }
  }
  if (auto migrated = store->migrate(); !migrated) {
    return std::unexpected(migrated.error());
  }
  return store;
}

std::unique_ptr<StateStore> StateStore::unavailable(const std::string& path, std::string reason) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(":memory:", &db,
                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<StateStore> store(new StateStore(db, path));
  // The schema, so that reads work (and find nothing); then no more writes.
  // (An in-memory database fails to take it only when out of memory.)
  static_cast<void>(store->migrate());
  sqlite3_exec(db, "PRAGMA query_only = ON", nullptr, nullptr, nullptr);
  {
    MutexLock lock(store->m_mutex);
    store->m_unavailable = std::move(reason);
  }
  return store;
}

StateStore::StateStore(sqlite3* db, std::string path)
    : m_db(std::make_unique<StateDatabase>(db)), m_path(std::move(path)) {}

StateStore::~StateStore() = default;

Expected<bool> StateStore::reopen() {
  MutexLock lock(m_mutex);
  if (m_unavailable.empty()) {
    return true;
  }
  auto opened = open(m_path);
  if (!opened) {
    m_unavailable = opened.error().message;
    return std::unexpected(opened.error());
  }
  StateStore& real = **opened;
  MutexLock real_lock(real.m_mutex);
  std::swap(m_db, real.m_db);  // the stand-in is closed with `opened`
  m_unavailable.clear();
  m_write_error.clear();
  return true;
}

std::string StateStore::unavailable_reason() const {
  MutexLock lock(m_mutex);
  return m_unavailable;
}

Expected<void> StateStore::migrate() {
  MutexLock lock(m_mutex);
  StateDatabase& db = *m_db;
  return run_transaction([&](Transaction&) -> Expected<void> {
    auto current = query_one(db, "PRAGMA user_version", {}, read_integer);
    if (!current) {
      return std::unexpected(current.error());
    }
    const std::int64_t version = current->value_or(0);
    if (version == kSchemaVersion) {
      return {};
    }
    if (version > kSchemaVersion) {
      return fail(
          fmt::format("the state database {} has schema version {}, newer than this "
                      "gapwatch understands ({}); upgrade gapwatch",
                      m_path, version, kSchemaVersion));
    }
    for (auto step = version; step < kSchemaVersion; ++step) {
      if (sqlite3_exec(db.handle(), kSchemaSteps[static_cast<std::size_t>(step)], nullptr,
                       nullptr, nullptr) != SQLITE_OK) {
        return std::unexpected(sqlite_error(
            db.handle(), fmt::format("upgrading the schema to version {}", step + 1)));
      }
    }
    return execute(db, fmt::format("PRAGMA user_version = {}", kSchemaVersion));
  });
}

Expected<void> StateStore::transaction(const Work& work) {
  MutexLock lock(m_mutex);
  return run_transaction(work);
}

Expected<void> StateStore::run_transaction(const Work& work) {
  if (!m_unavailable.empty()) {
    // Nothing can be recorded: say why rather than "readonly database".
    return fail(m_unavailable);
  }
  if (auto begun = execute(*m_db, "BEGIN IMMEDIATE"); !begun) {
    note_write_failure(begun.error());
    return begun;
  }
  Transaction transaction(*m_db, *m_redactor);
  auto result = work(transaction);
  if (!result) {
    note_write_failure(result.error());
    execute(*m_db, "ROLLBACK");
    return result;
  }
  if (auto committed = execute(*m_db, "COMMIT"); !committed) {
    note_write_failure(committed.error());
    execute(*m_db, "ROLLBACK");
    return committed;
  }
  m_write_error.clear();
  return {};
}

void StateStore::note_write_failure(const Error& error) {
  switch (sqlite3_errcode(m_db->handle()) & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      m_write_error = error.message;
      break;
    default:
      break;
  }
}

Expected<void> StateStore::check_writable() {
  MutexLock lock(m_mutex);
  if (!m_unavailable.empty()) {
    return fail(m_unavailable);
  }
  if (sqlite3_db_readonly(m_db->handle(), "main") == 1) {
    return fail(fmt::format("the state database {} is read-only", m_path));
  }
  if (!m_write_error.empty()) {
    return fail(fmt::format("the state database {} cannot be written: {}", m_path, m_write_error));
  }
  return run_transaction([](Transaction&) { return Expected<void>{}; });
}

// Transaction: the operations.

Expected<std::optional<Incident>> StateStore::Transaction::active_incident(
    const std::string& rule) {
  return query_one(
      m_db, fmt::format("{} WHERE rule = ? AND state <> 'resolved' ORDER BY id", kSelectIncidents),
      {rule}, read_incident);
}

Expected<std::optional<Incident>> StateStore::Transaction::incident(std::int64_t id) {
  return query_one(m_db, fmt::format("{} WHERE id = ? ORDER BY id", kSelectIncidents), {id},
                   read_incident);
}

Expected<std::vector<Incident>> StateStore::Transaction::incidents(IncidentFilter filter) {
  const std::string_view where =
      filter == IncidentFilter::active ? " WHERE state <> 'resolved'" : "";
  return query_rows(m_db, fmt::format("{}{} ORDER BY id", kSelectIncidents, where), {},
                    read_incident);
}

Expected<std::int64_t> StateStore::Transaction::insert_incident(const Incident& incident) {
  auto inserted = execute(
      m_db,
      "INSERT INTO incidents (rule, state, severity, opened_at, updated_at, resolved_at, "
      "acknowledged_at, retried_at, message, windows, resolution) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {incident.rule, std::string(to_string(incident.state)),
       std::string(to_string(incident.severity)), seconds(incident.opened_at),
       seconds(incident.updated_at), optional_seconds(incident.resolved_at),
       optional_seconds(incident.acknowledged_at), optional_seconds(incident.retried_at),
       m_redactor.redact(incident.message), windows_json(incident.windows),
       optional_resolution(incident.resolution)});
  if (!inserted) {
    return std::unexpected(inserted.error());
  }
  return sqlite3_last_insert_rowid(m_db.handle());
}

Expected<void> StateStore::Transaction::update_incident(const Incident& incident) {
  return execute(m_db,
                 "UPDATE incidents SET state = ?, severity = ?, updated_at = ?, resolved_at = ?, "
                 "acknowledged_at = ?, retried_at = ?, message = ?, windows = ?, resolution = ? "
                 "WHERE id = ?",
                 {std::string(to_string(incident.state)), std::string(to_string(incident.severity)),
                  seconds(incident.updated_at), optional_seconds(incident.resolved_at),
                  optional_seconds(incident.acknowledged_at), optional_seconds(incident.retried_at),
                  m_redactor.redact(incident.message), windows_json(incident.windows),
                  optional_resolution(incident.resolution), incident.id});
}

Expected<void> StateStore::Transaction::insert_request(const RequestRecord& request) {
  std::vector<Value> values{request.id,
                            optional_id(request.incident_id),
                            request.rule,
                            request.executor,
                            seconds(request.window.start),
                            seconds(request.window.end),
                            std::int64_t{request.attempt},
                            std::string(to_string(request.state)),
                            std::int64_t{request.deliveries},
                            seconds(request.next_attempt_at),
                            optional_seconds(request.verify_by),
                            seconds(request.created_at),
                            seconds(request.updated_at),
                            m_redactor.redact(request.last_error),
                            m_redactor.redact(request.output),
                            request.values_json,
                            segment_column(request.window.segment)};
  auto run = run_columns(request.run, m_redactor);
  values.insert(values.end(), run.begin(), run.end());
  std::vector<std::string_view> places(values.size(), "?");
  return execute(m_db,
                 fmt::format("INSERT INTO requests ({}) VALUES ({})", kRequestColumns,
                             fmt::join(places, ", ")),
                 values);
}

Expected<void> StateStore::Transaction::update_request(const RequestRecord& request) {
  std::vector<Value> values{std::string(to_string(request.state)),
                            std::int64_t{request.deliveries},
                            seconds(request.next_attempt_at),
                            optional_seconds(request.verify_by),
                            seconds(request.updated_at),
                            m_redactor.redact(request.last_error),
                            m_redactor.redact(request.output)};
  auto run = run_columns(request.run, m_redactor);
  values.insert(values.end(), run.begin(), run.end());
  values.emplace_back(request.id);
  return execute(m_db,
                 "UPDATE requests SET state = ?, deliveries = ?, next_attempt_at = ?, "
                 "verify_by = ?, updated_at = ?, last_error = ?, output = ?, run_id = ?, "
                 "run_link = ?, run_state = ?, run_detail = ?, run_answered_at = ?, "
                 "run_next_poll_at = ?, run_slow_polls = ?, run_deadline = ? WHERE id = ?",
                 values);
}

Expected<std::optional<RequestRecord>> StateStore::Transaction::request(const std::string& id) {
  return query_one(m_db, fmt::format("SELECT {} FROM requests WHERE id = ?", kRequestColumns), {id},
                   read_request);
}

Expected<std::vector<RequestRecord>> StateStore::Transaction::requests_for_incident(
    std::int64_t incident_id) {
  return query_rows(m_db,
                    fmt::format("SELECT {} FROM requests WHERE incident_id = ? "
                                "ORDER BY created_at, window_start",
                                kRequestColumns),
                    {incident_id}, read_request);
}

Expected<std::vector<RequestRecord>> StateStore::Transaction::requests_for_rule(
    const std::string& rule) {
  return query_rows(
      m_db,
      fmt::format("SELECT {} FROM requests WHERE rule = ? ORDER BY created_at, window_start",
                  kRequestColumns),
      {rule}, read_request);
}

Expected<std::vector<RequestRecord>> StateStore::Transaction::requests_in_state(
    RequestState state) {
  return query_rows(
      m_db,
      fmt::format("SELECT {} FROM requests WHERE state = ? ORDER BY created_at, window_start",
                  kRequestColumns),
      {std::string(to_string(state))}, read_request);
}

Expected<std::vector<RequestRecord>> StateStore::Transaction::due_requests(Instant now) {
  return query_rows(m_db,
                    fmt::format("SELECT {} FROM requests WHERE state = 'pending' AND "
                                "next_attempt_at <= ? ORDER BY next_attempt_at, created_at",
                                kRequestColumns),
                    {seconds(now)}, read_request);
}

Expected<bool> StateStore::Transaction::claim_request(const std::string& id, Instant now) {
  auto updated = execute(m_db,
                         "UPDATE requests SET state = 'sending', updated_at = ?, "
                         "deliveries = deliveries + 1 WHERE id = ? AND state = 'pending'",
                         {seconds(now), id});
  if (!updated) {
    return std::unexpected(updated.error());
  }
  return sqlite3_changes(m_db.handle()) == 1;
}

Expected<std::int64_t> StateStore::Transaction::count_requests(RequestState state) {
  auto count = query_one(m_db, "SELECT COUNT(*) FROM requests WHERE state = ?",
                         {std::string(to_string(state))}, read_integer);
  if (!count) {
    return std::unexpected(count.error());
  }
  return count->value_or(0);
}

Expected<std::optional<Instant>> StateStore::Transaction::next_due() {
  return query_one(m_db,
                   "SELECT next_attempt_at FROM requests WHERE state = 'pending' "
                   "ORDER BY next_attempt_at LIMIT 1",
                   {}, read_instant);
}

Expected<std::vector<Instant>> StateStore::Transaction::deliveries_since(
    const std::string& executor, Instant since) {
  return query_rows(m_db,
                    "SELECT e.at FROM events e JOIN requests r ON r.id = e.request_id "
                    "WHERE e.kind = 'request_sending' AND e.at > ? AND r.executor = ? "
                    "ORDER BY e.at",
                    {seconds(since), executor}, read_instant);
}

Expected<std::vector<RequestRecord>> StateStore::Transaction::runs_to_poll(
    const std::string& executor, Instant now) {
  // A settled run (terminal or not found) keeps its row until verification,
  // but is not asked again.
  return query_rows(m_db,
                    fmt::format("SELECT {} FROM requests WHERE executor = ? AND "
                                "state = 'accepted' AND run_id IS NOT NULL AND "
                                "run_next_poll_at <= ? AND (run_state IS NULL OR run_state IN "
                                "('queued', 'running')) ORDER BY run_next_poll_at",
                                kRequestColumns),
                    {executor, seconds(now)}, read_request);
}

Expected<std::optional<Instant>> StateStore::Transaction::next_run_poll() {
  return query_one(m_db,
                   "SELECT run_next_poll_at FROM requests WHERE state = 'accepted' AND "
                   "run_id IS NOT NULL AND (run_state IS NULL OR run_state IN "
                   "('queued', 'running')) ORDER BY run_next_poll_at LIMIT 1",
                   {}, read_instant);
}

Expected<std::vector<std::tuple<std::string, std::string, std::int64_t>>>
StateStore::Transaction::count_runs() {
  return query_rows(m_db,
                    "SELECT executor, COALESCE(run_state, 'unknown'), COUNT(*) FROM requests "
                    "WHERE state = 'accepted' AND run_id IS NOT NULL GROUP BY 1, 2",
                    {}, [](const Statement& row) {
                      return std::tuple<std::string, std::string, std::int64_t>{
                          row.text(0), row.text(1), row.integer(2)};
                    });
}

Expected<void> StateStore::Transaction::add_event(const EventRecord& event) {
  return execute(
      m_db,
      "INSERT INTO events (at, incident_id, request_id, kind, detail) VALUES (?, ?, ?, "
      "?, ?)",
      {seconds(event.at), optional_id(event.incident_id),
       event.request_id ? Value{*event.request_id} : Value{nullptr}, event.kind,
       m_redactor.redact(event.detail)});
}

Expected<std::vector<EventRecord>> StateStore::Transaction::events_for_incident(
    std::int64_t incident_id) {
  return query_rows(m_db,
                    "SELECT id, at, incident_id, request_id, kind, detail FROM events "
                    "WHERE incident_id = ? ORDER BY id",
                    {incident_id}, read_event);
}

Expected<std::optional<BaselineHistory>> StateStore::Transaction::baseline(
    const std::string& rule) {
  auto kept = query_one(m_db,
                        "SELECT fingerprint, covered_from, covered_to, full_read_at FROM baselines "
                        "WHERE rule = ?",
                        {rule}, read_baseline);
  if (!kept || !*kept) {
    return kept;
  }
  auto buckets = query_rows(m_db,
                            "SELECT segment, start, \"end\", rows, nulls FROM baseline_buckets "
                            "WHERE rule = ? ORDER BY segment, start",
                            {rule}, read_kept_bucket);
  if (!buckets) {
    return std::unexpected(buckets.error());
  }
  group_by_segment(std::move(*buckets), **kept);
  return kept;
}

Expected<void> StateStore::Transaction::save_baseline(const std::string& rule,
                                                      const BaselineWrite& write) {
  const bool all = write.others == BaselineWrite::Others::deleted;
  if (auto deleted = execute(m_db,
                             all ? "DELETE FROM baseline_buckets WHERE rule = ?"
                                 : "DELETE FROM baseline_buckets WHERE rule = ? AND start < ?",
                             all ? std::vector<Value>{rule}
                                 : std::vector<Value>{rule, seconds(write.keep_from)});
      !deleted) {
    return deleted;
  }
  // Each segment's text once, not once per bucket.
  std::vector<std::string> segment_texts;
  segment_texts.reserve(write.segments.size());
  for (const SegmentKey& segment : write.segments) {
    segment_texts.push_back(segment_values_text(segment));
  }
  const std::string whole_table = segment_values_text({});
  for (const CountedBucket& bucket : write.buckets) {
    if (bucket.start < write.keep_from) {
      continue;
    }
    const std::string& segment =
        bucket.segment < segment_texts.size() ? segment_texts[bucket.segment] : whole_table;
    if (auto written = execute(
            m_db,
            "INSERT INTO baseline_buckets (rule, segment, start, \"end\", rows, nulls) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (rule, segment, start) DO UPDATE SET "
            "\"end\" = excluded.\"end\", rows = excluded.rows, "
            "nulls = excluded.nulls",
            {rule, segment, seconds(bucket.start), seconds(bucket.end), bucket.rows, bucket.nulls});
        !written) {
      return written;
    }
  }
  return execute(m_db,
                 "INSERT INTO baselines (rule, fingerprint, covered_from, covered_to, full_read_at) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (rule) DO UPDATE SET "
                 "fingerprint = excluded.fingerprint, covered_from = excluded.covered_from, "
                 "covered_to = excluded.covered_to, full_read_at = excluded.full_read_at",
                 {rule, write.fingerprint, optional_seconds(write.covered_from),
                  optional_seconds(write.covered_to), optional_seconds(write.full_read_at)});
}

Expected<void> StateStore::Transaction::invalidate_baseline(const std::string& rule,
                                                            Instant from) {
  return execute(m_db, "UPDATE baselines SET covered_to = MIN(covered_to, ?) WHERE rule = ?",
                 {seconds(from), rule});
}

Expected<void> StateStore::Transaction::delete_baseline(const std::string& rule) {
  if (auto buckets = execute(m_db, "DELETE FROM baseline_buckets WHERE rule = ?", {rule});
      !buckets) {
    return buckets;
  }
  return execute(m_db, "DELETE FROM baselines WHERE rule = ?", {rule});
}

Expected<std::vector<std::string>> StateStore::Transaction::baseline_rules() {
  return query_rows(m_db, "SELECT rule FROM baselines ORDER BY rule", {}, read_text);
}

Expected<std::vector<Window>> StateStore::Transaction::unhealed_windows(const std::string& rule,
                                                                       Instant since) {
  // The incidents (found by incidents_by_rule) whose windows may hold wrong data.
  constexpr std::string_view kUnhealed =
      "SELECT {} FROM incidents WHERE rule = ? AND updated_at >= ? AND "
      "(state <> 'resolved' OR resolution IS NULL OR resolution <> 'healed')";
  auto listed = query_rows(m_db, fmt::format(kUnhealed, "windows"), {rule, seconds(since)},
                           [](const Statement& row) { return windows_from_json(row.text(0)); });
  if (!listed) {
    return std::unexpected(listed.error());
  }
  auto requested = query_rows(
      m_db,
      fmt::format(
          "SELECT window_start, window_end, segment FROM requests WHERE incident_id IN ({})",
          fmt::format(kUnhealed, "id")),
      {rule, seconds(since)}, read_window);
  if (!requested) {
    return std::unexpected(requested.error());
  }
  std::vector<Window> windows = std::move(*requested);
  for (const std::vector<Window>& incident_windows : *listed) {
    windows.insert(windows.end(), incident_windows.begin(), incident_windows.end());
  }
  // What is excluded is the time, whatever the status a window was listed with.
  for (Window& window : windows) {
    window.status = Status::fail;
  }
  std::sort(windows.begin(), windows.end(), [](const Window& a, const Window& b) {
    return std::tie(a.start, a.end, a.segment) < std::tie(b.start, b.end, b.segment);
  });
  windows.erase(std::unique(windows.begin(), windows.end()), windows.end());
  return windows;
}

void StateStore::set_redactor(std::shared_ptr<const Redactor> redactor) {
  MutexLock lock(m_mutex);
  m_redactor = std::move(redactor);
}

// StateStore: each operation alone.

template <auto Operation, class... Args>
auto StateStore::alone(const Args&... args) {
  MutexLock lock(m_mutex);
  Transaction transaction(*m_db, *m_redactor);
  return (transaction.*Operation)(args...);
}

Expected<std::optional<Incident>> StateStore::active_incident(const std::string& rule) {
  return alone<&Transaction::active_incident>(rule);
}
Expected<std::optional<Incident>> StateStore::incident(std::int64_t id) {
  return alone<&Transaction::incident>(id);
}
Expected<std::vector<Incident>> StateStore::incidents(IncidentFilter filter) {
  return alone<&Transaction::incidents>(filter);
}
Expected<std::int64_t> StateStore::insert_incident(const Incident& incident) {
  return alone<&Transaction::insert_incident>(incident);
}
Expected<void> StateStore::update_incident(const Incident& incident) {
  return alone<&Transaction::update_incident>(incident);
}
Expected<void> StateStore::insert_request(const RequestRecord& request) {
  return alone<&Transaction::insert_request>(request);
}
Expected<void> StateStore::update_request(const RequestRecord& request) {
  return alone<&Transaction::update_request>(request);
}
Expected<std::optional<RequestRecord>> StateStore::request(const std::string& id) {
  return alone<&Transaction::request>(id);
}
Expected<std::vector<RequestRecord>> StateStore::requests_for_incident(std::int64_t incident_id) {
  return alone<&Transaction::requests_for_incident>(incident_id);
}
Expected<std::vector<RequestRecord>> StateStore::requests_for_rule(const std::string& rule) {
  return alone<&Transaction::requests_for_rule>(rule);
}
Expected<std::vector<RequestRecord>> StateStore::requests_in_state(RequestState state) {
  return alone<&Transaction::requests_in_state>(state);
}
Expected<std::vector<RequestRecord>> StateStore::due_requests(Instant now) {
  return alone<&Transaction::due_requests>(now);
}
Expected<bool> StateStore::claim_request(const std::string& id, Instant now) {
  return alone<&Transaction::claim_request>(id, now);
}
Expected<std::vector<RequestRecord>> StateStore::runs_to_poll(const std::string& executor,
                                                              Instant now) {
  return alone<&Transaction::runs_to_poll>(executor, now);
}
Expected<std::vector<Instant>> StateStore::deliveries_since(const std::string& executor,
                                                            Instant since) {
  return alone<&Transaction::deliveries_since>(executor, since);
}
Expected<std::optional<Instant>> StateStore::next_run_poll() {
  return alone<&Transaction::next_run_poll>();
}
Expected<std::vector<std::tuple<std::string, std::string, std::int64_t>>>
StateStore::count_runs() {
  return alone<&Transaction::count_runs>();
}
Expected<std::int64_t> StateStore::count_requests(RequestState state) {
  return alone<&Transaction::count_requests>(state);
}
Expected<std::optional<Instant>> StateStore::next_due() {
  return alone<&Transaction::next_due>();
}
Expected<void> StateStore::add_event(const EventRecord& event) {
  return alone<&Transaction::add_event>(event);
}
Expected<std::vector<EventRecord>> StateStore::events_for_incident(std::int64_t incident_id) {
  return alone<&Transaction::events_for_incident>(incident_id);
}
Expected<std::optional<BaselineHistory>> StateStore::baseline(const std::string& rule) {
  return alone<&Transaction::baseline>(rule);
}
Expected<void> StateStore::save_baseline(const std::string& rule, const BaselineWrite& write) {
  return transaction([&](Transaction& transaction) { return transaction.save_baseline(rule, write); });
}
Expected<void> StateStore::invalidate_baseline(const std::string& rule, Instant from) {
  return alone<&Transaction::invalidate_baseline>(rule, from);
}
Expected<void> StateStore::delete_baseline(const std::string& rule) {
  return transaction([&](Transaction& transaction) { return transaction.delete_baseline(rule); });
}
Expected<std::vector<std::string>> StateStore::baseline_rules() {
  return alone<&Transaction::baseline_rules>();
}
Expected<std::vector<Window>> StateStore::unhealed_windows(const std::string& rule, Instant since) {
  return alone<&Transaction::unhealed_windows>(rule, since);
}

}  // namespace gapwatch
