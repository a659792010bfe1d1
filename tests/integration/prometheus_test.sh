#!/usr/bin/env bash
# gapwatch in Prometheus, for real: promtool checks the alert rules and runs
# their unit tests, checks a live scrape, and a real Prometheus server (Debian's
# package, loopback, temporary storage) scrapes a running gapwatch with a
# failing rule, loads alerts.yml and shows GapwatchRuleFailing. The Grafana
# dashboard queries only exported metrics.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
kit=$source_dir/examples/prometheus

echo "== promtool on the alerting kit"
check "alerts.yml is valid" promtool check rules "$kit/alerts.yml"
check "prometheus.yml is valid" promtool check config "$kit/prometheus.yml"
check "every alert's unit tests pass (promtool test rules)" bash -c "cd '$kit' && promtool test rules alerts_test.yml"

echo "== a live gapwatch with a failing rule"
dir=$work/live; mkdir -p "$dir"; make_warehouse "$dir"
# A backfill that "runs" but loads nothing: the rule keeps failing, and every
# family (deliveries, freshness) has series to check the dashboard against.
write_config "$dir" "  - name: noop
    command: {argv: [\"/bin/true\"]}" "    labels: {team: data}
    backfill: {executor: noop, max_attempts: 1}" "  - name: events_fresh
    table: events
    check: freshness
    timestamp_column: event_time
    fail: {max: 2h}
    schedule: 1s"
"$gapwatch" run -c "$dir/gapwatch.yaml" 2>"$dir/log" &
background_pids+=("$!")
wait_for 20 "gapwatch to listen" grep -q "http://127.0.0.1:" "$dir/log"
port=$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/log" | head -1 | cut -d: -f3)
wait_for 20 "the rule to be evaluated" grep -q "rule events_hourly: fail" "$dir/log"
wait_for 20 "a backfill delivery" grep -q "succeeded (exit status 0)" "$dir/log"
curl -sf "http://127.0.0.1:$port/metrics" >"$dir/metrics.txt"
check "the scrape has the rule's status" grep -q 'gapwatch_rule_status{check="row_count",rule="events_hourly",severity="warning",status="fail",table="events",team="data",warehouse="local"} 1' "$dir/metrics.txt"
promtool check metrics <"$dir/metrics.txt" >"$dir/promtool.out" 2>&1
check "promtool check metrics reports nothing" test $? -eq 0 -a ! -s "$dir/promtool.out"
check "the Grafana dashboard queries only exported metrics" \
  python3 "$source_dir/tests/integration/check_dashboard.py" "$source_dir/examples/grafana/gapwatch.json" "$dir/metrics.txt"

echo "== a real Prometheus server sees the alert"
prometheus_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s|127.0.0.1:9464|127.0.0.1:$port|; s|scrape_interval: 30s|scrape_interval: 1s|; s|evaluation_interval: 30s|evaluation_interval: 1s|; s|  - alerts.yml|  - $kit/alerts.yml|" \
  "$kit/prometheus.yml" >"$dir/prometheus.yml"
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn 2>"$dir/prometheus.log" &
background_pids+=("$!")
alert_seen() {
  curl -sf "http://127.0.0.1:$prometheus_port/api/v1/alerts" >"$dir/alerts.json" 2>/dev/null &&
    python3 - "$dir/alerts.json" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))["data"]["alerts"]
sys.exit(0 if any(a["labels"]["alertname"] == "GapwatchRuleFailing" and a["labels"]["rule"] == "events_hourly"
                  and a["state"] in ("pending", "firing") for a in alerts) else 1)
PY
}
wait_for 60 "GapwatchRuleFailing in Prometheus' /api/v1/alerts" alert_seen
check "the alert carries the rule's labels" test "$(json "$dir/alerts.json" '[a["labels"]["team"] + "/" + a["labels"]["severity"] for a in doc["data"]["alerts"] if a["labels"]["alertname"] == "GapwatchRuleFailing"][0]')" = "data/warning"
check "the status page link points at gapwatch" test "$(json "$dir/alerts.json" '[a["annotations"]["status_page"] for a in doc["data"]["alerts"] if a["labels"]["alertname"] == "GapwatchRuleFailing"][0]')" = "http://127.0.0.1:$port/"
curl -sf "http://127.0.0.1:$prometheus_port/api/v1/query?query=up%7Bjob%3D%22gapwatch%22%7D" >"$dir/up.json"
check "Prometheus scrapes gapwatch (up == 1)" test "$(json "$dir/up.json" 'doc["data"]["result"][0]["value"][1]')" = 1

echo "== a rule removed by a reload loses its series"
daemon_pid=$(pgrep -f "run -c $dir/gapwatch.yaml" | head -1)
python3 - "$dir/gapwatch.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(text[:text.index("  - name: events_fresh")])
PY
kill -HUP "$daemon_pid"
wait_for 10 "the reload" grep -q "configuration reloaded: 1 rule(s)" "$dir/log"
curl -sf "http://127.0.0.1:$port/metrics" >"$dir/metrics-after.txt"
check "events_fresh had series before" grep -q 'rule="events_fresh"' "$dir/metrics.txt"
check "events_fresh has none after" bash -c "! grep -q 'rule=\"events_fresh\"' '$dir/metrics-after.txt'"
check "events_hourly keeps its series" grep -q 'rule="events_hourly"' "$dir/metrics-after.txt"
check "the reload is reported as successful" grep -q '^gapwatch_config_last_reload_successful 1' "$dir/metrics-after.txt"

finish
