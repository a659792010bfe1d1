// Warehouse: the connection pool, dialect detection, session setup and the
// cache of column encodings (see warehouse.h).
#include "monitor/warehouse/warehouse.h"

#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace gapwatch {

namespace {

// How a native column encodes time, from the type name the driver reports.
Expected<TimeEncoding> native_encoding(const Dialect& dialect, const ColumnDescription& column,
                                       const RuleSpec& spec) {
  if (const auto encoding = dialect.native_encoding(column.type_name)) {
    return *encoding;
  }
  return fail(fmt::format(
      "column {} of {} has type '{}', which is not a timestamp; set timestamp_format to "
      "epoch_s, epoch_ms or text if it holds times in another form",
      *spec.timestamp_column, spec.table.display(), column.type_name));
}

// What a call of an evaluation the pool abandoned gets instead of an answer.
Error abandoned_error() {
  Error error;
  error.sqlstate = "HYT00";
  error.message = "abandoned: the warehouse did not answer";
  return error;
}

}  // namespace

Session::Session(Session&& other) noexcept
    : m_warehouse(other.m_warehouse),
      m_connection(std::move(other.m_connection)),
      m_dialect(other.m_dialect),
      m_reused(other.m_reused),
      m_heartbeat(other.m_heartbeat) {
  other.m_warehouse = nullptr;
}

Session::~Session() {
  if (m_warehouse == nullptr) {
    return;
  }
  // The pool gave up on this evaluation while a call hung: whatever the
  // connection says now, it is not handed to anyone again.
  if (m_heartbeat != nullptr && m_heartbeat->abandoned()) {
    m_connection.reset();
  }
  m_warehouse->release(std::move(m_connection));
}

// An abandoned evaluation whose call has returned asks nothing more of the
// warehouse: its result is dropped anyway.
Expected<void> Session::still_wanted() const {
  if (m_heartbeat != nullptr && m_heartbeat->abandoned()) {
    return std::unexpected(abandoned_error());
  }
  return {};
}

Expected<TimeEncoding> Session::time_encoding(const RuleSpec& spec, Probe probe) {
  if (auto wanted = still_wanted(); !wanted) {
    return std::unexpected(wanted.error());
  }
  const Heartbeat::Call call(m_heartbeat, m_warehouse->m_config.query_timeout);
  return m_warehouse->probe_encoding(*m_connection, *m_dialect, spec, probe);
}

void Session::forget_encoding(const RuleSpec& spec) {
  m_warehouse->forget_encoding(spec);
}

Expected<ResultRows> Session::execute(const QueryPlan& plan) {
  if (auto wanted = still_wanted(); !wanted) {
    return std::unexpected(wanted.error());
  }
  const Heartbeat::Call call(m_heartbeat, m_warehouse->m_config.query_timeout);
  return m_connection->execute(plan.sql, plan.params, m_warehouse->m_config.query_timeout,
                               m_warehouse->m_watchdog);
}

Warehouse::Warehouse(WarehouseConfig config, QueryWatchdog& watchdog)
    : m_config(std::move(config)), m_watchdog(watchdog) {
  if (m_config.dialect) {
    m_dialect = &dialect_for(*m_config.dialect);
  }
}

Expected<Session> Warehouse::session(Heartbeat* heartbeat) {
  std::unique_ptr<OdbcConnection> connection;
  {
    // Every slot may be held by a call the server never answers (the pool
    // abandoned those evaluations): wait for one no longer than a statement
    // may take.
    const auto deadline = std::chrono::steady_clock::now() + m_config.query_timeout;
    MutexLock lock(m_mutex);
    bool timed_out = false;
    while (m_in_use >= m_config.max_connections && !timed_out) {
      timed_out = !m_slot_free.wait_until(m_mutex, deadline);
    }
    if (m_in_use >= m_config.max_connections) {
      Error error;
      error.sqlstate = "08001";
      error.message = fmt::format(
          "no connection to warehouse {} came free within {}s: all {} are held by calls the "
          "warehouse has not answered",
          m_config.name, m_config.query_timeout.count(), m_config.max_connections);
      return std::unexpected(std::move(error));
    }
    ++m_in_use;
    if (!m_idle.empty()) {
      connection = std::move(m_idle.back());
      m_idle.pop_back();
    }
  }
  const bool reused = connection != nullptr;
  const Heartbeat::Call call(heartbeat, m_config.query_timeout);
  if (!connection) {
    auto opened = connect();
    if (!opened) {
      release(nullptr);
      return std::unexpected(opened.error());
    }
    connection = std::move(*opened);
  }
  auto dialect = resolve_dialect(*connection);
  if (!dialect) {
    release(std::move(connection));
    return std::unexpected(dialect.error());
  }
  if (!reused) {
    auto prepared = prepare_connection(*connection, **dialect);
    if (!prepared) {
      release(nullptr);  // a connection without its session settings is never pooled
      return std::unexpected(prepared.error());
    }
  }
  if (heartbeat != nullptr && heartbeat->abandoned()) {
    release(nullptr);  // hung while being prepared: never pooled
    return std::unexpected(abandoned_error());
  }
  return Session(this, std::move(connection), *dialect, reused, heartbeat);
}

namespace {

// One connection attempt on its own thread, so that the caller can stop
// waiting for it. Whoever comes last (the waiter, or the attempt finishing
// after the waiter gave up) disposes of the result.
struct PendingConnect {
  Mutex mutex;
  CondVar finished;  // signalled when result is set
  std::optional<Expected<std::unique_ptr<OdbcConnection>>> result GUARDED_BY(mutex);
  bool abandoned GUARDED_BY(mutex) = false;
};

}  // namespace

