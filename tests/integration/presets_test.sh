#!/usr/bin/env bash
# The orchestrator presets end to end: the real daemon (`run --until-healthy`
# on the quickstart warehouse) against local fakes of the Airflow 2, Airflow 3,
# Prefect, Dagster and Azure Data Factory APIs (orchestrator_fakes.py), which
# check each request field by field and run the backfill when they accept it.
# Covered: the documented method, path, headers and body of every preset; a
# lost answer resent and taken as accepted (Airflow 409, Prefect 200 for a
# known idempotency key); tokens obtained (Airflow 3 login, Entra ID client
# credentials), refreshed when they expire and fetched again when refused;
# Dagster partition sets, asset ranges and job runs (one per partition, tagged
# dagster/partition); a Dagster error member with HTTP 200 and an Airflow 404
# escalating; Airflow 2 and 3 taking a resent run's 409 as ours only after
# finding our dag_run_id (GET dagRuns/{id}), and failing a 409 caused by the
# scheduler's run on the same logical date; an Airflow 3 backfill whose answer
# was lost found among the DAG's backfills instead of created twice; the run
# each Airflow 2 delivery started followed to its end by the daemon (failed,
# succeeded without the data, healed from queued, and followed again by a
# daemon restarted after kill -9, which sends nothing twice), never polled
# faster than poll_every; and no
# password, client secret, API key or token anywhere in gapwatch's log, its
# stored outputs or its API answers.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$source_dir"

# The credentials, as a deployment would give them: in the environment.
export AIRFLOW2_PASSWORD='af2-pa$$word"quote'
export AIRFLOW3_PASSWORD='af3-password-s3cr3t'
export PREFECT_API_KEY='pnu_prefectkey0123456789'
export DAGSTER_TOKEN='user:dagstertoken0123456789'
export ADF_CLIENT_SECRET='entra~client~secret~0123'
secrets=("$AIRFLOW2_PASSWORD" "$AIRFLOW3_PASSWORD" "$PREFECT_API_KEY" "$DAGSTER_TOKEN" "$ADF_CLIENT_SECRET")

# start_fakes DIR [fake options]: the fakes on a free port, in $port.
start_fakes() {
  local dir=$1; shift
  GAPWATCH_QUICKSTART_DB="$dir/warehouse.db" \
    python3 "$source_dir/tests/integration/orchestrator_fakes.py" --port-file "$dir/port" \
    --log "$dir/received.jsonl" --on-accept "$source_dir/examples/quickstart/backfill.sh" \
    --airflow2-basic "airflow:$AIRFLOW2_PASSWORD" --airflow3-login "admin:$AIRFLOW3_PASSWORD" \
    --prefect-key "$PREFECT_API_KEY" --dagster-token "$DAGSTER_TOKEN" \
    --entra "my-tenant:my-client:$ADF_CLIENT_SECRET" "$@" &
  background_pids+=("$!")
  wait_for 10 "the fakes to listen" test -s "$dir/port"
  port=$(cat "$dir/port")
}
# calls DIR PATH-REGEX PYTHON-EXPRESSION over `calls` (the logged calls to matching paths)
calls() {
  python3 -c "import json,re,sys; calls=[c for c in map(json.loads, open(sys.argv[1])) if re.search(sys.argv[2], c['path'])]; body=lambda c: json.loads(c['body']); print($3)" \
    "$1/received.jsonl" "$2"
}
# executor NAME WEBHOOK_YAML (indented by six spaces)
executor() {
  printf '  - name: %s\n    webhook:\n%s\n      timeout: 5s\n    retry: {max_attempts: 4, initial_backoff: 1s, max_backoff: 2s}\n' "$1" "$2"
}
run_daemon() {  # run_daemon DIR MAX_RUNTIME: gapwatch's exit status in $status
  "$gapwatch" run -c "$1/gapwatch.yaml" --until-healthy --max-runtime "$2" 2>"$1/log"
  status=$?
  "$gapwatch" incidents show 1 -c "$1/gapwatch.yaml" --output json >"$1/incident.json"
}
request_events() {
  json "$1/incident.json" '" ".join(e["kind"] for e in doc["events"] if e["kind"].startswith("request_"))'
}
# No secret, and no token the fakes issued, in the log, the incident (the API's
# answer) or anywhere in the state database.
check_no_secrets() {
  local dir=$1 leaked=()
  local tokens
  mapfile -t tokens < <(python3 -c "import json,sys; [print(c['issued_token']) for c in map(json.loads, open(sys.argv[1])) if 'issued_token' in c]" "$dir/received.jsonl")
  sqlite3 "$dir/state.db" .dump >"$dir/state.sql"
  for secret in "${secrets[@]}" "${tokens[@]}"; do
    for file in "$dir/log" "$dir/incident.json" "$dir/state.sql"; do
      grep -qF -- "$secret" "$file" && leaked+=("${secret:0:12}… in ${file##*/}")
    done
  done
  check "no secret or issued token in the log, incident or state database" test "${#leaked[@]}" -eq 0 ||
    printf '  leaked: %s\n' "${leaked[@]}" >&2
}

