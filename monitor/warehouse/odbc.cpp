#include "monitor/warehouse/odbc.h"

#include <sql.h>
#include <sqlext.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <variant>

#include <fmt/format.h>

#include "monitor/config/connection_string.h"
#include "rules/mutex.h"

namespace gapwatch {

namespace {

// The diagnostic records of a handle as one message; the first SQLSTATE.
Error diagnostics(SQLSMALLINT handle_type, SQLHANDLE handle, std::string_view what) {
  Error error;
  std::string details;
  for (SQLSMALLINT record = 1; record <= 8; ++record) {
    std::array<SQLCHAR, 6> state{};
    SQLINTEGER native = 0;
    std::array<SQLCHAR, 1024> text{};
    SQLSMALLINT length = 0;
    const SQLRETURN rc = SQLGetDiagRec(handle_type, handle, record, state.data(), &native,
                                       text.data(), static_cast<SQLSMALLINT>(text.size()), &length);
    if (!SQL_SUCCEEDED(rc)) {
      break;
    }
    const std::string sqlstate(reinterpret_cast<const char*>(state.data()));
    std::string message(reinterpret_cast<const char*>(text.data()));
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    if (error.sqlstate.empty()) {
      error.sqlstate = sqlstate;
    }
    if (!details.empty()) {
      details += "; ";
    }
    details += fmt::format("SQLSTATE {}: {}", sqlstate, message);
  }
  error.message = details.empty() ? fmt::format("{} failed (no diagnostics)", what)
                                  : fmt::format("{} failed: {}", what, details);
  return error;
}

SQLHENV environment() {
  static SQLHENV handle = [] {
    SQLHENV env = SQL_NULL_HENV;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env))) {
      return SQLHENV{SQL_NULL_HENV};
    }
    // ODBC passes integer attributes in pointer-typed arguments.
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION,
                  reinterpret_cast<SQLPOINTER>(  // NOLINT(performance-no-int-to-ptr)
                      static_cast<std::intptr_t>(SQL_OV_ODBC3)),
                  0);
    return env;
  }();
  return handle;
}

// ODBC passes integer attributes in pointer-typed arguments.
SQLPOINTER integer_attribute(SQLULEN value) {
  return reinterpret_cast<SQLPOINTER>(  // NOLINT(performance-no-int-to-ptr)
      static_cast<std::uintptr_t>(value));
}

