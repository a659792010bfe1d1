#!/usr/bin/env python3
"""Writes the gapwatch configurations (and the peer's) that bench/run measures.

Every file is a pure function of its arguments, so runs are reproducible.

  make_configs.py overhead  --connection C --table T --out F
  make_configs.py postgres  --connection C --out F
  make_configs.py scale     --rules N --tables T --db DB --state S --out F [--split | --flow]
  make_configs.py dispatch  --db DB --state S --url U --out F
  make_configs.py peer      --connection C --tables T --state S --out F
  make_configs.py exporter  --dsn D --explain F --interval I --out F
  make_configs.py baselines --connection C --state S --rule static_hourly|baseline_hourly --out F
  make_configs.py segments  --connection C --lookback L --out F
"""
import argparse
import os
import re


def header(state=None, listen="off", workers=None):
    lines = ["version: 1"]
    if state:
        lines += ["monitor:", f"  state: {state}", f"  listen: {listen}", "  shutdown_grace: 5s"]
        if workers:
            lines.append(f"  workers: {workers}")
    return "\n".join(lines) + "\n"


def warehouse(name, connection, max_connections=2):
    return (f"  - name: {name}\n"
            f"    connection: \"{connection}\"\n"
            f"    timezone: UTC\n"
            f"    query_timeout: 5m\n"
            f"    max_connections: {max_connections}\n")


def freshness(name, table, lookback="1d", schedule=None, extra=""):
    text = (f"  - name: {name}\n    table: {table}\n    check: freshness\n"
            f"    timestamp_column: event_time\n    lookback: {lookback}\n"
            f"    warn: {{max: 1h}}\n    fail: {{max: 2h}}\n")
    if schedule:
        text += f"    schedule: {schedule}\n"
    return text + extra


def row_count(name, table, every, lookback, minimum=1, schedule=None, extra=""):
    text = (f"  - name: {name}\n    table: {table}\n    check: row_count\n"
            f"    timestamp_column: event_time\n"
            f"    partition: {{every: {every}, lookback: {lookback}, delay: 0s, timezone: UTC}}\n"
            f"    fail: {{min: {minimum}}}\n")
    if schedule:
        text += f"    schedule: {schedule}\n"
    return text + extra


def null_rate(name, table, every, lookback, schedule=None, extra=""):
    text = (f"  - name: {name}\n    table: {table}\n    check: null_rate\n    column: email\n"
            f"    timestamp_column: event_time\n"
            f"    partition: {{every: {every}, lookback: {lookback}, delay: 0s, timezone: UTC}}\n"
            f"    fail: {{max: 5%}}\n    min_rows: 1\n")
    if schedule:
        text += f"    schedule: {schedule}\n"
    return text + extra


def overhead(args):
    """The issue's rule set: freshness, hourly row_count over 7 days, daily null_rate over 30."""
    return (header() + "warehouses:\n" + warehouse("warehouse", args.connection) + "rules:\n"
            + freshness("fresh", args.table)
            + row_count("hourly_rows", args.table, "1h", "7d")
            + null_rate("daily_nulls", args.table, "1d", "30d"))


def postgres(args):
    """Statement counting (24, 720, 8,760 buckets), partition pruning, freshness vs size."""
    rules = (row_count("buckets_24", "events", "1h", "1d")
             + row_count("buckets_720", "events", "1h", "30d")
             + row_count("buckets_8760", "events", "1h", "365d")
             + freshness("fresh_1m", "events_1m", "30d")
             + freshness("fresh_10m", "events", "30d")
             + freshness("part_fresh", "events_part", "3d")
             + row_count("part_hourly", "events_part", "1h", "3d")
             + null_rate("part_daily_nulls", "events_part", "1d", "3d"))
    return header() + "warehouses:\n" + warehouse("warehouse", args.connection) + "rules:\n" + rules


def scale_rule(i, tables):
    table = f"t{i % tables:03d}"
    kind = i % 3
    if kind == 0:
        return freshness(f"r{i:05d}_fresh", table, "1d")
    if kind == 1:
        return row_count(f"r{i:05d}_rows", table, "1h", "1d", 0)
    return null_rate(f"r{i:05d}_nulls", table, "1d", "7d")


def flow_style(rule):
    """A rule of scale_rule written as one flow mapping on one line, as generated
    configurations often are: `  - {name: r1, table: t1, check: row_count, ...}`."""
    entries = [line.strip() for line in rule.splitlines()]
    entries[0] = entries[0].removeprefix("- ")
    return "  - {" + ", ".join(entries) + "}\n"


def scale(args):
    """N rules over T tables of one SQLite warehouse, every minute; a third of each kind.
    With --split, the main file includes one file of rules per table (rules/tNNN.yaml
    beside it), as a large deployment would keep them; otherwise all in one file, each
    rule in block style, or with --flow each in flow style on one line."""
    out = [header(args.state, "127.0.0.1:0", workers=4), "warehouses:\n",
           warehouse("lake", f"Driver=SQLite3;Database={args.db}", 4),
           "defaults:\n  schedule: 1m\n  labels: {team: data-platform}\n"]
    if not args.split:
        out.append("rules:\n")
        rules = [scale_rule(i, args.tables) for i in range(args.rules)]
        out += [flow_style(rule) for rule in rules] if args.flow else rules
        return "".join(out)
    directory = os.path.join(os.path.dirname(os.path.abspath(args.out)), "rules")
    os.makedirs(directory, exist_ok=True)
    for t in range(min(args.tables, args.rules)):
        rules = [scale_rule(i, args.tables) for i in range(t, args.rules, args.tables)]
        with open(os.path.join(directory, f"t{t:03d}.yaml"), "w") as f:
            f.write("rules:\n" + "".join(rules))
    out.append("include: [rules/*.yaml]\n")
    return "".join(out)