part_airflow2() {
echo "== airflow2: basic auth; the answer is lost, the resend gets 409, and our run is found: accepted"
dir=$work/airflow2; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_ingest --script lost,ok
write_config "$dir" "$(executor airflow "      preset: airflow2
      base_url: http://127.0.0.1:$port/
      dag_id: \"{dag_id}\"
      logical_date: window_start
      airflow_version: 2.10.5
      auth: {basic: {username: airflow, password: \"\${AIRFLOW2_PASSWORD}\"}}")" \
  '    backfill: {executor: airflow, params: {dag_id: events_ingest}, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
path=/api/v1/dags/
check "two deliveries to POST dagRuns, the 409 followed by GET dagRuns/{our dag_run_id}" test \
  "$(calls "$dir" $path '" ".join(c["method"] + " " + c["path"].rpartition("/")[2][:9] + " " + str(c["status"]) for c in calls)')" = \
  "POST dagRuns 200 POST dagRuns 409 GET gapwatch- 200"
check "the same dag_run_id both times, carrying the request id, and looked up" test "$(calls "$dir" $path \
  'len({body(c)["dag_run_id"] for c in calls if c["method"] == "POST"}) == 1 and body(calls[0])["dag_run_id"] == "gapwatch-" + calls[0]["headers"]["idempotency-key"] and calls[2]["path"].endswith("/" + body(calls[0])["dag_run_id"])')" = True
check "Airflow 2.9+: the documented body with data_interval_start/_end" test \
  "$(calls "$dir" $path 'sorted(body(calls[0]))')" = "['conf', 'dag_run_id', 'data_interval_end', 'data_interval_start', 'logical_date']"
check "logical_date is the window start" test "$(calls "$dir" $path 'body(calls[0])["logical_date"] == body(calls[0])["data_interval_start"] == body(calls[0])["conf"]["window_start"]')" = True
check "conf describes the window" test "$(calls "$dir" $path 'sorted(body(calls[0])["conf"])')" = \
  "['request_id', 'rule', 'table', 'window_end', 'window_start']"
check "the lookup carried the same credentials" test "$(calls "$dir" $path 'calls[2]["headers"]["authorization"] == calls[1]["headers"]["authorization"]')" = True
check "the 409 counted as accepted" test "$(request_events "$dir")" = \
  "request_created request_sending request_retry request_sending request_accepted request_verified"
check "the incident says why" grep -q "already accepted: dag run gapwatch-" "$dir/incident.json"
check_no_secrets "$dir"
}

# The run each delivery started, followed by gapwatch through Airflow 2's API
# (GET dagRuns/{dag_run_id}, every poll_every: 5s, the shortest allowed).
# run_followed DIR RUNS BACKFILL_YAML: the daemon in the background (in $pid)
# against fakes whose runs go through RUNS (--runs), with no loader (the run
# loads nothing unless RUNS ends in success and LOADER is given).
run_followed() {
  local dir=$1 runs=$2 backfill=$3 loader=${4:-/bin/true}
  mkdir -p "$dir"; make_warehouse "$dir"
  start_fakes "$dir" --exists events_ingest --runs "$runs" --on-accept "$loader"
  write_config "$dir" "$(executor airflow "      preset: airflow2
      base_url: http://127.0.0.1:$port
      dag_id: events_ingest
      poll_every: 5s
      auth: {basic: {username: airflow, password: \"\${AIRFLOW2_PASSWORD}\"}}")" "$backfill"
  "$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
  pid=$!
  background_pids+=("$pid")
}
incident_in() {  # incident_in DIR STATE: incident 1 is in STATE (its JSON in DIR/incident.json)
  "$gapwatch" incidents show 1 -c "$1/gapwatch.yaml" --output json >"$1/incident.json" 2>/dev/null &&
    test "$(json "$1/incident.json" 'doc["state"]')" = "$2"
}
# The run's events and the requests' ends, in order.
run_events() {
  json "$1/incident.json" '" ".join(e["kind"] for e in doc["events"] if e["kind"].startswith("run_") or e["kind"] in ("request_accepted", "request_verified", "request_unverified", "escalated"))'
}
# Seconds between consecutive polls of one run (GET dagRuns/{id}), smallest;
# 0 when no run was polled twice (so a check on it fails).
shortest_poll_gap() {
  calls "$1" '/dagRuns/gapwatch-' 'min([b["received_at"] - a["received_at"] for a, b in zip(calls, calls[1:]) if a["path"] == b["path"] and a["method"] == b["method"] == "GET"] or [0])'
}

part_airflow2_run_failed() {
echo "== airflow2: a run that fails in Airflow fails the attempt at once, with Airflow's state; the next attempt is sent"
dir=$work/run_failed
run_followed "$dir" running,failed \
  '    backfill: {executor: airflow, verify_after: 10m, max_attempts: 2, attempt_backoff: 0s}'
wait_for 60 "the incident to escalate after two failed runs" incident_in "$dir" escalated
kill -TERM "$pid"; wait "$pid"
check "each run followed: running, then failed, well before verify_after (10m)" test "$(run_events "$dir")" = \
  "request_accepted run_running run_failed request_accepted run_running run_failed escalated"
check "each attempt failed with Airflow's state" test "$(json "$dir/incident.json" \
  '[(r["attempt"], r["state"], r["last_error"], r["run"]["state"]) for r in doc["requests"]]')" = \
  "[(1, 'failed', 'the run failed: failed', 'failed'), (2, 'failed', 'the run failed: failed', 'failed')]"
check "the run's link is Airflow 2's grid of that run" test "$(json "$dir/incident.json" \
  'doc["requests"][0]["run"]["link"] == "http://127.0.0.1:'"$port"'/dags/events_ingest/grid?dag_run_id=" + doc["requests"][0]["run"]["id"]')" = True
check "never polled faster than poll_every (5s)" test "$(shortest_poll_gap "$dir" | cut -d. -f1)" -ge 4
check "incidents show prints the run" bash -c "'$gapwatch' incidents show 1 -c '$dir/gapwatch.yaml' | grep -q 'run gapwatch-.*  failed  (failed)  http://'"
check_no_secrets "$dir"
}

part_airflow2_run_without_data() {
echo "== airflow2: a run that succeeds without the data fails the attempt with its own reason"
dir=$work/run_without_data
run_followed "$dir" running,success \
  '    backfill: {executor: airflow, verify_after: 10m, max_attempts: 1}'
wait_for 60 "the incident to escalate" incident_in "$dir" escalated
kill -TERM "$pid"; wait "$pid"
check "the run succeeded, then the window still failed" test "$(run_events "$dir")" = \
  "request_accepted run_running run_succeeded request_unverified escalated"
check "the attempt says the run succeeded but the data is missing" test \
  "$(json "$dir/incident.json" 'doc["requests"][0]["last_error"]')" = \
  "the run succeeded but the window is still below threshold"
}

part_airflow2_run_healed() {
echo "== airflow2: a run followed from queued to success heals the window; the metric counts the run"
dir=$work/run_healed
run_followed "$dir" queued,running,success \
  '    backfill: {executor: airflow, verify_after: 10m}' "$source_dir/examples/quickstart/backfill.sh"
wait_for 60 "the incident to resolve" incident_in "$dir" resolved
metrics=$(curl -sf "$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/log" | head -1)/metrics")
kill -TERM "$pid"; wait "$pid"
check "queued, running, succeeded, verified" test "$(run_events "$dir")" = \
  "request_accepted run_queued run_running run_succeeded request_verified"
check "the request keeps its run's end" test "$(json "$dir/incident.json" \
  '(doc["requests"][0]["state"], doc["requests"][0]["run"]["state"], doc["requests"][0]["run"]["next_poll_at"])')" = \
  "('verified', 'succeeded', None)"
check "gapwatch_backfill_runs is published for the executor" grep -q '^gapwatch_backfill_runs{executor="airflow",state="running"}' <<<"$metrics"
check "polled no faster than poll_every, slower while queued" test "$(shortest_poll_gap "$dir" | cut -d. -f1)" -ge 4
}

part_airflow2_run_after_kill() {
echo "== airflow2: kill -9 while a run is followed: the restarted daemon follows the same run, sends nothing again"
dir=$work/run_after_kill
run_followed "$dir" running,running,running,success \
  '    backfill: {executor: airflow, verify_after: 10m}' "$source_dir/examples/quickstart/backfill.sh"
has_event() {  # has_event DIR KIND: incident 1's history has an event KIND
  "$gapwatch" incidents show 1 -c "$1/gapwatch.yaml" --output json 2>/dev/null | grep -q "\"kind\": *\"$2\""
}
wait_for 30 "the run to be seen running" has_event "$dir" run_running
kill -9 "$pid"; wait "$pid" 2>/dev/null
killed_at=$(date +%s.%N)
run_daemon "$dir" 60
check "healed after the restart and exit 0" test "$status" -eq 0
check "one delivery only: POST dagRuns once" test \
  "$(calls "$dir" '/dagRuns$' 'len([c for c in calls if c["method"] == "POST"])')" = 1
check "the same run followed to success, then verified" test "$(run_events "$dir")" = \
  "request_accepted run_running run_succeeded request_verified"
check "polled no faster than poll_every across the restart" test "$(shortest_poll_gap "$dir" | cut -d. -f1)" -ge 4
check "the restarted daemon asked about the run" test "$(calls "$dir" '/dagRuns/gapwatch-' \
  "len([c for c in calls if c['received_at'] > $killed_at])")" -ge 1
}

part_airflow2_clash() {
echo "== airflow2: a 409 for the scheduler's run on the same logical date is not taken as ours"
dir=$work/airflow_clash2; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_ingest --scheduled events_ingest --airflow2-version 2.8.4
write_config "$dir" "$(executor airflow "      preset: airflow2
      base_url: http://127.0.0.1:$port/
      dag_id: events_ingest
      logical_date: window_start
      auth: {basic: {username: airflow, password: \"\${AIRFLOW2_PASSWORD}\"}}")" \
  '    backfill: {executor: airflow, max_attempts: 1}'
run_daemon "$dir" 5
check "airflow2: never healthy (exit 1)" test "$status" -eq 1
check "airflow2: 409 on the logical date, then our dag_run_id is not found" test \
  "$(calls "$dir" /api/v1/dags/ '" ".join(c["method"] + " " + str(c["status"]) for c in calls)')" = "POST 409 GET 404"
check "airflow2 without airflow_version: no data_interval_* (refused before 2.9), the window in conf" test \
  "$(calls "$dir" /api/v1/dags/ 'sorted(body(calls[0])) + sorted(body(calls[0])["conf"])')" = \
  "['conf', 'dag_run_id', 'logical_date', 'request_id', 'rule', 'table', 'window_end', 'window_start']"
check "airflow2: failed, saying what clashed" test \
  "$(json "$dir/incident.json" 'doc["requests"][0]["state"] + " " + str("a run that is not gapwatch" in doc["requests"][0]["last_error"] and "already exists" in doc["requests"][0]["last_error"])')" = "failed True"
check "airflow2: no request_accepted" test "$(request_events "$dir" | grep -c request_accepted)" -eq 0
check_no_secrets "$dir"
}

part_airflow3_clash() {
echo "== airflow3: a 409 for the scheduler's run on the same logical date (unique dag_id, logical_date) is not taken as ours"
dir=$work/airflow_clash3; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_ingest --scheduled events_ingest
write_config "$dir" "$(executor airflow "      preset: airflow3
      base_url: http://127.0.0.1:$port
      dag_id: events_ingest
      logical_date: window_start
      username: admin
      password: \"\${AIRFLOW3_PASSWORD}\"")" \
  '    backfill: {executor: airflow, max_attempts: 1}'
run_daemon "$dir" 5
check "airflow3: never healthy (exit 1)" test "$status" -eq 1
check "airflow3: 409 (unique dag_id, logical_date), then our dag_run_id is not found" test \
  "$(calls "$dir" /api/v2/dags/ '" ".join(c["method"] + " " + str(c["status"]) for c in calls)')" = "POST 409 GET 404"
check "airflow3: failed, saying what clashed" test \
  "$(json "$dir/incident.json" 'doc["requests"][0]["state"] + " " + str("a run that is not gapwatch" in doc["requests"][0]["last_error"])')" = "failed True"
check_no_secrets "$dir"
}

part_airflow3() {
echo "== airflow3: JWT from /auth/token; a revoked token (401) is dropped and a new one fetched"
dir=$work/airflow3; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_ingest --revoke-first-token
write_config "$dir" "$(executor airflow "      preset: airflow3
      base_url: http://127.0.0.1:$port
      dag_id: events_ingest
      username: admin
      password: \"\${AIRFLOW3_PASSWORD}\"")" \
  '    backfill: {executor: airflow, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "logged in twice with the documented body" test "$(calls "$dir" '^/auth/token$' \
  '[(c["status"], sorted(body(c)), c["headers"]["content-type"]) for c in calls]')" = \
  "[(201, ['password', 'username'], 'application/json'), (201, ['password', 'username'], 'application/json')]"
check "the first token was refused, the second accepted" test \
  "$(calls "$dir" '^/api/v2/dags/events_ingest/dagRuns$' '[c["status"] for c in calls]')" = "[401, 200]"
check "each delivery carried the token issued just before" test "$(python3 -c "
import json,sys
calls=[json.loads(l) for l in open(sys.argv[1])]
issued=[c['issued_token'] for c in calls if 'issued_token' in c]
sent=[c['headers']['authorization'] for c in calls if 'dagRuns' in c['path']]
print(sent == ['Bearer ' + t for t in issued])" "$dir/received.jsonl")" = True
check "Airflow 3's body: logical_date present and null, no data interval (Airflow drops it without a logical date)" test \
  "$(calls "$dir" dagRuns 'sorted(body(calls[-1])) + [body(calls[-1])["logical_date"]]')" = \
  "['conf', 'dag_run_id', 'logical_date', None]"
check "the refusal was retried" grep -q "the access token was refused" "$dir/incident.json"
check_no_secrets "$dir"
check "the fake echoed the refused token, and gapwatch stored it as ***" \
  grep -qF 'Invalid JWT token (revoked token): ***' "$dir/state.sql"
}

part_airflow3_backfill() {
echo "== airflow3_backfill: POST /api/v2/backfills"
dir=$work/backfill; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_ingest
write_config "$dir" "$(executor airflow "      preset: airflow3_backfill
      base_url: http://127.0.0.1:$port
      dag_id: events_ingest
      max_active_runs: 3
      username: admin
      password: \"\${AIRFLOW3_PASSWORD}\"")" \
  '    backfill: {executor: airflow, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "the documented body" test "$(calls "$dir" '^/api/v2/backfills$' 'sorted(body(calls[0]))')" = \
  "['dag_id', 'dag_run_conf', 'from_date', 'max_active_runs', 'reprocess_behavior', 'to_date']"
check "reprocess completed runs, at most 3 at once" test \
  "$(calls "$dir" '^/api/v2/backfills$' 'body(calls[0])["reprocess_behavior"] + " " + str(body(calls[0])["max_active_runs"])')" = "completed 3"
check "to_date is the last second of the window" test "$(calls "$dir" '^/api/v2/backfills$' \
  '__import__("datetime").datetime.fromisoformat(body(calls[0])["dag_run_conf"]["window_end"].replace("Z","+00:00")) - __import__("datetime").datetime.fromisoformat(body(calls[0])["to_date"].replace("Z","+00:00"))')" = "0:00:01"
check_no_secrets "$dir"
}

