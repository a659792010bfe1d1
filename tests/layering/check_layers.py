#!/usr/bin/env python3
"""The dependency rule of docs/architecture.md, checked on every #include.

Libraries: rules <- triggers <- monitor. Rooms of monitor/:
config <- warehouse <- state <- http <- daemon <- cli. A file may include
its own folder and anything to its left, never to its right. Exits 1 and
names every include that breaks the rule.
"""
import pathlib
import re
import sys

ORDER = ["rules", "triggers", "monitor/config", "monitor/warehouse", "monitor/state",
         "monitor/http", "monitor/daemon", "monitor/cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"((?:rules|triggers|monitor)/[^"]+)"', re.M)


def layer_of(path):
    """The layer a source path (relative to the tree) belongs to, or None."""
    parts = pathlib.PurePosixPath(path).parts
    if parts[0] == "monitor" and len(parts) > 2:
        name = "/".join(parts[:2])
    else:
        name = parts[0]
    return ORDER.index(name) if name in ORDER else None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    broken, files = [], 0
    for top in ("rules", "triggers", "monitor"):
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in (".h", ".cpp"):
                continue
            relative = path.relative_to(root).as_posix()
            own = layer_of(relative)
            if own is None:
                if relative != "monitor/CMakeLists.txt":
                    broken.append(f"{relative}: not in any layer of {ORDER}")
                continue
            files += 1
            for included in INCLUDE.findall(path.read_text(encoding="utf-8")):
                target = layer_of(included)
                if target is None or target > own:
                    broken.append(f"{relative}: includes {included}, "
                                  f"which {ORDER[own]} must not depend on")
    for line in broken:
        print(line)
    print(f"layering: {files} files, {len(broken)} include(s) against the rule")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
