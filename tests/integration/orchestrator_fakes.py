#!/usr/bin/env python3
"""Local stand-ins for the orchestrator APIs gapwatch's presets call, on 127.0.0.1.

One server answers every API by its path, as the real systems document them:

  POST /auth/token                                   Airflow 3 login -> JWT
  POST /api/v1/dags/{dag_id}/dagRuns                 Airflow 2 (basic auth)
  POST /api/v2/dags/{dag_id}/dagRuns                 Airflow 3 (JWT)
  POST /api/v2/backfills                             Airflow 3 backfill (JWT)
  GET  /api/v1|v2/dags/{dag_id}/dagRuns/{run_id}     Airflow 2/3: a run's state (--runs)
  GET  /api/v2/dags/{dag_id}/dagRuns?run_type=...    Airflow 3: runs (a backfill's, --runs)
  GET  /api/v2/backfills?dag_id=D, /backfills/{id}   Airflow 3: backfills
  POST /api/deployments/{id}/create_flow_run         Prefect (api_url = .../api)
  GET  /api/flow_runs/{id}                           Prefect read_flow_run
  POST /graphql                                      Dagster launchPartitionBackfill / launchRun,
                                                     runOrError / partitionBackfillOrError
  POST /{tenant}/oauth2/v2.0/token                   Microsoft Entra ID client credentials
  POST /subscriptions/.../pipelines/{p}/createRun    Azure Data Factory (Entra token)
  GET  /subscriptions/.../pipelineruns/{runId}       Azure Data Factory PipelineRuns_Get

Each request is checked field by field against the documented request shape
(method, path, headers, JSON body; unknown fields are refused where the real
API refuses them) and answered with the real system's success, duplicate or
error body. State is real: a dag_run_id or Prefect idempotency key seen before
gets the duplicate answer, tokens expire and can be revoked. Every request is
logged as one JSON object per line (--log), tokens issued included.

  orchestrator_fakes.py --port-file F --log F [--script ok,lost,500,429:2]
      [--exists NAME]... [--airflow2-basic USER:PASS] [--airflow3-login USER:PASS]
      [--airflow2-version 2.N.P] [--scheduled DAG]...
      [--prefect-key KEY] [--dagster-token TOKEN] [--entra TENANT:CLIENT:SECRET]
      [--token-lifetime SECONDS] [--revoke-first-token] [--on-accept CMD]

Script items apply to orchestrator calls (not token endpoints), in order, the
last repeating: ok (handle the call), lost (handle it, then close the
connection without answering, as when an answer is lost), CODE or CODE:RETRY_AFTER
(answer that status without handling the call). --exists names the DAGs,
deployments, partition sets, jobs, asset keys (a/b) and pipelines that exist;
anything else gets the system's "not found" answer. --on-accept runs
CMD TABLE WINDOW_START WINDOW_END for each call it handled, after answering
(after the next answer when the answer was lost), as the orchestrator running
the backfill would. --runs queued,running,success (or ...,failed / cancelled)
scripts the states a started run reports, one step per poll of that run, in
each orchestrator's own names; with --runs the loader runs when a poll first
reports success, never for a failed or cancelled run.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JWT_KEY = b"orchestrator-fakes-signing-key"
RFC3339_AWARE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ARM_PATH = re.compile(
    r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.DataFactory/"
    r"factories/([^/]+)/pipelines/([^/]+)/createRun$")
ARM_RUN_PATH = re.compile(
    r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.DataFactory/"
    r"factories/([^/]+)/pipelineruns/([^/]+)$")
# Prefect routes flow runs by "/{id:uuid}": any other text is not a route (404).
PREFECT_RUN_PATH = re.compile(r"^/api/flow_runs/([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                              r"[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})$")


class Reply(Exception):
    """An HTTP answer raised from deep in the checks."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso_z(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Fakes:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.script = args.script.split(",")
        self.calls = 0
        self.exists = set(args.exists)
        self.tokens = {}  # token -> (expires_at epoch seconds, audience)
        self.revoked = set()
        self.issued = 0
        self.dag_runs = {}  # (dag_id, run_id) -> run
        self.logical_dates = {}  # (dag_id, logical_date) -> run_id
        self.backfills = []  # Airflow 3 backfills, by id - 1
        self.flow_runs = {}  # idempotency key -> flow run
        self.started = {}  # ("prefect" | "dagster_run" | "dagster_backfill" | "adf", id) -> native record
        self.pending = []  # (table, start, end) of accepted runs not yet run
        self.runs = args.runs.split(",") if args.runs else None  # --runs, neutral state names
        self.run_steps = {}  # run key -> {"polls": n, "window": (table, start, end), "loaded": bool}

    # ---- runs (--runs) --------------------------------------------------
    def register_run(self, key, window):
        """A run the fake started for `window` ((table, start, end) or None)."""
        with self.lock:
            self.run_steps.setdefault(key, {"polls": 0, "window": window, "loaded": False})

    def run_step(self, key):
        """The neutral state (queued, running, success, failed, cancelled) a poll of run `key`
        sees: one step of --runs per poll, the last repeating; without --runs, `success`. The
        first poll that sees `success` queues the --on-accept loader for the run's window, as the
        orchestrator's run would have loaded it; a failed or cancelled run never loads."""
        with self.lock:
            run = self.run_steps.setdefault(key, {"polls": 0, "window": None, "loaded": False})
            states = self.runs or ["success"]
            state = states[min(run["polls"], len(states) - 1)]
            run["polls"] += 1
            window = run["window"]
            if (state == "success" and self.runs and not run["loaded"] and window
                    and self.args.on_accept and window[1] and window[2]):
                run["loaded"] = True
                self.pending.append((window[0] or self.args.table, window[1], window[2]))
            return state

    # ---- tokens -------------------------------------------------------
    def issue(self, audience, subject):
        with self.lock:
            self.issued += 1
            issued_at = int(time.time())
            expires = issued_at + self.args.token_lifetime
            header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
            payload = b64url(json.dumps({"sub": subject, "aud": audience, "iat": issued_at,
                                         "exp": expires, "jti": str(uuid.uuid4())}).encode())
            signature = b64url(hmac.new(JWT_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest())
            token = f"{header}.{payload}.{signature}"
            self.tokens[token] = (expires, audience)
            if self.args.revoke_first_token and self.issued == 1:
                self.revoked.add(token)
            return token, self.args.token_lifetime

    def bearer(self, headers, audience, refuse):
        """The valid token of an Authorization: Bearer header, or `refuse(reason)`."""
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            refuse("missing bearer token")
        token = value[len("Bearer "):]
        with self.lock:
            known = self.tokens.get(token)
            revoked = token in self.revoked
        if known is None or known[1] != audience:
            refuse("unknown token")
        if revoked:
            refuse("revoked token")
        if time.time() >= known[0]:
            refuse("expired token")
        return token

    def entra_token(self, tenant, form):
        expected_tenant, client_id, secret = self.args.entra.split(":", 2)
        for key in form:
            if key not in ("grant_type", "client_id", "client_secret", "scope"):
                raise Reply(400, {"error": "invalid_request",
                                  "error_description": f"AADSTS900144: unexpected parameter '{key}'."})
        if form.get("grant_type") != "client_credentials":
            raise Reply(400, {"error": "unsupported_grant_type",
                              "error_description": "AADSTS70003: The app requested an unsupported grant type."})
        if tenant != expected_tenant:
            raise Reply(400, {"error": "invalid_request",
                              "error_description": f"AADSTS90002: Tenant '{tenant}' not found."})
        if form.get("scope") != "https://management.azure.com/.default":
            raise Reply(400, {"error": "invalid_scope",
                              "error_description": "AADSTS1002012: The provided value for scope is not valid."})
        if form.get("client_id") != client_id:
            raise Reply(400, {"error": "unauthorized_client",
                              "error_description": f"AADSTS700016: Application with identifier "
                                                   f"'{form.get('client_id')}' was not found in the directory."})
        if form.get("client_secret") != secret:
            raise Reply(401, {"error": "invalid_client",
                              "error_description": "AADSTS7000215: Invalid client secret provided."})
        token, lifetime = self.issue("https://management.azure.com/", client_id)
        return 200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                     "access_token": token}

    def airflow_login(self, body):
        user, password = self.args.airflow3_login.split(":", 1)
        if not isinstance(body, dict):
            raise Reply(422, {"detail": [{"type": "model_attributes_type", "loc": ["body"],
                                          "msg": "Input should be a valid dictionary"}]})
        unknown = [k for k in body if k not in ("username", "password")]
        missing = [k for k in ("username", "password") if k not in body]
        if unknown or missing:
            raise Reply(422, {"detail": [{"type": "extra_forbidden", "loc": ["body", k],
                                          "msg": "Extra inputs are not permitted"} for k in unknown] +
                        [{"type": "missing", "loc": ["body", k], "msg": "Field required"} for k in missing]})
        if body["username"] != user or body["password"] != password:
            raise Reply(401, {"detail": "Invalid credentials"})
        token, _ = self.issue("apache-airflow", user)
        return 201, {"access_token": token}

    # ---- Airflow ----------------------------------------------------------
    def airflow_auth(self, headers, version):
        if version == 1:
            user, password = self.args.airflow2_basic.split(":", 1)
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if headers.get("authorization") != expected:
                raise Reply(401, {"detail": None, "status": 401, "title": "Unauthorized",
                                  "type": "https://airflow.apache.org/docs/apache-airflow/2.10.5/"
                                          "stable-rest-api-ref.html#section/Errors/Unauthenticated"},
                            {"WWW-Authenticate": "Basic"})
        else:
            def refuse(reason):
                # An API that echoes what it refused: the token must not reach gapwatch's records.
                raise Reply(401, {"detail": f"Invalid JWT token ({reason}): {headers.get('authorization', '')}"})
            self.bearer(headers, "apache-airflow", refuse)

    # Sources (apache/airflow unless said otherwise):
    #   A2 = airflow/api_connexion/openapi/v1.yaml and endpoints/dag_run_endpoint.py (2.10.x),
    #        apache/airflow-client-python docs/DAGRun.md (data_interval_* writable) and
    #        docs/BasicDAGRun.md (read-only before);
    #   A3 = airflow-core/src/airflow/api_fastapi/core_api/routes/public/dag_run.py and
    #        backfills.py, core_api/datamodels/dag_run.py and backfills.py (3.0-3.2),
    #        airflow-core/src/airflow/models/dagrun.py (DagRun.__table_args__),
    #        models/backfill.py (_create_backfill, _create_backfill_dag_run).
    def airflow_dag_run(self, version, dag_id, body):
        if version == 1:
            allowed = {"dag_run_id", "logical_date", "execution_date", "conf", "note"}
            # A2: data_interval_start/_end are loadable fields of DAGRunSchema from 2.9 on
            # (read-only, so "Unknown field." for marshmallow, before).
            if self.airflow2_minor() >= 9:
                allowed |= {"data_interval_start", "data_interval_end"}
            unknown = sorted(set(body) - allowed)
            if unknown:
                raise Reply(400, {"detail": str({k: ["Unknown field."] for k in unknown}), "status": 400,
                                  "title": "Bad Request", "type": "about:blank"})
        else:
            # A3 TriggerDAGRunPostBody (StrictBaseModel: extra fields forbidden; logical_date required,
            # may be null).
            allowed = {"dag_run_id", "data_interval_start", "data_interval_end", "logical_date",
                       "run_after", "conf", "note"}
            errors = [{"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted",
                       "input": body[k]} for k in sorted(set(body) - allowed)]
            if "logical_date" not in body:
                errors.append({"type": "missing", "loc": ["body", "logical_date"], "msg": "Field required",
                               "input": body})
            if errors:
                raise Reply(422, {"detail": errors})
        for key in ("logical_date", "data_interval_start", "data_interval_end"):
            value = body.get(key)
            if value is not None and not (isinstance(value, str) and RFC3339_AWARE.match(value)):
                raise Reply(422 if version == 2 else 400,
                            {"detail": [{"type": "timezone_aware", "loc": ["body", key],
                                         "msg": "Input should have timezone info", "input": value}]})
        if ("data_interval_start" in body) != ("data_interval_end" in body) or \
                (body.get("data_interval_start") is None) != (body.get("data_interval_end") is None):
            raise Reply(422 if version == 2 else 400, {"detail": [{
                "type": "value_error", "loc": ["body"],
                "msg": "Value error, Either both data_interval_start and data_interval_end must be provided "
                       "or both must be None"}]})
        if "conf" in body and not isinstance(body["conf"], dict):
            raise Reply(422 if version == 2 else 400,
                        {"detail": [{"type": "dict_type", "loc": ["body", "conf"],
                                     "msg": "Input should be a valid dictionary"}]})
        if dag_id not in self.exists:
            raise Reply(404, {"detail": f"DAG with dag_id: '{dag_id}' not found", "status": 404,
                              "title": "DAG not found", "type": "about:blank"})
        run_id = body.get("dag_run_id") or f"manual__{now_iso()}"
        logical_date = body.get("logical_date")
        if version == 1 and logical_date is None:
            logical_date = now_iso()  # A2 post_dag_run: the logical date defaults to now
        # A3 TriggerDAGRunPostBody.validate_context: the data interval is built only from a
        # logical date; with logical_date null the run has none.
        interval = (body.get("data_interval_start"), body.get("data_interval_end"))
        if version == 2 and logical_date is None:
            interval = (None, None)
        with self.lock:
            self.scheduler_run(dag_id, logical_date)
            clash_id = (dag_id, run_id) in self.dag_runs
            clash_date = logical_date is not None and (dag_id, parse_time(logical_date)) in self.logical_dates
            if clash_id or clash_date:
                if version == 1:
                    # A2 post_dag_run: one query on run_id OR logical date; a clash on the logical date is
                    # named first, whoever's run it is.
                    if clash_date:
                        raise Reply(409, {"detail": f"DAGRun with DAG ID: '{dag_id}' and DAGRun logical date: "
                                                    f"'{parse_time(logical_date).isoformat(sep=' ')}' already "
                                                    "exists", "status": 409, "title": "Conflict",
                                          "type": "about:blank"})
                    raise Reply(409, {"detail": f"DAGRun with DAG ID: '{dag_id}' and DAGRun ID: '{run_id}' "
                                                "already exists", "status": 409, "title": "Conflict",
                                      "type": "about:blank"})
                # A3: the IntegrityError of dag_run's unique keys becomes a 409 through the API's
                # unique-constraint handler; 3.0-3.2 have (dag_id, run_id) and (dag_id, logical_date)
                # (the latter replaced in 3.3 by (dag_id, run_type, logical_date): migration
                # "Allow different Dag run types to share logical dates", airflow_version 3.3.0).
                columns = "dag_run.dag_id, dag_run.run_id" if clash_id else "dag_run.dag_id, dag_run.logical_date"
                raise Reply(409, {"detail": {"reason": "Unique constraint violation",
                                             "statement": "INSERT INTO dag_run (...) VALUES (...)",
                                             "orig_error": f"UNIQUE constraint failed: {columns}",
                                             "message": "Serious error when handling your request. Check logs "
                                                        "for more details - you will find it in api server when "
                                                        "you look for ID ..."}})
            run = {"dag_run_id": run_id, "dag_id": dag_id, "logical_date": logical_date,
                   "queued_at": now_iso(), "start_date": None, "end_date": None,
                   "data_interval_start": interval[0], "data_interval_end": interval[1],
                   "run_after": body.get("run_after") or now_iso(), "last_scheduling_decision": None,
                   "run_type": "manual", "state": "queued", "triggered_by": "rest_api",
                   "conf": body.get("conf", {}), "note": body.get("note")}
            if version == 1:
                run["execution_date"] = logical_date
                run["external_trigger"] = True
                for key in ("queued_at", "run_after", "triggered_by"):
                    del run[key]
            self.dag_runs[(dag_id, run_id)] = run
            if logical_date:
                self.logical_dates[(dag_id, parse_time(logical_date))] = run_id
        conf = body.get("conf", {})
        window = (conf.get("table"), conf.get("window_start") or interval[0], conf.get("window_end") or interval[1])
        self.register_run(("dag_run", dag_id, run_id), window)
        return 200, run, window

    def airflow2_minor(self):
        major, minor = self.args.airflow2_version.split(".")[:2]
        return int(minor) if major == "2" else 99

    def scheduler_run(self, dag_id, logical_date):
        """--scheduled DAG: the scheduler has already run DAG for every logical date on the hour, as
        for an hourly schedule; its run for `logical_date` is made on first sight. Call with the
        lock held."""
        if dag_id not in self.args.scheduled or logical_date is None:
            return
        moment = parse_time(logical_date)
        if moment.minute or moment.second or moment.microsecond or (dag_id, moment) in self.logical_dates:
            return
        run_id = f"scheduled__{moment.isoformat()}"
        self.dag_runs[(dag_id, run_id)] = {
            "dag_run_id": run_id, "dag_id": dag_id, "logical_date": iso_z(moment), "run_type": "scheduled",
            "state": "success", "conf": {}, "note": None}
        self.logical_dates[(dag_id, moment)] = run_id

    def airflow_get_dag_run(self, version, dag_id, run_id):
        """GET dagRuns/{dag_run_id} (A2 get_dag_run, A3 get_dag_run): the run, its state one step
        of --runs per poll. Airflow's DagRunState has no `cancelled`: a run someone stops is marked
        failed."""
        with self.lock:
            run = self.dag_runs.get((dag_id, run_id))
        if run is None:
            if version == 1:
                raise Reply(404, {"detail": f"DAGRun with DAG ID: '{dag_id}' and DAGRun ID: '{run_id}' not found",
                                  "status": 404, "title": "DAGRun not found", "type": "about:blank"})
            raise Reply(404, {"detail": f"The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"})
        if run["run_type"] == "manual":
            state = self.run_step(("dag_run", dag_id, run_id))
            with self.lock:
                run["state"] = "failed" if state == "cancelled" else state
                if run["state"] != "queued" and run["start_date"] is None:
                    run["start_date"] = now_iso()
                if run["state"] in ("success", "failed") and run["end_date"] is None:
                    run["end_date"] = now_iso()
        return 200, dict(run), None

    def airflow_backfill(self, body):
        # A3 BackfillPostBody (StrictBaseModel).
        allowed = {"dag_id", "from_date", "to_date", "run_backwards", "dag_run_conf",
                   "reprocess_behavior", "max_active_runs", "run_on_latest_version"}
        errors = [{"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted",
                   "input": body[k]} for k in sorted(set(body) - allowed)]
        errors += [{"type": "missing", "loc": ["body", k], "msg": "Field required", "input": body}
                   for k in ("dag_id", "from_date", "to_date") if k not in body]
        if body.get("reprocess_behavior", "none") not in ("none", "failed", "completed"):
            errors.append({"type": "enum", "loc": ["body", "reprocess_behavior"],
                           "msg": "Input should be 'failed', 'completed' or 'none'"})
        if not isinstance(body.get("max_active_runs", 10), int):
            errors.append({"type": "int_type", "loc": ["body", "max_active_runs"],
                           "msg": "Input should be a valid integer"})
        if not isinstance(body.get("dag_run_conf", {}), dict):
            errors.append({"type": "dict_type", "loc": ["body", "dag_run_conf"],
                           "msg": "Input should be a valid dictionary"})
        for key in ("from_date", "to_date"):
            if key in body and not (isinstance(body[key], str) and RFC3339_AWARE.match(body[key])):
                errors.append({"type": "datetime_from_date_parsing", "loc": ["body", key],
                               "msg": "Input should be a valid datetime"})
        if errors:
            raise Reply(422, {"detail": errors})
        dag_id = body["dag_id"]
        if dag_id not in self.exists:
            raise Reply(404, {"detail": f"Could not find dag {dag_id}"})
        if parse_time(body["from_date"]) > parse_time(body["to_date"]):
            raise Reply(422, {"detail": "from_date must be before to_date"})
        with self.lock:
            # A3 _create_backfill: AlreadyRunningBackfill when a backfill of the DAG has no
            # completed_at, answered 409 by create_backfill.
            if any(b["dag_id"] == dag_id and b["completed_at"] is None for b in self.backfills):
                raise Reply(409, {"detail": f"There is already a running backfill for dag {dag_id}"})
            backfill_id = len(self.backfills) + 1
            conf = body.get("dag_run_conf", {})
            backfill = {"id": backfill_id, "dag_id": dag_id, "from_date": iso_z(parse_time(body["from_date"])),
                        "to_date": iso_z(parse_time(body["to_date"])), "dag_run_conf": conf, "is_paused": False,
                        "reprocess_behavior": body.get("reprocess_behavior", "none"),
                        "max_active_runs": body.get("max_active_runs", 10), "selected_task_ids": None,
                        "created_at": now_iso(), "completed_at": None, "updated_at": now_iso(),
                        "dag_display_name": dag_id}
            self.backfills.append(backfill)
            # A3 _create_backfill_dag_run: every run of the range is created with the backfill (an
            # existing run is cleared and becomes a backfill run with reprocess failed/completed);
            # the fake's DAGs are hourly.
            moment = parse_time(body["from_date"])
            if moment.minute or moment.second:
                moment = moment.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
            reprocess = {"none": (), "failed": ("failed",),
                         "completed": ("success", "failed")}[backfill["reprocess_behavior"]]
            while moment <= parse_time(body["to_date"]):
                existing = self.dag_runs.get((dag_id, self.logical_dates.get((dag_id, moment))))
                if existing is None:
                    run_id = f"backfill__{moment.isoformat()}"
                    self.dag_runs[(dag_id, run_id)] = {
                        "dag_run_id": run_id, "dag_id": dag_id, "logical_date": iso_z(moment),
                        "run_type": "backfill", "state": "queued", "conf": conf, "note": None,
                        "backfill_id": backfill_id}
                    self.logical_dates[(dag_id, moment)] = run_id
                elif existing["state"] in reprocess:
                    existing.update(run_type="backfill", state="queued", backfill_id=backfill_id)
                moment += datetime.timedelta(hours=1)
        window = (conf.get("table"), conf.get("window_start"), conf.get("window_end"))
        self.register_run(("backfill", backfill_id), window)
        return 200, dict(backfill), window

    def airflow_list_backfills(self, query):
        """A3 list_backfills: dag_id required; order_by id or -id; limit and offset."""
        if "dag_id" not in query:
            raise Reply(422, {"detail": [{"type": "missing", "loc": ["query", "dag_id"], "msg": "Field required",
                                          "input": None}]})
        with self.lock:
            found = [dict(b) for b in self.backfills if b["dag_id"] == query["dag_id"]]
        found.sort(key=lambda b: b["id"], reverse=query.get("order_by", "id") == "-id")
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 50))
        return 200, {"backfills": found[offset:offset + limit], "total_entries": len(found)}, None

    def airflow_get_backfill(self, backfill_id):
        """A3 get_backfill."""
        with self.lock:
            found = [dict(b) for b in self.backfills if str(b["id"]) == backfill_id]
        if not found:
            raise Reply(404, {"detail": "Backfill not found"})
        return 200, found[0], None

    def airflow_list_dag_runs(self, dag_id, query):
        """A3 get_dag_runs with run_type and logical_date_gte/_lte filters and order_by. A poll of a backfill's
        runs steps that backfill by one of --runs: all its runs report that state, and the backfill is
        completed (completed_at, no longer blocking a new one) once they have ended."""
        if dag_id not in self.exists:
            raise Reply(404, {"detail": f"The DAG with dag_id: `{dag_id}` was not found"})
        low = parse_time(query["logical_date_gte"]) if "logical_date_gte" in query else None
        high = parse_time(query["logical_date_lte"]) if "logical_date_lte" in query else None
        run_types = query.get("run_type", "").split(",") if query.get("run_type") else None
        with self.lock:
            runs = [r for (d, _), r in self.dag_runs.items() if d == dag_id
                    and (run_types is None or r["run_type"] in run_types)
                    and r["logical_date"] is not None
                    and (low is None or parse_time(r["logical_date"]) >= low)
                    and (high is None or parse_time(r["logical_date"]) <= high)]
            backfills = {r["backfill_id"] for r in runs if r.get("backfill_id")}
        for backfill_id in sorted(backfills):
            state = self.run_step(("backfill", backfill_id))
            with self.lock:
                for run in runs:
                    if run.get("backfill_id") == backfill_id:
                        run["state"] = "failed" if state == "cancelled" else state
                if state in ("success", "failed", "cancelled"):
                    for backfill in self.backfills:
                        if backfill["id"] == backfill_id and backfill["completed_at"] is None:
                            backfill["completed_at"] = now_iso()
        # A3 get_dag_runs: order_by one of the listed columns (id by default), "-" for descending.
        order = query.get("order_by", "id")
        column = {"id": "logical_date", "dag_run_id": "dag_run_id"}.get(order.lstrip("-"), order.lstrip("-"))
        runs.sort(key=lambda r: str(r.get(column)), reverse=order.startswith("-"))
        limit = int(query.get("limit", 50))
        return 200, {"dag_runs": [dict(r) for r in runs[:limit]], "total_entries": len(runs)}, None

    # ---- Prefect ------------------------------------------------------------
    def prefect(self, deployment_id, headers, body):
        if self.args.prefect_key and headers.get("authorization") != f"Bearer {self.args.prefect_key}":
            raise Reply(401, {"detail": "Unauthorized"})
        allowed = {"state", "name", "parameters", "enforce_parameter_schema", "context",
                   "infrastructure_document_id", "empirical_policy", "tags", "idempotency_key",
                   "parent_task_run_id", "work_queue_name", "job_variables", "labels"}
        errors = [{"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted",
                   "input": body[k]} for k in sorted(set(body) - allowed)]
        if not isinstance(body.get("parameters", {}), dict):
            errors.append({"type": "dict_type", "loc": ["body", "parameters"], "msg": "Input should be a valid dictionary"})
        if not isinstance(body.get("tags", []), list) or not all(isinstance(t, str) for t in body.get("tags", [])):
            errors.append({"type": "list_type", "loc": ["body", "tags"], "msg": "Input should be a valid list"})
        for key in ("name", "idempotency_key"):
            if key in body and not isinstance(body[key], str):
                errors.append({"type": "string_type", "loc": ["body", key], "msg": "Input should be a valid string"})
        if errors:
            raise Reply(422, {"exception_message": "Invalid request received.", "exception_detail": errors,
                              "request_body": body})
        if deployment_id not in self.exists:
            raise Reply(404, {"detail": "Deployment not found"})
        declared = {"window_start", "window_end"}
        extra = sorted(set(body.get("parameters", {})) - declared)
        if extra:
            raise Reply(409, {"detail": f"Error creating flow run: Validation failed for field "
                                        f"'{extra[0]}'. Failure reason: Additional properties are not allowed"})
        key = body.get("idempotency_key")
        with self.lock:
            if key and key in self.flow_runs:
                return 200, self.flow_runs[key], None
            run = {"id": str(uuid.uuid4()), "created": now_iso(), "name": body.get("name", "fake-flow-run"),
                   "flow_id": str(uuid.uuid4()), "deployment_id": deployment_id,
                   "parameters": body.get("parameters", {}), "idempotency_key": key,
                   "tags": body.get("tags", []), "state_type": "SCHEDULED", "state_name": "Scheduled",
                   "state": {"type": "SCHEDULED", "name": "Scheduled", "timestamp": now_iso()}}
            if key:
                self.flow_runs[key] = run
            self.started[("prefect", run["id"])] = run
        parameters = body.get("parameters", {})
        window = (None, parameters.get("window_start"), parameters.get("window_end"))
        self.register_run(("prefect", run["id"]), window)
        return 201, run, window

    # Prefect's state types and default names (PrefectHQ/prefect 3.x,
    # src/prefect/client/schemas/objects.py StateType; names as the states.py
    # constructors Scheduled(), Running(), Completed(), Failed(), Cancelled() give them).
    PREFECT_STATES = {"queued": ("SCHEDULED", "Scheduled", None),
                      "running": ("RUNNING", "Running", None),
                      "success": ("COMPLETED", "Completed", None),
                      "failed": ("FAILED", "Failed", "Flow run encountered an exception: "
                                                     "KeyError: 'events'"),
                      "cancelled": ("CANCELLED", "Cancelled", "Flow run was cancelled.")}

    def prefect_read_flow_run(self, flow_run_id, headers):
        """GET /api/flow_runs/{id}: PrefectHQ/prefect src/prefect/server/api/flow_runs.py
        read_flow_run answers the FlowRunResponse (state_type, state_name and the state object
        with type, name, message) or 404 {"detail": "Flow run not found"}."""
        if self.args.prefect_key and headers.get("authorization") != f"Bearer {self.args.prefect_key}":
            raise Reply(401, {"detail": "Unauthorized"})
        with self.lock:
            run = self.started.get(("prefect", flow_run_id.lower()))
        if run is None:
            raise Reply(404, {"detail": "Flow run not found"})
        state_type, name, message = self.PREFECT_STATES[self.run_step(("prefect", run["id"]))]
        state = {"type": state_type, "name": name, "timestamp": now_iso(), "message": message}
        return 200, dict(run, state_type=state_type, state_name=name, state=state), None

    # ---- Dagster --------------------------------------------------------------
    def dagster(self, headers, body):
        if self.args.dagster_token and headers.get("dagster-cloud-api-token") != self.args.dagster_token:
            raise Reply(401, {"errors": [{"message": "Unauthorized: invalid Dagster Cloud API token"}]})
        unknown = sorted(set(body) - {"query", "variables", "operationName"})
        if unknown or not isinstance(body.get("query"), str):
            raise Reply(400, {"errors": [{"message": "POST body must hold query, variables and operationName"}]})
        query = body["query"]
        variables = body.get("variables") or {}

        def invalid(variable, message):
            raise Reply(200, {"errors": [{"message": f"Variable '${variable}' got invalid value; {message}",
                                          "locations": [{"line": 1, "column": 10}]}]})

        def fields(value, name, allowed, variable, required=()):
            if not isinstance(value, dict):
                invalid(variable, f"Expected type '{name}' to be an object.")
            for key in value:
                if key not in allowed:
                    invalid(variable, f"Field '{key}' is not defined by type '{name}'.")
            for key in required:
                if key not in value:
                    invalid(variable, f"Field '{name}.{key}' of required type was not provided.")

        def tags_of(value, variable):
            if not isinstance(value, list):
                invalid(variable, "Expected type '[ExecutionTag!]'.")
            for tag in value:
                fields(tag, "ExecutionTag", {"key", "value"}, variable, ("key", "value"))
            return {tag["key"]: tag["value"] for tag in value}

        if "launchPartitionBackfill(" in query:
            params = variables.get("backfillParams")
            fields(params, "LaunchBackfillParams",
                   {"selector", "partitionNames", "partitionsByAssets", "reexecutionSteps", "assetSelection",
                    "fromFailure", "allPartitions", "tags", "forceSynchronousSubmission", "title",
                    "description", "runConfigData"}, "backfillParams")
            tags_of(params.get("tags", []), "backfillParams")
            if "selector" in params:
                fields(params["selector"], "PartitionSetSelector", {"partitionSetName", "repositorySelector"},
                       "backfillParams", ("partitionSetName", "repositorySelector"))
                fields(params["selector"]["repositorySelector"], "RepositorySelector",
                       {"repositoryLocationName", "repositoryName"}, "backfillParams",
                       ("repositoryLocationName", "repositoryName"))
                name = params["selector"]["partitionSetName"]
                names = params.get("partitionNames")
                if not isinstance(names, list) or not names:
                    # A PythonError carries the exception's className (dagster-graphql
                    # schema/errors.py GraphenePythonError), here the invariant error
                    # dagster-graphql's backfill launch raises for missing partitions.
                    return 200, {"data": {"launchPartitionBackfill": {
                        "__typename": "PythonError", "className": "DagsterInvariantViolationError",
                        "message": "Must specify partitionNames or allPartitions"}}}, None
                if name not in self.exists:
                    return 200, {"data": {"launchPartitionBackfill": {
                        "__typename": "PartitionSetNotFoundError",
                        "message": f"Partition set {name} could not be found."}}}, None
                first, last = names[0], names[-1]
            elif "partitionsByAssets" in params:
                for item in params["partitionsByAssets"]:
                    fields(item, "PartitionsByAssetSelector", {"assetKey", "partitions"}, "backfillParams",
                           ("assetKey",))
                    fields(item["assetKey"], "AssetKeyInput", {"path"}, "backfillParams", ("path",))
                    fields(item.get("partitions", {}), "PartitionsSelector", {"range", "ranges"}, "backfillParams")
                    key = "/".join(item["assetKey"]["path"])
                    if key not in self.exists:
                        return 200, {"data": {"launchPartitionBackfill": {
                            "__typename": "PythonError", "className": "DagsterInvariantViolationError",
                            "message": f"dagster._core.errors.DagsterInvariantViolationError: Asset {key} not found"}}}, None
                window = params["partitionsByAssets"][0]["partitions"]["range"]
                first, last = window["start"], window["end"]
            else:
                invalid("backfillParams", "give selector or partitionsByAssets")
            backfill_id = uuid.uuid4().hex[:8]
            answer = {"data": {"launchPartitionBackfill": {"__typename": "LaunchBackfillSuccess",
                                                           "backfillId": backfill_id}}}
            window = (None,) + hourly_window(first, last)
            self.register_run(("dagster_backfill", backfill_id), window)
            return 200, answer, window
        if "launchRun(" in query:
            params = variables.get("executionParams")
            fields(params, "ExecutionParams", {"selector", "runConfigData", "mode", "executionMetadata",
                                               "stepKeys", "preset"}, "executionParams", ("selector",))
            fields(params["selector"], "JobOrPipelineSelector",
                   {"repositoryLocationName", "repositoryName", "jobName", "pipelineName", "solidSelection",
                    "assetSelection", "assetCheckSelection"}, "executionParams",
                   ("repositoryLocationName", "repositoryName"))
            fields(params.get("executionMetadata", {}), "ExecutionMetadata",
                   {"runId", "tags", "rootRunId", "parentRunId"}, "executionParams")
            tags = tags_of(params.get("executionMetadata", {}).get("tags", []), "executionParams")
            job = params["selector"].get("jobName")
            if job not in self.exists:
                location = params["selector"]["repositoryLocationName"]
                return 200, {"data": {"launchRun": {
                    "__typename": "PipelineNotFoundError", "pipelineName": job,
                    "message": f"Could not find Pipeline {location}.{params['selector']['repositoryName']}.{job}"}}}, None
            partition = tags.get("dagster/partition")
            if partition is None:
                return 200, {"data": {"launchRun": {"__typename": "RunConfigValidationInvalid",
                                                    "message": "partitioned job run without a partition"}}}, None
            run_id = str(uuid.uuid4())
            answer = {"data": {"launchRun": {"__typename": "LaunchRunSuccess",
                                             "run": {"runId": run_id, "status": "QUEUED"}}}}
            window = (None,) + hourly_window(partition, partition)
            self.register_run(("dagster_run", run_id), window)
            return 200, answer, window
        if "runOrError(" in query:
            return self.dagster_run_or_error(variables)
        if "partitionBackfillOrError(" in query:
            return self.dagster_backfill_or_error(variables)
        raise Reply(200, {"errors": [{"message": "Cannot query field on type 'Mutation'."}]})

    # Run and backfill states as Dagster's GraphQL names them: RunStatus
    # (dagster-io/dagster python_modules/dagster-graphql/dagster_graphql/schema/
    # pipelines/pipeline.py, from DagsterRunStatus) and BulkActionStatus
    # (schema/backfill.py; COMPLETED_SUCCESS / COMPLETED_FAILED since
    # dagster-io/dagster#24365, Dagster 1.8). A backfill has no queued state of its own:
    # it is REQUESTED until its runs end.
    DAGSTER_RUN_STATUS = {"queued": "QUEUED", "running": "STARTED", "success": "SUCCESS",
                          "failed": "FAILURE", "cancelled": "CANCELED"}
    DAGSTER_BACKFILL_STATUS = {"queued": "REQUESTED", "running": "REQUESTED", "success": "COMPLETED_SUCCESS",
                               "failed": "COMPLETED_FAILED", "cancelled": "CANCELED"}

    def dagster_run_or_error(self, variables):
        """Query runOrError(runId: ID!): RunOrError = Run | RunNotFoundError | PythonError
        (dagster-graphql schema/roots/query.py, schema/errors.py GrapheneRunNotFoundError)."""
        run_id = variables.get("runId")
        if not isinstance(run_id, str):
            raise Reply(200, {"errors": [{"message": "Variable '$runId' of required type 'ID!' was not provided."}]})
        with self.lock:
            known = ("dagster_run", run_id) in self.run_steps
        if not known:
            return 200, {"data": {"runOrError": {"__typename": "RunNotFoundError", "runId": run_id,
                                                 "message": f"Run {run_id} could not be found."}}}, None
        status = self.DAGSTER_RUN_STATUS[self.run_step(("dagster_run", run_id))]
        return 200, {"data": {"runOrError": {"__typename": "Run", "runId": run_id, "status": status}}}, None

    def dagster_backfill_or_error(self, variables):
        """Query partitionBackfillOrError(backfillId: String!): PartitionBackfill |
        BackfillNotFoundError | PythonError (dagster-graphql schema/backfill.py); a failed
        backfill's `error` is a PythonError or null."""
        backfill_id = variables.get("backfillId")
        if not isinstance(backfill_id, str):
            raise Reply(200, {"errors": [{"message": "Variable '$backfillId' of required type 'String!' "
                                                     "was not provided."}]})
        with self.lock:
            known = ("dagster_backfill", backfill_id) in self.run_steps
        if not known:
            return 200, {"data": {"partitionBackfillOrError": {
                "__typename": "BackfillNotFoundError", "backfillId": backfill_id,
                "message": f"Backfill {backfill_id} could not be found."}}}, None
        status = self.DAGSTER_BACKFILL_STATUS[self.run_step(("dagster_backfill", backfill_id))]
        return 200, {"data": {"partitionBackfillOrError": {
            "__typename": "PartitionBackfill", "id": backfill_id, "status": status, "error": None}}}, None

    # ---- Azure Data Factory ------------------------------------------------------
    def adf(self, match, query, headers, body):
        if query.get("api-version") != "2018-06-01":
            raise Reply(400, {"error": {"code": "MissingApiVersionParameter" if "api-version" not in query
                                        else "InvalidApiVersionParameter",
                                        "message": "The api-version query parameter (?api-version=) is required "
                                                   "for all requests; use 2018-06-01."}})

        def refuse(reason):
            code = "ExpiredAuthenticationToken" if reason == "expired token" else "InvalidAuthenticationToken"
            raise Reply(401, {"error": {"code": code, "message": f"The access token is invalid ({reason})."}},
                        {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/'
                                             'common", error="invalid_token"'})
        self.bearer(headers, "https://management.azure.com/", refuse)
        if not isinstance(body, dict):
            raise Reply(400, {"error": {"code": "BadRequest", "message": "The request body must be a JSON object "
                                                                          "of pipeline parameters."}})
        subscription, group, factory, pipeline = (urllib.parse.unquote(p) for p in match.groups())
        if pipeline not in self.exists:
            raise Reply(404, {"error": {"code": "ResourceNotFound",
                                        "message": f"The Resource 'Microsoft.DataFactory/factories/{factory}/"
                                                   f"pipelines/{pipeline}' under resource group '{group}' was not found."}})
        declared = {"window_start", "window_end", "table"}
        for name in body:
            if name not in declared:
                raise Reply(400, {"error": {"code": "BadRequest",
                                            "message": f"The parameter '{name}' is not defined in pipeline '{pipeline}'."}})
        run_id = str(uuid.uuid4())
        window = (body.get("table"), body.get("window_start"), body.get("window_end"))
        with self.lock:
            self.started[("adf", run_id)] = {"runId": run_id, "pipelineName": pipeline, "parameters": body,
                                             "factory": factory, "runStart": now_iso()}
        self.register_run(("adf", run_id), window)
        return 200, {"runId": run_id}, window

    # PipelineRun.status (Azure/azure-rest-api-specs specification/datafactory/resource-manager/
    # Microsoft.DataFactory/stable/2018-06-01/datafactory.json: "Queued, InProgress, Succeeded,
    # Failed, Canceling, Cancelled"), with `message` the failure's text.
    ADF_STATUS = {"queued": ("Queued", ""), "running": ("InProgress", ""), "success": ("Succeeded", ""),
                  "failed": ("Failed", "Operation on target Copy events failed: The table 'events' is locked."),
                  "cancelled": ("Cancelled", "")}

    def adf_pipeline_run(self, match, query, headers):
        """PipelineRuns_Get: GET .../factories/{factory}/pipelineruns/{runId}?api-version=2018-06-01
        answers a PipelineRun (examples/PipelineRuns_Get.json). The spec declares only 200 and the
        default ErrorResponse; a run id the factory does not know gets the ARM convention for a
        resource that does not exist, 404 with {"error": {"code", "message"}} (the code is ours)."""
        if query.get("api-version") != "2018-06-01":
            raise Reply(400, {"error": {"code": "InvalidApiVersionParameter",
                                        "message": "The api-version query parameter (?api-version=) is required "
                                                   "for all requests; use 2018-06-01."}})

        def refuse(reason):
            raise Reply(401, {"error": {"code": "InvalidAuthenticationToken",
                                        "message": f"The access token is invalid ({reason})."}})
        self.bearer(headers, "https://management.azure.com/", refuse)
        factory, run_id = urllib.parse.unquote(match.group(3)), urllib.parse.unquote(match.group(4))
        with self.lock:
            run = self.started.get(("adf", run_id))
        if run is None or run["factory"] != factory:
            raise Reply(404, {"error": {"code": "PipelineRunNotFound",
                                        "message": f"Pipeline run '{run_id}' was not found in factory '{factory}'."}})
        status, message = self.ADF_STATUS[self.run_step(("adf", run_id))]
        ended = status in ("Succeeded", "Failed", "Cancelled")
        return 200, {"runId": run_id, "runGroupId": run_id, "isLatest": True,
                     "pipelineName": run["pipelineName"], "parameters": run["parameters"],
                     "invokedBy": {"id": "gapwatch", "name": "Manual", "invokedByType": "Manual"},
                     "runStart": run["runStart"], "runEnd": now_iso() if ended else None,
                     "durationInMs": 1000 if ended else None, "status": status, "message": message,
                     "lastUpdated": now_iso(), "annotations": []}, None


