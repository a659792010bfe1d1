#!/usr/bin/env bash
# Faults with real processes: a PostgreSQL server stopped in the middle of a
# run and started again, queries that hang (pg_sleep, a locked SQLite
# database), a webhook receiver that is down for a while, kill -9 of gapwatch
# 20 times while loaders run (a ledger kept by the loader: never two runs of
# a request at once, max_concurrent kept), a state database on a read-only or
# full file system, and a command that ignores SIGTERM, forks and floods its
# output.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$source_dir"

metric() {  # metric BASE_URL SERIES-REGEX: prints the value of the first matching sample
  curl -sf "$1/metrics" | grep -E "^$2 " | head -1 | awk '{print $2}'
}
base_url() { echo "http://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' "$1" | head -1 | cut -d: -f3)"; }
# start_pg: a private PostgreSQL server in $work/pg (not the shared fixture:
# the first part stops and starts it), its port in $pg_port; stopped on exit.
# Already running (all parts in one go), it is kept.
start_pg() {
  pg=$work/pg
  pg_port=$("$source_dir/tests/integration/pg_cluster" start "$pg")
  trap '"$source_dir/tests/integration/pg_cluster" stop "$pg" >/dev/null 2>&1; cleanup' EXIT
}

# pg_events_table: table events on the private server, a row every 5 minutes
# for the last 3 days.
pg_events_table() {
"$source_dir/tests/integration/pg_cluster" psql "$pg" -d gapwatch_test <<'SQL'
CREATE TABLE events (event_time timestamptz NOT NULL);
INSERT INTO events SELECT g FROM generate_series(now() - interval '3 days', now(), interval '5 minutes') g;
SQL
}
# pg_hourly_rule DIR QUERY_TIMEOUT SHUTDOWN_GRACE [MAX_CONNECTIONS]: DIR/gapwatch.yaml
# with one hourly row_count rule on events, every second, whose backfill
# appends to DIR/dispatched.
pg_hourly_rule() {
local dir=$1 max_connections=${4:+"    max_connections: $4"}
cat >"$dir/gapwatch.yaml" <<YAML
version: 1
monitor: {state: $dir/state.db, listen: "127.0.0.1:0", shutdown_grace: $3}
warehouses:
  - name: pg
    connection: "Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=$pg_port;Database=gapwatch_test;Uid=gapwatch;Pwd=x"
    query_timeout: $2
$max_connections
executors:
  - name: record
    command: {argv: ["/bin/sh", "-c", "echo ran >> $dir/dispatched"]}
rules:
  - name: hourly
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 1d, delay: 1h}
    fail: {min: 1}
    schedule: 1s
    backfill: {executor: record}
YAML
}

part_postgres_stopped() {
echo "== PostgreSQL stopped mid-run: error (not fail), nothing dispatched; back within two evaluations"
start_pg
pg_events_table
dir=$work/pgdown; mkdir -p "$dir"
pg_hourly_rule "$dir" 5s 5s
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
background_pids+=("$!")
wait_for 20 "the rule to pass" grep -q "rule hourly: pass" "$dir/log"
url=$(base_url "$dir/log")
"$source_dir/tests/integration/pg_cluster" pause "$pg"
wait_for 20 "the rule to error" grep -q "rule hourly: error" "$dir/log"
check "gapwatch_warehouse_up is 0" test "$(metric "$url" 'gapwatch_warehouse_up\{warehouse="pg"\}')" = 0
check "the status is error, never fail" test "$(metric "$url" 'gapwatch_rule_status\{.*status="fail".*\}')" = 0
check "/readyz says the warehouse is unreachable" bash -c "curl -s '$url/readyz' | grep -q 'warehouse pg is unreachable'"
# The log is counted before the restart: only the first pass after an error is
# logged, and it may come before resume returns.
lines=$(wc -l <"$dir/log")
"$source_dir/tests/integration/pg_cluster" resume "$pg"
# Counted once the server is up again (resume waits for it): evaluations that
# ran while it was still starting are not errors "after the restart".
errors_before=$(metric "$url" 'gapwatch_rule_evaluations_total\{.*result="error".*\}')
wait_for 20 "the rule to pass again" bash -c "tail -n +$((lines + 1)) '$dir/log' | grep -q 'rule hourly: pass'"
errors_after=$(metric "$url" 'gapwatch_rule_evaluations_total\{.*result="error".*\}')
check "recovered within two evaluations (at most one more error after the restart: $errors_before → $errors_after)" \
  test $((${errors_after%.*} - ${errors_before%.*})) -le 1
check "gapwatch_warehouse_up is 1 again" test "$(metric "$url" 'gapwatch_warehouse_up\{warehouse="pg"\}')" = 1
check "nothing was dispatched" test ! -e "$dir/dispatched"
check "no incident was opened" test "$(sqlite3 "$dir/state.db" 'SELECT COUNT(*) FROM incidents')" = 0
}

