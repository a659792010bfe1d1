#!/usr/bin/env bash
# `gapwatch run` end to end with real processes on a real SQLite warehouse:
# healing the quickstart gap, dry run, kill -9 in the middle of a delivery and
# resume with the same request ids, command failures and timeouts escalating,
# a failed attempt waiting attempt_backoff (across a restart) and a removed
# rule's incident resolved by a reload, values that look like shell passing
# through argv as data, SIGHUP with a broken config, SIGTERM.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$source_dir"   # executors' argv paths are relative to the source tree

reload_executor='  - name: reload
    command:
      argv: ["examples/quickstart/backfill.sh", "{table}", "{window_start}", "{window_end}"]
      env: {GAPWATCH_QUICKSTART_DB: "'"$work"'/heal/warehouse.db"}
      timeout: 30s
    max_concurrent: 1'

part_heal() {
echo "== the daemon heals the gap and resolves the incident"
dir=$work/heal; mkdir -p "$dir"; make_warehouse "$dir"
write_config "$dir" "$reload_executor" '    backfill: {executor: reload, max_window: 24h}'
check "three hours of rows are missing before" test "$(missing_rows "$dir")" -eq 60
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 60 2>"$dir/log"
check "run --until-healthy exits 0" test $? -eq 0
check "no rows are missing after" test "$(missing_rows "$dir")" -eq 0
"$gapwatch" incidents show 1 -c "$dir/gapwatch.yaml" --output json >"$dir/incident.json"
# The script commits its rows a moment before it exits. An evaluation that
# lands in between sees the rows and resolves the incident while the delivery
# is still under way; the dispatcher then settles the request as verified.
# Both orders are correct; the history says which one ran, and the log must
# agree with it.
history=$(json "$dir/incident.json" '" ".join(e["kind"] for e in doc["events"])')
if [[ $history == *request_ran* ]]; then
  order="opened → queued → backfilling → sending → ran → verifying → verified → resolved"
  expected="opened request_created state_backfilling request_sending request_ran state_verifying request_verified resolved"
  settled="succeeded \(exit status 0\)"
else
  order="opened → queued → backfilling → sending → resolved (while the command was exiting) → verified"
  expected="opened request_created state_backfilling request_sending resolved request_verified"
  settled="verified \(exit status 0; the incident had already resolved\)"
fi
for line in "rule events_hourly: fail \(3 of 4[67] hourly buckets below 10 rows\)" "incident #1 opened for events_hourly" \
            "queued window .* attempt 1 for reload" "$settled; output: backfill.sh: reloaded 60 row" \
            "incident #1 for events_hourly resolved" "summary: "; do
  check "log narrates: $line" grep -qE "$line" "$dir/log"
done
check "the incident is resolved" test "$(json "$dir/incident.json" 'doc["state"]')" = resolved
check "one request, verified" test "$(json "$dir/incident.json" '[r["state"] for r in doc["requests"]]')" = "['verified']"
gap=$(sqlite3 "$dir/warehouse.db" "SELECT strftime('%Y-%m-%dT%H:00:00Z', MIN(event_time)) || ' ' || strftime('%Y-%m-%dT%H:00:00Z', MAX(event_time), '+1 hour') FROM archive_events")
check "the request covers exactly the gap ($gap)" test \
  "$(json "$dir/incident.json" 'doc["requests"][0]["window"]["start"] + " " + doc["requests"][0]["window"]["end"]')" = "$gap"
check "history: $order" test "$history" = "$expected"
check "the state database is private (0600)" test "$(stat -c %a "$dir/state.db")" = 600
"$gapwatch" incidents list -c "$dir/gapwatch.yaml" >"$dir/list"
check "incidents list shows no open incident" grep -q "no open incidents" "$dir/list"

echo "== a manual backfill goes through the outbox and the executor"
sqlite3 "$dir/warehouse.db" "DELETE FROM events WHERE id IN (SELECT id FROM archive_events)"
check "the gap is back" test "$(missing_rows "$dir")" -eq 60
window=$(json "$dir/incident.json" 'doc["requests"][0]["window"]["start"] + " " + doc["requests"][0]["window"]["end"]')
"$gapwatch" backfill -c "$dir/gapwatch.yaml" --rule events_hourly --from "${window% *}" --to "${window#* }" >"$dir/manual"
check "backfill exits 0" test $? -eq 0
check "it reports the command ran" grep -q "succeeded (exit status 0)" "$dir/manual"
check "the rows are back" test "$(missing_rows "$dir")" -eq 0
check "a second attempt for the same window has a new id" test \
  "$(sqlite3 "$dir/state.db" "SELECT COUNT(DISTINCT id) || ' ' || MAX(attempt) FROM requests")" = "2 2"
"$gapwatch" backfill -c "$dir/gapwatch.yaml" --rule events_hourly --from 2026-01-02T00:00:00Z --to 2026-01-01T00:00:00Z 2>"$dir/manual_err"
check "a reversed window is refused (exit 4)" test $? -eq 4
requests_before=$(sqlite3 "$dir/state.db" "SELECT COUNT(*) FROM requests")
"$gapwatch" backfill -c "$dir/gapwatch.yaml" --rule events_hourly --from 1970-01-01T00:00:00Z --to 2100-01-01T00:00:00Z --enqueue-only 2>"$dir/manual_err"
check "1970 .. 2100 is refused (exit 4)" test $? -eq 4
check "and says why" grep -q "would make 47482 requests of at most 1d (backfill.max_window); a manual backfill makes at most 1000" "$dir/manual_err"
check "nothing was queued" test "$(sqlite3 "$dir/state.db" "SELECT COUNT(*) FROM requests")" -eq "$requests_before"
"$gapwatch" backfill -c "$dir/gapwatch.yaml" --rule events_hourly --from 2026-01-01T00:00:00Z --to 2026-01-03T12:00:00Z --enqueue-only >"$dir/manual"
check "60 hours are queued as three requests of at most max_window (24h)" test \
  "$(grep -c '^request .* queued: events_hourly' "$dir/manual")" -eq 3
}

