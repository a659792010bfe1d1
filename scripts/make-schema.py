#!/usr/bin/env python3
"""Writes docs/gapwatch.schema.json, the JSON Schema of gapwatch.yaml.

The schema is generated here rather than written by hand so that shared
pieces (durations, thresholds, templates) are defined once. tests check that
its keys are exactly the loader's and that every example validates.
"""
import json
import pathlib

ENV = {"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$",
       "description": "an environment reference, substituted at load"}
DURATION = {"type": "string", "pattern": r"^(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?$|^\$\{",
            "description": "a duration: 30s, 5m, 2h, 1d, 1h30m", "examples": ["30s", "5m", "1h30m", "1d"]}
IDENTIFIER = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,127}$|^\$\{"}
TABLE = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$|^\$\{",
         "description": "[catalog.][schema.]table, quoted as written"}
NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,128}$"}
ZONE = {"type": "string", "description": "an IANA time zone such as UTC or Europe/Berlin",
        "examples": ["UTC", "Europe/Berlin", "America/New_York"]}


def integer(minimum, maximum=None, description=None):
    schema = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    if description:
        schema["description"] = description
    return {"anyOf": [schema, ENV]} if description is None else {"anyOf": [schema, ENV], "description": description}


def obj(properties, required=(), description=None):
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def string_map(description):
    return {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
            "description": description}


# missing and extra: whole rows, or a share of the source's rows ("0.1%").
ALLOWANCE = {"anyOf": [{"type": "integer", "minimum": 0},
                       {"type": "string", "pattern": r"^\d+$|^\d+(\.\d+)?%$|^\$\{"}]}
BOUND = obj({"min": {"type": ["number", "string"]}, "max": {"type": ["number", "string"]},
             "drop": {"type": ["number", "string"],
                      "description": "with baseline: row_count a share of the expected value "
                                     "(50% or 0.5), null_rate points (5% or 0.05)"},
             "rise": {"type": ["number", "string"],
                      "description": "with baseline: as drop, above the expected value"},
             "missing": dict(ALLOWANCE, description="with source: rows a bucket may lack against "
                                                    "the source, a count (0) or a share (0.1%)"),
             "extra": dict(ALLOWANCE, description="with source: rows a bucket may have beyond "
                                                  "the source, a count or a share")},
            description="min, max, drop, rise, missing, extra or several: a duration for "
                        "freshness, rows for row_count, a ratio 0..1 or a percentage for "
                        "null_rate; drop and rise need a baseline, missing and extra a source")
BASELINE = obj({
    "history": DURATION,
    "seasonality": {"enum": ["none", "hour_of_day", "day_of_week", "hour_of_week"]},
    "sensitivity": {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 100}, ENV]},
    "min_history": integer(1, 1000),
    "refresh": DURATION,
}, description="learned expectations per bucket (docs/rules.md#baselines); {} takes every default")
RULE_PROPERTIES = {
    "name": NAME,
    "warehouse": NAME,
    "table": TABLE,
    "check": {"enum": ["freshness", "row_count", "null_rate"]},
    "timestamp_column": IDENTIFIER,
    "timestamp_format": {"enum": ["native", "epoch_s", "epoch_ms", "text"]},
    "where": {"type": "string", "description": "a raw SQL predicate, ANDed (trusted config)"},
    "lookback": DURATION,
    "future_tolerance": DURATION,
    "warn": BOUND,
    "fail": BOUND,
    "severity": {"enum": ["info", "warning", "critical"]},
    "labels": string_map("free labels, carried to results and metrics"),
    "schedule": {"type": "string", "description": "a duration or a 5-field cron expression",
                 "examples": ["5m", "*/15 * * * *", "@hourly"]},
    "schedule_timezone": ZONE,
    "partition": obj({"every": DURATION, "lookback": DURATION, "delay": DURATION, "timezone": ZONE},
                     required=["every", "lookback"]),
    "column": IDENTIFIER,
    "min_rows": integer(1),
    "baseline": BASELINE,
    "segment_by": {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": True,
                   "items": IDENTIFIER,
                   "description": "row_count and null_rate with partition: each distinct "
                                  "combination of these columns' values is judged on its own"},
    "max_segments": integer(1, 100000, "with segment_by: more distinct combinations is an error"),
    "source": obj({
        "warehouse": NAME,
        "table": TABLE,
        "timestamp_column": IDENTIFIER,
        "timestamp_format": {"enum": ["native", "epoch_s", "epoch_ms", "text"]},
        "where": {"type": "string", "description": "a raw SQL predicate, ANDed (trusted config)"},
    }, required=["warehouse", "table", "timestamp_column"],
        description="row_count with partition: the system the table is loaded from, counted "
                    "over the same buckets (docs/rules.md); judged by missing and extra"),
    "backfill": obj({
        "executor": NAME,
        "params": string_map("extra template variables"),
        "max_window": DURATION,
        "min_buckets": integer(1),
        "not_before": {"type": "string", "description": "RFC 3339"},
        "verify_after": DURATION,
        "order": {"enum": ["newest_first", "oldest_first"]},
        "max_attempts": integer(1, 100),
        "attempt_backoff": DURATION,
    }, required=["executor"]),
}
TEMPLATE = {"type": "string", "description": "a template: {rule} {table} {window_start} … and backfill.params keys"}
COMMAND = obj({
    "argv": {"type": "array", "items": TEMPLATE, "minItems": 1},
    "env": {"type": "object", "additionalProperties": TEMPLATE},
    "workdir": {"type": "string"},
    "timeout": DURATION,
}, required=["argv"])