part_airflow3_backfill_lost() {
echo "== airflow3_backfill: the answer is lost; the resend's 409 leads to our running backfill, not a second"
dir=$work/backfill_lost; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_ingest --script lost,ok
write_config "$dir" "$(executor airflow "      preset: airflow3_backfill
      base_url: http://127.0.0.1:$port
      dag_id: events_ingest
      username: admin
      password: \"\${AIRFLOW3_PASSWORD}\"")" \
  '    backfill: {executor: airflow, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "created (answer lost), 409, then the DAG's backfills listed" test \
  "$(calls "$dir" '^/api/v2/backfills' '[(c["method"], c["status"]) for c in calls]')" = \
  "[('POST', 200), ('POST', 409), ('GET', 200)]"
check "listed by dag_id, newest first" test \
  "$(calls "$dir" '^/api/v2/backfills' 'calls[2]["query"]["dag_id"] + " " + calls[2]["query"]["order_by"]')" = "events_ingest -id"
check "one backfill only" test "$(calls "$dir" '^/api/v2/backfills' 'len(calls[2]["answer"]["backfills"])')" -eq 1
check "the 409 counted as accepted: our backfill" grep -q "already accepted: backfill 1 of this window is running" "$dir/incident.json"
check_no_secrets "$dir"
}

