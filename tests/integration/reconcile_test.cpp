// Reconciliation between real servers: a PostgreSQL target (timestamptz)
// reconciled with a MariaDB source (DATETIME on Berlin's wall clock) and with
// a SQLite source (text on Berlin's wall clock), across the autumn clock
// change, through the real ODBC drivers.
#include <doctest/doctest.h>

#include "scenarios.h"

namespace gapwatch::testing {

TEST_CASE("reconcile: MariaDB DATETIME source, PostgreSQL target: losses, a dark segment, a "
          "duplicated load, a source that is down") {
  scenario_reconcile(*make_mariadb_warehouse(), *make_postgres_warehouse());
}

TEST_CASE("reconcile: SQLite source, PostgreSQL target") {
  scenario_reconcile(*make_sqlite_warehouse(), *make_postgres_warehouse());
}

}  // namespace gapwatch::testing
