#!/usr/bin/env python3
"""Writes docs/performance.md and its gnuplot figure from bench/run's results.

  report.py RESULTS.txt PAGE.md PLOT.svg WORK_DIR
  report.py --splice RESULTS.txt PAGE.md
      puts the sections RESULTS.txt has figures for (a BENCH_SECTIONS run) into
      an existing PAGE.md, replacing those sections and their summary rows and
      saying in each which run measured it; the rest of the page is kept

Every number on the page comes from RESULTS.txt (KEY=VALUE lines that
bench/run printed as it measured); the prose around them is fixed text.
"""
import os
import subprocess
import sys


def load(path):
    values = {}
    for line in open(path):
        key, sep, value = line.rstrip("\n").partition("=")
        if sep:
            values[key] = value
    return values


class Page:
    def __init__(self, values):
        self.v = values
        self.lines = []
        self.summary = []

    def get(self, key, default="n/a"):
        return self.v.get(key, default)

    def num(self, key):
        try:
            return float(self.v[key])
        except (KeyError, ValueError):
            return None

    def add(self, text=""):
        self.lines.append(text)

    def verdict(self, ok):
        if ok is None:
            return "not measured"
        if ok == "info":
            return "—"
        return "pass" if ok else "**miss**"

    def target(self, section, what, target, measured, ok):
        """A row of a target table, also collected for the summary."""
        row = f"| {what} | {target} | {measured} | {self.verdict(ok)} |"
        self.summary.append(f"| {section} | {what} | {target} | {measured} | {self.verdict(ok)} |")
        return row


def at_most(value, limit):
    return None if value is None else value <= limit


def misses(v, p, largest):
    """What is known of each missed target's cause; only the targets this run missed.
    Every figure here comes from this run; the rest is what was found by profiling."""
    missed_rows = [row for row in p.summary if "**miss**" in row]

    def missed(words):
        return any(words in row for row in missed_rows)

    text = []
    if missed("SQLite: gapwatch check / isql"):
        text.append(
            f"- **Overhead on SQLite (1).** `gapwatch check` took "
            f"{p.get('overhead.sqlite.gapwatch.median_ms')} ms and `isql` "
            f"{p.get('overhead.sqlite.isql.median_ms')} ms. Starting the program is part of the "
            f"difference ({p.get('startup.gapwatch.median_ms')} ms against "
            f"{p.get('startup.isql.median_ms')} ms for `--version`): gapwatch loads "
            f"{p.get('startup.gapwatch_shared_libraries')} shared libraries, C++ ones among them, "
            f"against the ODBC driver manager alone. Fixed in this work: libcurl, which brought "
            f"GnuTLS, OpenSSL, Kerberos, LDAP, SSH and RTMP clients, is loaded only when a webhook "
            f"is sent, and UTC is built in, so that a configuration in UTC never has the date "
            f"library list the whole time-zone directory.")
    if largest and (missed(f"validate, {largest} rules |") or missed("rules in one file")):
        k = f"scale.{largest}"
        text.append(
            f"- **validate at {largest} rules (3).** {p.get(k + '.validate.median_ms')} ms (one "
            f"file: {p.get(k + '.validate_one_file.median_ms')} ms, in flow style "
            f"{p.get(k + '.validate_one_file_flow.median_ms')} ms and "
            f"{p.get(k + '.validate_one_file_flow_peak_rss_mib')} MiB). A `perf` profile of it "
            f"shows most of the time in yaml-cpp's scanner (its pattern matching), then page "
            f"faults and gapwatch's own checking of the rules. Fixed in this work: the document is "
            f"read through yaml-cpp's event parser into one flat array of nodes (yaml-cpp's tree "
            f"of nodes cost several hundred bytes and a few allocations per value, most of the "
            f"time and memory of a one-file `validate`), and each mapping's keys are read once "
            f"into an index (a rule looks up some twenty keys). The load average at the top of "
            f"this page says how busy the machine was.")
    if largest and missed("daemon peak RSS"):
        k = f"scale.{largest}"
        text.append(
            f"- **Memory at {largest} rules (3).** The peak is the steady state (each rule's "
            f"configuration, last result with its buckets, and series) plus a scrape in flight. "
            f"The `/metrics` body ({int(p.num(k + '.scrape_bytes') or 0) // 1048576} MiB) is "
            f"streamed in pieces, not held whole. Validating one file of {largest} rules peaks at "
            f"{p.get(k + '.validate_one_file_peak_rss_mib')} MiB (one file per "
            f"table: {p.get(k + '.validate_peak_rss_mib')} MiB).")
    if largest and missed("CPU ÷ the warehouse"):
        k = f"scale.{largest}"
        text.append(
            f"- **gapwatch's CPU against the warehouse's (3).** At {largest} rules the split is "
            f"{p.get(k + '.cpu_share_warehouse_percent')}% SQLite, "
            f"{p.get(k + '.cpu_share_gapwatch_percent')}% gapwatch, "
            f"{p.get(k + '.cpu_share_kernel_percent')}% kernel. The split is by shared object, so "
            f"`libc` (allocation, copying) counts as gapwatch although SQLite makes many of those "
            f"calls, and the kernel's reads of the database file count apart. Fixed in this work: "
            f"SQLite's allocation statistics are off (with four workers every allocation queued on "
            f"one process-wide mutex), the outbox and the incident state are no longer read after "
            f"every result, next-due times are published only for rules whose schedule moved, "
            f"workers are not all woken for every job, and the control thread takes passing "
            f"results in batches instead of being woken for each.")
    if missed("CPU seconds per cycle") or missed("peak RSS | gapwatch below"):
        text.append(
            f"- **Against prometheus-sql-exporter (5).** Per cycle of "
            f"{v.get('peer.tables')} statements gapwatch does more than set a gauge: it judges "
            f"each result and keeps it for the status board, API and incidents. A profile of the "
            f"daemon shows most of its CPU in psqlODBC, libpq and the kernel's network calls (the "
            f"ODBC driver runs inside gapwatch; the exporter uses Go's own PostgreSQL client). "
            f"Fixed in this work: the control thread is no longer woken for every result (a "
            f"context switch per statement), each connection runs its statements on one ODBC "
            f"statement handle instead of allocating one per statement, the state database keeps "
            f"its prepared statements and its outbox is no longer read every second, "
            f"the signal thread no longer wakes five times a "
            f"second, the time-zone database is not loaded for UTC, the heap yaml-cpp used for the "
            f"configuration is handed back, and GnuTLS (loaded only as a dependency of libpq's libldap) is not "
            f"initialised at load (one malloc arena for all threads saved a little more memory "
            f"but cost more CPU at 10,000 SQLite rules, so it was not kept). Its "
            f"RSS counts shared libraries in full; its private memory is "
            f"{p.get('peer.gapwatch.private_mib')} MiB against the exporter's "
            f"{p.get('peer.sql_exporter.private_mib')} MiB.")
    if missed("judgement CPU, 1,000 segments"):
        text.append(
            f"- **Judging 1,000 segments × 720 hourly buckets (7).** "
            f"{p.get('segments.judge.segment_judge_ms')} ms of CPU against < 50 ms; with a heap that "
            f"keeps freed pages {p.get('segments.judge_warm.segment_judge_ms')} ms. Section 7 says why.")
    if not text:
        return []
    return ["## Targets missed, and why", ""] + text + [""]