part_prefect() {
echo "== prefect: the answer is lost, the resend with the same idempotency key gets 200"
dir=$work/prefect; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists 0f7c6a44-deployment --script lost,ok
write_config "$dir" "$(executor prefect "      preset: prefect
      api_url: http://127.0.0.1:$port/api
      deployment_id: \"{deployment}\"
      auth: {bearer: \"\${PREFECT_API_KEY}\"}")" \
  '    backfill: {executor: prefect, params: {deployment: 0f7c6a44-deployment}, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
path=/api/deployments/0f7c6a44-deployment/create_flow_run
check "201 created, then 200 for the known key" test "$(calls "$dir" $path '[c["status"] for c in calls]')" = "[201, 200]"
check "the documented body" test "$(calls "$dir" $path 'sorted(body(calls[0]))')" = "['idempotency_key', 'name', 'parameters', 'tags']"
check "the idempotency key is the request id" test "$(calls "$dir" $path \
  'body(calls[0])["idempotency_key"] == calls[0]["headers"]["idempotency-key"] == calls[1]["headers"]["idempotency-key"]')" = True
check "Prefect Cloud's bearer key" test "$(calls "$dir" $path 'calls[0]["headers"]["authorization"] == "Bearer pnu_prefectkey0123456789"')" = True
check "the duplicate counted as accepted" grep -q "already accepted: flow run" "$dir/incident.json"
check_no_secrets "$dir"
}