part_dry_run() {
echo "== dry run records, sends nothing"
dir=$work/dry; mkdir -p "$dir"; make_warehouse "$dir"
write_config "$dir" "${reload_executor//heal/dry}" '    backfill: {executor: reload}'
"$gapwatch" run -c "$dir/gapwatch.yaml" --dry-run --until-healthy --max-runtime 4 2>"$dir/log"
check "a dry run never becomes healthy here (exit 1)" test $? -eq 1
check "nothing was backfilled" test "$(missing_rows "$dir")" -eq 60
"$gapwatch" incidents show 1 -c "$dir/gapwatch.yaml" --output json >"$dir/incident.json"
check "the request is recorded as dry_run" test "$(json "$dir/incident.json" '[r["state"] for r in doc["requests"]]')" = "['dry_run']"
check "log says nothing is sent" grep -q "dry run" "$dir/log"
}

part_crash() {
echo "== kill -9 in the middle of a delivery, restart: same request ids, nothing lost"
dir=$work/crash; mkdir -p "$dir"; make_warehouse "$dir"
cat >"$dir/held_backfill.sh" <<SCRIPT
#!/usr/bin/env bash
# Records the delivery, waits while $dir/hold exists, then backfills.
echo "\$GAPWATCH_REQUEST_ID \$2 \$3 \$\$" >>"$dir/deliveries"
while [[ -e "$dir/hold" ]]; do sleep 0.05; done
exec "$source_dir/examples/quickstart/backfill.sh" "\$@"
SCRIPT
chmod +x "$dir/held_backfill.sh"
write_config "$dir" "  - name: reload
    command:
      argv: [\"$dir/held_backfill.sh\", \"{table}\", \"{window_start}\", \"{window_end}\"]
      env: {GAPWATCH_QUICKSTART_DB: \"$dir/warehouse.db\"}
    max_concurrent: 1" '    backfill: {executor: reload, max_window: 1h}'
touch "$dir/hold"
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log1" &
daemon=$!; background_pids+=("$daemon")
wait_for 30 "the first delivery to start" test -s "$dir/deliveries"
kill -9 "$daemon"; wait "$daemon" 2>/dev/null
# The delivery dies with the daemon: its supervisor sees the lifeline close.
loader_gone() { ! kill -0 "$(awk '{print $4}' "$dir/deliveries" | head -1)" 2>/dev/null; }
wait_for 10 "the loader to be stopped after its daemon died" loader_gone
first_id=$(awk 'NR==1 {print $1}' "$dir/deliveries")
check "three requests were committed before the crash" test "$(sqlite3 "$dir/state.db" "SELECT COUNT(*) FROM requests")" -eq 3
check "the interrupted one is left in state sending" test "$(sqlite3 "$dir/state.db" "SELECT state FROM requests WHERE id = '$first_id'")" = sending
rm -f "$dir/hold"
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 60 2>"$dir/log2"
check "the restarted daemon heals and exits 0" test $? -eq 0
check "the interrupted request was resumed" grep -q "request $first_id for events_hourly resumed after restart" "$dir/log2"
check "it was delivered again with the same id" test "$(grep -c "^$first_id " "$dir/deliveries")" -eq 2
check "three distinct request ids, one per hour" test "$(awk '{print $1}' "$dir/deliveries" | sort -u | wc -l)" -eq 3
check "four deliveries in all (none lost, none extra)" test "$(wc -l <"$dir/deliveries")" -eq 4
check "no rows are missing" test "$(missing_rows "$dir")" -eq 0
}

part_escalate() {
echo "== failing and hanging commands are retried, then the incident escalates"
dir=$work/escalate; mkdir -p "$dir"; make_warehouse "$dir"
cat >"$dir/hang.sh" <<'SCRIPT'
#!/usr/bin/env bash
echo "starting, then hanging"
sleep 60
SCRIPT
chmod +x "$dir/hang.sh"
write_config "$dir" "  - name: hang
    command: {argv: [\"$dir/hang.sh\"], timeout: 1s}
    retry: {max_attempts: 2, initial_backoff: 1s, max_backoff: 1s}" \
  '    backfill: {executor: hang, max_attempts: 2, attempt_backoff: 1s}'
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 20 2>"$dir/log"
check "never healthy (exit 1)" test $? -eq 1
check "attempt 2 was first sent attempt_backoff (1s) or more after attempt 1 failed" test "$(sqlite3 "$dir/state.db" \
  "SELECT MIN(s.at) - MAX(f.at) FROM events s JOIN requests b ON s.request_id = b.id, events f JOIN requests a ON f.request_id = a.id
   WHERE b.attempt = 2 AND s.kind = 'request_sending' AND a.attempt = 1 AND f.kind = 'request_failed'")" -ge 1
check "the escalation is a warning with the reason" grep -qE \
  " warn(ing)? incident #1 for events_hourly escalated: .* still fails after 2 failed attempt\(s\); the last: timed out after 1s" "$dir/log"
"$gapwatch" incidents show 1 -c "$dir/gapwatch.yaml" --output json >"$dir/incident.json"
check "the incident escalated" test "$(json "$dir/incident.json" 'doc["state"]')" = escalated
check "two attempts, both failed after two deliveries each" test \
  "$(json "$dir/incident.json" '[(r["attempt"], r["state"], r["deliveries"]) for r in doc["requests"]]')" = \
  "[(1, 'failed', 2), (2, 'failed', 2)]"
check "the failure says it timed out" test "$(json "$dir/incident.json" 'doc["requests"][0]["last_error"]')" = "timed out after 1s"
check "the output was captured" test "$(json "$dir/incident.json" 'doc["requests"][0]["output"].strip()')" = "starting, then hanging"
no_process() { ! pgrep -f "$1" >/dev/null; }
check "no hung child is left" no_process "$dir/hang.sh"
"$gapwatch" incidents retry 1 -c "$dir/gapwatch.yaml" >/dev/null
check "retry reopens an escalated incident" test "$(sqlite3 "$dir/state.db" "SELECT state FROM incidents WHERE id = 1")" = open
}

part_backoff() {
echo "== a loader that exits 0 without the data: attempt 2 waits attempt_backoff, across a restart"
dir=$work/backoff; mkdir -p "$dir"; make_warehouse "$dir"
write_config "$dir" "  - name: noop
    command: {argv: [\"/bin/true\"]}" '    backfill: {executor: noop}'
cp "$dir/gapwatch.yaml" "$dir/with_rule.yaml"
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log1" &
daemon=$!; background_pids+=("$daemon")
attempt_two() { sqlite3 "$dir/state.db" "SELECT state FROM requests WHERE attempt = 2" 2>/dev/null; }
attempt_two_is() { test "$(attempt_two)" = "$1"; }
wait_for 30 "attempt 1 to fail and attempt 2 to be queued" attempt_two_is pending
check "attempt 2 is due 5m (the default attempt_backoff) after attempt 1 failed" test "$(sqlite3 "$dir/state.db" \
  "SELECT b.next_attempt_at - a.updated_at FROM requests a, requests b WHERE a.attempt = 1 AND a.state = 'failed' AND b.attempt = 2")" -eq 300
due=$(sqlite3 "$dir/state.db" "SELECT next_attempt_at FROM requests WHERE attempt = 2")
"$gapwatch" incidents show 1 -c "$dir/gapwatch.yaml" >"$dir/show"
check "incidents show says when the next attempt is due" grep -q "^next attempt due $(date -u -d "@$due" +%Y-%m-%dT%H:%M:%SZ)" "$dir/show"
kill -TERM "$daemon"; wait "$daemon"
# -v: each evaluation is logged, so that the second one proves a whole pass
# (record, plan, dispatch what is due) ran after the restart.
"$gapwatch" -v run -c "$dir/gapwatch.yaml" 2>"$dir/log2" &
daemon=$!; background_pids+=("$daemon")
evaluated_twice() { test "$(grep -c 'rule events_hourly: fail' "$dir/log2")" -ge 2; }
wait_for 20 "the restarted daemon to evaluate twice" evaluated_twice
check "after the restart attempt 2 still waits, due at the same time" test \
  "$(sqlite3 "$dir/state.db" "SELECT state || ' ' || next_attempt_at FROM requests WHERE attempt = 2")" = "pending $due"
check "one delivery in all (attempt 1)" test "$(cat "$dir/log1" "$dir/log2" | grep -c 'sending window')" -eq 1

echo "== the rule removed by a reload: its incident is resolved, its waiting request never sent"
sed -n '1,/^rules:/p' "$dir/with_rule.yaml" | sed 's/^rules:$/rules: []/' >"$dir/gapwatch.yaml"
kill -HUP "$daemon"
wait_for 10 "the reload" grep -q "configuration reloaded: 0 rule(s)" "$dir/log2"
check "the log warns, naming the rule and the incident" grep -qE \
  " warn(ing)? incident #1 for events_hourly resolved: rule removed from the configuration \(it was backfilling\)" "$dir/log2"
check "the incident is resolved" test "$(sqlite3 "$dir/state.db" "SELECT state FROM incidents WHERE id = 1")" = resolved
check "its history says why" test "$(sqlite3 "$dir/state.db" \
  "SELECT kind || ': ' || detail FROM events WHERE incident_id = 1 ORDER BY id DESC LIMIT 1")" = "resolved: rule removed from the configuration"
check "the waiting request is cancelled" attempt_two_is cancelled
kill -TERM "$daemon"; wait "$daemon"
check "still one delivery in all" test "$(cat "$dir/log1" "$dir/log2" | grep -c 'sending window')" -eq 1
}

part_inject() {
echo "== template values are data: shell syntax, quotes and newlines pass through argv intact"
dir=$work/inject; mkdir -p "$dir"; make_warehouse "$dir"
cat >"$dir/record_argv.py" <<'SCRIPT'
#!/usr/bin/env python3
import json, os, sys
with open(os.environ["ARGV_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
SCRIPT
chmod +x "$dir/record_argv.py"
write_config "$dir" "  - name: record
    command:
      argv: [\"$dir/record_argv.py\", \"{note}\", \"--table={table}\", \"{window_start}\"]
      env: {ARGV_LOG: \"$dir/argv.log\"}
      workdir: $dir" \
  "    backfill:
      executor: record
      max_attempts: 1
      params: {note: \"\$(touch pwned) \`touch pwned2\`; rm -rf / \\\"double\\\" 'single'\\nsecond line\"}"
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 4 2>"$dir/log" >/dev/null
wait_for 10 "the command to record its argv" test -s "$dir/argv.log"
expected_note=$'$(touch pwned) `touch pwned2`; rm -rf / "double" \'single\'\nsecond line'
check "the value arrives as one argv element, byte for byte" test \
  "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[0], end="")' "$dir/argv.log")" = "$expected_note"
check "--table={table} is one element" test "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[1])' "$dir/argv.log")" = "--table=events"
check "nothing was executed" bash -c "! compgen -G '$dir/pwned*' && ! compgen -G '$source_dir/pwned*'"
}

part_signals() {
echo "== SIGHUP with a broken config keeps the old one; a good one is taken; SIGTERM exits 0"
dir=$work/signals; mkdir -p "$dir"; make_warehouse "$dir"
write_config "$dir" "${reload_executor//heal/signals}" ""
cp "$dir/gapwatch.yaml" "$dir/good.yaml"
"$gapwatch" -v run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
daemon=$!; background_pids+=("$daemon")
wait_for 20 "the daemon to evaluate" grep -q "rule events_hourly:" "$dir/log"
printf 'version: 1\nwarehouses: [\n' >"$dir/gapwatch.yaml"
kill -HUP "$daemon"
wait_for 10 "the broken reload to be rejected" grep -q "reload rejected" "$dir/log"
check "the config error is logged with its location" grep -q "gapwatch.yaml:3:1: error: invalid YAML" "$dir/log"
lines=$(wc -l <"$dir/log")
wait_for 10 "evaluations to continue under the old config" bash -c "tail -n +$((lines + 1)) '$dir/log' | grep -q 'rule events_hourly:'"
check "the daemon is still running" kill -0 "$daemon"
sed 's/max_connections: 2/max_connections: 2/' "$dir/good.yaml" >"$dir/gapwatch.yaml"
cat >>"$dir/gapwatch.yaml" <<'YAML'
  - name: events_fresh
    table: events
    check: freshness
    timestamp_column: event_time
    fail: {max: 2h}
    schedule: 1s
YAML
kill -HUP "$daemon"
wait_for 10 "the good reload" grep -q "configuration reloaded: 2 rule(s)" "$dir/log"
wait_for 10 "the new rule to run" grep -q "rule events_fresh:" "$dir/log"
# The signal thread sleeps until a signal comes: with none sent, it is not
# switched in at all (a polling wait would be, several times a second).
signal_thread=""
for task in /proc/"$daemon"/task/*; do
  [[ $(cat "$task/wchan" 2>/dev/null) == do_sigtimedwait* ]] && signal_thread=$task
done
check "the signal thread is found waiting for signals" test -n "$signal_thread"
switches() { awk '/^voluntary_ctxt_switches/ {print $2}' "$signal_thread/status"; }
before=$(switches)
sleep 2  # the window in which a polling wait would have woken ten times
check "the signal thread did not wake without a signal" test "$(switches)" -eq "$before"
kill -TERM "$daemon"
wait "$daemon"
check "SIGTERM exits 0" test $? -eq 0
check "the log says it stopped" grep -q "SIGTERM: stopping" "$dir/log"
}

part_segments() {
echo "== a dark segment is backfilled on its own, with its values, and the incident resolves"
dir=$work/segments; mkdir -p "$dir"
"$source_dir/examples/quickstart/make-warehouse" "$dir/warehouse.db" >/dev/null
# Put the three missing hours back, then lose only the purchases of 4 to 7
# hours ago: the total stays above its threshold.
sqlite3 "$dir/warehouse.db" "INSERT INTO events SELECT * FROM archive_events; DELETE FROM archive_events;
  INSERT INTO archive_events SELECT * FROM events WHERE kind = 'purchase'
    AND event_time >= datetime(strftime('%Y-%m-%d %H:00:00', 'now'), '-7 hours')
    AND event_time <  datetime(strftime('%Y-%m-%d %H:00:00', 'now'), '-4 hours');
  DELETE FROM events WHERE id IN (SELECT id FROM archive_events);"
lost=$(missing_rows "$dir")
check "only purchases are missing ($lost rows)" test "$(sqlite3 "$dir/warehouse.db" "SELECT COUNT(DISTINCT kind) FROM archive_events")" -eq 1
write_config_rules "$dir" "  - name: reload_segment
    command:
      argv: [\"tests/integration/segment_loader.sh\", \"$dir/warehouse.db\", \"{segment.kind}\", \"{window_start}\", \"{window_end}\"]
      timeout: 30s" "  - name: events_by_kind
    table: events
    check: row_count
    timestamp_column: event_time
    segment_by: [kind]
    partition: {every: 1h, lookback: 2d, delay: 1h}
    fail: {min: 1}
    schedule: 1s
    backfill: {executor: reload_segment, max_window: 24h}"
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 60 2>"$dir/log"
check "run --until-healthy exits 0" test $? -eq 0
check "no rows are missing after" test "$(missing_rows "$dir")" -eq 0
check "the log names the failing segment" grep -qE "rule events_by_kind: fail \(purchase: 3 of 4[67] hourly buckets below 1 rows" "$dir/log"
check "the loader reloaded only purchases, exactly the lost rows" grep -q "segment_loader.sh: reloaded $lost row(s) of kind purchase for " "$dir/log"
"$gapwatch" incidents show 1 -c "$dir/gapwatch.yaml" --output json >"$dir/incident.json"
check "the incident is resolved" test "$(json "$dir/incident.json" 'doc["state"]')" = resolved
check "one request, for the purchase segment" test \
  "$(json "$dir/incident.json" '[(r["state"], r["window"]["segment"]) for r in doc["requests"]]')" = "[('verified', ['purchase'])]"
}

part_baseline_escalated() {
echo "== an escalated incident's window is never learned from: the next gap of its season still fails"
dir=$work/baseline; mkdir -p "$dir"
# 20 events an hour for a week up to now, but for two gaps in the same hour of
# the day: the hour 54 hours ago (G1) and the hour 30 hours ago (G2).
sqlite3 "$dir/warehouse.db" >/dev/null <<'SQL'
CREATE TABLE events (id INTEGER PRIMARY KEY, event_time TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 170 * 20 - 1)
INSERT INTO events (event_time)
SELECT datetime(strftime('%Y-%m-%d %H:00:00', 'now'), printf('-%d hours', 170 - i / 20),
                printf('+%d minutes', (i % 20) * 3))
FROM n;
DELETE FROM events WHERE strftime('%Y-%m-%d %H', event_time) IN
  (strftime('%Y-%m-%d %H', 'now', '-54 hours'), strftime('%Y-%m-%d %H', 'now', '-30 hours'));
SQL
# lookback: judged from LOOKBACK ago; each hour is expected to hold what the
# same hour held on the two days before (history 2d, hour_of_day).
baseline_config() {
  cat >"$dir/gapwatch.yaml" <<YAML
version: 1
monitor: {state: $dir/state.db, workers: 2, shutdown_grace: 5s}
warehouses:
  - name: local
    connection: "Driver=SQLite3;Database=$dir/warehouse.db"
executors:
  - name: fails
    command: {argv: ["false"], timeout: 10s}
    retry: {max_attempts: 1}
rules:
  - name: events_hourly
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: $1, delay: 1h}
    baseline: {history: 2d, seasonality: hour_of_day, min_history: 1}
    fail: {drop: 50%}
    schedule: 1s
    backfill: {executor: fails, max_attempts: 1}
YAML
}
# Three days judged: G1 and G2 both fail (each expected 20 from the days
# before it), their loads fail, the incident escalates.
baseline_config 3d
"$gapwatch" -v run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
local daemon=$!
escalated() { test "$(sqlite3 "$dir/state.db" "SELECT state FROM incidents WHERE id = 1" 2>/dev/null)" = escalated; }
wait_for 30 "the incident to escalate" escalated
check "G1 and G2 were the windows" test "$(sqlite3 "$dir/state.db" "SELECT COUNT(*) FROM requests")" -eq 2
# Judged from 40 hours ago, G1 is history now. Learned from, its 0 rows
# would make G2's expected value 10 (the median of 0 and 20) and its band
# wide enough for 0 rows to pass; never learned from, G2 expects 20 and fails.
baseline_config 40h
kill -HUP "$daemon"
after_reload() { sed -n '/configuration reloaded/,$p' "$dir/log" | grep "rule events_hourly: "; }
evaluated_twice() { test "$(after_reload | wc -l)" -ge 2; }
wait_for 30 "two evaluations after the reload" evaluated_twice
check "after the reload G2 still fails, expected 20 rows" test \
  "$(after_reload | tail -1 | grep -c "fail (1 of 3[89] hourly .* worst 0 rows, expected 20 ")" -eq 1
after_reload | tail -1
kill -TERM "$daemon"; wait "$daemon"
}

run_parts "$@"