def baselines_section(v, p):
    """6: a baseline rule against a static one on the same table, server-side."""
    k = "baselines."
    lines = []
    add = lines.append
    add("## 6. Baselines: the warehouse pays once for history")
    add("")
    add(f"One table, `orders`: {v.get(k + 'table_rows', 'n/a')} rows ({v.get(k + 'table_mib', 'n/a')} MiB "
        f"with its index), 35 days of {v.get(k + 'rows_per_hour', 'n/a')} rows an hour evenly spaced up to "
        f"the wall clock, a B-tree index on `created_at`, in a database of its own (`baselines`) on the same "
        f"PostgreSQL. Two rules on it with the same partition (`every: 1h, lookback: 2d, delay: 1h`): "
        f"`static_hourly` (`fail: {{min: 1}}`) and `baseline_hourly` (`baseline: {{}}`, 28 days of "
        f"hour-of-week history, `fail: {{drop: 50%}}`). Each runs alone in a `gapwatch run` daemon with "
        f"`schedule: 1s` (one rule at a time, so that `pg_stat_statements` counts only its statements): "
        f"`bench/run` waits for the first evaluation, stops the daemon (SIGSTOP) while it reads "
        f"`pg_stat_statements` and resets it, then lets it make "
        f"{v.get(k + 'baseline_hourly.steady.evaluations', 'n/a')} more evaluations, the steady state, "
        f"and reads again.")
    add("")
    add("What a statement read is counted in blocks: `shared_blks_hit + shared_blks_read` of "
        "`pg_stat_statements`, the 8 kB pages of index and table the statement touched, from the cache or "
        "not. The table's own counters (`pg_stat_user_tables.idx_tup_fetch`, `seq_tup_read`) were not used: "
        "they are kept per table, not per statement, PostgreSQL 15 flushes a busy session's counters up to "
        "10 s late, so a first evaluation could not be told from the next one a second later, and an "
        "index-only scan fetches no table rows at all. The range each statement read is taken from its "
        "bound parameters in the server's log (`log_min_duration_statement = 0` for that database only), "
        "and the rows in that range are counted afterwards; `EXPLAIN` of the daemon's statement (from the "
        "log) for that range says whether the server scans the index or the whole table. \"All statements\" "
        "are every statement the "
        "daemon's session ran in that database (connection set-up and the column probe included).")
    add("")
    columns = (("static_hourly.first", "static, first evaluation"),
               ("static_hourly.steady", "static, steady state"),
               ("baseline_hourly.first", "baseline, first evaluation"),
               ("baseline_hourly.steady", "baseline, steady state"))
    add("| | " + " | ".join(label for _, label in columns) + " |")
    add("|---|" + "---|" * len(columns))
    for key, label, unit in (("evaluations", "evaluations", ""),
                             ("statements_on_table_per_evaluation", "statements reading the table per evaluation", ""),
                             ("all_statements_per_evaluation", "all statements of the session per evaluation", ""),
                             ("ranges", "range read (bound parameters)", ""),
                             ("rows_in_range", "rows in that range", ""),
                             ("scan", "how the server reads it (`EXPLAIN` of the same statement and range)", ""),
                             ("buckets_per_statement", "buckets returned per statement", ""),
                             ("blocks_per_statement", "blocks read per statement", ""),
                             ("mean_ms", "statement time, mean", " ms"),
                             ("min_ms", "statement time, least", " ms")):
        cells = []
        for column, _ in columns:
            value = v.get(f"{k}{column}.{key}")
            cells.append("—" if value is None else f"{value}{unit}")
        add(f"| {label} | " + " | ".join(cells) + " |")
    add("")
    steady_hours = p.num(k + "baseline_hourly.steady.hours_per_statement")
    static_hours = p.num(k + "static_hourly.steady.hours_per_statement")
    if steady_hours is not None and steady_hours == static_hours:
        steady = (f"In the steady state its statements read only the lookback, the static rule's range "
                  f"({v.get(k + 'static_hourly.steady.hours_per_statement')} hours)")
    else:
        steady = (f"In the steady state its statements read "
                  f"{v.get(k + 'baseline_hourly.steady.hours_per_statement', 'n/a')} hours each, the static "
                  f"rule's {v.get(k + 'static_hourly.steady.hours_per_statement', 'n/a')}")
    add(f"The first evaluation of the baseline rule reads the history and the lookback in "
        f"{p.get(k + 'baseline_hourly.first.statements_on_table')} statement "
        f"({v.get(k + 'baseline_hourly.first.rows_in_range', 'n/a')} rows in its range, read by "
        f"{v.get(k + 'baseline_hourly.first.scan', 'n/a')}): "
        f"{p.get(k + 'ratio_first.blocks_per_statement')} times the blocks and "
        f"{p.get(k + 'ratio_first.mean_ms')} times the time of the static rule's statement. {steady}: "
        f"{p.get(k + 'ratio_steady.blocks_per_statement')} times its blocks and "
        f"{p.get(k + 'ratio_steady.mean_ms')} times its time.")
    add("")
    add(f"The judgement itself, `judge_baseline` (pure CPU, no warehouse): "
        f"{v.get(k + 'judge.baseline_judged_buckets', 'n/a')} buckets judged against "
        f"{v.get(k + 'judge.baseline_kept_buckets', 'n/a')} kept hourly buckets (28 days) take "
        f"{p.get(k + 'judge.baseline_judge_ms_hour_of_week')} ms of CPU with `hour_of_week` seasonality "
        f"(4 comparable buckets each) and {p.get(k + 'judge.baseline_judge_ms_none')} ms with "
        f"`seasonality: none` (all {v.get(k + 'judge.baseline_kept_buckets', 'n/a')} each), the mean of "
        f"2,000 judgements.")
    add("")
    state = v.get(k + "state.kept_bytes")
    state_text = (f"In the state database the rule's kept counts are "
                  f"{v.get(k + 'state.kept_buckets')} rows of `baseline_buckets` after this run: "
                  f"{state} bytes of SQLite pages ({v.get(k + 'state.kept_payload_bytes')} bytes of "
                  f"payload), from `dbstat`." if state else
                  f"The state database's kept counts: {v.get(k + 'state.kept_buckets', 'n/a')}.")
    add(f"Memory per rule of kept counts: {v.get(k + 'judge.baseline_kept_bytes_per_rule', 'n/a')} bytes in "
        f"the daemon for 28 days of hourly buckets ({v.get(k + 'judge.baseline_kept_buckets', 'n/a')} "
        f"buckets of 32 bytes: start, end, rows, NULLs); 1,000 such rules keep about "
        f"{(p.num(k + 'judge.baseline_kept_bytes_per_rule') or 0) * 1000 / 1048576:.1f} MiB. {state_text}")
    add("")
    add("| target | goal | measured | result |")
    add("|---|---|---|---|")
    add(p.target("6", "first evaluation: statements reading the table", "exactly 1",
                 p.get(k + "baseline_hourly.first.statements_on_table"),
                 None if p.num(k + "baseline_hourly.first.statements_on_table") is None
                 else p.num(k + "baseline_hourly.first.statements_on_table") == 1))
    add(p.target("6", "blocks read: baseline steady state / static", "≤ 1.1",
                 p.get(k + "ratio_steady.blocks_per_statement"),
                 at_most(p.num(k + "ratio_steady.blocks_per_statement"), 1.1)))
    add(p.target("6", "statement time: baseline steady state / static", "≤ 1.1",
                 p.get(k + "ratio_steady.mean_ms"), at_most(p.num(k + "ratio_steady.mean_ms"), 1.1)))
    add(p.target("6", "one judgement, 48 buckets × 672 kept, CPU", "well under 1 ms (≤ 0.1 ms)",
                 f"{p.get(k + 'judge.baseline_judge_ms_hour_of_week')} ms",
                 at_most(p.num(k + "judge.baseline_judge_ms_hour_of_week"), 0.1)))
    add(p.target("6", "kept counts per rule, 28 days hourly", "stated",
                 f"{p.get(k + 'judge.baseline_kept_bytes_per_rule')} bytes", "info"))
    add("")
    if any("**miss**" in row for row in p.summary if row.startswith("| 6 |")):
        add(f"Missed: the steady state's statements read {v.get(k + 'baseline_hourly.steady.ranges', 'n/a')}, "
            f"the static rule's {v.get(k + 'static_hourly.steady.ranges', 'n/a')} (bound parameters, from "
            f"the server's log).")
        add("")
    return lines


