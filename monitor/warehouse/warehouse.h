// Warehouse: one configured data source. Owns a small pool of ODBC connections
// (at most max_connections in use, so concurrent evaluations queue here),
// knows the dialect (configured, or detected once from SQLGetInfo), runs the
// dialect's session setup once on every connection it opens, and caches how
// each rule's timestamp column encodes time (probed with SQLColumns, cached;
// the evaluator probes again before it trusts a failing verdict, and forgets
// a table's entry on any error, so a table rebuilt with another column type
// never leaves a stale encoding behind).
//
// Every call that waits on the server is bounded: connecting and statements
// by query_timeout, and each is announced to the evaluation's Heartbeat, so
// that the pool can abandon an evaluation stuck in a call the server never
// answers. An abandoned session's connection is dropped, never pooled again;
// until its call returns it keeps its slot, and an evaluation that finds
// every slot taken for query_timeout ends with an error instead of waiting.
//
// Thread-safe: any number of threads may call session() and the Session
// methods of the sessions they hold. m_mutex guards the pool and the caches;
// it is never held while talking to the warehouse.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/warehouse/heartbeat.h"
#include "monitor/warehouse/odbc.h"
#include "monitor/warehouse/query_watchdog.h"
#include "rules/mutex.h"
#include "rules/plan.h"
#include "rules/rule_spec.h"

namespace gapwatch {

class Warehouse;

// Whether a probe of a column's encoding may be answered from the cache.
enum class Probe { cached, fresh };

// A connection leased from the pool; returned when destroyed.
class Session {
 public:
  Session(Session&& other) noexcept;
  Session& operator=(Session&&) = delete;
  ~Session();

  const Dialect& dialect() const { return *m_dialect; }
  // How the rule's timestamp column encodes time: cached per warehouse, or
  // asked of the warehouse again (Probe::fresh), which refreshes the cache.
  Expected<TimeEncoding> time_encoding(const RuleSpec& spec, Probe probe = Probe::cached);
  // Drops the cached encoding of the rule's column (after an error on it).
  void forget_encoding(const RuleSpec& spec);
  Expected<ResultRows> execute(const QueryPlan& plan);
  // True when the connection came from the pool rather than being opened for
  // this session (a pooled connection may have died while idle).
  bool reused() const { return m_reused; }

 private:
  friend class Warehouse;
  // An error once the pool abandoned the evaluation.
  Expected<void> still_wanted() const;
  Session(Warehouse* warehouse, std::unique_ptr<OdbcConnection> connection, const Dialect* dialect,
          bool reused, Heartbeat* heartbeat)
      : m_warehouse(warehouse),
        m_connection(std::move(connection)),
        m_dialect(dialect),
        m_reused(reused),
        m_heartbeat(heartbeat) {}

  Warehouse* m_warehouse;
  std::unique_ptr<OdbcConnection> m_connection;
  const Dialect* m_dialect;
  bool m_reused;
  Heartbeat* m_heartbeat;  // may be null
};

class Warehouse {
 public:
  Warehouse(WarehouseConfig config, QueryWatchdog& watchdog);
  Warehouse(const Warehouse&) = delete;
  Warehouse& operator=(const Warehouse&) = delete;

  const WarehouseConfig& config() const { return m_config; }
  // Waits for a free slot (at most query_timeout), then reuses an idle
  // connection or opens one (connecting, too, is bounded by query_timeout).
  // `heartbeat` (may be null) hears of every call that waits on the server.
  Expected<Session> session(Heartbeat* heartbeat = nullptr);

 private:
  friend class Session;
  void release(std::unique_ptr<OdbcConnection> connection) EXCLUDES(m_mutex);
  Expected<std::unique_ptr<OdbcConnection>> connect();
  Expected<const Dialect*> resolve_dialect(OdbcConnection& connection) EXCLUDES(m_mutex);
  // The dialect's session setup on a newly opened connection.
  Expected<void> prepare_connection(OdbcConnection& connection, const Dialect& dialect);
  Expected<TimeEncoding> probe_encoding(OdbcConnection& connection, const Dialect& dialect,
                                        const RuleSpec& spec, Probe probe) EXCLUDES(m_mutex);
  void forget_encoding(const RuleSpec& spec) EXCLUDES(m_mutex);

  const WarehouseConfig m_config;
  QueryWatchdog& m_watchdog;

  Mutex m_mutex;
  CondVar m_slot_free;  // signalled when m_in_use drops
  std::vector<std::unique_ptr<OdbcConnection>> m_idle GUARDED_BY(m_mutex);
  int m_in_use GUARDED_BY(m_mutex) = 0;
  // Connection attempts that overran query_timeout and still run.
  std::shared_ptr<std::atomic<int>> m_stray_connects = std::make_shared<std::atomic<int>>(0);
  const Dialect* m_dialect GUARDED_BY(m_mutex) = nullptr;
  // (table, column, format) -> encoding.
  std::map<std::tuple<std::string, std::string, TimestampFormat>, TimeEncoding> m_encodings
      GUARDED_BY(m_mutex);
};

}  // namespace gapwatch