def hourly_window(first, last):
    """The window of hourly Dagster partitions named %Y-%m-%d-%H:%M, first to last included."""
    start = datetime.datetime.strptime(first, "%Y-%m-%d-%H:%M").replace(tzinfo=datetime.timezone.utc)
    end = datetime.datetime.strptime(last, "%Y-%m-%d-%H:%M").replace(tzinfo=datetime.timezone.utc)
    return iso_z(start), iso_z(end + datetime.timedelta(hours=1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--script", default="ok")
    parser.add_argument("--exists", action="append", default=[])
    parser.add_argument("--airflow2-basic", default="airflow:airflow")
    parser.add_argument("--airflow3-login", default="admin:admin")
    parser.add_argument("--airflow2-version", default="2.10.5",
                        help="below 2.9, POST dagRuns refuses data_interval_start/_end")
    parser.add_argument("--scheduled", action="append", default=[],
                        help="a DAG whose hourly runs the scheduler has made: a run on one of its "
                             "logical dates clashes with the scheduler's")
    parser.add_argument("--prefect-key")
    parser.add_argument("--dagster-token")
    parser.add_argument("--entra", default="tenant:client:secret")
    parser.add_argument("--token-lifetime", type=int, default=3600)
    parser.add_argument("--revoke-first-token", action="store_true")
    parser.add_argument("--on-accept")
    parser.add_argument("--runs", help="states a started run goes through, one per poll: "
                        "queued,running,success,failed,cancelled (the last repeating)")
    parser.add_argument("--table", default="events", help="the table when a call does not name one")
    args = parser.parse_args()
    fakes = Fakes(args)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_POST(self):
            self.handle_call()

        def do_GET(self):
            self.handle_call()

        def handle_call(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urllib.parse.urlsplit(self.path)
            path = url.path
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            entry = {"method": self.command, "path": urllib.parse.unquote(path), "raw_path": path,
                     "query": query, "headers": headers, "body": raw.decode("utf-8", "replace"),
                     "received_at": time.time()}
            item = None
            window = None
            try:
                status, answer, window, item = self.route(path, query, headers, raw)
            except Reply as reply:
                status, answer = reply.status, reply.body
                for name, value in reply.headers.items():
                    entry.setdefault("reply_headers", {})[name] = value
            entry["status"] = status
            entry["answer"] = answer
            entry["script"] = item
            if isinstance(answer, dict) and "access_token" in answer:
                entry["issued_token"] = answer["access_token"]
            with fakes.lock, open(args.log, "a") as log:
                log.write(json.dumps(entry) + "\n")
            # Like an orchestrator, the run happens after the answer; a run
            # whose answer was lost happens after the next call's answer, so
            # gapwatch sees the resend's answer before the data.
            with fakes.lock:
                if window and args.on_accept and window[1] and window[2] and not fakes.runs:
                    fakes.pending.append((window[0] or args.table, window[1], window[2]))
                runs = [] if item == "lost" else fakes.pending
                if item != "lost":
                    fakes.pending = []
            if item == "lost":
                self.close_connection = True
                return
            data = json.dumps(answer).encode()
            self.send_response(status)
            extra = {} if not isinstance(entry.get("reply_headers"), dict) else entry["reply_headers"]
            if isinstance(item, str) and ":" in item:
                extra["Retry-After"] = item.partition(":")[2]
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except BrokenPipeError:
                pass
            for table, start, end in runs:
                subprocess.run([args.on_accept, table, start, end], check=False)

        def json_body(self, headers, raw):
            if self.command != "POST":
                raise Reply(405, {"detail": "Method Not Allowed"})
            if not headers.get("content-type", "").startswith("application/json"):
                raise Reply(415, {"detail": "Unsupported Media Type: send application/json"})
            try:
                return json.loads(raw)
            except ValueError as error:
                raise Reply(400, {"detail": f"body is not JSON: {error}"})

        def route(self, path, query, headers, raw):
            """(status, answer, window, script item) for one call."""
            if path == "/auth/token":
                status, answer = fakes.airflow_login(self.json_body(headers, raw))
                return status, answer, None, None
            token_path = re.match(r"^/([^/]+)/oauth2/v2\.0/token$", path)
            if token_path:
                if headers.get("content-type") != "application/x-www-form-urlencoded":
                    raise Reply(400, {"error": "invalid_request",
                                      "error_description": "AADSTS900144: send a form body"})
                form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
                status, answer = fakes.entra_token(urllib.parse.unquote(token_path.group(1)), form)
                return status, answer, None, None

            # An orchestrator call: the script decides whether it is handled.
            with fakes.lock:
                item = fakes.script[min(fakes.calls, len(fakes.script) - 1)]
                fakes.calls += 1
            if item not in ("ok", "lost"):
                code = int(item.partition(":")[0])
                return code, {"detail": f"scripted HTTP {code}"}, None, item
            if headers.get("accept") != "application/json":
                raise Reply(406, {"detail": "Accept: application/json expected"})
            dag_run = re.match(r"^/api/v([12])/dags/([^/]+)/dagRuns(?:/([^/]+))?$", path)
            if dag_run:
                version = int(dag_run.group(1))
                fakes.airflow_auth(headers, version)
                dag_id = urllib.parse.unquote(dag_run.group(2))
                if self.command == "GET" and dag_run.group(3):
                    status, answer, _ = fakes.airflow_get_dag_run(version, dag_id,
                                                                  urllib.parse.unquote(dag_run.group(3)))
                    return status, answer, None, item
                if self.command == "GET" and version == 2:
                    status, answer, _ = fakes.airflow_list_dag_runs(dag_id, query)
                    return status, answer, None, item
                body = self.json_body(headers, raw)
                if not isinstance(body, dict):
                    raise Reply(422, {"detail": "body must be an object"})
                status, answer, window = fakes.airflow_dag_run(version, dag_id, body)
                return status, answer, window, item
            backfill = re.match(r"^/api/v2/backfills(?:/([^/]+))?$", path)
            if backfill:
                fakes.airflow_auth(headers, 2)
                if self.command == "GET" and backfill.group(1):
                    status, answer, _ = fakes.airflow_get_backfill(urllib.parse.unquote(backfill.group(1)))
                    return status, answer, None, item
                if self.command == "GET":
                    status, answer, _ = fakes.airflow_list_backfills(query)
                    return status, answer, None, item
                status, answer, window = fakes.airflow_backfill(self.json_body(headers, raw))
                return status, answer, window, item
            prefect_run = PREFECT_RUN_PATH.match(path)
            if prefect_run and self.command == "GET":
                status, answer, window = fakes.prefect_read_flow_run(prefect_run.group(1), headers)
                return status, answer, window, item
            prefect = re.match(r"^/api/deployments/([^/]+)/create_flow_run$", path)
            if prefect:
                status, answer, window = fakes.prefect(urllib.parse.unquote(prefect.group(1)), headers,
                                                       self.json_body(headers, raw))
                return status, answer, window, item
            if path == "/graphql":
                status, answer, window = fakes.dagster(headers, self.json_body(headers, raw))
                return status, answer, window, item
            arm_run = ARM_RUN_PATH.match(path)
            if arm_run and self.command == "GET":
                status, answer, window = fakes.adf_pipeline_run(arm_run, query, headers)
                return status, answer, window, item
            arm = ARM_PATH.match(path)
            if arm:
                status, answer, window = fakes.adf(arm, query, headers, self.json_body(headers, raw))
                return status, answer, window, item
            raise Reply(404, {"detail": "Not Found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