// A statement handle freed on scope exit.
class Statement {
 public:
  explicit Statement(SQLHDBC connection) {
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, connection, &m_handle))) {
      m_handle = SQL_NULL_HSTMT;
    }
  }
  ~Statement() {
    if (m_handle != SQL_NULL_HSTMT) {
      SQLFreeHandle(SQL_HANDLE_STMT, m_handle);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  SQLHSTMT get() const { return m_handle; }

 private:
  SQLHSTMT m_handle = SQL_NULL_HSTMT;
};

// Closes a statement handle kept for reuse on scope exit: its cursor and its
// parameters.
class CloseAfterwards {
 public:
  explicit CloseAfterwards(SQLHSTMT handle) : m_handle(handle) {}
  ~CloseAfterwards() {
    SQLFreeStmt(m_handle, SQL_CLOSE);
    SQLFreeStmt(m_handle, SQL_RESET_PARAMS);
  }
  CloseAfterwards(const CloseAfterwards&) = delete;
  CloseAfterwards& operator=(const CloseAfterwards&) = delete;

 private:
  SQLHSTMT m_handle;
};

// Reads column `index` of the current row as text (empty for NULL).
Expected<Cell> read_cell(SQLHSTMT statement, SQLUSMALLINT index) {
  std::string value;
  std::array<char, 512> buffer{};
  while (true) {
    SQLLEN indicator = 0;
    const SQLRETURN rc = SQLGetData(statement, index, SQL_C_CHAR, buffer.data(),
                                    static_cast<SQLLEN>(buffer.size()), &indicator);
    if (rc == SQL_NO_DATA) {
      break;
    }
    if (!SQL_SUCCEEDED(rc)) {
      return std::unexpected(diagnostics(SQL_HANDLE_STMT, statement, "reading a result"));
    }
    if (indicator == SQL_NULL_DATA) {
      return Cell{};
    }
    // On truncation (SQL_SUCCESS_WITH_INFO) the buffer is full less the NUL.
    const std::size_t chunk =
        (indicator == SQL_NO_TOTAL || indicator >= static_cast<SQLLEN>(buffer.size()))
            ? buffer.size() - 1
            : static_cast<std::size_t>(indicator);
    value.append(buffer.data(), chunk);
    if (rc == SQL_SUCCESS) {
      break;
    }
  }
  return Cell{std::move(value)};
}

// The SQLite ODBC driver (sqliteodbc 0.9998, Debian's libsqliteodbc) keeps
// its connections in a list on its environment handle and locks that list on
// Windows only; unixODBC calls the driver from any thread. Two connections
// made or dropped at once could leave a freed one on the list: its
// environment handle then leaked at exit (LeakSanitizer saw it, see
// tests/lsan.supp) and the driver could write into freed memory. Connecting
// and disconnecting through it one at a time keeps the list whole; a local
// file opens in microseconds, so nothing waits long. Drivers named by a DSN
// are not recognised: name the driver (Driver=SQLite3) as the examples do.
bool driver_needs_one_at_a_time(const std::string& connection_string) {
  for (const ConnectionAttribute& attribute : parse_connection_string(connection_string)) {
    std::string key(attribute.key);
    std::string value = attribute.value;
    for (std::string* text : {&key, &value}) {
      std::transform(text->begin(), text->end(), text->begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    if (key.find("driver") != std::string::npos && value.find("sqlite") != std::string::npos) {
      return true;
    }
  }
  return false;
}

Mutex g_one_at_a_time;

// Runs `call` under g_one_at_a_time when `serialise` is set.
template <class Call>
auto one_at_a_time(bool serialise, const Call& call) {
  if (!serialise) {
    return call();
  }
  MutexLock lock(g_one_at_a_time);
  return call();
}

}  // namespace

Expected<std::unique_ptr<OdbcConnection>> OdbcConnection::open(
    const std::string& connection_string, std::chrono::seconds login_timeout) {
  const SQLHENV env = environment();
  if (env == SQL_NULL_HENV) {
    return fail("cannot initialise ODBC (SQLAllocHandle for the environment failed)");
  }
  SQLHDBC handle = SQL_NULL_HDBC;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env, &handle))) {
    return std::unexpected(diagnostics(SQL_HANDLE_ENV, env, "allocating a connection"));
  }
  SQLSetConnectAttr(handle, SQL_ATTR_LOGIN_TIMEOUT,
                    integer_attribute(static_cast<SQLULEN>(login_timeout.count())), 0);
  SQLCHAR out[1024];
  SQLSMALLINT out_length = 0;
  std::string input = connection_string;
  const bool serialise = driver_needs_one_at_a_time(connection_string);
  const SQLRETURN rc = one_at_a_time(serialise, [&] {
    return SQLDriverConnect(handle, nullptr, reinterpret_cast<SQLCHAR*>(input.data()),
                            static_cast<SQLSMALLINT>(input.size()), out, sizeof out, &out_length,
                            SQL_DRIVER_NOPROMPT);
  });
  if (!SQL_SUCCEEDED(rc)) {
    Error error = diagnostics(SQL_HANDLE_DBC, handle, "connecting");
    one_at_a_time(serialise, [&] { return SQLFreeHandle(SQL_HANDLE_DBC, handle); });
    return std::unexpected(std::move(error));
  }
  return std::unique_ptr<OdbcConnection>(new OdbcConnection(handle, serialise));
}