def segments_section(v, p):
    """7: a segmented rule's one statement, and gapwatch's own CPU for its judgement."""
    k = "segments."
    j = k + "judge."
    w = k + "judge_warm."
    lines = []
    add = lines.append
    hours = p.num(k + "hours")
    add("## 7. Segments: one statement, and gapwatch's own CPU for the judgement")
    add("")
    add(f"One table, `public.orders_by_store` (`created_at timestamptz`, `store text`, `amount integer`): "
        f"{v.get(k + 'table_rows', 'n/a')} rows ({v.get(k + 'table_mib', 'n/a')} MiB with its index), "
        f"{v.get(k + 'stores', 'n/a')} stores × {int(hours) + 1 if hours else 'n/a'} hours up to "
        f"2026-01-01T00:00:00Z, 1 to 3 rows per store and hour from a fixed formula, `store-0007` dark "
        f"for the last 20 judged hours; a B-tree index on `created_at`, in a database of its own "
        f"(`segments`) on the same PostgreSQL. The rule judges every store's "
        f"{v.get(k + 'hours', 'n/a')} hourly buckets on its own:")
    add("")
    add("```yaml")
    add("  - name: orders_by_store")
    add("    table: public.orders_by_store")
    add("    check: row_count")
    add("    timestamp_column: created_at")
    add("    segment_by: [store]")
    add("    max_segments: 1000")
    add(f"    partition: {{every: 1h, lookback: {int(hours) + 1 if hours else 'n/a'}h, delay: 1h, timezone: UTC}}")
    add("    fail: {min: 1}")
    add("```")
    add("")
    add(f"The statement, as `gapwatch explain --inline-params` prints it (the server runs it as "
        f"{v.get(k + 'plan', 'n/a')}):")
    add("")
    add("```sql")
    add(v.get(k + "statement", "n/a"))
    add("```")
    add("")
    add(f"`gapwatch check` runs the rule {v.get(k + 'check_json.runs', 'n/a')} times with `--output json` "
        f"(every bucket of every segment) and as many with `--output text` (the message and the windows), "
        f"in turn, after warm-up. Before each run `pg_stat_statements` is reset; after it, the server's "
        f"figures for that database: the calls of every statement of the session and the execution time of "
        f"the rule's statement (`total_exec_time`: execution, sending the rows included, planning not). "
        f"`/usr/bin/time` gives the run's CPU (user + sys), peak RSS and minor page faults. Medians over the "
        f"runs; one more JSON run under `perf record` says where the CPU of `check` goes, by shared object.")
    add("")
    add("| the warehouse | |")
    add("|---|---|")
    for label, value in (
            ("evaluations", p.get(k + "evaluations")),
            ("statements reading the table per evaluation", p.get(k + "statements_on_table_per_evaluation")),
            ("all statements of the session per evaluation (connection set-up and the column probe included)",
             p.get(k + "all_statements_per_evaluation")),
            ("rows the statement returns (bucket × store)", p.get(k + "rows_per_statement")),
            ("statement time on the server, median (least)",
             f"{p.get(k + 'statement_ms_median')} ms ({p.get(k + 'statement_ms_min')} ms)")):
        add(f"| {label} | {value} |")
    add("")
    add("| `gapwatch check` | `--output json` | `--output text` |")
    add("|---|---|---|")
    for key, label, unit in (("wall_ms_median", "wall time, median", " ms"),
                             ("cpu_ms_median", "CPU, user + sys, median", " ms"),
                             ("user_ms_median", "of which user", " ms"),
                             ("sys_ms_median", "of which sys", " ms"),
                             ("cpu_over_statement", "CPU ÷ the statement's server time", ""),
                             ("peak_rss_mib_median", "peak RSS, median", " MiB"),
                             ("minor_faults_median", "minor page faults, median", "")):
        add(f"| {label} | {p.get(k + 'check_json.' + key)}{unit} | {p.get(k + 'check_text.' + key)}{unit} |")
    add("")
    add(f"Where the CPU of `check --output json` goes, by shared object (`perf`): "
        f"{v.get(k + 'check.cpu_by_object', 'n/a')}. The JSON it printed: {p.get(k + 'check_json_mib')} MiB, "
        f"{p.get(k + 'check_buckets')} buckets, "
        + (f"{p.get(k + 'check_segments')} segments, " if p.num(k + "check_segments") is not None
           else "segments not listed in it, ")
        + f"{p.get(k + 'check_windows')} window(s), status {p.get(k + 'check_status')}.")
    json_cpu, text_cpu = p.num(k + "check_json.cpu_ms_median"), p.num(k + "check_text.cpu_ms_median")
    json_rss, text_rss = p.num(k + "check_json.peak_rss_mib_median"), p.num(k + "check_text.peak_rss_mib_median")
    if None not in (json_cpu, text_cpu, json_rss, text_rss):
        add(f"Printing every bucket as JSON costs {json_cpu - text_cpu:.0f} ms of CPU and "
            f"{json_rss - text_rss:.0f} MiB of peak memory more than the text output.")
    add(f"The machine's load average (1, 5, 15 minutes) was {v.get('run.loadavg_start', 'n/a')} at the start of "
        f"this run and {v.get('run.loadavg_end', 'n/a')} at its end.")
    add("")
    add(f"What the rule said: `{v.get(k + 'check_message', 'n/a')}`")
    add("")
    verdict_mib = (p.num(j + "segment_verdict_bytes") or 0) / 1048576
    add(f"The judgement alone, `judge_segments` (pure CPU, no warehouse, always "
        f"{v.get(j + 'segments', 'n/a')} segments × 720 hourly buckets): the roll-up of "
        f"{v.get(j + 'segment_result_rows', 'n/a')} result rows of text cells, as the driver hands them "
        f"over, into each segment's buckets (the dark segment's absent buckets filled with 0) and the "
        f"judgement of {v.get(j + 'segment_judged_buckets', 'n/a')} buckets, whose verdict takes "
        f"{verdict_mib:.1f} MiB (`BucketVerdict`s of "
        f"{int((p.num(j + 'segment_verdict_bytes') or 0) / (p.num(j + 'segment_judged_buckets') or 1))} "
        f"bytes); the CPU time of the fastest of 5 repetitions, and the minor page faults during it. "
        f"Run twice: with glibc's default heap, as gapwatch runs, and with a heap that keeps freed "
        f"memory (`GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=…`), so that a "
        f"repetition writes its verdict into pages the previous one already faulted in.")
    add("")
    add("| heap | judgement CPU | minor page faults during it |")
    add("|---|---|---|")
    add(f"| glibc's default (as in gapwatch) | {p.get(j + 'segment_judge_ms')} ms | "
        f"{p.get(j + 'segment_judge_minor_faults')} |")
    add(f"| keeps freed pages | {p.get(w + 'segment_judge_ms')} ms | {p.get(w + 'segment_judge_minor_faults')} |")
    add("")
    per_evaluation = p.num(k + "statements_on_table_per_evaluation")
    cold = p.num(j + "segment_judge_ms")
    warm = p.num(w + "segment_judge_ms")
    add("| target | goal | measured | result |")
    add("|---|---|---|---|")
    add(p.target("7", f"statements reading the table per evaluation, {v.get(k + 'stores', 'n/a')} segments",
                 "exactly 1",
                 p.get(k + "statements_on_table_per_evaluation"),
                 None if per_evaluation is None else per_evaluation == 1))
    add(p.target("7", "judgement CPU, 1,000 segments × 720 hourly buckets", "< 50 ms",
                 f"{p.get(j + 'segment_judge_ms')} ms", None if cold is None else cold < 50))
    add(p.target("7", "the same with a heap that keeps freed pages (for information)", "—",
                 f"{p.get(w + 'segment_judge_ms')} ms", "info"))
    add(p.target("7", "statement time on the server, median", "reported",
                 f"{p.get(k + 'statement_ms_median')} ms", "info"))
    add(p.target("7", "`gapwatch check --output json` CPU, peak RSS", "reported",
                 f"{p.get(k + 'check_json.cpu_ms_median')} ms, {p.get(k + 'check_json.peak_rss_mib_median')} MiB",
                 "info"))
    add("")
    if cold is not None and cold >= 50:
        text = (f"Missed: the judgement takes {cold:g} ms of CPU, {cold - 50:g} ms over the target "
                f"({cold / 50:.1f} times it).")
        cold_faults = p.num(j + "segment_judge_minor_faults")
        warm_faults = p.num(w + "segment_judge_minor_faults")
        if (warm is not None and cold_faults is not None and warm_faults is not None
                and warm < cold / 2 and cold_faults > 10 * max(warm_faults, 1)):
            text += (f" Most of it is page faults: the verdict ({verdict_mib:.0f} MiB) is larger than "
                     f"glibc's mmap threshold, so each judgement gets fresh zero pages and faults on each "
                     f"one it writes ({cold_faults:g} minor faults, about "
                     f"{(cold - warm) * 1000 / cold_faults:.0f} µs each on this machine), and hands them "
                     f"back when the verdict is freed. With a heap that keeps them the same work takes {warm:g} ms "
                     f"({warm_faults:g} faults)" +
                     (", within the target" if warm < 50 else f", still {warm - 50:g} ms over") +
                     ". gapwatch allocates a new verdict for every evaluation, in `check` as in the "
                     "daemon, so the first figure is the one it pays.")
        add(text)
        add("")
    return lines