part_dagster() {
echo "== dagster: launchPartitionBackfill of the window's partitions, Dagster+ token"
dir=$work/dagster; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_hourly_partition_set
write_config "$dir" "$(executor dagster "      preset: dagster
      base_url: http://127.0.0.1:$port
      api_token: \"\${DAGSTER_TOKEN}\"
      repository_location: etl
      partition_set: \"{partition_set}\"
      partition_every: 1h")" \
  '    backfill: {executor: dagster, params: {partition_set: events_hourly_partition_set}, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "the mutation and its variables" test "$(calls "$dir" '^/graphql$' \
  'body(calls[0])["operationName"] + " " + str(sorted(body(calls[0])["variables"]["backfillParams"]))')" = \
  "GapwatchLaunchPartitionBackfill ['partitionNames', 'selector', 'tags']"
check "three hourly partitions named as Dagster names them" test "$(calls "$dir" '^/graphql$' \
  'all(__import__("re").match(r"^\d{4}-\d{2}-\d{2}-\d{2}:00$", p) for p in body(calls[0])["variables"]["backfillParams"]["partitionNames"]) and len(body(calls[0])["variables"]["backfillParams"]["partitionNames"])')" = 3
check "the Dagster-Cloud-Api-Token header" test "$(calls "$dir" '^/graphql$' 'calls[0]["headers"]["dagster-cloud-api-token"] == "user:dagstertoken0123456789"')" = True
check "the backfill id is in the incident" grep -q "backfill [0-9a-f]\{8\} launched" "$dir/incident.json"
check_no_secrets "$dir"
}

