#!/usr/bin/env python3
"""Small measurements and reductions for bench/run; each prints KEY=VALUE lines
(or one bare value) that bench/run records.

  figures.py cpu PID                    utime + stime of PID, seconds
  figures.py hyperfine JSON PREFIX      medians of a hyperfine export, and ratios
  figures.py buckets CHECK_JSON         buckets judged in a `check --output json`
  figures.py evaluations URL            sum of gapwatch_rule_evaluations_total
  figures.py ranges SERVER_LOG FROM TO TABLE PREFIX  the ranges statements on TABLE read
  figures.py per_minute A B SECONDS     (B - A) scaled to one minute
  figures.py ratio A B DIGITS           A / B
  figures.py cpu_per_cycle A B CALLS STATEMENTS_PER_CYCLE
  figures.py perf_shares PERF_TXT PREFIX  CPU samples by part: warehouse, gapwatch, kernel
  figures.py scrape URL N PREFIX        N scrapes of /metrics: median time, size, series
  figures.py dispatch RECEIVED_JSONL STATE_DB STARTED
  figures.py segments JSON_RUNS TEXT_RUNS CHECK_JSON PREFIX
      section 7: medians over the runs of `gapwatch check --output json` and
      `--output text` (a line each: the server's figures, then /usr/bin/time's)
      and what the JSON held
  figures.py dso_shares PERF_TXT PREFIX N  the N largest shares of CPU samples by shared object
  figures.py alternate SPEC PREFIX RUNS WARMUP
      runs the commands of SPEC (lines NAME<TAB>STDIN-FILE or -<TAB>COMMAND) in
      turn, ABCABC..., so that a change of load on a shared machine hits each
      alike; prints medians and ratios as `hyperfine` does
"""
import datetime
import json
import re
import shlex
import subprocess
import os
import sqlite3
import statistics
import sys
import time
import urllib.request


def emit(key, value):
    print(f"{key}={value}")
    print(f"  {key:<44} {value}", file=sys.stderr)


def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    print(f"{(int(fields[11]) + int(fields[12])) / ticks:.2f}")


def hyperfine(path, prefix):
    results = json.load(open(path))["results"]
    names = []
    for result in results:
        name = result["command"]
        names.append(name)
        emit(f"{prefix}.{name}.median_ms", f"{result['median'] * 1000:.1f}")
        emit(f"{prefix}.{name}.stddev_ms", f"{result['stddev'] * 1000:.1f}" if result["stddev"] else "0")
        emit(f"{prefix}.{name}.runs", len(result["times"]))
    first = results[0]
    for other in results[1:]:
        emit(f"{prefix}.ratio_{first['command']}_over_{other['command']}",
             f"{first['median'] / other['median']:.3f}")
    if len(results) == 2:
        second = results[1]
        emit(f"{prefix}.ratio_{second['command']}_over_{first['command']}",
             f"{second['median'] / first['median']:.3f}")


def buckets(path):
    doc = json.load(open(path))
    print(sum(len(result.get("buckets") or []) for result in doc["results"]))


def scrape_once(url):
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read()
    return time.perf_counter() - started, body


def evaluations(url):
    _, body = scrape_once(url)
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith("gapwatch_rule_evaluations_total{"):
            total += float(line.rsplit(" ", 1)[1])
    print(f"{total:.0f}")


STATEMENT = re.compile(r"LOG:  duration: [0-9.]+ ms  execute [^:]*: (.*)")
PARAMETERS = re.compile(r"DETAIL:  parameters: \$1 = '([^']*)', \$2 = '([^']*)'")


def ranges(log, start, end, table, prefix):
    """The ranges the statements on TABLE read, from their bound parameters in
    the server's log (log_min_duration_statement = 0) between two offsets."""
    with open(log, "rb") as f:
        f.seek(int(start))
        text = f.read(int(end) - int(start)).decode(errors="replace")
    read = []
    pending = False
    for line in text.splitlines():
        match = STATEMENT.search(line)
        if match:
            pending = f"FROM {table} " in match.group(1)
            continue
        match = PARAMETERS.search(line)
        if match and pending:
            read.append((match.group(1), match.group(2)))
        pending = False
    counts = {}
    for item in read:
        counts[item] = counts.get(item, 0) + 1

    def hours(item):
        start, end = (datetime.datetime.fromisoformat(t) for t in item)
        return (end - start).total_seconds() / 3600

    emit(f"{prefix}.ranges", "; ".join(f"{a} to {b} ({hours((a, b)):.0f} h) ×{n}"
                                      for (a, b), n in counts.items()) or "none")
    if read:
        emit(f"{prefix}.hours_per_statement", f"{sum(hours(r) for r in read) / len(read):.1f}")
        emit(f"{prefix}.range_from", read[-1][0])
        emit(f"{prefix}.range_to", read[-1][1])