URL = {"type": "string", "pattern": r"^https?://[^?#{} ]+$|^\$\{",
       "description": "an http(s) address without query or template variables"}
SECRET = {"type": "string", "minLength": 1, "description": "a secret: give it as ${VARIABLE}"}
JSON_MAPPING = {"type": "object", "description": "a mapping sent as JSON; string leaves are templates"}
OAUTH2 = obj({
    "token_url": URL,
    "client_id": {"type": "string"},
    "client_secret": SECRET,
    "scope": {"type": "string"},
    "client_authentication": {"enum": ["request_body", "basic"]},
}, required=["token_url", "client_id", "client_secret"])
AUTH = {"oneOf": [
    obj({"basic": obj({"username": {"type": "string"}, "password": SECRET},
                      required=["username", "password"])}, required=["basic"]),
    obj({"bearer": SECRET}, required=["bearer"]),
    obj({"oauth2_client_credentials": OAUTH2}, required=["oauth2_client_credentials"]),
], "description": "credentials sent with every request: basic, bearer or oauth2_client_credentials"}
# Keys every webhook has, plain or preset.
WEBHOOK_COMMON = {
    "headers": {"type": "object", "additionalProperties": TEMPLATE},
    "signing_secret": {"type": "string"},
    "timeout": DURATION,
    "tls_verify": {"type": "boolean"},
    "auth": AUTH,
}
# Keys of every preset webhook: following the runs it starts.
PRESET_COMMON = {
    "poll_every": dict(DURATION, description="how often a run's state is asked for (at least 5s)"),
    "run_timeout": DURATION,
}
AIRFLOW_LOGIN = {"username": {"type": "string"}, "password": SECRET, "token_url": URL}
DAG_RUN = {"base_url": URL, "dag_id": TEMPLATE, "dag_run_id": TEMPLATE,
           "logical_date": {"enum": ["none", "window_start", "window_end"]}, "conf": JSON_MAPPING}
# The keys of each preset (docs/executors.md), besides `preset` and WEBHOOK_COMMON.
PRESETS = {
    "airflow2": (dict(DAG_RUN, airflow_version={"type": "string", "pattern": r"^2\.\d+(\.\d+)?$",
                                                "description": "from 2.9 the data interval is sent"}),
                 ["base_url", "dag_id"]),
    "airflow3": (dict(DAG_RUN, **AIRFLOW_LOGIN), ["base_url", "dag_id"]),
    "airflow3_backfill": ({"base_url": URL, "dag_id": TEMPLATE,
                           "reprocess_behavior": {"enum": ["none", "failed", "completed"]},
                           "max_active_runs": integer(1, 1000), "dag_run_conf": JSON_MAPPING,
                           **AIRFLOW_LOGIN}, ["base_url", "dag_id"]),
    "prefect": ({"api_url": URL, "deployment_id": TEMPLATE, "flow_run_name": TEMPLATE,
                 "parameters": JSON_MAPPING, "tags": {"type": "array", "items": TEMPLATE}},
                ["api_url", "deployment_id"]),
    "dagster": ({"base_url": URL, "api_token": SECRET, "repository_location": TEMPLATE,
                 "repository": TEMPLATE, "partition_set": TEMPLATE,
                 "assets": {"type": "array", "minItems": 1,
                            "items": {"type": ["string", "array"], "description": "a/b or [a, b]"}},
                 "job": TEMPLATE, "run_config": JSON_MAPPING,
                 "tags": {"type": "object", "additionalProperties": TEMPLATE},
                 "partition_every": DURATION,
                 "partition_format": {"type": "string", "examples": ["%Y-%m-%d", "%Y-%m-%d-%H:%M"]},
                 "partition_timezone": ZONE}, ["base_url"]),
    "adf": ({"management_url": URL, "subscription_id": TEMPLATE, "resource_group": TEMPLATE,
             "factory": TEMPLATE, "pipeline": TEMPLATE, "parameters": JSON_MAPPING,
             "tenant_id": {"type": "string"}, "client_id": {"type": "string"}, "client_secret": SECRET,
             "login_url": URL, "scope": {"type": "string"}},
            ["subscription_id", "resource_group", "factory", "pipeline"]),
}