part_dagster_assets() {
echo "== dagster: assets, launchPartitionBackfill over a range of asset partitions"
dir=$work/dagster_assets; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists warehouse/events
write_config "$dir" "$(executor dagster "      preset: dagster
      base_url: http://127.0.0.1:$port
      api_token: \"\${DAGSTER_TOKEN}\"
      assets: [warehouse/events]
      partition_every: 1h")" \
  '    backfill: {executor: dagster, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "partitionsByAssets with the asset key's path, no partition set" test "$(calls "$dir" '^/graphql$' \
  'str(body(calls[0])["variables"]["backfillParams"]["partitionsByAssets"][0]["assetKey"]["path"]) + " " + str("selector" in body(calls[0])["variables"]["backfillParams"])')" = \
  "['warehouse', 'events'] False"
check "one range from the window's first hourly partition to its last" test "$(calls "$dir" '^/graphql$' \
  '[(k, bool(__import__("re").match(r"^\d{4}-\d{2}-\d{2}-\d{2}:00$", v))) for k, v in sorted(body(calls[0])["variables"]["backfillParams"]["partitionsByAssets"][0]["partitions"]["range"].items())]')" = \
  "[('end', True), ('start', True)]"
check_no_secrets "$dir"
}

part_dagster_job() {
echo "== dagster: job, one launchRun per hourly partition with the dagster/partition tag"
dir=$work/dagster_job; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_job
write_config "$dir" "$(executor dagster "      preset: dagster
      base_url: http://127.0.0.1:$port
      api_token: \"\${DAGSTER_TOKEN}\"
      repository_location: etl
      job: events_job
      partition_every: 1h
      run_config: {ops: {load_events: {config: {table: \"{table}\"}}}}")" \
  '    backfill: {executor: dagster, max_window: 1h, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "three launchRun mutations, one per missing hour" test "$(calls "$dir" '^/graphql$' \
  'sum("launchRun(" in body(c)["query"] for c in calls)')" = 3
check "each names its partition in the dagster/partition tag, all different" test "$(calls "$dir" '^/graphql$' \
  'len({t["value"] for c in calls for t in body(c)["variables"]["executionParams"]["executionMetadata"]["tags"] if t["key"] == "dagster/partition"})')" = 3
check "the job selector and run_config as runConfigData" test "$(calls "$dir" '^/graphql$' \
  'body(calls[0])["variables"]["executionParams"]["selector"]["jobName"] + " " + body(calls[0])["variables"]["executionParams"]["runConfigData"]["ops"]["load_events"]["config"]["table"]')" = \
  "events_job events"
check_no_secrets "$dir"
}

part_airflow3_lost() {
echo "== airflow3: the answer is lost, the resend gets 409 and counts as accepted"
dir=$work/airflow3_lost; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists events_ingest --script lost,ok
write_config "$dir" "$(executor airflow "      preset: airflow3
      base_url: http://127.0.0.1:$port
      dag_id: events_ingest
      username: admin
      password: \"\${AIRFLOW3_PASSWORD}\"")" \
  '    backfill: {executor: airflow, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "created, then 409 for the same run id, then our run looked up" test \
  "$(calls "$dir" '^/api/v2/dags/events_ingest/dagRuns' '[(c["method"], c["status"]) for c in calls]')" = \
  "[('POST', 200), ('POST', 409), ('GET', 200)]"
check "the 409 counted as accepted" grep -q "already accepted" "$dir/incident.json"
check_no_secrets "$dir"
}

part_dagster_error() {
echo "== dagster: an error member with HTTP 200 is a failure, and the incident escalates"
dir=$work/dagster_error; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir"
write_config "$dir" "$(executor dagster "      preset: dagster
      base_url: http://127.0.0.1:$port
      api_token: \"\${DAGSTER_TOKEN}\"
      repository_location: etl
      partition_set: no_such_set
      partition_every: 1h")" \
  '    backfill: {executor: dagster, max_attempts: 1}'
run_daemon "$dir" 5
check "never healthy (exit 1)" test "$status" -eq 1
check "one delivery, answered HTTP 200" test "$(calls "$dir" '^/graphql$' '[c["status"] for c in calls]')" = "[200]"
check "failed with the error member's type and message" test \
  "$(json "$dir/incident.json" 'doc["requests"][0]["state"] + ": " + doc["requests"][0]["last_error"]')" = \
  "failed: HTTP 200: PartitionSetNotFoundError: Partition set no_such_set could not be found."
check "the incident escalated" test "$(json "$dir/incident.json" 'doc["state"]')" = escalated
check_no_secrets "$dir"
}

part_airflow_404() {
echo "== airflow3: an unknown DAG (404) fails without retry and escalates"
dir=$work/airflow_404; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir"
write_config "$dir" "$(executor airflow "      preset: airflow3
      base_url: http://127.0.0.1:$port
      dag_id: no_such_dag
      username: admin
      password: \"\${AIRFLOW3_PASSWORD}\"")" \
  '    backfill: {executor: airflow, max_attempts: 1}'
run_daemon "$dir" 5
check "never healthy (exit 1)" test "$status" -eq 1
check "one delivery" test "$(calls "$dir" dagRuns 'len(calls)')" -eq 1
check "failed with Airflow's message" test \
  "$(json "$dir/incident.json" 'doc["requests"][0]["state"] + ": " + doc["requests"][0]["last_error"]')" = \
  "failed: HTTP 404: DAG with dag_id: 'no_such_dag' not found"
check "the incident escalated" test "$(json "$dir/incident.json" 'doc["state"]')" = escalated
check_no_secrets "$dir"
}

part_adf() {
echo "== adf: Entra ID client credentials; an expired token is refreshed; runId reported"
dir=$work/adf; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --exists reload_events --token-lifetime 2 --script 503:3,ok
write_config "$dir" "$(executor adf "      preset: adf
      management_url: http://127.0.0.1:$port
      login_url: http://127.0.0.1:$port
      subscription_id: 00000000-1111-2222-3333-444444444444
      resource_group: analytics
      factory: gapwatch-df
      pipeline: reload_events
      tenant_id: my-tenant
      client_id: my-client
      client_secret: \"\${ADF_CLIENT_SECRET}\"
      parameters: {table: \"{table}\", window_start: \"{window_start}\", window_end: \"{window_end}\"}")" \
  '    backfill: {executor: adf, verify_after: 30s}'
run_daemon "$dir" 60
check "healed and exit 0" test "$status" -eq 0
check "two client-credentials grants with the management scope" test "$(calls "$dir" '^/my-tenant/oauth2/v2.0/token$' \
  '[(c["status"], sorted(__import__("urllib.parse").parse.parse_qs(c["body"]))) for c in calls]')" = \
  "[(200, ['client_id', 'client_secret', 'grant_type', 'scope']), (200, ['client_id', 'client_secret', 'grant_type', 'scope'])]"
check "the second delivery used the refreshed token" test "$(python3 -c "
import json,sys
calls=[json.loads(l) for l in open(sys.argv[1])]
issued=[c['issued_token'] for c in calls if 'issued_token' in c]
runs=[c for c in calls if c['path'].endswith('/createRun')]
print(len(issued) == 2 and runs[-1]['headers']['authorization'] == 'Bearer ' + issued[1])" "$dir/received.jsonl")" = True
check "the documented path and api-version" test "$(calls "$dir" createRun 'calls[-1]["path"] + "?" + calls[-1]["query"]["api-version"]')" = \
  "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/analytics/providers/Microsoft.DataFactory/factories/gapwatch-df/pipelines/reload_events/createRun?2018-06-01"
check "the body is the pipeline parameters" test "$(calls "$dir" createRun 'sorted(body(calls[-1]))')" = "['table', 'window_end', 'window_start']"
check "the runId is in the incident" grep -qE "pipeline run [0-9a-f-]{36} created" "$dir/incident.json"
check_no_secrets "$dir"
}

part_run_polls() {
echo "== prefect, dagster, adf: the fakes' run polls answer per --runs in native names, and not-found"
# gapwatch's own polling is the run tracker's (monitor/daemon); this pins the
# fakes it will poll to the upstream shapes (orchestrator_fakes.py cites them).
dir=$work/run_polls; mkdir -p "$dir"; make_warehouse "$dir"
start_fakes "$dir" --runs queued,running,success --exists 0f7c6a44-deployment \
  --exists events_hourly_partition_set --exists events_job --exists reload_events
python3 - "$port" "$PREFECT_API_KEY" "$DAGSTER_TOKEN" "$ADF_CLIENT_SECRET" >"$dir/polls.json" <<'PY'
import json, sys, urllib.error, urllib.parse, urllib.request
port, prefect_key, dagster_token, adf_secret = sys.argv[1:]
base = f"http://127.0.0.1:{port}"
def call(method, path, body=None, headers=None, form=False):
    data = None
    headers = dict(headers or {}, Accept="application/json")
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data, headers, method=method)) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
out = {}
window = {"window_start": "2026-11-24T10:00:00Z", "window_end": "2026-11-24T13:00:00Z"}
auth = {"Authorization": f"Bearer {prefect_key}"}
_, run = call("POST", "/api/deployments/0f7c6a44-deployment/create_flow_run",
              {"name": "r", "parameters": window, "tags": [], "idempotency_key": "k1"}, auth)