def per_minute(before, after, seconds):
    print(f"{(float(after) - float(before)) * 60 / float(seconds):.2f}")


def ratio(a, b, digits):
    print(f"{float(a) / float(b):.{int(digits)}f}")


def cpu_per_cycle(before, after, calls, per_cycle):
    cycles = float(calls) / float(per_cycle)
    print(f"{(float(after) - float(before)) / cycles:.4f}" if cycles else "nan")


WAREHOUSE = ("libsqlite3", "libsqliteodbc", "libsqlite3odbc")


def perf_shares(path, prefix):
    """Splits perf's per-DSO percentages: the SQLite engine and its ODBC driver
    (the warehouse, in process), the kernel, and everything else (gapwatch)."""
    shares = {"warehouse": 0.0, "kernel": 0.0, "gapwatch": 0.0}
    for line in open(path):
        parts = line.split()
        if not parts or line.startswith("#") or not parts[0].endswith("%"):
            continue
        share = float(parts[0].rstrip("%"))
        dso = " ".join(parts[1:])
        if any(name in dso for name in WAREHOUSE):
            shares["warehouse"] += share
        elif "kernel" in dso:
            shares["kernel"] += share
        else:
            shares["gapwatch"] += share
    for key, value in shares.items():
        emit(f"{prefix}.cpu_share_{key}_percent", f"{value:.1f}")
    # A short window of a light load may catch no sample in the warehouse.
    emit(f"{prefix}.gapwatch_over_warehouse_cpu",
         f"{shares['gapwatch'] / shares['warehouse']:.2f}" if shares["warehouse"] else "too few samples")


def dso_shares(path, prefix, count):
    shares = []
    for line in open(path):
        parts = line.split()
        if parts and not line.startswith("#") and parts[0].endswith("%"):
            shares.append((float(parts[0].rstrip("%")), " ".join(parts[1:]).strip("[]")))
    shares.sort(reverse=True)
    emit(f"{prefix}.cpu_by_object",
         ", ".join(f"{name} {share:.1f}%" for share, name in shares[:int(count)]) or "no samples")


def segments(json_runs_path, text_runs_path, check_path, prefix):
    columns = ("calls_on_table", "calls_all", "statement_ms", "rows", "wall_s", "user_s", "sys_s",
               "rss_kib", "minor_faults")

    def read(path):
        return [dict(zip(columns, map(float, line.split()))) for line in open(path) if line.strip()]

    by_output = {"json": read(json_runs_path), "text": read(text_runs_path)}
    runs = by_output["json"] + by_output["text"]
    evaluations = len(runs)
    emit(f"{prefix}.evaluations", evaluations)
    emit(f"{prefix}.statements_on_table", int(sum(run["calls_on_table"] for run in runs)))
    emit(f"{prefix}.statements_on_table_per_evaluation",
         f"{sum(run['calls_on_table'] for run in runs) / evaluations:.2f}")
    emit(f"{prefix}.all_statements_per_evaluation",
         f"{sum(run['calls_all'] for run in runs) / evaluations:.2f}")
    counted = [run for run in runs if run["calls_on_table"]]
    emit(f"{prefix}.rows_per_statement",
         int(statistics.median(run["rows"] / run["calls_on_table"] for run in counted)) if counted else 0)
    statement_ms = statistics.median(run["statement_ms"] for run in runs)
    emit(f"{prefix}.statement_ms_median", f"{statement_ms:.1f}")
    emit(f"{prefix}.statement_ms_min", f"{min(run['statement_ms'] for run in runs):.1f}")
    for output, these in by_output.items():
        def median(key, scale=1.0):
            return statistics.median(run[key] * scale for run in these)

        name = f"{prefix}.check_{output}"
        cpu = statistics.median((run["user_s"] + run["sys_s"]) * 1000 for run in these)
        emit(f"{name}.runs", len(these))
        emit(f"{name}.wall_ms_median", f"{median('wall_s', 1000):.0f}")
        emit(f"{name}.cpu_ms_median", f"{cpu:.0f}")
        emit(f"{name}.user_ms_median", f"{median('user_s', 1000):.0f}")
        emit(f"{name}.sys_ms_median", f"{median('sys_s', 1000):.0f}")
        emit(f"{name}.peak_rss_mib_median", f"{median('rss_kib') / 1024:.1f}")
        emit(f"{name}.minor_faults_median", f"{median('minor_faults'):.0f}")
        if statement_ms:
            emit(f"{name}.cpu_over_statement", f"{cpu / statement_ms:.2f}")
    # What the last run printed.
    emit(f"{prefix}.check_json_mib", f"{os.path.getsize(check_path) / 1048576:.1f}")
    try:
        result = json.load(open(check_path))["results"][0]
    except (ValueError, KeyError, IndexError):
        emit(f"{prefix}.check_status", "no result in the JSON")
        return
    buckets = result.get("buckets") or []
    emit(f"{prefix}.check_status", result.get("status"))
    emit(f"{prefix}.check_message", " ".join(str(result.get("message")).split()))
    emit(f"{prefix}.check_buckets", len(buckets))
    emit(f"{prefix}.check_windows", len(result.get("windows") or []))
    if "segments" in result:
        listed = result["segments"] or []
        emit(f"{prefix}.check_segments", len(listed))
        emit(f"{prefix}.check_failing_segments",
             sum(1 for segment in listed if isinstance(segment, dict) and segment.get("status") == "fail"))
    else:
        emit(f"{prefix}.check_segments",
             len({json.dumps(b.get("segment"), sort_keys=True) for b in buckets}) if buckets and "segment" in buckets[0]
             else "not in the JSON")