def webhook_schema():
    """A plain webhook's keys as `properties` (what tests compare with the
    loader), and with `preset:` the keys of that preset instead."""
    plain = {
        "url": TEMPLATE,
        "method": {"enum": ["POST", "PUT", "PATCH", "GET", "DELETE"]},
        "body": {"description": "any YAML value, sent as JSON; string leaves are templates"},
        "success_codes": {"type": "array", "items": integer(100, 599)},
        **WEBHOOK_COMMON,
        "preset": {"enum": list(PRESETS), "description": "an orchestrator's API: docs/executors.md"},
    }
    presets = []
    for name, (keys, required) in PRESETS.items():
        presets.append(obj({"preset": {"const": name}, **WEBHOOK_COMMON, **PRESET_COMMON, **keys},
                           required=["preset", *required]))
    return {
        "type": "object",
        "properties": plain,
        "if": {"required": ["preset"]},
        "then": {"oneOf": presets},
        "else": obj(plain, required=["url"]),
    }


def main():
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://gapwatch.invalid/gapwatch.schema.json",
        "title": "gapwatch configuration",
        "description": "gapwatch.yaml: see docs/configuration.md",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "warehouses"],
        "properties": {
            "version": {"const": 1},
            "monitor": obj({
                "state": {"type": "string"},
                "workers": integer(1, 256),
                "dry_run": {"type": "boolean"},
                "shutdown_grace": DURATION,
                "listen": {"type": "string", "examples": ["127.0.0.1:9464", "off"]},
                "api_token": {"type": "string", "minLength": 16},
                "log_format": {"enum": ["text", "json"]},
                "log_level": {"enum": ["debug", "info", "warn", "error"]},
            }),
            "warehouses": {"type": "array", "minItems": 1, "items": obj({
                "name": NAME,
                "connection": {"type": "string", "description": "an ODBC connection string"},
                "dsn": {"type": "string"},
                "user": {"type": "string"},
                "password": {"type": "string"},
                "dialect": {"enum": ["auto", "postgres", "sqlite", "mysql", "sqlserver", "snowflake"]},
                "timezone": ZONE,
                "query_timeout": DURATION,
                "max_connections": integer(1, 64),
            }, required=["name"])},
            "executors": {"type": "array", "items": obj({
                "name": NAME,
                "command": COMMAND,
                "webhook": webhook_schema(),
                "max_per_hour": integer(1, 1000000), "max_concurrent": integer(1, 256),
                "retry": obj({"max_attempts": integer(1, 100), "initial_backoff": DURATION,
                              "max_backoff": DURATION}),
            }, required=["name"])},
            "defaults": obj(RULE_PROPERTIES, description="any rule key; a rule's own value wins"),
            "rules": {"type": "array", "items": obj(RULE_PROPERTIES, required=["name"])},
            "include": {"type": "array", "items": {"type": "string"},
                        "description": "files (globs) holding more rules"},
        },
    }
    docs = pathlib.Path(__file__).resolve().parent.parent / "docs"
    (docs / "gapwatch.schema.json").write_text(json.dumps(schema, indent=2) + "\n")
    # A file named by `include:` holds rules only (and optionally the version).
    rules_file = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://gapwatch.invalid/gapwatch-rules.schema.json",
        "title": "gapwatch rules file",
        "description": "a file named by include: in gapwatch.yaml; see docs/configuration.md",
        "type": "object",
        "additionalProperties": False,
        "required": ["rules"],
        "properties": {
            "version": schema["properties"]["version"],
            "rules": schema["properties"]["rules"],
        },
    }
    (docs / "gapwatch-rules.schema.json").write_text(json.dumps(rules_file, indent=2) + "\n")


if __name__ == "__main__":
    main()
