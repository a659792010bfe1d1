#!/usr/bin/env bash
# The HTTP API and status page of a running daemon, through real sockets:
# reads, writes behind the bearer token, bad requests answered with the right
# status and a JSON error (and nothing changed), reload through the API, and
# the log of a run whose configuration holds known secrets never showing them.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

token=api-token-0123456789abcdef

# request METHOD PATH [curl args]: sets $status and writes the body to $dir/body.
request() {
  local method=$1 path=$2; shift 2
  status=$(curl -s -o "$dir/body" -w '%{http_code}' -X "$method" "$@" "$base$path")
}
expect() {  # expect STATUS DESCRIPTION
  if [[ $status == "$1" ]]; then ok "$2 → $1"; else fail "$2: got $status, want $1: $(head -c 300 "$dir/body")"; fi
}
body() { json "$dir/body" "$1"; }
# start_idle_daemon: a daemon for $dir whose executor does nothing; sets $port and $base.
start_idle_daemon() {
  make_warehouse "$dir"
  write_config "$dir" "  - name: noop
    command: {argv: [\"/bin/true\"]}" ""
  "$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
  background_pids+=("$!")
  wait_for 20 "gapwatch to listen" grep -q "http://127.0.0.1:" "$dir/log"
  port=$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/log" | head -1 | cut -d: -f3)
  base=http://127.0.0.1:$port
}

# One daemon, asked in turn: reads, writes, bad requests, actions, reload.
part_requests() {
dir=$work/api; mkdir -p "$dir"; make_warehouse "$dir"
# An executor that fails (so the incident stays open to act on).
write_config "$dir" "  - name: broken
    command: {argv: [\"/bin/false\"]}
    retry: {max_attempts: 1}" "    backfill: {executor: broken, max_attempts: 1}"
sed -i "s|  listen: 127.0.0.1:0|  listen: 127.0.0.1:0\n  api_token: \"$token\"|" "$dir/gapwatch.yaml"
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
background_pids+=("$!")
wait_for 20 "gapwatch to listen" grep -q "http://127.0.0.1:" "$dir/log"
base=http://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/log" | head -1 | cut -d: -f3)
wait_for 30 "the incident to escalate" grep -q "escalated" "$dir/log"

echo "== reads"
request GET /healthz; expect 200 "GET /healthz"
request GET /readyz; expect 200 "GET /readyz once the warehouse was reached"
request GET /metrics; expect 200 "GET /metrics"
check "metrics are Prometheus text" grep -q '^# TYPE gapwatch_rule_status gauge' "$dir/body"
request GET /api/v1/rules; expect 200 "GET /api/v1/rules"
check "rules carry the last result and next evaluation" test \
  "$(body '[r["rule"] + ":" + r["last_result"]["status"] + ":" + str(r["next_evaluation"] is not None) for r in doc["rules"]]')" = "['events_hourly:fail:True']"
request GET /api/v1/incidents; expect 200 "GET /api/v1/incidents (open)"
check "one open incident, escalated" test "$(body '[i["state"] for i in doc["incidents"]]')" = "['escalated']"
request GET /api/v1/incidents/1; expect 200 "GET /api/v1/incidents/1"
check "the incident shows its windows, requests and history" test \
  "$(body 'len(doc["windows"]) > 0 and doc["requests"][0]["last_error"] == "exit status 1" and doc["events"][0]["kind"] == "opened"')" = True
request GET /; expect 200 "GET / (status page)"
check "the status page lists the failing rule first, with its incident" \
  python3 -c 'import sys; page=open(sys.argv[1]).read(); assert "1 failing" in page and "events_hourly" in page and "escalated" in page and "<script" not in page' "$dir/body"

echo "== writes need the token"
request POST /api/v1/incidents/1/ack; expect 401 "ack without a token"
request POST /api/v1/incidents/1/ack -H "Authorization: Bearer wrong-token-0123456789"; expect 401 "ack with a wrong token"
request POST /api/v1/incidents/1/ack -H "Authorization: Basic $token"; expect 401 "ack with the token as Basic"
check "nothing was acknowledged" test "$(sqlite3 "$dir/state.db" 'SELECT acknowledged_at IS NULL FROM incidents WHERE id = 1')" = 1
auth=(-H "Authorization: Bearer $token")
request POST /api/v1/incidents/1/ack "${auth[@]}" -d '{"by": "alice"}'; expect 200 "ack with the token"
check "acknowledged by alice, recorded in the history" test "$(body '[e["detail"] for e in doc["events"] if e["kind"] == "acknowledged"]')" = "['acknowledged by api: alice']"

echo "== bad requests: right status, JSON error, nothing changed"
request POST /api/v1/incidents/999/ack "${auth[@]}"; expect 404 "ack of an unknown incident"
check "the error is JSON" test "$(body 'doc["error"]')" = "no incident 999"
request GET /api/v1/incidents/abc; expect 400 "a non-numeric id"
request GET /api/v1/incidents/-1; expect 400 "a negative id"
request POST /api/v1/incidents/1/ack "${auth[@]}" -d '{not json'; expect 400 "malformed JSON"
request POST /api/v1/incidents/1/ack "${auth[@]}" -d '{"by": 42}'; expect 400 "a wrongly typed field"
request POST /api/v1/backfills "${auth[@]}" -d '{"rule": "events_hourly"}'; expect 400 "a backfill without from/to"
request POST /api/v1/backfills "${auth[@]}" -d '{"rule": "nope", "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}'; expect 404 "a backfill for an unknown rule"
request POST /api/v1/backfills "${auth[@]}" -d '{"rule": "events_hourly", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}'; expect 400 "a reversed window"
request POST /api/v1/backfills "${auth[@]}" -d '{"rule": "events_hourly", "from": "1970-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}'; expect 400 "a backfill of 130 years"
check "the error says the bound" grep -q "a manual backfill makes at most 1000" <(body 'doc["error"]')
request DELETE /api/v1/incidents/1 "${auth[@]}"; expect 405 "a wrong method"
request GET /api/v1/incidents/1/resolve; expect 405 "GET on a write endpoint"
request GET "/../../../etc/passwd" --path-as-is; expect 404 "a path traversal attempt"
request GET "/api/v1/%2e%2e/%2e%2e/etc/passwd" --path-as-is; expect 404 "an encoded path traversal attempt"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$dir/huge"
request POST /api/v1/backfills "${auth[@]}" --data-binary @"$dir/huge"; expect 413 "a 2 MB body"
check "the incident is still escalated and open" test "$(sqlite3 "$dir/state.db" 'SELECT state FROM incidents WHERE id = 1')" = escalated
check "no request was added by the bad requests" test "$(sqlite3 "$dir/state.db" 'SELECT COUNT(*) FROM requests')" = 1
request GET /healthz; expect 200 "still alive after all that"

echo "== actions"
request POST /api/v1/backfills "${auth[@]}" -d '{"rule": "events_hourly", "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T06:00:00Z"}'
expect 201 "a manual backfill"
check "it is queued with an id" test "$(body 'len(doc["id"])')" = 32
request POST /api/v1/incidents/1/retry "${auth[@]}"; expect 200 "retry"
request POST /api/v1/incidents/1/resolve "${auth[@]}"; expect 200 "resolve"
check "resolved" test "$(body 'doc["state"]')" = resolved
request POST /api/v1/incidents/1/resolve "${auth[@]}"; expect 409 "resolving twice"

echo "== reload through the API"
cp "$dir/gapwatch.yaml" "$dir/good.yaml"
printf 'version: 1\nrules: {\n' >"$dir/gapwatch.yaml"
request POST /-/reload "${auth[@]}"; expect 400 "reload of a broken config"
check "the problems are listed with their location" grep -q 'gapwatch.yaml:3:1: error' "$dir/body"
# Logged as a refused SIGHUP is: each problem with its place, then the verdict.
check "the refused reload is logged with its problem" grep -q 'error .*gapwatch.yaml:3:1: error' "$dir/log"
check "and as refused, the running configuration kept" \
  grep -q 'error reload rejected: 1 problem(s); the previous configuration keeps running' "$dir/log"
request GET /metrics
check "the metrics count it as a failed reload" grep -q '^gapwatch_config_last_reload_successful 0' "$dir/body"
request POST /-/reload; expect 401 "reload without a token"
cp "$dir/good.yaml" "$dir/gapwatch.yaml"
request POST /-/reload "${auth[@]}"; expect 202 "reload of a good config"
wait_for 10 "the reload" grep -q "configuration reloaded" "$dir/log"

}

part_slow_clients() {
echo "== 200 idle and incomplete connections do not silence /healthz and /metrics"
dir=$work/slow; mkdir -p "$dir"
start_idle_daemon
# Answers within 1 s while they are open; each closed by the 5 s header timeout.
check "/healthz and /metrics answer within 1 s; every slow connection is closed within 10 s" \
  python3 "$source_dir/tests/integration/slow_clients.py" "$port" --connections 200 \
  --answer-within 1 --closed-within 10
request GET /healthz; expect 200 "GET /healthz afterwards"
}

part_no_token() {
echo "== no token configured: writes are refused"
dir=$work/notoken; mkdir -p "$dir"
start_idle_daemon
request POST /-/reload -H "Authorization: Bearer anything-at-all-123"; expect 403 "a write with no api_token configured"
}

part_secrets() {
echo "== secrets never reach the log, the API or the status page"
dir3=$work/secrets; mkdir -p "$dir3"; make_warehouse "$dir3"
GAPWATCH_QUICKSTART_DB="$dir3/warehouse.db" python3 "$source_dir/tests/integration/webhook_receiver.py" \
  --port-file "$dir3/port" --log "$dir3/received.jsonl" --script 400 --echo &
background_pids+=("$!")
wait_for 10 "the receiver" test -s "$dir3/port"
export GW_DB_PASSWORD='db-Pa55word-1234' GW_HOOK_TOKEN='hook-T0ken-98765' GW_SIGNING='whsec_c2lnbmluZy1rZXktZm9yLXRlc3RzLTEyMzQ='
write_config "$dir3" "  - name: hook
    webhook:
      url: \"http://127.0.0.1:$(cat "$dir3/port")/hook\"
      headers: {Authorization: \"Bearer \${GW_HOOK_TOKEN}\", X-Static: \"static-Secret-5555\"}
      body: {table: \"{table}\"}
      signing_secret: \"\${GW_SIGNING}\"" "    backfill: {executor: hook, max_attempts: 1}"
sed -i "s|Database=$dir3/warehouse.db\"|Database=$dir3/warehouse.db;PWD=\${GW_DB_PASSWORD}\"|; s|  listen: 127.0.0.1:0|  listen: 127.0.0.1:0\n  api_token: \"api-Secret-token-4321\"|" "$dir3/gapwatch.yaml"
"$gapwatch" -v run -c "$dir3/gapwatch.yaml" 2>"$dir3/log" &
daemon3=$!; background_pids+=("$daemon3")
wait_for 20 "the delivery to fail" grep -q "HTTP 400); output:" "$dir3/log"
base3=http://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' "$dir3/log" | head -1 | cut -d: -f3)
for path in /api/v1/incidents/1 "/api/v1/incidents?state=all" /api/v1/rules /; do
  curl -s "$base3$path" >>"$dir3/http"
done
kill -TERM "$daemon3"; wait "$daemon3"
check "the API served the echoed response (so the check below means something)" grep -q 'HTTP 400' "$dir3/http"
for secret in db-Pa55word-1234 hook-T0ken-98765 static-Secret-5555 api-Secret-token-4321 c2lnbmluZy1rZXktZm9yLXRlc3RzLTEyMzQ=; do
  check "neither /api/v1/* nor the status page shows $secret" bash -c "! grep -q '$secret' '$dir3/http'"
done
check "the receiver echoed the secrets back (so they were in the response)" grep -q "hook-T0ken-98765" "$dir3/received.jsonl"
check "the log mentions the failed delivery and its output" grep -q "HTTP 400); output:" "$dir3/log"
for secret in db-Pa55word-1234 hook-T0ken-98765 static-Secret-5555 api-Secret-token-4321 c2lnbmluZy1rZXktZm9yLXRlc3RzLTEyMzQ=; do
  check "the log does not contain $secret" bash -c "! grep -q '$secret' '$dir3/log'"
done
"$gapwatch" incidents show 1 -c "$dir3/gapwatch.yaml" --output json >"$dir3/incident.json"
sqlite3 "$dir3/state.db" "SELECT output || last_error FROM requests; SELECT detail FROM events" >"$dir3/stored"
check "the echoed response was stored (so the check below means something)" grep -q '"headers"' "$dir3/stored"
for secret in db-Pa55word-1234 hook-T0ken-98765 static-Secret-5555 api-Secret-token-4321; do
  check "neither the state database nor the incident JSON (API) holds $secret" \
    bash -c "! grep -q '$secret' '$dir3/stored' '$dir3/incident.json'"
done
"$gapwatch" run -c "$dir3/gapwatch.yaml" --until-healthy --max-runtime 3 2>/dev/null
sed -i 's|  listen: 127.0.0.1:0|  listen: 127.0.0.1:0\n  log_format: json|' "$dir3/gapwatch.yaml"
"$gapwatch" run -c "$dir3/gapwatch.yaml" --until-healthy --max-runtime 3 2>"$dir3/json.log"
check "log_format json writes one JSON object per line" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines and all({"time", "level", "message"} <= set(l) for l in lines)
assert any(l.get("rule") == "events_hourly" for l in lines), "no line names the rule"
' "$dir3/json.log"
}

part_environment_secrets() {
echo "== every value taken from the environment is masked in the log, the API, the page, the metrics and the state database"
dir=$work/envsecrets; mkdir -p "$dir"; make_warehouse "$dir"
python3 "$source_dir/tests/integration/webhook_receiver.py" \
  --port-file "$dir/port" --log "$dir/received.jsonl" --script 400 --echo &
background_pids+=("$!")
wait_for 10 "the receiver" test -s "$dir/port"
# A loader that prints what it was given (argv, environment) over several
# lines, keeps a ledger (so that the checks below mean something) and fails.
cat >"$dir/loader" <<LOADER
#!/bin/sh
echo "\$LOADER_TOKEN \$1" >>"$dir/ledger"
echo "loader argv: \$*"
printf 'LOADER_TOKEN=%s\nPGPASSWORD=%s\r\nend of output\n' "\$LOADER_TOKEN" "\$PGPASSWORD"
exit 1
LOADER
chmod +x "$dir/loader"
export GW_URL_KEY='url-Key-4711abcd' GW_HEADER_KEY='header-Key-0815wxyz' GW_BODY_KEY='body-Key-"quoted"/1'
export GW_LOADER_TOKEN='loader-Token-2342qrst' GW_ARGV_KEY='argv-Key-7777mnop' GW_DB_USER='db-User-5151klmn'
export GW_PGPASSWORD='pg-Password-9191efgh'
secrets=("$GW_URL_KEY" "$GW_HEADER_KEY" "body-Key-" "$GW_LOADER_TOKEN" "$GW_ARGV_KEY" "$GW_DB_USER" "$GW_PGPASSWORD")
write_config "$dir" "  - name: hook
    webhook:
      url: \"http://127.0.0.1:$(cat "$dir/port")/run?apikey=\${GW_URL_KEY}\"
      headers: {X-Api-Key: \"\${GW_HEADER_KEY}\"}
      body: {table: \"{table}\", key: \"\${GW_BODY_KEY}\"}
    retry: {max_attempts: 1}
  - name: loader
    command:
      argv: [\"$dir/loader\", \"\${GW_ARGV_KEY}\", \"{window_start}\"]
      env: {LOADER_TOKEN: \"\${GW_LOADER_TOKEN}\", PGPASSWORD: \"\${GW_PGPASSWORD}\"}
    retry: {max_attempts: 1}" "    backfill: {executor: hook, max_attempts: 1}" "  - name: events_loaded
    table: events
    check: row_count
    timestamp_column: event_time
    partition: {every: 1h, lookback: 2d, delay: 1h}
    fail: {min: 10}
    schedule: 1s
    backfill: {executor: loader, max_attempts: 1}"
sed -i "s|Database=$dir/warehouse.db\"|Database=$dir/warehouse.db;Uid=\${GW_DB_USER}\"|" "$dir/gapwatch.yaml"
"$gapwatch" -v run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
daemon=$!; background_pids+=("$daemon")
wait_for 20 "the webhook delivery to fail" grep -q "for events_hourly: failed" "$dir/log"
wait_for 20 "the loader to fail" grep -q "for events_loaded: failed" "$dir/log"
base=http://127.0.0.1:$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/log" | head -1 | cut -d: -f3)
for path in /api/v1/incidents/1 /api/v1/incidents/2 "/api/v1/incidents?state=all" /api/v1/rules /metrics /; do
  curl -s "$base$path" >>"$dir/http"
done
kill -TERM "$daemon"; wait "$daemon"
sqlite3 "$dir/state.db" .dump >"$dir/stored"
check "the receiver got the URL, header and body keys (so the checks below mean something)" \
  bash -c "grep -q '$GW_URL_KEY' '$dir/received.jsonl' && grep -q '$GW_HEADER_KEY' '$dir/received.jsonl' && grep -q 'body-Key-' '$dir/received.jsonl'"
check "the loader got its token and argument (so the checks below mean something)" grep -q "$GW_LOADER_TOKEN $GW_ARGV_KEY" "$dir/ledger"
check "the echoed response and the loader's output were stored" \
  bash -c "grep -q '\"headers\"' '$dir/stored' && grep -q 'end of output' '$dir/stored'"
check "the API served the echoed response and the loader's output" \
  bash -c "grep -q 'headers' '$dir/http' && grep -q 'end of output' '$dir/http'"
for secret in "${secrets[@]}"; do
  check "the log does not contain $secret" bash -c "! grep -qF -- '$secret' '$dir/log'"
  check "the API, the page and the metrics do not contain $secret" bash -c "! grep -qF -- '$secret' '$dir/http'"
  check "the state database does not contain $secret" bash -c "! grep -qF -- '$secret' '$dir/stored'"
done
check "the log is one line per event: the loader's output lines are escaped, not split" \
  bash -c "! grep -qvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ' '$dir/log'"
check "the loader's output is in the log, masked, its line breaks written as \\n and \\r" \
  grep -qF 'LOADER_TOKEN=***\nPGPASSWORD=***\r\nend of output' "$dir/log"
}

run_parts "$@"
