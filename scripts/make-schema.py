#!/usr/bin/env python3
"""Writes docs/gapwatch.schema.json, the JSON Schema of gapwatch.yaml.

The schema is generated here rather than written by hand so that shared
pieces (durations, thresholds, templates) are defined once. tests check that
its keys are exactly the loader's and that every example validates.
"""
import json
import pathlib
import sys

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


BOUND = obj({"min": {"type": ["number", "string"]}, "max": {"type": ["number", "string"]}},
            description="{min: X}, {max: X} or both: a duration for freshness, rows for row_count, "
                        "a ratio 0..1 or a percentage for null_rate")
RULE_PROPERTIES = {
    "name": NAME,
    "warehouse": NAME,
    "table": TABLE,
    "check": {"enum": ["freshness", "row_count", "null_rate"]},
    "timestamp_column": IDENTIFIER,
    "timestamp_format": {"enum": ["native", "epoch_s", "epoch_ms", "text"]},
    "where": {"type": "string", "description": "a raw SQL predicate, ANDed (trusted config)"},
    "lookback": DURATION,
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
    "backfill": obj({
        "executor": NAME,
        "params": string_map("extra template variables"),
        "max_window": DURATION,
        "min_buckets": integer(1),
        "not_before": {"type": "string", "description": "RFC 3339"},
        "verify_after": DURATION,
        "max_attempts": integer(1, 100),
    }, required=["executor"]),
}
TEMPLATE = {"type": "string", "description": "a template: {rule} {table} {window_start} … and backfill.params keys"}
COMMAND = obj({
    "argv": {"type": "array", "items": TEMPLATE, "minItems": 1},
    "env": {"type": "object", "additionalProperties": TEMPLATE},
    "workdir": {"type": "string"},
    "timeout": DURATION,
}, required=["argv"])


def webhook_schema(preset_keys):
    properties = {
        "url": TEMPLATE,
        "method": {"enum": ["POST", "PUT", "PATCH", "GET", "DELETE"]},
        "headers": {"type": "object", "additionalProperties": TEMPLATE},
        "body": {"description": "any YAML value, sent as JSON; string leaves are templates"},
        "success_codes": {"type": "array", "items": integer(100, 599)},
        "signing_secret": {"type": "string"},
        "timeout": DURATION,
        "tls_verify": {"type": "boolean"},
    }
    for key in preset_keys:
        properties.setdefault(key, {})
    return obj(properties)


def main():
    preset_keys = sys.argv[1:]  # extra webhook keys (presets, auth), if any
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
                "webhook": webhook_schema(preset_keys),
                "max_concurrent": integer(1, 256),
                "retry": obj({"max_attempts": integer(1, 100), "initial_backoff": DURATION,
                              "max_backoff": DURATION}),
            }, required=["name"])},
            "defaults": obj(RULE_PROPERTIES, description="any rule key; a rule's own value wins"),
            "rules": {"type": "array", "items": obj(RULE_PROPERTIES, required=["name"])},
            "include": {"type": "array", "items": {"type": "string"},
                        "description": "files (globs) holding more rules"},
        },
    }
    out = pathlib.Path(__file__).resolve().parent.parent / "docs" / "gapwatch.schema.json"
    out.write_text(json.dumps(schema, indent=2) + "\n")


if __name__ == "__main__":
    main()
