# Shared helpers for the shell integration tests: assertions that count
# failures, waiting for a condition with a deadline (never a fixed sleep), and
# a quickstart-like warehouse with a three-hour gap in a temporary directory.
# Source it; it sets $gapwatch, $source_dir and $work (removed on exit).

gapwatch=${GAPWATCH_BINARY:?run through ctest}
source_dir=${GAPWATCH_SOURCE_DIR:?run through ctest}
work=$(mktemp -d)
failures=0
background_pids=()
cleanup() {
  for pid in "${background_pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then fail "timed out after ${seconds}s waiting for: $what"; return 1; fi
    sleep 0.1
  done
}
finish() {
  if ((failures > 0)); then
    echo "$failures failure(s)" >&2
    exit 1
  fi
  echo "all checks passed"
}
json() {  # json FILE PYTHON-EXPRESSION-OVER-doc
  python3 -c "import json,sys; doc=json.load(open(sys.argv[1])); print($2)" "$1"
}

# make_warehouse DIR: the quickstart warehouse (a gap of three hours, 10 to 13
# hours ago) at DIR/warehouse.db.
make_warehouse() {
  "$source_dir/examples/quickstart/make-warehouse" "$1/warehouse.db" >/dev/null
}
missing_rows() {  # rows of archive_events not (yet) in events
  sqlite3 "$1/warehouse.db" "SELECT COUNT(*) FROM archive_events a WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = a.id)"
}

# write_config DIR EXECUTORS_YAML BACKFILL_YAML [EXTRA_RULE_YAML]: one
# row_count rule over the gap, evaluated every second.
write_config() {
  local dir=$1 executors=$2 backfill=$3 extra=${4:-}
  cat >"$dir/gapwatch.yaml" <<YAML
version: 1
monitor:
  state: $dir/state.db
  workers: 2
  shutdown_grace: 5s
  listen: 127.0.0.1:0
warehouses:
  - name: local
    connection: "Driver=SQLite3;Database=$dir/warehouse.db"
    query_timeout: 10s
executors:
$executors
rules:
  - name: events_hourly
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 2d, delay: 1h}
    fail: {min: 10}
    schedule: 1s
$backfill
$extra
YAML
}