OdbcConnection::~OdbcConnection() {
  if (m_statement != nullptr) {
    SQLFreeHandle(SQL_HANDLE_STMT, m_statement);
  }
  one_at_a_time(m_one_at_a_time, [&] {
    SQLDisconnect(m_handle);
    return SQLFreeHandle(SQL_HANDLE_DBC, m_handle);
  });
}

Expected<std::string> OdbcConnection::dbms_name() {
  std::array<char, 256> name{};
  SQLSMALLINT length = 0;
  if (!SQL_SUCCEEDED(SQLGetInfo(m_handle, SQL_DBMS_NAME, name.data(),
                                static_cast<SQLSMALLINT>(name.size()), &length))) {
    return std::unexpected(diagnostics(SQL_HANDLE_DBC, m_handle, "SQLGetInfo(SQL_DBMS_NAME)"));
  }
  return std::string(name.data());
}

Expected<std::optional<ColumnDescription>> OdbcConnection::describe_column(
    const ColumnLocation& location) {
  Statement statement(m_handle);
  if (statement.get() == SQL_NULL_HSTMT) {
    m_usable = false;
    return std::unexpected(diagnostics(SQL_HANDLE_DBC, m_handle, "allocating a statement"));
  }
  // SQLColumns takes non-const buffers.
  std::string catalog = location.catalog;
  std::string schema = location.schema;
  std::string name = location.table;
  std::string column_name = location.column;
  const auto argument = [](std::string& text) {
    return text.empty() ? nullptr : reinterpret_cast<SQLCHAR*>(text.data());
  };
  const SQLRETURN rc =
      SQLColumns(statement.get(), argument(catalog), static_cast<SQLSMALLINT>(catalog.size()),
                 argument(schema), static_cast<SQLSMALLINT>(schema.size()), argument(name),
                 static_cast<SQLSMALLINT>(name.size()), argument(column_name),
                 static_cast<SQLSMALLINT>(column_name.size()));
  if (!SQL_SUCCEEDED(rc)) {
    Error error = diagnostics(SQL_HANDLE_STMT, statement.get(), "describing a column");
    m_usable = !error.sqlstate.starts_with("08");
    return std::unexpected(std::move(error));
  }
  // Names are patterns ('_' matches any character): keep the exact match.
  std::optional<ColumnDescription> found;
  while (true) {
    const SQLRETURN fetched = SQLFetch(statement.get());
    if (fetched == SQL_NO_DATA) {
      break;
    }
    if (!SQL_SUCCEEDED(fetched)) {
      return std::unexpected(diagnostics(SQL_HANDLE_STMT, statement.get(), "describing a column"));
    }
    auto table_name = read_cell(statement.get(), 3);
    auto found_column = read_cell(statement.get(), 4);
    auto data_type = read_cell(statement.get(), 5);
    auto type_name = read_cell(statement.get(), 6);
    if (!table_name || !found_column || !data_type || !type_name) {
      return std::unexpected(table_name ? found_column ? data_type ? type_name.error()
                                                                   : data_type.error()
                                                       : found_column.error()
                                        : table_name.error());
    }
    if (*table_name == location.table && *found_column == location.column) {
      found = ColumnDescription{type_name->value_or(""),
                                static_cast<int>(parse_integer(*data_type).value_or(0))};
    }
  }
  return found;
}

