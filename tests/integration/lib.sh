# Shared helpers for the shell integration tests: assertions that count
# failures, waiting for a condition with a deadline (never a fixed sleep),
# running a script's parts one at a time or all, and a quickstart-like
# warehouse with a three-hour gap in a temporary directory.
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
# run_parts [PART]: runs the script's part PART, or every part in order, then
# finish. A part is a function `part_NAME() {` at the start of a line: a group
# of scenarios that needs nothing from the others (its own directory, daemon
# and fakes). tests/CMakeLists.txt finds the parts the same way and registers
# each as the test SCRIPT/NAME, so that ctest runs them side by side (they
# mostly wait). Part bodies are not indented: the heredocs and YAML snippets
# in them depend on their indentation.
run_parts() {
  local parts part
  mapfile -t parts < <(sed -n 's/^part_\([a-z0-9_]*\)() {$/\1/p' "$0")
  if (($# > 1)) || { (($# == 1)) && ! declare -F "part_$1" >/dev/null; }; then
    echo "usage: ${0##*/} [PART]; the parts: ${parts[*]}" >&2
    exit 2
  fi
  (($# == 1)) && parts=("$1")
  for part in "${parts[@]}"; do
    "part_$part"
  done
  finish
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
  write_config_rules "$dir" "$executors" "  - name: events_hourly
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 2d, delay: 1h}
    fail: {min: 10}
    schedule: 1s
$backfill
$extra"
}

# write_config_rules DIR EXECUTORS RULES: the same monitor and warehouse as
# write_config, with rules of the caller's own (YAML list items).
write_config_rules() {
  local dir=$1 executors=$2 rules=$3
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
$rules
YAML
}
