#!/usr/bin/python3
"""docs/gapwatch.schema.json against the real loader.

1. Every example configuration validates against the schema.
2. For every section, and every webhook preset, the schema's keys are
   exactly the keys the loader accepts: an unknown key makes `gapwatch validate` list the known ones
   ("expected one of: …"), which is compared with the schema.
3. The schema refuses an unknown key, so validation means something.
Runs with Debian's python3-jsonschema and python3-yaml.
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

source = os.environ["GAPWATCH_SOURCE_DIR"]
gapwatch = os.environ["GAPWATCH_BINARY"]
schema = json.load(open(os.path.join(source, "docs", "gapwatch.schema.json")))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
failures = 0


def check(what, ok, detail=""):
    global failures
    print(("ok: " if ok else "FAIL: ") + what + ("" if ok else f" — {detail}"))
    failures += 0 if ok else 1


def yaml_blocks(markdown):
    for block in re.findall(r"```yaml\n(.*?)```", open(markdown).read(), re.S):
        if block.lstrip().startswith("version: 1") and "{...}" not in block and "[...]" not in block:
            yield block


examples = sorted(glob.glob(os.path.join(source, "examples", "**", "*.yaml"), recursive=True))
examples = [e for e in examples if yaml.safe_load(open(e)) and "version" in (yaml.safe_load(open(e)) or {})]
examples.append(os.path.join(source, "packaging", "gapwatch.yaml"))
documents = [(os.path.relpath(e, source), yaml.safe_load(open(e))) for e in examples]
for markdown in sorted(glob.glob(os.path.join(source, "docs", "*.md"))):
    for index, block in enumerate(yaml_blocks(markdown)):
        documents.append((f"{os.path.relpath(markdown, source)} block {index + 1}", yaml.safe_load(block)))
check(f"{len(documents)} example configurations found", len(documents) >= 3)
for name, document in documents:
    errors = sorted(validator.iter_errors(document), key=lambda e: e.path)
    check(f"{name} validates against the schema", not errors,
          "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:3]))

# A small valid configuration with every section, to poke unknown keys into.
base = {
    "version": 1,
    "monitor": {"state": "s.db"},
    "warehouses": [{"name": "w", "connection": "Driver=SQLite3;Database=x.db"}],
    "executors": [
        {"name": "c", "command": {"argv": ["/bin/true"]}, "retry": {"max_attempts": 2}},
        {"name": "h", "webhook": {"url": "http://127.0.0.1:1/x"}},
    ],
    "defaults": {"severity": "warning"},
    "rules": [{"name": "r", "table": "t", "check": "row_count", "timestamp_column": "ts",
               "partition": {"every": "1h", "lookback": "1d"}, "baseline": {}, "fail": {"min": 1},
               "segment_by": ["country"], "backfill": {"executor": "c"}},
              {"name": "s", "table": "t", "check": "row_count", "timestamp_column": "ts",
               "partition": {"every": "1h", "lookback": "1d"},
               "source": {"warehouse": "w", "table": "src", "timestamp_column": "ts"},
               "fail": {"missing": 0, "extra": "0.1%"}}],
}
check("the base configuration validates against the schema", validator.is_valid(base))
sections = {
    "top level": ([], lambda d: d, ["properties"]),
    "monitor": (["monitor"], lambda d: d["monitor"], ["properties", "monitor", "properties"]),
    "warehouse": (["warehouses", 0], lambda d: d["warehouses"][0], ["properties", "warehouses", "items", "properties"]),
    "executor": (["executors", 0], lambda d: d["executors"][0], ["properties", "executors", "items", "properties"]),
    "command": (["executors", 0, "command"], lambda d: d["executors"][0]["command"],
                ["properties", "executors", "items", "properties", "command", "properties"]),
    "webhook": (["executors", 1, "webhook"], lambda d: d["executors"][1]["webhook"],
                ["properties", "executors", "items", "properties", "webhook", "properties"]),
    "retry": (["executors", 0, "retry"], lambda d: d["executors"][0]["retry"],
              ["properties", "executors", "items", "properties", "retry", "properties"]),
    "defaults": (["defaults"], lambda d: d["defaults"], ["properties", "defaults", "properties"]),
    "rule": (["rules", 0], lambda d: d["rules"][0], ["properties", "rules", "items", "properties"]),
    "partition": (["rules", 0, "partition"], lambda d: d["rules"][0]["partition"],
                  ["properties", "rules", "items", "properties", "partition", "properties"]),
    "baseline": (["rules", 0, "baseline"], lambda d: d["rules"][0]["baseline"],
                 ["properties", "rules", "items", "properties", "baseline", "properties"]),
    "source": (["rules", 1, "source"], lambda d: d["rules"][1]["source"],
               ["properties", "rules", "items", "properties", "source", "properties"]),
    "threshold": (["rules", 0, "fail"], lambda d: d["rules"][0]["fail"],
                  ["properties", "rules", "items", "properties", "fail", "properties"]),
    "backfill": (["rules", 0, "backfill"], lambda d: d["rules"][0]["backfill"],
                 ["properties", "rules", "items", "properties", "backfill", "properties"]),
}
with tempfile.TemporaryDirectory() as work:
    for section, (_, select, schema_path) in sections.items():
        document = copy.deepcopy(base)
        select(document)["zz_not_a_key"] = 1
        path = os.path.join(work, "gapwatch.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(document, f)
        result = subprocess.run([gapwatch, "validate", "-c", path], capture_output=True, text=True)
        match = re.search(r"unknown key 'zz_not_a_key' \(expected one of: ([^)]*)\)", result.stderr)
        if not match:
            check(f"{section}: the loader names its keys", False, result.stderr.strip()[:300])
            continue
        loader_keys = set(k.strip() for k in match.group(1).split(","))
        node = schema
        for step in schema_path:
            node = node[step]
        schema_keys = set(node)
        check(f"{section}: schema and loader accept the same keys", loader_keys == schema_keys,
              f"loader only: {sorted(loader_keys - schema_keys)}, schema only: {sorted(schema_keys - loader_keys)}")
        check(f"{section}: the schema refuses an unknown key", not validator.is_valid(document))

    # Each preset: the loader's keys against that preset's branch of the schema.
    webhook_schema = schema["properties"]["executors"]["items"]["properties"]["webhook"]
    for branch in webhook_schema["then"]["oneOf"]:
        name = branch["properties"]["preset"]["const"]
        document = copy.deepcopy(base)
        document["executors"][1]["webhook"] = {"preset": name, "zz_not_a_key": 1}
        path = os.path.join(work, "gapwatch.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(document, f)
        result = subprocess.run([gapwatch, "validate", "-c", path], capture_output=True, text=True)
        match = re.search(r"unknown key 'zz_not_a_key' \(expected one of: ([^)]*)\)", result.stderr)
        if not match:
            check(f"preset {name}: the loader names its keys", False, result.stderr.strip()[:300])
            continue
        loader_keys = set(k.strip() for k in match.group(1).split(","))
        schema_keys = set(branch["properties"])
        check(f"preset {name}: schema and loader accept the same keys", loader_keys == schema_keys,
              f"loader only: {sorted(loader_keys - schema_keys)}, schema only: {sorted(schema_keys - loader_keys)}")
        check(f"preset {name}: the schema refuses an unknown key", not validator.is_valid(document))

    # The auth blocks of a plain webhook: the loader's keys against the schema's.
    auth_branches = {next(iter(b["properties"])): b["properties"]
                     for b in schema["properties"]["executors"]["items"]["properties"]["webhook"]
                     ["properties"]["auth"]["oneOf"]}
    auth_samples = {
        "basic": {"username": "u", "password": "p"},
        "oauth2_client_credentials": {"token_url": "http://127.0.0.1:1/token", "client_id": "c",
                                      "client_secret": "s"},
    }
    for block, sample in auth_samples.items():
        document = copy.deepcopy(base)
        document["executors"][1]["webhook"]["auth"] = {block: dict(sample, zz_not_a_key=1)}
        path = os.path.join(work, "gapwatch.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(document, f)
        result = subprocess.run([gapwatch, "validate", "-c", path], capture_output=True, text=True)
        match = re.search(r"unknown key 'zz_not_a_key' \(expected one of: ([^)]*)\)", result.stderr)
        if not match:
            check(f"auth {block}: the loader names its keys", False, result.stderr.strip()[:300])
            continue
        loader_keys = set(k.strip() for k in match.group(1).split(","))
        schema_keys = set(auth_branches[block][block]["properties"])
        check(f"auth {block}: schema and loader accept the same keys", loader_keys == schema_keys,
              f"loader only: {sorted(loader_keys - schema_keys)}, schema only: {sorted(schema_keys - loader_keys)}")
        check(f"auth {block}: the schema refuses an unknown key", not validator.is_valid(document))

    # A file named by include: has its own schema, with the main schema's rules.
    rules_schema = json.load(open(os.path.join(source, "docs", "gapwatch-rules.schema.json")))
    jsonschema.Draft7Validator.check_schema(rules_schema)
    rules_validator = jsonschema.Draft7Validator(rules_schema)
    check("the rules-file schema describes rules as the main schema does",
          rules_schema["properties"]["rules"] == schema["properties"]["rules"])
    included = {"version": 1, "rules": copy.deepcopy(base["rules"])}
    check("an included rules file validates against the rules-file schema",
          rules_validator.is_valid(included))
    check("the rules-file schema refuses a warehouses section",
          not rules_validator.is_valid(dict(included, warehouses=base["warehouses"])))
    main = copy.deepcopy(base)
    del main["rules"]
    main["include"] = ["rules.yaml"]
    with open(os.path.join(work, "gapwatch.yaml"), "w") as f:
        yaml.safe_dump(main, f)
    with open(os.path.join(work, "rules.yaml"), "w") as f:
        yaml.safe_dump(dict(included, zz_not_a_key=1), f)
    result = subprocess.run([gapwatch, "validate", "-c", os.path.join(work, "gapwatch.yaml")],
                            capture_output=True, text=True)
    match = re.search(r"unknown key 'zz_not_a_key' \(expected one of: ([^)]*)\)", result.stderr)
    loader_keys = set(k.strip() for k in match.group(1).split(",")) if match else set()
    check("included file: schema and loader accept the same keys",
          loader_keys == set(rules_schema["properties"]), result.stderr.strip()[:300])

print(f"{failures} failure(s)" if failures else "all checks passed")
sys.exit(1 if failures else 0)
