#!/usr/bin/env python3
"""clang-tidy over the given files, in parallel, remembering clean results.

Usage: tidy.py BUILD_DIR FILE...

A file is skipped when clang-tidy already found it clean with the same
preprocessed text (the file and every header it includes, as the compile
command sees them), the same compile flags, the same .clang-tidy and the same
clang-tidy. Only clean results are remembered: a finding is reported on every
run until it is fixed. The cache lives outside the clone
($XDG_CACHE_HOME/gapwatch-tidy, else ~/.cache/gapwatch-tidy), as ccache's does.

Prints every finding; exits 1 if there is any (or clang-tidy failed), else 0.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys

IGNORED = "clang-diagnostic-unused-command-line-argument"
FINDING = re.compile(r"(warning|error): ")


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "gapwatch-tidy")
    os.makedirs(path, exist_ok=True)
    return path


def preprocess_command(entry):
    """The entry's compile command with -E in place of -c and no output file."""
    args = entry.get("arguments") or shlex.split(entry["command"])
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "-o":
            skip = True
            continue
        if arg == "-c":
            continue
        out.append(arg)
    return out + ["-E", "-P", "-o", "-"]


def key_of(entry, tool_key, root):
    """What clang-tidy's verdict on the entry depends on, with the clone's own
    path taken out (flags and __FILE__ name it), so that a fresh clone
    elsewhere finds what an earlier clone checked."""
    text = subprocess.run(preprocess_command(entry), cwd=entry["directory"],
                          capture_output=True, check=False).stdout
    digest = hashlib.sha256(tool_key)
    flags = entry.get("arguments") or shlex.split(entry["command"])
    flags = "\0".join(a for a in flags if a != entry["file"])
    digest.update(flags.replace(root, "<root>").encode())
    digest.update(text.replace(root.encode(), b"<root>"))
    return digest.hexdigest()


def findings_of(output):
    return [line for line in output.splitlines()
            if FINDING.search(line) and IGNORED not in line]


def main():
    build, files = sys.argv[1], sys.argv[2:]
    with open(os.path.join(build, "compile_commands.json"), encoding="utf-8") as f:
        entries = {os.path.realpath(e["file"]): e for e in json.load(f)}
    version = subprocess.run(["clang-tidy", "--version"], capture_output=True,
                             check=True).stdout
    with open(".clang-tidy", "rb") as f:
        tool_key = version + f.read()
    cache = cache_dir()
    root = os.getcwd()  # the source tree: scripts/lint runs from it

    def check(path):
        entry = entries.get(os.path.realpath(path))
        if entry is None:
            return path, None, [f"{path}: error: not in {build}/compile_commands.json"], False
        key = key_of(entry, tool_key, root)
        if os.path.exists(os.path.join(cache, key)):
            return path, key, [], True
        run = subprocess.run(["clang-tidy", "-quiet", "-p", build, path],
                             capture_output=True, text=True, check=False)
        found = findings_of(run.stdout + run.stderr)
        if run.returncode != 0 and not found:
            tail = (run.stdout + run.stderr).strip().splitlines()[-20:]
            found = [f"{path}: error: clang-tidy exited with status {run.returncode}"] + tail
        return path, key, found, False

    findings, cached, checked = [], 0, 0
    workers = os.cpu_count() or 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for path, key, found, hit in pool.map(check, files):
            if hit:
                cached += 1
                continue
            checked += 1
            if found:
                findings.extend(found)
            elif key is not None:
                open(os.path.join(cache, key), "w", encoding="utf-8").close()
    for line in sorted(set(findings)):
        print(line)
    print(f"clang-tidy: {checked} file(s) checked, {cached} unchanged since a clean check",
          file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
