// A thin layer over unixODBC: connect, describe a column, run one statement
// with bound parameters and read every cell as text. Failures come back as
// Error values carrying the SQLSTATE and the driver's message.
//
// An OdbcConnection is used by one thread at a time (the warehouse pool hands
// it out); the process-wide ODBC environment is created once, thread-safely.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "monitor/warehouse/query_watchdog.h"
#include "rules/dialect.h"
#include "rules/error.h"
#include "rules/identifier.h"
#include "rules/plan.h"

namespace gapwatch {

struct ColumnDescription {
  std::string type_name;  // as the driver names it: "timestamptz", "TIMESTAMP", "INTEGER"
  int sql_type = 0;       // SQL_TYPE_TIMESTAMP, SQL_VARCHAR, …
};

class OdbcConnection {
 public:
  // Connects with SQLDriverConnect. `connection_string` may hold secrets: it is
  // never included in errors.
  static Expected<std::unique_ptr<OdbcConnection>> open(const std::string& connection_string,
                                                        std::chrono::seconds login_timeout);
  ~OdbcConnection();
  OdbcConnection(const OdbcConnection&) = delete;
  OdbcConnection& operator=(const OdbcConnection&) = delete;

  // SQLGetInfo(SQL_DBMS_NAME), e.g. "PostgreSQL", "SQLite".
  Expected<std::string> dbms_name();

  // SQLColumns for one column; empty when the table or column does not exist
  // or cannot be seen by this user.
  Expected<std::optional<ColumnDescription>> describe_column(const ColumnLocation& location);

  // Runs `sql` with `params` and returns every row. The statement is
  // cancelled through `watchdog` if it runs longer than `timeout`.
  Expected<ResultRows> execute(const std::string& sql, const std::vector<Param>& params,
                               std::chrono::seconds timeout, QueryWatchdog& watchdog);

  // False once the connection failed (SQLSTATE class 08) or a statement had to
  // be cancelled: the pool then discards it.
  bool usable() const { return m_usable; }

 private:
  OdbcConnection(void* handle, bool one_at_a_time)
      : m_handle(handle), m_one_at_a_time(one_at_a_time) {}

  void* m_handle;  // SQLHDBC
  // Connected through a driver that is connected and disconnected one
  // connection at a time (see odbc.cpp, driver_needs_one_at_a_time).
  bool m_one_at_a_time = false;
  // The statement handle execute() runs every query on, allocated on first
  // use and closed after each: allocating one per query costs the driver
  // more than most of the queries a monitor runs.
  void* m_statement = nullptr;  // SQLHSTMT
  std::chrono::seconds m_statement_timeout{-1};  // as last set on m_statement
  bool m_usable = true;
};

}  // namespace gapwatch