part_postgres_frozen() {
echo "== PostgreSQL frozen (SIGSTOP): the rule is an error within query_timeout + 5 s, not its old verdict"
start_pg
pg_events_table
dir=$work/frozen; mkdir -p "$dir"
pg_hourly_rule "$dir" 3s 2s 2
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
daemon=$!; background_pids+=("$daemon")
wait_for 20 "the rule to pass" grep -q "rule hourly: pass" "$dir/log"
url=$(base_url "$dir/log")
# Pooled connections now exist: the next statement goes to a backend that
# will never answer, and SQLCancel to a postmaster that will never answer.
"$source_dir/tests/integration/pg_cluster" freeze "$pg"
frozen_at=$SECONDS
wait_for 10 "the page to show the evaluation running" \
  bash -c "curl -s '$url/' | grep -q 'evaluating for'"
check "the API says since when it runs" \
  bash -c "curl -s '$url/api/v1/rules' | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"rules\"][0]; sys.exit(r[\"running_since\"] is None)'"
wait_for 30 "the rule to error" grep -q "rule hourly: error" "$dir/log"
elapsed=$((SECONDS - frozen_at))
# query_timeout 3 s + the 5 s grace + up to 1 s until the next evaluation
# starts + 1 s for the control thread's pass (10 s measured); 4 s slack for a
# machine busy with sanitizer builds.
check "error ${elapsed}s after the freeze (at most 14 s: query_timeout 3 s + 5 s grace + schedule)" test "$elapsed" -le 14
check "the log says the evaluation was abandoned" grep -q "the evaluation was abandoned" "$dir/log"
check "gapwatch_warehouse_up is 0" test "$(metric "$url" 'gapwatch_warehouse_up\{warehouse="pg"\}')" = 0
check "/readyz says the warehouse is unreachable" bash -c "curl -s '$url/readyz' | grep -q 'warehouse pg is unreachable'"
check "the abandoned statement is counted" \
  test "$(metric "$url" 'gapwatch_queries_total\{.*result="abandoned".*\}' | cut -d. -f1)" -ge 1
# The verdict keeps moving while the server stays frozen: every evaluation
# ends, as an error, within query_timeout + grace.
errors=$(metric "$url" 'gapwatch_rule_evaluations_total\{.*result="error".*\}')
wait_for 20 "two more errors while frozen" bash -c \
  "[[ \$(curl -sf '$url/metrics' | grep -E '^gapwatch_rule_evaluations_total\\{.*result=\"error\".*\\} ' | awk '{print int(\$2)}') -ge $((${errors%.*} + 2)) ]]"
check "no incident was opened" test "$(sqlite3 "$dir/state.db" 'SELECT COUNT(*) FROM incidents')" = 0
# Counted before the thaw: only the first pass after an error is logged, and
# it may come before thaw returns (a count taken after it would miss it).
lines=$(wc -l <"$dir/log")
"$source_dir/tests/integration/pg_cluster" thaw "$pg"
wait_for 30 "the rule to pass again after the thaw" bash -c "tail -n +$((lines + 1)) '$dir/log' | grep -q 'rule hourly: pass'"
check "gapwatch_warehouse_up is 1 again" test "$(metric "$url" 'gapwatch_warehouse_up\{warehouse="pg"\}')" = 1
check "nothing was dispatched" test ! -e "$dir/dispatched"
# Frozen again, then SIGTERM: the daemon must not wait forever for a call
# that never returns (shutdown_grace 2 s, then the call's deadline).
"$source_dir/tests/integration/pg_cluster" freeze "$pg"
wait_for 10 "an evaluation to hang again" bash -c "curl -s '$url/' | grep -q 'evaluating for'"
stopping_at=$SECONDS
kill -TERM "$daemon"
wait_for 20 "the daemon to stop while the server is frozen" bash -c "! kill -0 $daemon 2>/dev/null"
status=still-running
if ! kill -0 "$daemon" 2>/dev/null; then wait "$daemon"; status=$?; fi
check "it stopped in $((SECONDS - stopping_at))s with exit status 0 (got $status)" test "$status" = 0
"$source_dir/tests/integration/pg_cluster" thaw "$pg"
}