out["prefect"] = [call("GET", f"/api/flow_runs/{run['id']}", None, auth)[1]["state"]["type"] for _ in range(4)]
out["prefect_missing"] = call("GET", "/api/flow_runs/00000000-0000-0000-0000-000000000000", None, auth)
dag = {"Dagster-Cloud-Api-Token": dagster_token}
launched = call("POST", "/graphql", {"query": "mutation { launchRun(executionParams: $executionParams) }",
    "operationName": "L", "variables": {"executionParams": {
        "selector": {"repositoryLocationName": "etl", "repositoryName": "__repository__", "jobName": "events_job"},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "2026-11-24-10:00"}]}}}}, dag)[1]
run_id = launched["data"]["launchRun"]["run"]["runId"]
poll_run = lambda rid: call("POST", "/graphql", {"query": "query Q($runId: ID!) { runOrError(runId: $runId) { __typename } }",
                                                "operationName": "Q", "variables": {"runId": rid}}, dag)[1]
out["dagster_run"] = [poll_run(run_id)["data"]["runOrError"]["status"] for _ in range(4)]
out["dagster_run_missing"] = poll_run("nope")["data"]["runOrError"]["__typename"]
launched = call("POST", "/graphql", {"query": "mutation { launchPartitionBackfill(backfillParams: $backfillParams) }",
    "operationName": "B", "variables": {"backfillParams": {"partitionNames": ["2026-11-24-10:00"],
        "selector": {"partitionSetName": "events_hourly_partition_set",
                     "repositorySelector": {"repositoryLocationName": "etl", "repositoryName": "__repository__"}}}}}, dag)[1]
