#!/usr/bin/env bash
# The webhook executor against a real HTTP server on 127.0.0.1
# (webhook_receiver.py): retries on 500 and 429 honouring Retry-After with the
# same request id, Standard Webhooks signatures checked independently, 400
# failing without retry, a receiver that hangs timing out, and values with
# shell syntax, quotes and newlines arriving intact in the URL and the JSON
# body. The receiver runs the backfill itself when it accepts, as an
# orchestrator would, and gapwatch verifies the data arrived.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$source_dir"

secret=whsec_$(printf 'gapwatch test signing key' | base64)

# start_receiver DIR SCRIPT [extra args]: prints the port.
start_receiver() {
  local dir=$1 script=$2; shift 2
  GAPWATCH_QUICKSTART_DB="$dir/warehouse.db" \
    python3 "$source_dir/tests/integration/webhook_receiver.py" --port-file "$dir/port" \
    --log "$dir/received.jsonl" --script "$script" --secret "$secret" \
    --on-accept "$source_dir/examples/quickstart/backfill.sh" "$@" &
  background_pids+=("$!")
  wait_for 10 "the receiver to listen" test -s "$dir/port"
}
received() {  # received DIR PYTHON-EXPRESSION over `requests` (a list of dicts)
  python3 -c "import json,sys; requests=[json.loads(l) for l in open(sys.argv[1])]; print($2)" "$1/received.jsonl"
}
webhook_executor() {  # webhook_executor PORT [extra webhook keys]
  cat <<YAML
  - name: airflow
    webhook:
      url: "http://127.0.0.1:$1/api/v1/dags/{dag_id}/dagRuns"
      headers: {Authorization: "Bearer \${TEST_TOKEN:-t0ken}"}
      body:
        dag_run_id: "gapwatch-{request_id}"
        conf: {table: "{table}", start: "{window_start}", end: "{window_end}", attempt: "{attempt}"}
        table: "{table}"
        start: "{window_start}"
        end: "{window_end}"
        replace: true
        priority: 3
      success_codes: [200, 201, 409]
      signing_secret: "$secret"
      timeout: 2s
${2:-}
    max_concurrent: 2
    retry: {max_attempts: 4, initial_backoff: 1s, max_backoff: 2s}
YAML
}

part_retry() {
echo "== 500, then 429 with Retry-After, then 200: one request, same id, signed, verified"
dir=$work/retry; mkdir -p "$dir"; make_warehouse "$dir"
# Retry-After (5 s) asks for longer than the backoff could ever wait (at most
# 2 s here), so the gap below shows the header was read.
start_receiver "$dir" "500,429:5,200"
write_config "$dir" "$(webhook_executor "$(cat "$dir/port")")" \
  '    backfill: {executor: airflow, params: {dag_id: events_ingest}, verify_after: 10s}'
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 60 2>"$dir/log"
check "healed and exit 0" test $? -eq 0
check "three deliveries" test "$(received "$dir" 'len(requests)')" -eq 3
check "all with the same Idempotency-Key and webhook-id" test \
  "$(received "$dir" 'len({(r["headers"]["idempotency-key"], r["headers"]["webhook-id"]) for r in requests})')" -eq 1
check "webhook-id is the request id" test \
  "$(received "$dir" 'requests[0]["headers"]["webhook-id"] == requests[0]["headers"]["idempotency-key"]')" = True
check "every signature verifies" test "$(received "$dir" 'all(r["signature_valid"] for r in requests)')" = True
check "Retry-After: 5 was honoured (longer than max_backoff)" test \
  "$(received "$dir" 'requests[2]["received_at"] - requests[1]["received_at"] >= 4.9')" = True
check "POST to the templated path" test "$(received "$dir" 'requests[0]["method"] + " " + requests[0]["path"]')" = \
  "POST /api/v1/dags/events_ingest/dagRuns"
check "headers from config, with the environment default" test \
  "$(received "$dir" 'requests[0]["headers"]["authorization"]')" = "Bearer t0ken"
check "JSON body built as values" test "$(received "$dir" \
  'json.loads(requests[0]["body"])["conf"]["table"] + " " + str(json.loads(requests[0]["body"])["replace"]) + " " + str(json.loads(requests[0]["body"])["priority"])')" = "events True 3"
check "dag_run_id carries the request id" test "$(received "$dir" \
  'json.loads(requests[0]["body"])["dag_run_id"] == "gapwatch-" + requests[0]["headers"]["idempotency-key"]')" = True
check "Content-Type is JSON" test "$(received "$dir" 'requests[0]["headers"]["content-type"]')" = application/json
"$gapwatch" incidents show 1 -c "$dir/gapwatch.yaml" --output json >"$dir/incident.json"
check "the request was accepted, then verified" test \
  "$(json "$dir/incident.json" '" ".join(e["kind"] for e in doc["events"] if e["kind"].startswith("request_"))')" = \
  "request_created request_sending request_retry request_sending request_retry request_sending request_accepted request_verified"
check "no rows are missing" test "$(missing_rows "$dir")" -eq 0
}