part_column_rebuilt() {
echo "== a table rebuilt under the daemon with its column now timestamp, not timestamptz: no false fail"
# The server's own zone is not UTC, so that the two encodings of the column
# read different instants.
PG_TIMEZONE=Europe/Berlin start_pg
pg_events_table
dir=$work/rebuilt; mkdir -p "$dir"
pg_hourly_rule "$dir" 5s 2s
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
daemon=$!; background_pids+=("$daemon")
wait_for 20 "the rule to pass" grep -q "rule hourly: pass" "$dir/log"
url=$(base_url "$dir/log")
# One transaction: the same rows, their UTC wall-clock times in a timestamp
# column (how a loader rewritten to "naive UTC" would leave it).
"$source_dir/tests/integration/pg_cluster" psql "$pg" -d gapwatch_test <<'SQL'
BEGIN;
CREATE TABLE events_new (event_time timestamp NOT NULL);
INSERT INTO events_new SELECT event_time AT TIME ZONE 'UTC' FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
COMMIT;
SQL
evaluations() { curl -sf "$url/metrics" | grep -E '^gapwatch_rule_evaluations_total\{' | awk '{s += $2} END {print int(s)}'; }
before=$(evaluations)
wait_for 30 "four evaluations after the rebuild" bash -c "[[ \$(curl -sf '$url/metrics' | grep -E '^gapwatch_rule_evaluations_total\\{' | awk '{s += \$2} END {print int(s)}') -ge $((before + 4)) ]]"
check "no fail after the rebuild" bash -c "! grep -q 'rule hourly: fail' '$dir/log'"
check "no incident was opened" test "$(sqlite3 "$dir/state.db" 'SELECT COUNT(*) FROM incidents')" = 0
check "nothing was dispatched" test ! -e "$dir/dispatched"
check "gapwatch check agrees: pass" bash -c "'$gapwatch' check -c '$dir/gapwatch.yaml' | grep -q pass"
kill -TERM "$daemon"; wait "$daemon"
}

