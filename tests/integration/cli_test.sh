#!/usr/bin/env bash
# The command line end to end on the quickstart SQLite warehouse: exit codes,
# error messages with file:line:col, JSON output, explain, help and version.
set -uo pipefail

gapwatch=${GAPWATCH_BINARY:?run through ctest}
source_dir=${GAPWATCH_SOURCE_DIR:?run through ctest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# expect_exit CODE DESCRIPTION -- COMMAND...
expect_exit() {
  local want=$1 what=$2; shift 3
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [[ $got -ne $want ]]; then
    fail "$what: exit $got, want $want"; sed 's/^/  | /' "$work/out" "$work/err" >&2
  fi
}
expect_output() {  # expect_output FILE PATTERN DESCRIPTION
  grep -qE -- "$2" "$work/$1" || { fail "$3: '$2' not in $1"; sed 's/^/  | /' "$work/$1" >&2; }
}

export GAPWATCH_QUICKSTART_DB="$work/warehouse.db"
"$source_dir/examples/quickstart/make-warehouse" "$GAPWATCH_QUICKSTART_DB" >/dev/null
config="$source_dir/examples/quickstart/gapwatch.yaml"

expect_exit 0 "--version" -- "$gapwatch" --version
expect_output out '^gapwatch [0-9]+\.[0-9]+\.[0-9]+' "--version"
for command in "" validate check explain; do
  expect_exit 0 "--help $command" -- "$gapwatch" $command --help
  expect_output out 'Usage' "--help $command"
done
expect_exit 4 "no subcommand" -- "$gapwatch"
expect_exit 4 "unknown option" -- "$gapwatch" check --bogus

expect_exit 0 "validate quickstart" -- "$gapwatch" validate -c "$config"
expect_output out 'valid \(1 warehouse\(s\), 3 rule\(s\)\)' "validate quickstart"

PGUSER=someone expect_exit 0 "validate the PostgreSQL example" -- "$gapwatch" validate -c "$source_dir/examples/postgres/gapwatch.yaml"

# The baselines example: yesterday's 14:00 (Berlin) lost 60% of its orders
# and is the one failing bucket; the null_rate rule passes.
baseline_config="$source_dir/examples/baseline/gapwatch.yaml"
export GAPWATCH_BASELINE_DB="$work/baseline.db" GAPWATCH_BASELINE_STATE="$work/baseline-state.db"
"$source_dir/examples/baseline/make-warehouse" "$GAPWATCH_BASELINE_DB" >/dev/null
expect_exit 0 "validate the baselines example" -- "$gapwatch" validate -c "$baseline_config"
expect_output out 'valid \(1 warehouse\(s\), 2 rule\(s\)\)' "validate the baselines example"
expect_exit 2 "the baselines example finds the cut hour" -- "$gapwatch" check -c "$baseline_config"
expect_output out '^FAIL +orders_hourly +row_count +local.orders +1 of 16[67] hourly buckets at least 50% below the expected value; worst [0-9]+ rows, expected [0-9.]+ \(band [0-9]+\.\.[0-9]+\)$' "baselines example"
cut_hour=$(date -u -d "@$(TZ=Europe/Berlin date -d "$(TZ=Europe/Berlin date -d yesterday +%F) 14:00" +%s)" +%FT%H:00:00Z)
expect_output out "window $cut_hour " "the window is yesterday's 14:00 in Berlin ($cut_hour)"
expect_output out '^PASS +order_emails' "baselines example, null_rate"

cat >"$work/broken.yaml" <<'YAML'
version: 1
warehouses:
  - name: w
    connection: "Driver=SQLite3;Database=${NOT_SET_ANYWHERE}"
rules:
  - name: a
    table: "x; DROP TABLE y"
    check: row_count
    fail: {min: 1}
  - name: b
    table: t
    chek: freshness
    fail: {max: 1h}
YAML
expect_exit 4 "validate broken config" -- "$gapwatch" validate -c "$work/broken.yaml"
expect_output err "broken.yaml:4:17: error: warehouses\[0\].connection: environment variable NOT_SET_ANYWHERE is not set" "unset variable"
expect_output err "broken.yaml:7:12: error: rules\[0\].table: invalid name" "invalid identifier"
expect_output err "broken.yaml:12:5: error: rules\[1\].chek: unknown key 'chek' \(did you mean 'check'\?\)" "did-you-mean"
[[ $(wc -l <"$work/err") -ge 3 ]] || fail "validate reports every problem, got: $(cat "$work/err")"
expect_exit 4 "check refuses a broken config" -- "$gapwatch" check -c "$work/broken.yaml"
expect_exit 4 "missing config file" -- "$gapwatch" validate -c "$work/nope.yaml"
expect_output err "nope.yaml:1:1: error: cannot read the configuration: no such file" "missing file"
expect_exit 4 "directory as config" -- "$gapwatch" validate -c "$work"
expect_output err "it is a directory" "directory"

expect_exit 2 "check finds the gap" -- "$gapwatch" check -c "$config"
expect_output out '^FAIL +events_hourly +row_count +local.events +3 of 4[67] hourly buckets below 10 rows' "text output"
expect_output out '^PASS +events_fresh' "text output"
expect_output out '3 rule\(s\): 2 pass, 0 warn, 1 fail, 0 error' "summary"

expect_exit 2 "check --output json" -- "$gapwatch" check -c "$config" --output json
python3 - "$work/out" <<'PY' || fail "JSON output"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["evaluated_at"].endswith("Z"), doc["evaluated_at"]
results = {r["rule"]: r for r in doc["results"]}
hourly = results["events_hourly"]
assert hourly["status"] == "fail" and hourly["observed"] == 0, hourly
assert hourly["check"] == "row_count" and hourly["warehouse"] == "local" and hourly["table"] == "events"
assert len(hourly["windows"]) == 1 and hourly["windows"][0]["status"] == "fail"
start, end = hourly["windows"][0]["start"], hourly["windows"][0]["end"]
assert start.endswith(":00:00Z") and end.endswith(":00:00Z"), (start, end)
assert len(hourly["buckets"]) in (46, 47) and {"start", "end", "rows", "nulls", "status"} <= set(hourly["buckets"][0])
assert hourly["labels"] == {"team": "data-platform"} and hourly["error"] is None
assert isinstance(hourly["duration_ms"], int)
assert results["events_fresh"]["status"] == "pass" and results["customer_emails"]["status"] == "pass"
PY

expect_exit 0 "check one passing rule" -- "$gapwatch" check -c "$config" --rule events_fresh
expect_exit 4 "unknown rule" -- "$gapwatch" check -c "$config" --rule event_fresh
expect_output err "no rule named 'event_fresh'.*did you mean 'events_fresh'" "unknown rule"
expect_exit 4 "bad --now" -- "$gapwatch" check -c "$config" --now yesterday
# Long after the data ends: freshness fails.
expect_exit 2 "check --now in the future" -- "$gapwatch" check -c "$config" --rule events_fresh --now 2099-01-01T00:00:00Z

sed "s|Database=.*\"|Database=$work/missing-dir/x.db;NoCreat=1\"|" "$config" >"$work/down.yaml"
expect_exit 3 "unreachable warehouse is an error" -- "$gapwatch" check -c "$work/down.yaml"
expect_output out '^ERROR +events_fresh' "error status"
expect_output out '0 fail, 3 error' "no fail when the warehouse is down"

expect_exit 0 "explain" -- "$gapwatch" explain -c "$config" --now 2026-11-25T06:00:00Z
expect_output out 'SELECT .* FROM "events" WHERE "event_time" >= \? AND "event_time" < \? GROUP BY 1;' "explain SQL"
expect_output out "^-- \\\$1 = '2026-11-23 06:00:00'" "explain parameters"
expect_exit 0 "explain --inline-params" -- "$gapwatch" explain -c "$config" --rule events_hourly --now 2026-11-25T06:00:00Z --inline-params
expect_output out "\"event_time\" >= '2026-11-23 06:00:00' AND \"event_time\" < '2026-11-25 05:00:00'" "inlined parameters"
# The inlined statement runs as is in the sqlite3 shell.
grep -v '^--' "$work/out" | sqlite3 "$GAPWATCH_QUICKSTART_DB" >/dev/null || fail "inlined SQL does not run in sqlite3"

if ((failures > 0)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all CLI checks passed"