def dispatch(args):
    """One rule whose every other hour is missing: one failing window per empty hour."""
    return (header(args.state, "off", workers=2) + "warehouses:\n"
            + warehouse("lake", f"Driver=SQLite3;Database={args.db}")
            + "executors:\n"
            + "  - name: orchestrator\n    webhook:\n"
            + f"      url: \"{args.url}/backfill/{{rule}}\"\n"
            + "      body: {table: \"{table}\", start: \"{window_start}\", end: \"{window_end}\", "
              "request: \"{request_id}\"}\n"
            + "      timeout: 30s\n"
            + "    max_concurrent: 16\n"
            + "    retry: {max_attempts: 3, initial_backoff: 1s, max_backoff: 2s}\n"
            + "rules:\n"
            + row_count("gappy_hourly", "events", "1h", args.lookback, 1, "1s",
                        "    backfill: {executor: orchestrator, max_window: 1h, "
                        "verify_after: 1d, max_attempts: 3}\n"))


def peer(args):
    """The freshness rules the peer exporter runs too, one per table.

    One connection and one worker: the exporter runs a job's statements one
    after another on its one connection, and so does gapwatch here."""
    out = [header(args.state, "127.0.0.1:0", workers=1), "warehouses:\n",
           warehouse("warehouse", args.connection, max_connections=1), "rules:\n"]
    for i in range(args.tables):
        out.append(freshness(f"fresh_{i:03d}", f"fresh_{i:03d}", "1d", args.interval))
    return "".join(out)


def exporter(args):
    """prometheus-sql-exporter's configuration: the statements gapwatch explain printed."""
    statements = []
    name = None
    for line in open(args.explain):
        match = re.match(r"-- rule (\S+):", line)
        if match:
            name = match.group(1)
        elif line.strip() and not line.startswith("--"):
            statements.append((name, line.strip().rstrip(";")))
    out = ["jobs:\n", "- name: freshness\n", f"  interval: '{args.interval}'\n",
           "  connections:\n", f"  - '{args.dsn}'\n", "  queries:\n"]
    for name, sql in statements:
        # Column names PostgreSQL gives the two unnamed expressions.
        out.append(f"  - name: \"{name}\"\n    help: \"newest row\"\n    values: [\"extract\"]\n"
                   f"    query: |\n      {sql}\n")
    return "".join(out)


def baselines(args):
    """One hourly row_count rule on `orders`, every second, alone in the daemon (so
    that the server's figures are its own): static_hourly fails an empty bucket,
    baseline_hourly one that dropped by half against 28 days of its history."""
    thresholds = {"static_hourly": "    fail: {min: 1}\n",
                  "baseline_hourly": "    baseline: {}\n    fail: {drop: 50%}\n"}[args.rule]
    return (header(args.state, "127.0.0.1:0", workers=1) + "warehouses:\n"
            + warehouse("warehouse", args.connection, max_connections=1) + "rules:\n"
            + f"  - name: {args.rule}\n    table: orders\n    check: row_count\n"
            + "    timestamp_column: created_at\n"
            + "    partition: {every: 1h, lookback: 2d, delay: 1h, timezone: UTC}\n"
            + thresholds + "    schedule: 1s\n")


def segments(args):
    """The issue's segmented rule: every store's hourly buckets judged on its own,
    from one statement grouped by hour and store."""
    return (header() + "warehouses:\n" + warehouse("warehouse", args.connection, max_connections=1)
            + "rules:\n"
            + "  - name: orders_by_store\n    table: public.orders_by_store\n    check: row_count\n"
            + "    timestamp_column: created_at\n"
            + "    segment_by: [store]\n    max_segments: 1000\n"
            + f"    partition: {{every: 1h, lookback: {args.lookback}, delay: 1h, timezone: UTC}}\n"
            + "    fail: {min: 1}\n")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="kind", required=True)
    for kind in ("overhead", "postgres", "scale", "dispatch", "peer", "exporter", "baselines",
                 "segments"):
        p = sub.add_parser(kind)
        p.add_argument("--out", required=True)
        p.add_argument("--connection")
        p.add_argument("--table")
        p.add_argument("--rules", type=int)
        p.add_argument("--tables", type=int)
        p.add_argument("--db")
        p.add_argument("--state")
        p.add_argument("--url")
        p.add_argument("--lookback", default="83d9h")
        p.add_argument("--interval", default="10s")
        p.add_argument("--dsn")
        p.add_argument("--explain")
        p.add_argument("--split", action="store_true")
        p.add_argument("--flow", action="store_true")
        p.add_argument("--rule")
    args = parser.parse_args()
    text = globals()[args.kind](args)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