part_query_timeout() {
echo "== a query that hangs is cancelled at query_timeout; other rules keep their schedule"
start_pg
"$source_dir/tests/integration/pg_cluster" psql "$pg" -d gapwatch_test -c "CREATE TABLE small (event_time timestamptz); INSERT INTO small VALUES (now());"
dir=$work/hang; mkdir -p "$dir"
# Three workers. Warehouse "stuck" (one connection) has two hanging rules:
# the second must wait for the connection without taking a worker, or the
# quick rule on warehouse "pg" would find no worker free.
cat >"$dir/gapwatch.yaml" <<YAML
version: 1
monitor: {state: $dir/state.db, listen: "127.0.0.1:0", workers: 3, shutdown_grace: 5s}
warehouses:
  - name: pg
    connection: "Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=$pg_port;Database=gapwatch_test;Uid=gapwatch;Pwd=x"
    query_timeout: 2s
    max_connections: 2
  - name: stuck
    connection: "Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=$pg_port;Database=gapwatch_test;Uid=gapwatch;Pwd=x"
    query_timeout: 2s
    max_connections: 1
rules:
  - name: stuck_a
    warehouse: stuck
    table: small
    check: row_count
    where: "pg_sleep(30) IS NOT NULL"
    fail: {min: 1}
    schedule: 1s
  - name: stuck_b
    warehouse: stuck
    table: small
    check: row_count
    where: "pg_sleep(30) IS NOT NULL"
    fail: {min: 1}
    schedule: 1s
  - name: slow
    warehouse: pg
    table: small
    check: row_count
    where: "pg_sleep(30) IS NOT NULL"
    fail: {min: 1}
    schedule: 1s
  - name: quick
    warehouse: pg
    table: small
    check: freshness
    timestamp_column: event_time
    fail: {max: 1h}
    schedule: 1s
YAML
"$gapwatch" -v run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
daemon=$!; background_pids+=("$daemon")
wait_for 30 "the slow rule to time out three times" bash -c "[[ \$(grep -c 'rule slow: error (query timed out after 2s and was cancelled)' '$dir/log') -ge 3 ]]"
quick=$(grep -c "rule quick: pass" "$dir/log")
check "the quick rule kept running meanwhile ($quick evaluations)" test "$quick" -ge 4
check "the slow rule's overlapping runs were skipped and counted" grep -q "rule slow: evaluation skipped" "$dir/log"
check "the rules of the stuck warehouse took turns on its one connection" \
  bash -c "grep -q 'rule stuck_a: error (query timed out' '$dir/log' && grep -q 'rule stuck_b: error (query timed out' '$dir/log'"
kill -TERM "$daemon"; wait "$daemon"
check "no pg_sleep is left running on the server" test "$("$source_dir/tests/integration/pg_cluster" psql "$pg" -At -c "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")" = 0
}

part_sqlite_locked() {
echo "== a locked SQLite database: given up at query_timeout (the driver would wait 60 s)"
dir=$work/locked; mkdir -p "$dir"
sqlite3 "$dir/warehouse.db" "CREATE TABLE events (event_time TEXT); INSERT INTO events VALUES (datetime('now'));"
python3 - "$dir/warehouse.db" "$dir/locked" <<'PY' &
import sqlite3, sys, time, pathlib
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
pathlib.Path(sys.argv[2]).touch()
time.sleep(20)
PY
background_pids+=("$!")
wait_for 10 "the lock" test -e "$dir/locked"
cat >"$dir/gapwatch.yaml" <<YAML
version: 1
warehouses:
  - name: w
    connection: "Driver=SQLite3;Database=$dir/warehouse.db;Timeout=60000"
    query_timeout: 1s
rules:
  - name: fresh
    table: events
    check: freshness
    timestamp_column: event_time
    fail: {max: 1h}
YAML
started=$SECONDS
"$gapwatch" check -c "$dir/gapwatch.yaml" >"$dir/out"
check "check exits 3 (error)" test $? -eq 3
check "connecting to the locked database timed out" grep -q "connecting timed out after 1s" "$dir/out"
check "it returned at the timeout, not when the lock went ($((SECONDS - started))s)" test $((SECONDS - started)) -le 5
}