part_reject() {
echo "== 400: failed without retry; the incident shows why"
dir=$work/reject; mkdir -p "$dir"; make_warehouse "$dir"
start_receiver "$dir" "400"
write_config "$dir" "$(webhook_executor "$(cat "$dir/port")")" \
  '    backfill: {executor: airflow, params: {dag_id: x}, max_attempts: 1}'
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 5 2>"$dir/log"
check "never healthy (exit 1)" test $? -eq 1
check "exactly one delivery" test "$(received "$dir" 'len(requests)')" -eq 1
"$gapwatch" incidents show 1 -c "$dir/gapwatch.yaml" --output json >"$dir/incident.json"
check "the request failed with HTTP 400" test "$(json "$dir/incident.json" 'doc["requests"][0]["state"] + " " + doc["requests"][0]["last_error"]')" = "failed HTTP 400"
check "the response body is kept" grep -q '"received"' <(json "$dir/incident.json" 'doc["requests"][0]["output"]')
check "the incident escalated" test "$(json "$dir/incident.json" 'doc["state"]')" = escalated
}

part_hang() {
echo "== a receiver that accepts the connection and hangs: timeout, then retry"
dir=$work/hang; mkdir -p "$dir"; make_warehouse "$dir"
start_receiver "$dir" "hang:200,200" --hang 4
write_config "$dir" "$(webhook_executor "$(cat "$dir/port")")" \
  '    backfill: {executor: airflow, params: {dag_id: x}}'
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 30 2>"$dir/log"
check "healed after the retry (exit 0)" test $? -eq 0
check "the first delivery timed out" grep -qE "Timeout was reached.*retrying" "$dir/log"
}

part_inject() {
echo "== values are data: shell syntax, quotes and newlines reach URL and JSON intact"
dir=$work/inject; mkdir -p "$dir"; make_warehouse "$dir"
start_receiver "$dir" "200"
port=$(cat "$dir/port")
write_config "$dir" "  - name: hook
    webhook:
      url: \"http://127.0.0.1:$port/hook/{note}?note={note}&table={table}\"
      body: {note: \"{note}\", table: \"{table}\", start: \"{window_start}\", end: \"{window_end}\"}
      signing_secret: \"$secret\"" \
  "    backfill:
      executor: hook
      params: {note: \"\$(touch pwned) \`touch pwned2\`; \\\"double\\\" 'single' ../../etc/passwd?&x=1#frag\\nsecond line\"}"
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 30 2>"$dir/log"
check "healed (exit 0)" test $? -eq 0
expected_note=$'$(touch pwned) `touch pwned2`; "double" \'single\' ../../etc/passwd?&x=1#frag\nsecond line'
check "the path segment decodes to the value" test "$(received "$dir" 'requests[0]["path"][len("/hook/"):]')" = "$expected_note"
check "the path stayed one segment (no traversal)" test "$(received "$dir" 'requests[0]["raw_path"].count("/")')" -eq 2
check "the query parameter decodes to the value" test "$(received "$dir" 'requests[0]["query"]["note"]')" = "$expected_note"
check "no extra query parameters were injected" test "$(received "$dir" 'sorted(requests[0]["query"])')" = "['note', 'table']"
check "the JSON string holds the value" test "$(received "$dir" 'json.loads(requests[0]["body"])["note"]')" = "$expected_note"
check "nothing was executed" bash -c "! compgen -G '$dir/pwned*' && ! compgen -G '$source_dir/pwned*'"
}

part_signing_forms() {
echo "== a signing secret in each accepted form verifies at a receiver holding it in the other"
# whsec_<base64> and the bare base64 are the same key to every reference
# library; a 64-byte key is the largest the spec allows.
for form in whsec bare long; do
  dir=$work/signing_$form; mkdir -p "$dir"; make_warehouse "$dir"
  key64=$(printf 'gapwatch test signing key' | base64)
  case $form in
    whsec) configured=whsec_$key64 receiver=$key64 ;;
    bare) configured=$key64 receiver=whsec_$key64 ;;
    long) configured=whsec_$(head -c 64 /dev/zero | tr '\0' 'k' | base64 -w0) receiver=$configured ;;
  esac
  secret=$receiver start_receiver "$dir" "200"
  write_config "$dir" "  - name: hook
    webhook:
      url: \"http://127.0.0.1:$(cat "$dir/port")/hook\"
      body: {table: \"{table}\", start: \"{window_start}\", end: \"{window_end}\"}
      signing_secret: \"$configured\"" \
    '    backfill: {executor: hook}'
  "$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 30 2>"$dir/log"
  check "$form: healed (exit 0)" test $? -eq 0
  check "$form: the reference algorithm verifies the signature" test \
    "$(received "$dir" 'all(r["signature_valid"] for r in requests) and len(requests)')" = 1
done
}

part_tls() {
echo "== TLS is verified unless turned off per executor"
dir=$work/tls; mkdir -p "$dir"; make_warehouse "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
start_receiver "$dir" "200" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem"
port=$(cat "$dir/port")
write_config "$dir" "  - name: strict
    webhook: {url: \"https://127.0.0.1:$port/hook\", body: {table: \"{table}\", start: \"{window_start}\", end: \"{window_end}\"}}
    retry: {max_attempts: 1}" '    backfill: {executor: strict, max_attempts: 1}'
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 5 2>"$dir/log"
check "a self-signed certificate is refused by default" grep -qiE "SSL peer certificate|certificate problem|SSL certificate" "$dir/log"
check "nothing reached the receiver" test ! -s "$dir/received.jsonl"
sed -i 's|body: {table|tls_verify: false, body: {table|' "$dir/gapwatch.yaml"
rm -f "$dir/state.db"*
"$gapwatch" run -c "$dir/gapwatch.yaml" --until-healthy --max-runtime 30 2>"$dir/log"
check "with tls_verify: false for that executor it is accepted and heals" test $? -eq 0
}

run_parts "$@"