Expected<ResultRows> OdbcConnection::execute(const std::string& sql,
                                             const std::vector<Param>& params,
                                             std::chrono::seconds timeout,
                                             QueryWatchdog& watchdog) {
  if (m_statement == nullptr &&
      !SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, m_handle, &m_statement))) {
    m_statement = nullptr;
    m_usable = false;
    return std::unexpected(diagnostics(SQL_HANDLE_DBC, m_handle, "allocating a statement"));
  }
  const SQLHSTMT handle = m_statement;
  // Ready for the next query however this one ends.
  const CloseAfterwards close(handle);
  // Drivers that honour it cancel on their own; the watchdog covers the rest.
  if (timeout != m_statement_timeout) {
    SQLSetStmtAttr(handle, SQL_ATTR_QUERY_TIMEOUT,
                   integer_attribute(static_cast<SQLULEN>(timeout.count())), 0);
    m_statement_timeout = timeout;
  }

  // Parameter buffers must stay put until the statement has run.
  std::vector<std::string> texts(params.size());
  std::vector<std::int64_t> integers(params.size());
  std::vector<SQLLEN> indicators(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto number = static_cast<SQLUSMALLINT>(i + 1);
    SQLRETURN rc = SQL_SUCCESS;
    if (const auto* text = std::get_if<std::string>(&params[i].value)) {
      texts[i] = *text;
      indicators[i] = static_cast<SQLLEN>(texts[i].size());
      rc = SQLBindParameter(handle, number, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR,
                            std::max<SQLULEN>(texts[i].size(), 1), 0, texts[i].data(),
                            static_cast<SQLLEN>(texts[i].size() + 1), &indicators[i]);
    } else {
      integers[i] = std::get<std::int64_t>(params[i].value);
      indicators[i] = 0;
      rc = SQLBindParameter(handle, number, SQL_PARAM_INPUT, SQL_C_SBIGINT, SQL_BIGINT,
                            0, 0, &integers[i], 0, &indicators[i]);
    }
    if (!SQL_SUCCEEDED(rc)) {
      return std::unexpected(diagnostics(SQL_HANDLE_STMT, handle, "binding a parameter"));
    }
  }

  const QueryWatchdog::Clock::time_point deadline = QueryWatchdog::Clock::now() + timeout;
  const QueryWatchdog::Token token = watchdog.arm(deadline, [handle] { SQLCancel(handle); });
  std::string text = sql;
  const SQLRETURN executed = SQLExecDirect(handle, reinterpret_cast<SQLCHAR*>(text.data()),
                                           static_cast<SQLINTEGER>(text.size()));
  Expected<ResultRows> result = ResultRows{};
  if (!SQL_SUCCEEDED(executed) && executed != SQL_NO_DATA) {
    result = std::unexpected(diagnostics(SQL_HANDLE_STMT, handle, "running the query"));
  } else {
    SQLSMALLINT columns = 0;
    SQLNumResultCols(handle, &columns);
    while (columns > 0) {
      const SQLRETURN fetched = SQLFetch(handle);
      if (fetched == SQL_NO_DATA) {
        break;
      }
      if (!SQL_SUCCEEDED(fetched)) {
        result = std::unexpected(diagnostics(SQL_HANDLE_STMT, handle, "fetching results"));
        break;
      }
      ResultRow row;
      row.reserve(static_cast<std::size_t>(columns));
      for (SQLSMALLINT column = 1; column <= columns; ++column) {
        auto cell = read_cell(handle, static_cast<SQLUSMALLINT>(column));
        if (!cell) {
          result = std::unexpected(cell.error());
          break;
        }
        row.push_back(std::move(*cell));
      }
      if (!result) {
        break;
      }
      result->push_back(std::move(row));
    }
  }
  const bool cancelled = watchdog.disarm(token);
  // The driver's or server's own timeout may win the race with the watchdog:
  // psqlODBC sets statement_timeout and reports the server's 57014
  // (query_canceled), MariaDB's max_statement_time reports 70100 (query
  // interrupted), other drivers HYT00 or HY008 (operation canceled).
  const bool overran = QueryWatchdog::Clock::now() >= deadline;
  const auto timed_out = [&](const Error& error) {
    return error.sqlstate == "HYT00" ||
           ((error.sqlstate == "57014" || error.sqlstate == "70100" || error.sqlstate == "HY008") &&
            overran);
  };
  if (cancelled || (!result && timed_out(result.error()))) {
    m_usable = false;
    Error error;
    error.sqlstate = "HYT00";
    error.message = fmt::format("query timed out after {}s and was cancelled", timeout.count());
    return std::unexpected(std::move(error));
  }
  if (!result && result.error().sqlstate.starts_with("08")) {
    m_usable = false;
  }
  return result;
}

}  // namespace gapwatch