backfill_id = launched["data"]["launchPartitionBackfill"]["backfillId"]
poll_backfill = lambda bid: call("POST", "/graphql", {"query": "query Q($backfillId: String!) { partitionBackfillOrError(backfillId: $backfillId) { __typename } }",
                                                     "operationName": "Q", "variables": {"backfillId": bid}}, dag)[1]
out["dagster_backfill"] = [poll_backfill(backfill_id)["data"]["partitionBackfillOrError"]["status"] for _ in range(4)]
out["dagster_backfill_missing"] = poll_backfill("nope")["data"]["partitionBackfillOrError"]["__typename"]
token = call("POST", "/my-tenant/oauth2/v2.0/token", {"grant_type": "client_credentials", "client_id": "my-client",
             "client_secret": adf_secret, "scope": "https://management.azure.com/.default"}, form=True)[1]["access_token"]
arm = {"Authorization": f"Bearer {token}"}
factory = "/subscriptions/s1/resourceGroups/analytics/providers/Microsoft.DataFactory/factories/gapwatch-df"
run_id = call("POST", factory + "/pipelines/reload_events/createRun?api-version=2018-06-01", window, arm)[1]["runId"]
out["adf"] = [call("GET", f"{factory}/pipelineruns/{run_id}?api-version=2018-06-01", None, arm)[1]["status"] for _ in range(4)]
out["adf_missing"] = call("GET", f"{factory}/pipelineruns/nope?api-version=2018-06-01", None, arm)[0]
print(json.dumps(out))
PY
check "Prefect: state.type per poll" test "$(json "$dir/polls.json" 'doc["prefect"]')" = \
  "['SCHEDULED', 'RUNNING', 'COMPLETED', 'COMPLETED']"
check "Prefect: an unknown flow run is 404 Flow run not found" test "$(json "$dir/polls.json" 'doc["prefect_missing"]')" = \
  "[404, {'detail': 'Flow run not found'}]"
check "Dagster: RunStatus per poll" test "$(json "$dir/polls.json" 'doc["dagster_run"]')" = "['QUEUED', 'STARTED', 'SUCCESS', 'SUCCESS']"
check "Dagster: BulkActionStatus per poll" test "$(json "$dir/polls.json" 'doc["dagster_backfill"]')" = \
  "['REQUESTED', 'REQUESTED', 'COMPLETED_SUCCESS', 'COMPLETED_SUCCESS']"
check "Dagster: unknown ids are the not-found members" test \
  "$(json "$dir/polls.json" 'doc["dagster_run_missing"] + " " + doc["dagster_backfill_missing"]')" = "RunNotFoundError BackfillNotFoundError"
check "ADF: PipelineRun.status per poll" test "$(json "$dir/polls.json" 'doc["adf"]')" = "['Queued', 'InProgress', 'Succeeded', 'Succeeded']"
check "ADF: an unknown run is 404" test "$(json "$dir/polls.json" 'doc["adf_missing"]')" = 404
}

run_parts "$@"
