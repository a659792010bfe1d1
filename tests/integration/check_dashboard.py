#!/usr/bin/env python3
"""Checks that a Grafana dashboard only queries metrics gapwatch exports.

  check_dashboard.py DASHBOARD.json SCRAPE.txt

SCRAPE.txt is a live /metrics scrape. Every gapwatch_* name in every panel
query must be an exported family, or a histogram's _bucket/_sum/_count series.
"""
import json
import re
import sys


def main():
    dashboard = json.load(open(sys.argv[1]))
    exported = set()
    for line in open(sys.argv[2]):
        match = re.match(r"# TYPE (\S+) (\S+)", line)
        if match:
            name, kind = match.groups()
            exported.add(name)
            if kind in ("histogram", "summary"):
                exported.update({name + "_bucket", name + "_sum", name + "_count"})
    problems = []
    queries = 0
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            queries += 1
            for name in re.findall(r"\bgapwatch_[a-z0-9_]+", target["expr"]):
                if name not in exported:
                    problems.append(f'panel "{panel["title"]}": {name} is not exported')
    if queries == 0:
        problems.append("the dashboard has no queries")
    for problem in problems:
        print(problem)
    print(f"{queries} queries checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