def splice(results, page_path):
    """Puts the sections of a BENCH_SECTIONS run into an existing page."""
    v = load(results)
    p = Page(v)
    renderers = {"6": ("baselines.", baselines_section), "7": ("segments.", segments_section)}
    page = open(page_path).read().split("\n")
    for number, (prefix, render) in renderers.items():
        if not any(key.startswith(prefix) for key in v):
            continue
        section = render(v, p)
        section.insert(2, f"This section was measured by `{v.get('run.command')}` on {v.get('run.date')}, "
                          f"at commit {v.get('run.git_commit')}, and put into the page by "
                          f"`bench/report.py --splice`; the rest of the page by the run named at the top.")
        section.insert(3, "")
        rows = [row for row in p.summary if row.startswith(f"| {number} |")]
        # The summary table: this section's rows replaced, or added at its end.
        top = page.index("## Summary")
        end = next(i for i in range(top + 3, len(page)) if not page[i].startswith("|"))
        summary = [line for line in page[top:end] if not line.startswith(f"| {number} |")]
        page = page[:top] + summary + rows + page[end:]
        # The section: replaced up to the next section, or added at the end.
        heading = f"## {number}. "
        starts = [i for i, line in enumerate(page) if line.startswith(heading)]
        if starts:
            end = next((i for i in range(starts[0] + 1, len(page)) if page[i].startswith("## ")), len(page))
            page = page[:starts[0]] + section + page[end:]
        else:
            while page and not page[-1]:
                page.pop()
            page += [""] + section
    with open(page_path, "w") as f:
        f.write("\n".join(page).rstrip() + "\n")


