// gapwatch: the executable is only the command line; everything else lives in
// the libraries that the tests link too.
#include <malloc.h>
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "monitor/cli/cli.h"
#include "monitor/daemon/evaluation_pool.h"
#include "triggers/run_supervisor.h"

int main(int argc, char** argv) {
  // The command executor runs each command under this binary in its
  // supervise-run mode; that mode must see the environment the executor built
  // for the command, untouched (so before the setenv below).
  if (gapwatch::is_supervise_run(argc, argv)) {
    return gapwatch::supervise_run(argc, argv);
  }
  // Large transient buffers (a /metrics body of tens of megabytes at 10,000
  // rules) are mapped and unmapped on their own. glibc's default threshold
  // rises after the first such buffer is freed, so the next ones came from the
  // heap of whichever HTTP thread rendered them and stayed resident.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // GnuTLS arrives only as a dependency of libldap (through libpq) and is
  // never used for a connection (libpq speaks OpenSSL), yet its load-time
  // initialisation makes 0.7 MiB resident (measured: VmRSS with and without).
  // The libraries that use it call gnutls_global_init themselves. Set before
  // any ODBC driver is loaded; an operator's own setting wins. The command
  // executor passes a fixed environment, so children never see it.
  // (One malloc arena, M_ARENA_MAX=1, saved 0.6 MiB more but cost 20-30% more
  // CPU at 10,000 SQLite rules, where the workers allocate inside the driver.)
  setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
  // SQLite (the state database, and the warehouse itself through the SQLite
  // ODBC driver, which shares this library) counts every allocation under one
  // process-wide mutex unless told not to: with several workers querying at
  // once, they queued on that mutex. Must come before SQLite is first used.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  const int exit_code = gapwatch::run_cli(argc, argv);
  // An evaluation abandoned in a driver call the warehouse never answered may
  // still be inside the driver (the daemon and its state database are closed
  // by now): running static destructors under it would race with it, so
  // leave without them.
  if (gapwatch::EvaluationPool::threads_stuck() > 0) {
    spdlog::shutdown();
    std::fflush(nullptr);
    std::_Exit(exit_code);
  }
  return exit_code;
}