// Connecting is bounded by query_timeout as well. Drivers differ in whether
// they honour SQL_ATTR_LOGIN_TIMEOUT: the SQLite driver waits out its busy
// timeout (100 s by default) while another process holds a lock. An attempt
// that overruns is left to finish on its thread, which closes what it opened;
// at most max_connections such attempts are outstanding per warehouse, so a
// warehouse that never answers cannot pile up threads.
Expected<std::unique_ptr<OdbcConnection>> Warehouse::connect() {
  const int outstanding = m_stray_connects->load();
  if (outstanding >= m_config.max_connections) {
    Error error;
    error.sqlstate = "08001";
    error.message = fmt::format(
        "connecting failed: {} earlier connection attempt(s) have not returned yet (the warehouse "
        "does not answer)",
        outstanding);
    return std::unexpected(std::move(error));
  }
  auto pending = std::make_shared<PendingConnect>();
  std::thread([pending, stray = m_stray_connects, connection = m_config.connection,
               timeout = m_config.query_timeout] {
    auto opened = OdbcConnection::open(connection, timeout);
    {
      MutexLock lock(pending->mutex);
      if (!pending->abandoned) {
        pending->result = std::move(opened);
        pending->finished.notify_one();
        return;
      }
    }
    opened = std::unexpected(Error{});  // closes the late connection, if any
    stray->fetch_sub(1);
  }).detach();

  const auto deadline = std::chrono::steady_clock::now() + m_config.query_timeout;
  MutexLock lock(pending->mutex);
  bool timed_out = false;
  while (!pending->result && !timed_out) {
    timed_out = !pending->finished.wait_until(pending->mutex, deadline);
  }
  if (!pending->result) {
    pending->abandoned = true;
    m_stray_connects->fetch_add(1);
    Error error;
    error.sqlstate = "HYT00";
    error.message = fmt::format("connecting timed out after {}s (the warehouse did not answer)",
                                m_config.query_timeout.count());
    return std::unexpected(std::move(error));
  }
  return std::move(*pending->result);
}

void Warehouse::release(std::unique_ptr<OdbcConnection> connection) {
  {
    MutexLock lock(m_mutex);
    --m_in_use;
    if (connection && connection->usable()) {
      m_idle.push_back(std::move(connection));
    }
  }
  m_slot_free.notify_one();
}

Expected<const Dialect*> Warehouse::resolve_dialect(OdbcConnection& connection) {
  {
    MutexLock lock(m_mutex);
    if (m_dialect != nullptr) {
      return m_dialect;
    }
  }
  auto name = connection.dbms_name();
  if (!name) {
    return std::unexpected(name.error());
  }
  const auto kind = dialect_from_dbms_name(*name);
  if (!kind) {
    return fail(fmt::format("warehouse {}: the DBMS '{}' has no dialect in this gapwatch; set "
                            "dialect: to one of postgres, sqlite, mysql, sqlserver, snowflake",
                            m_config.name, *name));
  }
  MutexLock lock(m_mutex);
  m_dialect = &dialect_for(*kind);
  return m_dialect;
}

// Runs once per new connection, never again for a pooled one: the session
// settings persist for the connection's life.
Expected<void> Warehouse::prepare_connection(OdbcConnection& connection, const Dialect& dialect) {
  for (const std::string& statement : dialect.session_setup(m_config.query_timeout)) {
    auto done = connection.execute(statement, {}, m_config.query_timeout, m_watchdog);
    if (!done) {
      Error error = done.error();
      error.message = fmt::format("preparing the session ({}): {}", statement, error.message);
      return std::unexpected(std::move(error));
    }
  }
  return {};
}

Expected<TimeEncoding> Warehouse::probe_encoding(OdbcConnection& connection,
                                                 const Dialect& dialect, const RuleSpec& spec,
                                                 Probe probe) {
  switch (spec.timestamp_format) {
    case TimestampFormat::epoch_s:
      return TimeEncoding::epoch_seconds;
    case TimestampFormat::epoch_ms:
      return TimeEncoding::epoch_milliseconds;
    case TimestampFormat::text:
      return TimeEncoding::wall_clock_text;
    case TimestampFormat::native:
      break;
  }
  if (!spec.timestamp_column) {
    return TimeEncoding::instant;  // not used: the rule reads no times
  }
  const auto key = std::make_tuple(spec.table.display(), *spec.timestamp_column,
                                   spec.timestamp_format);
  if (probe == Probe::cached) {
    MutexLock lock(m_mutex);
    if (const auto found = m_encodings.find(key); found != m_encodings.end()) {
      return found->second;
    }
  }
  auto column =
      connection.describe_column(dialect.locate_column(spec.table, *spec.timestamp_column));
  if (!column) {
    return std::unexpected(column.error());
  }
  if (!*column) {
    return fail(fmt::format("column {} not found in {} (does the table exist, and may this user "
                            "read it?)",
                            *spec.timestamp_column, spec.table.display()));
  }
  auto encoding = native_encoding(dialect, **column, spec);
  MutexLock lock(m_mutex);
  if (encoding) {
    m_encodings[key] = *encoding;
  } else {
    m_encodings.erase(key);
  }
  return encoding;
}

void Warehouse::forget_encoding(const RuleSpec& spec) {
  if (!spec.timestamp_column) {
    return;
  }
  MutexLock lock(m_mutex);
  m_encodings.erase(std::make_tuple(spec.table.display(), *spec.timestamp_column,
                                    spec.timestamp_format));
}

}  // namespace gapwatch