def scrape(url, count, prefix):
    times = []
    body = b""
    for _ in range(int(count)):
        elapsed, body = scrape_once(url)
        times.append(elapsed)
    series = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
    emit(f"{prefix}.scrape_median_ms", f"{statistics.median(times) * 1000:.1f}")
    emit(f"{prefix}.scrape_bytes", len(body))
    emit(f"{prefix}.scrape_series", series)


def dispatch(received_path, state_path, started):
    received = [json.loads(line) for line in open(received_path) if line.strip()]
    ids = [json.loads(r["body"])["request"] for r in received]
    times = sorted(r["received_at"] for r in received)
    db = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True)
    states = dict(db.execute("SELECT state, count(*) FROM requests GROUP BY state").fetchall())
    committed = {row[0] for row in db.execute("SELECT id FROM requests")}
    emit("dispatch.requests_committed", len(committed))
    emit("dispatch.requests_received", len(received))
    emit("dispatch.distinct_requests_received", len(set(ids)))
    emit("dispatch.received_not_committed", len(set(ids) - committed))
    emit("dispatch.request_states", " ".join(f"{k}:{v}" for k, v in sorted(states.items())))
    if len(times) > 1:
        span = times[-1] - times[0]
        emit("dispatch.delivery_seconds", f"{span:.2f}")
        emit("dispatch.requests_per_second", f"{(len(times) - 1) / span:.1f}")
        total = times[-1] - float(started)
        emit("dispatch.end_to_end_seconds", f"{total:.2f}")
        emit("dispatch.end_to_end_requests_per_second", f"{len(times) / total:.1f}")


def alternate(spec, prefix, runs, warmup):
    commands = []
    for line in open(spec):
        if line.strip():
            name, stdin, command = line.rstrip("\n").split("\t")
            commands.append((name, None if stdin == "-" else stdin, shlex.split(command)))
    times = {name: [] for name, _, _ in commands}
    for round_number in range(int(warmup) + int(runs)):
        for name, stdin, argv in commands:
            with open(stdin if stdin else os.devnull, "rb") as source:
                started = time.perf_counter()
                subprocess.run(argv, stdin=source, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)
                elapsed = time.perf_counter() - started
            if round_number >= int(warmup):
                times[name].append(elapsed)
    medians = {}
    for name, _, _ in commands:
        medians[name] = statistics.median(times[name])
        emit(f"{prefix}.{name}.median_ms", f"{medians[name] * 1000:.1f}")
        emit(f"{prefix}.{name}.stddev_ms", f"{statistics.stdev(times[name]) * 1000:.1f}")
        emit(f"{prefix}.{name}.runs", len(times[name]))
    first = commands[0][0]
    for name, _, _ in commands[1:]:
        emit(f"{prefix}.ratio_{first}_over_{name}", f"{medians[first] / medians[name]:.3f}")
    if len(commands) == 2:
        second = commands[1][0]
        emit(f"{prefix}.ratio_{second}_over_{first}", f"{medians[second] / medians[first]:.3f}")


def main():
    command, *args = sys.argv[1:]
    globals()[command](*args)


if __name__ == "__main__":
    main()