part_receiver_down() {
echo "== a webhook receiver down for a while, then up: every request delivered, once per id"
dir=$work/down; mkdir -p "$dir"; make_warehouse "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config "$dir" "  - name: hook
    webhook:
      url: \"http://127.0.0.1:$port/hook\"
      body: {table: \"{table}\", start: \"{window_start}\", end: \"{window_end}\"}
      timeout: 2s
    max_concurrent: 2
    retry: {max_attempts: 20, initial_backoff: 1s, max_backoff: 2s}" \
  '    backfill: {executor: hook, max_window: 1h, verify_after: 30s}'
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 90 2>"$dir/log" &
daemon=$!; background_pids+=("$daemon")
wait_for 30 "deliveries to fail while the receiver is down" bash -c "[[ \$(grep -c 'Couldn.t connect to server; retrying' '$dir/log') -ge 4 ]]"
GAPWATCH_QUICKSTART_DB="$dir/warehouse.db" python3 "$source_dir/tests/integration/webhook_receiver.py" \
  --port "$port" --port-file "$dir/port" --log "$dir/received.jsonl" --script 200 \
  --on-accept "$source_dir/examples/quickstart/backfill.sh" &
background_pids+=("$!")
wait "$daemon"
check "healed once the receiver came up (exit 0)" test $? -eq 0
requests=$(sqlite3 "$dir/state.db" "SELECT COUNT(*) FROM requests")
check "at least one request per missing hour ($requests)" test "$requests" -ge 3
check "each was received exactly once, under its own id" test \
  "$(python3 -c 'import json,sys; ids=[json.loads(l)["headers"]["idempotency-key"] for l in open(sys.argv[1])]; print(len(ids), len(set(ids)))' "$dir/received.jsonl")" = "$requests $requests"
check "the ids received are the ids recorded" test \
  "$(python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["headers"]["idempotency-key"] for l in open(sys.argv[1]))))' "$dir/received.jsonl")" = \
  "$(sqlite3 "$dir/state.db" "SELECT id FROM requests ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
check "no rows are missing" test "$(missing_rows "$dir")" -eq 0
}

part_kill_burst() {
echo "== kill -9 twenty times while loaders run: no loader twice at once, max_concurrent holds"
dir=$work/burst; mkdir -p "$dir"; make_warehouse "$dir"
# Twenty failing hours, 22 to 2 hours ago (whole hours only: a half-emptied
# hour may still hold the 10 rows the rule asks for; the quickstart's gap lies
# inside them), one request each.
sqlite3 "$dir/warehouse.db" "INSERT INTO archive_events SELECT * FROM events
    WHERE event_time >= datetime(strftime('%Y-%m-%d %H:00:00', 'now'), '-22 hours')
      AND event_time < datetime(strftime('%Y-%m-%d %H:00:00', 'now'), '-2 hours');
  DELETE FROM events WHERE id IN (SELECT id FROM archive_events);"
# The loader keeps a ledger: a start line, a second of work, the reload, an
# end line with its exit status ("killed" when a signal stopped it). Its
# output goes to gapwatch last, and a closed pipe is no failure of the load.
cat >"$dir/ledger_backfill.sh" <<SCRIPT
#!/usr/bin/env bash
trap '' PIPE
id=\$GAPWATCH_REQUEST_ID
echo "start \$id \$\$ \$EPOCHREALTIME \$2 \$3" >>"$dir/ledger"
trap 'echo "end \$id \$\$ \$EPOCHREALTIME killed" >>"$dir/ledger"; exit 143' TERM
sleep 1 & wait \$!
output=\$("$source_dir/examples/quickstart/backfill.sh" "\$@" 2>&1)
status=\$?
echo "end \$id \$\$ \$EPOCHREALTIME \$status" >>"$dir/ledger"
echo "\$output" 2>/dev/null
exit \$status
SCRIPT
chmod +x "$dir/ledger_backfill.sh"
write_config "$dir" "  - name: reload
    command:
      argv: [\"$dir/ledger_backfill.sh\", \"{table}\", \"{window_start}\", \"{window_end}\"]
      env: {GAPWATCH_QUICKSTART_DB: \"$dir/warehouse.db\"}
    max_concurrent: 4" '    backfill: {executor: reload, max_window: 1h}'
# Each daemon lives a random 0.1 to 2.0 s: some die while claiming, most
# while loaders run; the next one starts at once, as a supervisor would
# restart it.
started=$SECONDS
for run in $(seq 1 20); do
  "$gapwatch" run -c "$dir/gapwatch.yaml" 2>>"$dir/log" &
  pid=$!
  sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
done
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 120 2>>"$dir/log"
check "after 20 kills, the last run heals and exits 0" test $? -eq 0
all_ended() { [[ $(grep -c '^start ' "$dir/ledger") -eq $(grep -c '^end ' "$dir/ledger") ]]; }
wait_for 30 "every loader run to end" all_ended
echo "the kills and the healing run took $((SECONDS - started))s"
sqlite3 "$dir/state.db" "SELECT r.id, r.window_start, r.window_end, r.attempt, r.state, IFNULL(i.resolved_at, '')
  FROM requests r LEFT JOIN incidents i ON i.id = r.incident_id" >"$dir/requests"
python3 - "$dir/requests" "$dir/ledger" <<'PY' >"$dir/burst-report"
import sys, datetime
def epoch(text):
    return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())
requests = {}
for line in open(sys.argv[1]):
    rid, start, end, attempt, state, resolved = line.strip().split("|")
    requests[rid] = (int(start), int(end), int(attempt), state, int(resolved) if resolved else None)
runs = {}  # pid -> [id, start, end, status, window]
for line in open(sys.argv[2]):
    kind, rid, pid, at, *rest = line.split()
    if kind == "start":
        runs[pid] = [rid, float(at), None, None, (epoch(rest[0]), epoch(rest[1]))]
    else:
        runs[pid][2], runs[pid][3] = float(at), rest[0]
runs = list(runs.values())
unfinished = 0
for r in runs:
    if r[2] is None:  # still running: it counts until the end
        unfinished, r[2] = unfinished + 1, float("inf")
unknown = {r[0] for r in runs} - requests.keys()
mismatched_windows = [r for r in runs if r[0] in requests and r[4] != requests[r[0]][:2]]
lost = [rid for rid, v in requests.items() if v[3] != "cancelled" and rid not in {r[0] for r in runs}]
ids_per_window = {}
for rid, (start, end, attempt, state, resolved) in requests.items():
    ids_per_window.setdefault((start, end, attempt), set()).add(rid)
duplicate_ids = [w for w, ids in ids_per_window.items() if len(ids) > 1]
# The most runs alive at once (an end before a start at the same instant).
edges = sorted([(r[1], 1) for r in runs] + [(r[2], -1) for r in runs], key=lambda e: (e[0], e[1]))
alive = most = 0
for _, step in edges:
    alive += step
    most = max(most, alive)
# Runs of one request that overlap in time.
overlaps = 0
for rid in requests:
    mine = sorted((r[1], r[2]) for r in runs if r[0] == rid)
    overlaps += sum(1 for a, b in zip(mine, mine[1:]) if b[0] < a[1])
# Runs that started a whole second after their incident's resolved_at (kept
# in whole seconds) or later: certainly after it resolved.
late = [r for r in runs if r[0] in requests and requests[r[0]][4] is not None and r[1] >= requests[r[0]][4] + 1]
# The recorded state against the ledger: a request whose command ran to exit
# 0 is succeeded or verified, and one recorded so did run to exit 0; nothing
# is left pending or sending.
completed = {r[0] for r in runs if r[3] == "0"}
mismatched = sorted(f"{rid[:8]}:{v[3]}" for rid, v in requests.items()
                    if (rid in completed) != (v[3] in ("succeeded", "verified")) or v[3] in ("pending", "sending"))
print(f"requests={len(requests)} runs={len(runs)} completed={len(completed)} unfinished={unfinished} "
      f"lost={len(lost)} unknown={len(unknown)} mismatched={len(mismatched_windows)} duplicate_ids={len(duplicate_ids)} "
      f"max_concurrent={most} same_id_overlaps={overlaps} started_after_resolved={len(late)} "
      f"state_mismatches={len(mismatched)} {' '.join(mismatched)}")
PY
cat "$dir/burst-report"
check "every recorded request was run, nothing unrecorded was run, no window under two ids" \
  grep -q "lost=0 unknown=0 mismatched=0 duplicate_ids=0" "$dir/burst-report"
check "never more than max_concurrent (4) loaders at once" \
  grep -qE "max_concurrent=[1-4] " "$dir/burst-report"
check "no request's loader ran twice at once" grep -q "same_id_overlaps=0 " "$dir/burst-report"
check "no loader started after its incident had resolved" grep -q "started_after_resolved=0 " "$dir/burst-report"
check "each request's recorded state agrees with the ledger" grep -q "state_mismatches=0 " "$dir/burst-report"
check "PRAGMA integrity_check is ok" test "$(sqlite3 "$dir/state.db" 'PRAGMA integrity_check')" = ok
check "one incident, resolved (none lost, none doubled)" test "$(sqlite3 "$dir/state.db" "SELECT COUNT(*) || ' ' || GROUP_CONCAT(state) FROM incidents")" = "1 resolved"
check "no rows are missing in the judged range" test "$(sqlite3 "$dir/warehouse.db" "SELECT COUNT(*) FROM archive_events a WHERE a.event_time >= datetime('now', '-46 hours') AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = a.id)")" -eq 0
check "restarts resumed interrupted deliveries" grep -q "resumed after restart" "$dir/log"
}

part_state_disk() {
echo "== the state database on a read-only file system at start, and on a full one mid-run"
dir=$work/fullfs; mkdir -p "$dir/state"; make_warehouse "$dir"
sqlite3 "$dir/warehouse.db" "INSERT INTO events SELECT * FROM archive_events"   # no gap yet
write_config "$dir" "  - name: reload
    command:
      argv: [\"$source_dir/examples/quickstart/backfill.sh\", \"{table}\", \"{window_start}\", \"{window_end}\"]
      env: {GAPWATCH_QUICKSTART_DB: \"$dir/warehouse.db\"}" '    backfill: {executor: reload}'
sed -i "s|state: $dir/state.db|state: $dir/state/state.db|" "$dir/gapwatch.yaml"
unshare_flags=(-m); [[ $(id -u) -eq 0 ]] || unshare_flags=(-r -m)
unshare "${unshare_flags[@]}" bash -s -- "$gapwatch" "$dir" <<'INNER' >"$dir/inner.out" 2>&1
set -u
gapwatch=$1 dir=$2
failed=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=$((failed+1)); fi; }
wait_for() { local s=$1; shift; local end=$((SECONDS + s)); until "$@"; do ((SECONDS >= end)) && return 1; sleep 0.1; done; }
missing() { sqlite3 "$dir/warehouse.db" 'SELECT COUNT(*) FROM archive_events a WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = a.id)'; }
# Read-only at start: says so, evaluates and serves metrics without recording
# or dispatching anything, and takes the file once the disk is writable.
mount -t tmpfs -o size=1m,ro tmpfs "$dir/state"
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/ro.log" &
daemon=$!
wait_for 20 grep -q "rule events_hourly: pass" "$dir/ro.log"
check "read-only: it says so, and that monitoring goes on" grep -qE "cannot open the state database .*(read-only|readonly|unable to open).*evaluations and metrics go on" "$dir/ro.log"
url="http://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/ro.log" | head -1 | cut -d: -f3)"
check "read-only: metrics are served" bash -c "curl -sf '$url/metrics' | grep -q '^gapwatch_rule_status'"
check "read-only: /readyz is 503 and says why" bash -c "curl -s '$url/readyz' | grep -q 'state database'"
sqlite3 "$dir/warehouse.db" "DELETE FROM events WHERE id IN (SELECT id FROM archive_events)"
wait_for 20 grep -q "cannot record the result in the state database" "$dir/ro.log"
check "read-only: the failure cannot be recorded, and it says why" grep -qE "cannot record the result in the state database: cannot open the state database" "$dir/ro.log"
check "read-only: nothing was dispatched (rows still missing)" test "$(missing)" -eq 60
mount -o remount,rw "$dir/state"
wait_for 40 grep -q "incident #1 for events_hourly resolved" "$dir/ro.log"
check "writable again: the file opens, the incident opens, the backfill runs, it resolves" grep -q "incident #1 for events_hourly resolved" "$dir/ro.log"
check "writable again: no rows are missing" test "$(missing)" -eq 0
kill -TERM "$daemon"; wait "$daemon"
umount "$dir/state"
# Full mid-run: says so, keeps evaluating and serving, dispatches nothing it cannot record.
mount -t tmpfs -o size=1m tmpfs "$dir/state"
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
daemon=$!
wait_for 20 grep -q "rule events_hourly: pass" "$dir/log"
url="http://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/log" | head -1 | cut -d: -f3)"
head -c 2m /dev/zero >"$dir/state/filler" 2>/dev/null
sqlite3 "$dir/warehouse.db" "DELETE FROM events WHERE id IN (SELECT id FROM archive_events)"
wait_for 20 grep -q "cannot record the result in the state database" "$dir/log"
check "full: gapwatch says it cannot record the result" grep -qE "cannot record the result in the state database.*(full|disk)" "$dir/log"
lines=$(wc -l <"$dir/log")
wait_for 10 bash -c "tail -n +$((lines + 1)) '$dir/log' | grep -q 'cannot record'"
check "full: evaluations go on" bash -c "tail -n +$((lines + 1)) '$dir/log' | grep -q 'cannot record'"
check "full: nothing was dispatched (rows still missing)" test "$(missing)" -eq 60
check "full: metrics are still served" bash -c "curl -sf '$url/metrics' | grep -q '^gapwatch_rule_status'"
check "full: /readyz is 503 and says why" bash -c "curl -s '$url/readyz' | grep -q 'state database'"
rm -f "$dir/state/filler"
wait_for 30 grep -q "incident #1 for events_hourly resolved" "$dir/log"
check "space again: the incident opens, the backfill runs, it resolves" grep -q "incident #1 for events_hourly resolved" "$dir/log"
check "space again: no rows are missing" test "$(missing)" -eq 0
kill -TERM "$daemon"; wait "$daemon"
check "exits 0 on SIGTERM" test $? -eq 0
echo "inner failures: $failed"
INNER
sed 's/^/  /' "$dir/inner.out"
check "full and read-only state database scenarios" grep -q "inner failures: 0" "$dir/inner.out"
}