def main():
    if sys.argv[1] == "--splice":
        splice(*sys.argv[2:4])
        return
    results, page_path, plot_path, work = sys.argv[1:5]
    v = load(results)
    p = Page(v)
    quick = v.get("run.quick") == "true"
    sizes = sorted({int(k.split(".")[1]) for k in v if k.startswith("scale.") and k.split(".")[1].isdigit()})
    largest = sizes[-1] if sizes else None

    body = []
    add = body.append

    # 1 -------------------------------------------------------------------
    add("## 1. Overhead over the warehouse itself")
    add("")
    add(f"The rule set: a freshness rule (1 day lookback), an hourly row_count over 7 days and a daily "
        f"null_rate over 30 days, on one `events` table: {v.get('data.postgres_events_rows', 'n/a')} "
        f"rows over 365 days in PostgreSQL {v.get('version.postgresql', '')} (a B-tree index on "
        f"`event_time`), and the same shape in SQLite {v.get('version.sqlite', '')}. "
        f"`gapwatch check` (process start, config, ODBC connection, column probe, statements, "
        f"judgement, output) against the warehouse's own client running exactly the SQL that "
        f"`gapwatch explain --inline-params` prints for the same `--now` (`psql -f`; for SQLite "
        f"`isql`, which goes through the same SQLite ODBC driver, and `sqlite3`). "
        f"`bench/figures.py alternate` runs the commands in turn (gapwatch, the client, gapwatch, "
        f"...), so that other work on the machine weighs on each alike, "
        f"{v.get('run.hyperfine_runs')} runs each after warm-up; wall times, medians.")
    add("")
    add("| warehouse | command | median | ± stddev |")
    add("|---|---|---|---|")
    for wh, label, names in (("pg", "PostgreSQL", ("gapwatch", "psql")),
                             ("sqlite", "SQLite", ("gapwatch", "isql", "sqlite3"))):
        for name in names:
            add(f"| {label} | `{name}` | {p.get(f'overhead.{wh}.{name}.median_ms')} ms | "
                f"{p.get(f'overhead.{wh}.{name}.stddev_ms')} ms |")
    add("")
    add("| target | goal | measured | result |")
    add("|---|---|---|---|")
    ratio = p.num("overhead.pg.ratio_gapwatch_over_psql")
    add(p.target("1", "PostgreSQL: gapwatch check / psql", "≤ 1.05", p.get("overhead.pg.ratio_gapwatch_over_psql"),
                 at_most(ratio, 1.05)))
    ratio = p.num("overhead.sqlite.ratio_gapwatch_over_isql")
    add(p.target("1", "SQLite: gapwatch check / isql", "≤ 1.05", p.get("overhead.sqlite.ratio_gapwatch_over_isql"),
                 at_most(ratio, 1.05)))
    add(f"| SQLite: gapwatch check / sqlite3 (for information) | — | "
        f"{p.get('overhead.sqlite.ratio_gapwatch_over_sqlite3')} | — |")
    add("")
    add(f"Where gapwatch's extra time goes when the statements are short: starting the program. "
        f"`gapwatch --version` takes {p.get('startup.gapwatch.median_ms')} ms (median), "
        f"`isql --version` {p.get('startup.isql.median_ms')} ms and `psql --version` "
        f"{p.get('startup.psql.median_ms')} ms: gapwatch loads "
        f"{p.get('startup.gapwatch_shared_libraries')} shared libraries (libcurl, with its "
        f"GnuTLS, OpenSSL, Kerberos, LDAP, SSH and RTMP clients, is not among them: it is loaded "
        f"when the first webhook is sent; the time-zone database is read only when a zone other "
        f"than UTC is named). Against a statement of tens of milliseconds that fixed cost weighs; "
        f"the daemon pays it once.")
    add("")
    add("What `gapwatch check` printed (the rule set passes on this data):")
    add("")
    add("```")
    add(v.get("overhead.pg.check_output", "n/a"))
    add("```")
    add("")

    # 2 -------------------------------------------------------------------
    add("## 2. One statement per rule, sargable")
    add("")
    add("Statements counted by the server: `pg_stat_statements` is reset, `gapwatch check` runs "
        "one hourly row_count rule, and the calls of statements reading `\"events\"` are summed. "
        "\"All statements\" adds what the session ran besides (psqlODBC's connection set-up and "
        "the catalog query that learns the column's type), none of which reads the table. "
        f"Bound parameters reach the server as server-side parameters: "
        f"{v.get('statements.parameters_server_side', 'n/a')}.")
    add("")
    add("| rule | buckets judged | statements reading the table | all statements of the session | result |")
    add("|---|---|---|---|---|")
    for rule in ("buckets_24", "buckets_720", "buckets_8760"):
        on_table = p.num(f"statements.{rule}.on_table")
        ok = None if on_table is None else on_table == 1
        add(f"| `{rule}` | {p.get(f'statements.{rule}.buckets')} | {p.get(f'statements.{rule}.on_table')} | "
            f"{p.get(f'statements.{rule}.all')} | {p.verdict(ok)} |")
        p.summary.append(f"| 2 | statements for {p.get(f'statements.{rule}.buckets')} buckets | exactly 1 | "
                         f"{p.get(f'statements.{rule}.on_table')} | {p.verdict(ok)} |")
    on_table = p.num("statements.rule_set.on_table")
    ok = None if on_table is None else on_table == p.num("statements.rule_set.rules")
    add(f"| the rule set of 1 ({v.get('statements.rule_set.rules')} rules) | — | "
        f"{p.get('statements.rule_set.on_table')} | {p.get('statements.rule_set.all')} | {p.verdict(ok)} |")
    add("")
    add(f"Partition pruning: `events_part` is partitioned by day with declarative partitioning "
        f"({v.get('data.postgres_partitions')} partitions). `EXPLAIN` of every statement gapwatch "
        f"generates for a 3-day lookback (freshness, hourly row_count, daily null_rate), parameters "
        f"inlined as `explain --inline-params` prints them; partitions named in each plan:")
    add("")
    add("| statement | partitions in the plan |")
    add("|---|---|")
    for i, name in enumerate(("freshness", "row_count hourly", "null_rate daily"), start=1):
        add(f"| {name} | {p.get(f'partitions.statement_{i}')} |")
    add("")
    add("| target | goal | measured | result |")
    add("|---|---|---|---|")
    add(p.target("2", "partitions touched, 3-day lookback", "≤ 4", p.get("partitions.max_touched"),
                 at_most(p.num("partitions.max_touched"), 4)))
    add(p.target("2", "freshness time, 10M / 1M rows", "≤ 1.2",
                 p.get("freshness.ratio_fresh_10m_over_fresh_1m"),
                 at_most(p.num("freshness.ratio_fresh_10m_over_fresh_1m"), 1.2)))
    add("")
    add(f"The freshness rule over 30 days, `gapwatch check` medians: "
        f"{p.get('freshness.fresh_1m.median_ms')} ms on {v.get('data.postgres_small_rows', 'the small')} "
        f"table, {p.get('freshness.fresh_10m.median_ms')} ms on the large one; the statement itself, "
        f"mean server time from `pg_stat_statements`: {p.get('freshness.server_ms_1m')} ms and "
        f"{p.get('freshness.server_ms_10m')} ms (`max()` is read from the end of the index).")
    add("")

    # 3 -------------------------------------------------------------------
    add("## 3. Scale of the monitor")
    add("")
    add(f"Generated configurations of {', '.join(str(s) for s in sizes)} rules (a third each "
        f"freshness, hourly row_count over a day, daily null_rate over 7 days, each with a `team` "
        f"label) over SQLite tables of 8 days of rows, every rule every minute, 4 workers. The "
        f"configuration keeps the rules in one file per table (`include: [rules/*.yaml]`); the "
        f"same rules in a single file are validated too (\"one file\"), in block style and in "
        f"flow style (\"flow\": each rule a `{{name: …, table: …, …}}` mapping on one line, "
        f"as generated configurations are often written). "
        f"`validate`: hyperfine median, peak RSS from `/usr/bin/time`. The daemon (`gapwatch run`) "
        f"is measured in steady state: "
        f"CPU from `/proc/PID/stat` over one minute after the first round; peak RSS is `VmHWM` "
        f"from `/proc/PID/status` at the end (after the scrapes); `/metrics` is scraped 10 times "
        f"(median, over HTTP). The SQLite "
        f"engine runs inside gapwatch's process, so its CPU is split with `perf record` by shared "
        f"object: `libsqlite3` and the SQLite ODBC driver are the warehouse, the kernel is apart, "
        f"the rest (gapwatch, its libraries, the ODBC driver manager) is gapwatch. For comparison, "
        f"`sqlite3` running every statement of one round once takes the CPU time shown.")
    add("")
    add("| rules | config (one file: block, flow) | validate | validate, one file | validate, one file, flow | "
        "validate peak RSS | validate peak RSS, one file | validate peak RSS, one file, flow | "
        "daemon peak RSS | /metrics scrape | /metrics size | series |")
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in sizes:
        k = f"scale.{s}"
        add(f"| {s} | {int(p.num(k + '.config_bytes') or 0) // 1024} KiB, "
            f"{int(p.num(k + '.flow_config_bytes') or 0) // 1024} KiB | {p.get(k + '.validate.median_ms')} ms | "
            f"{p.get(k + '.validate_one_file.median_ms')} ms | "
            f"{p.get(k + '.validate_one_file_flow.median_ms')} ms | {p.get(k + '.validate_peak_rss_mib')} MiB | "
            f"{p.get(k + '.validate_one_file_peak_rss_mib')} MiB | "
            f"{p.get(k + '.validate_one_file_flow_peak_rss_mib')} MiB | "
            f"{p.get(k + '.peak_rss_mib')} MiB | {p.get(k + '.scrape_median_ms')} ms | "
            f"{int(p.num(k + '.scrape_bytes') or 0) // 1024} KiB | {p.get(k + '.scrape_series')} |")
    add("")
    add("| rules | evaluations / min | daemon CPU s / min | CPU: warehouse / gapwatch / kernel | "
        "gapwatch ÷ warehouse | sqlite3 CPU for one round |")
    add("|---|---|---|---|---|---|")
    for s in sizes:
        k = f"scale.{s}"
        add(f"| {s} | {p.get(k + '.evaluations_per_minute')} | {p.get(k + '.cpu_seconds_per_minute')} | "
            f"{p.get(k + '.cpu_share_warehouse_percent')}% / {p.get(k + '.cpu_share_gapwatch_percent')}% / "
            f"{p.get(k + '.cpu_share_kernel_percent')}% | {p.get(k + '.gapwatch_over_warehouse_cpu')} | "
            f"{p.get(k + '.sqlite3_cycle_cpu_seconds')} s |")
    add("")
    add("Where the memory goes: the loader keeps the parsed document of a file while it reads "
        "it (one flat array of nodes, about 30 bytes each, and each distinct scalar text once; "
        "yaml-cpp's own tree of nodes took several hundred bytes per value), so the peak "
        "grows with the largest file as well as with the rules kept; rules in one file "
        "per table keep that part small. The daemon holds each rule's configuration, last result "
        "with its buckets, and series; a scrape adds little, as the `/metrics` body (its size is "
        "in the table) is written in pieces of 256 KiB as it is rendered. The per-rule `/metrics` series are "
        "plain values rendered directly (a prometheus-cpp series object per family and rule took "
        "most of a second per scrape at 10,000 rules), and the status board finds a rule by an "
        "index (a linear scan per result and per control-loop pass made gapwatch's CPU grow with "
        "the square of the rules).")
    add("")
    add(f"![growth from {sizes[0] if sizes else ''} to {largest} rules]({os.path.basename(plot_path)})")
    add("")
    add("| target | goal | measured | result |")
    add("|---|---|---|---|")
    if largest:
        k = f"scale.{largest}"
        add(p.target("3", f"validate, {largest} rules", "≤ 500 ms", f"{p.get(k + '.validate.median_ms')} ms",
                     at_most(p.num(k + ".validate.median_ms"), 500)))
        add(p.target("3", f"validate, {largest} rules in one file", "≤ 500 ms",
                     f"{p.get(k + '.validate_one_file.median_ms')} ms",
                     at_most(p.num(k + ".validate_one_file.median_ms"), 500)))
        add(p.target("3", f"validate, {largest} rules in one file, flow style", "≤ 500 ms",
                     f"{p.get(k + '.validate_one_file_flow.median_ms')} ms",
                     at_most(p.num(k + ".validate_one_file_flow.median_ms"), 500)))
        add(p.target("3", f"validate peak RSS, {largest} rules in one file, flow style", "≤ 64 MiB",
                     f"{p.get(k + '.validate_one_file_flow_peak_rss_mib')} MiB",
                     at_most(p.num(k + ".validate_one_file_flow_peak_rss_mib"), 64)))
        add(p.target("3", f"daemon peak RSS, {largest} rules", "≤ 64 MiB", f"{p.get(k + '.peak_rss_mib')} MiB",
                     at_most(p.num(k + ".peak_rss_mib"), 64)))
        add(p.target("3", f"validate peak RSS, {largest} rules in one file (for information)", "—",
                     f"{p.get(k + '.validate_one_file_peak_rss_mib')} MiB", "info"))
        add(p.target("3", f"one /metrics scrape, {largest} rules", "≤ 100 ms",
                     f"{p.get(k + '.scrape_median_ms')} ms", at_most(p.num(k + ".scrape_median_ms"), 100)))
        add(p.target("3", f"gapwatch's CPU ÷ the warehouse's, {largest} rules every minute",
                     "≤ 0.25 (a small fraction)", p.get(k + ".gapwatch_over_warehouse_cpu"),
                     at_most(p.num(k + ".gapwatch_over_warehouse_cpu"), 0.25)))
    add("")

    # 4 -------------------------------------------------------------------
    add("## 4. Dispatch")
    add("")
    add(f"One hourly row_count rule over a SQLite table whose every other hour is empty: "
        f"{v.get('dispatch.windows_expected')} failing windows, `max_window: 1h`, so one backfill "
        f"request each. The daemon commits every request to its outbox (SQLite, WAL, "
        f"`synchronous = FULL`) before sending it, to a webhook executor with `max_concurrent: 16` "
        f"pointing at `tests/integration/webhook_receiver.py` on 127.0.0.1, which holds each answer "
        f"{v.get('dispatch.receiver_delay_seconds')} s and records the peak number of requests it "
        f"was handling at once. Throughput is requests over the time from the first request "
        f"received to the last; end to end counts from the daemon's start (evaluation and "
        f"planning included).")
    add("")
    add("| figure | value |")
    add("|---|---|")
    for key, label in (("requests_committed", "requests committed to the outbox"),
                       ("requests_received", "requests received"),
                       ("distinct_requests_received", "distinct request ids received"),
                       ("received_not_committed", "received but not in the outbox"),
                       ("request_states", "request states at the end"),
                       ("delivery_seconds", "first to last request, s"),
                       ("requests_per_second", "throughput, requests/s"),
                       ("end_to_end_seconds", "daemon start to last request, s"),
                       ("end_to_end_requests_per_second", "end to end, requests/s"),
                       ("peak_concurrency", "peak concurrent requests at the receiver")):
        add(f"| {label} | {p.get('dispatch.' + key)} |")
    add("")
    add("| target | goal | measured | result |")
    add("|---|---|---|---|")
    peak = p.num("dispatch.peak_concurrency")
    add(p.target("4", "concurrent deliveries", "never above max_concurrent (16)", p.get("dispatch.peak_concurrency"),
                 at_most(peak, 16)))
    received = p.num("dispatch.distinct_requests_received")
    expected = p.num("dispatch.windows_expected")
    missing = p.num("dispatch.received_not_committed")
    add(p.target("4", "every window delivered once, committed first",
                 f"{v.get('dispatch.windows_expected')} received, 0 uncommitted",
                 f"{p.get('dispatch.distinct_requests_received')} received, {p.get('dispatch.received_not_committed')} uncommitted",
                 None if received is None else (received == expected and missing == 0)))
    add(p.target("4", "throughput", "reported", f"{p.get('dispatch.requests_per_second')} requests/s", True))
    add("")

    # 5 -------------------------------------------------------------------
    add("## 5. Side by side with prometheus-sql-exporter")
    add("")
    add(f"The same {v.get('peer.tables')} freshness statements, one per table of 10,000 rows "
        f"(indexed on the timestamp) in the same PostgreSQL: "
        f"gapwatch as a daemon with the freshness rules (`workers: 1`, `max_connections: 1`), "
        f"and Debian's `prometheus-sql-exporter` "
        f"({v.get('version.sql_exporter')}, run with its package's `GOGC=40 GOMAXPROCS=4`) with "
        f"the statements `gapwatch explain --inline-params` printed for those rules, both on the "
        f"same interval against the same server, running at the same time and measured over "
        f"the same {v.get('peer.window_seconds')}-second window, so that other work on the "
        f"machine weighs on both alike. Both run the statements one after another on one "
        f"connection, as the exporter runs a job's statements. "
        f"Cycles are counted by the server (`pg_stat_statements` "
        f"calls ÷ statements per cycle; the exporter connects as its own role, so its statements "
        f"are counted apart); CPU is utime + stime from `/proc` over the window; peak RSS is "
        f"`VmHWM`. RSS counts every shared-library "
        f"page a process touched in full: gapwatch is linked dynamically (the C++ standard "
        f"library, yaml-cpp, spdlog, fmt, SQLite, OpenSSL's libcrypto, the ODBC driver manager "
        f"and psqlODBC with libpq), the exporter is one static Go binary, so the private and PSS "
        f"rows say how much memory each really holds.")
    add("")
    add("| | gapwatch | prometheus-sql-exporter |")
    add("|---|---|---|")
    for key, label in (("statements", "statements run in the window"), ("cycles", "cycles"),
                       ("cpu_seconds_per_cycle", "CPU seconds per cycle"), ("peak_rss_mib", "peak RSS, MiB"),
                       ("private_mib", "private memory (not shared), MiB"),
                       ("pss_mib", "PSS (shared pages divided among their users), MiB"),
                       ("shared_file_mib", "shared pages (mostly shared libraries), MiB")):
        add(f"| {label} | {p.get('peer.gapwatch.' + key)} | {p.get('peer.sql_exporter.' + key)} |")
    add("")
    add("| target | goal | measured | result |")
    add("|---|---|---|---|")
    for key, label in (("cpu_seconds_per_cycle", "CPU seconds per cycle"), ("peak_rss_mib", "peak RSS")):
        ours, theirs = p.num("peer.gapwatch." + key), p.num("peer.sql_exporter." + key)
        add(p.target("5", label, "gapwatch below the exporter",
                     f"{p.get('peer.gapwatch.' + key)} vs {p.get('peer.sql_exporter.' + key)}",
                     None if ours is None or theirs is None else ours < theirs))
    add("")

    # 6 -------------------------------------------------------------------
    body.extend(baselines_section(v, p))

    # 7 -------------------------------------------------------------------
    body.extend(segments_section(v, p))

    # the page --------------------------------------------------------------
    out = ["# Performance", "",
           f"Written by `{v.get('run.command')}` on {v.get('run.date')}, at commit "
           f"{v.get('run.git_commit')}. Every figure on this page "
           f"was printed by that run; to refresh it, run the command again (about 15 minutes on "
           f"two cores). `bench/run --quick` is the smoke test `scripts/test` runs: small data, "
           f"no targets asserted." + (" **This page is from a quick run: its figures are not the "
                                      "targets' sizes.**" if quick else ""),
           "", "## The machine", "",
           "| CPU | cores | memory | kernel | system |", "|---|---|---|---|---|",
           f"| {v.get('machine.cpu')} | {v.get('machine.cores')} | {v.get('machine.ram_gib')} GiB | "
           f"{v.get('machine.kernel')} | {v.get('machine.os')} |", "",
           f"gapwatch {v.get('version.gapwatch', '').replace('gapwatch ', '')} (RelWithDebInfo), "
           f"PostgreSQL {v.get('version.postgresql')}, SQLite {v.get('version.sqlite')}, "
           f"{v.get('version.hyperfine')}, prometheus-sql-exporter {v.get('version.sql_exporter')}.",
           "", f"Load average (1, 5, 15 minutes) at the start: {v.get('run.loadavg_start')}; at the "
           f"end ({v.get('run.finished')}): {v.get('run.loadavg_end')}. The machine was shared with "
           f"other work while it ran: times are medians of several runs or ratios of commands run "
           f"side by side in the same run; CPU and memory come from `/proc`.",
           "", "## Summary", "", "| # | what | target | measured | result |", "|---|---|---|---|---|"]
    out += p.summary
    out += ["", "Data: generated by `bench/run` from fixed formulas (no randomness), ending at "
            "2026-01-01T00:00:00Z, the `--now` of every `check` and `explain`; the daemon "
            "measurements use data ending at the wall clock.", ""]
    out += misses(v, p, largest)
    out += body
    with open(page_path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")

    # the plot ----------------------------------------------------------------
    if not sizes:
        return
    data = os.path.join(work, "growth.dat")
    with open(data, "w") as f:
        f.write("# rules validate_ms peak_rss_mib scrape_ms cpu_s_per_min\n")
        for s in sizes:
            k = f"scale.{s}"
            f.write(f"{s} {v.get(k + '.validate.median_ms', 'NaN')} {v.get(k + '.peak_rss_mib', 'NaN')} "
                    f"{v.get(k + '.scrape_median_ms', 'NaN')} {v.get(k + '.cpu_seconds_per_minute', 'NaN')}\n")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "growth.gp")
    subprocess.run(["gnuplot", "-e", f"data='{data}'; out='{plot_path}'", script], check=True)


if __name__ == "__main__":
    main()