part_rogue_command() {
echo "== a command that ignores SIGTERM, forks and floods its output"
dir=$work/rogue; mkdir -p "$dir"; make_warehouse "$dir"
cat >"$dir/rogue.sh" <<'SCRIPT'
#!/usr/bin/env bash
# Children that ignore SIGTERM too (SIG_IGN survives exec); their pids are
# written down so that the test looks for exactly them.
trap '' TERM
( trap '' TERM; exec sleep 300 ) &
echo $! >>"$(dirname "$0")/children"
( trap '' TERM; exec sleep 300 ) &
echo $! >>"$(dirname "$0")/children"
head -c 20000000 /dev/zero | tr '\0' 'x'
echo
echo "the end of the output"
sleep 300
SCRIPT
chmod +x "$dir/rogue.sh"
write_config "$dir" "  - name: rogue
    command: {argv: [\"$dir/rogue.sh\"], timeout: 2s}
    retry: {max_attempts: 1}" '    backfill: {executor: rogue, max_attempts: 1}'
started=$SECONDS
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 12 2>"$dir/log"
elapsed=$((SECONDS - started))
check "the run ended in ${elapsed}s: the timeout (2 s) and SIGKILL grace (5 s) bound it" test "$elapsed" -le 25
check "the request failed with a timeout" test "$(sqlite3 "$dir/state.db" "SELECT state || ' ' || last_error FROM requests")" = "failed timed out after 2s"
check "the kept output is bounded (≤ 16 KiB + marker)" test "$(sqlite3 "$dir/state.db" "SELECT LENGTH(output) FROM requests")" -le 16400
no_process() { ! pgrep -f "$1" >/dev/null; }
check "the process group is gone (children too)" no_process "$dir/rogue.sh"
no_child_left() {
  local pid
  [[ $(wc -l <"$dir/children") -eq 2 ]] || return 1
  while read -r pid; do
    if kill -0 "$pid" 2>/dev/null; then return 1; fi
  done <"$dir/children"
}
check "no orphaned child is left (the two sleep 300 are gone)" no_child_left
}

run_parts "$@"
