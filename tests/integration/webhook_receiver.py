#!/usr/bin/env python3
"""A real HTTP webhook receiver on 127.0.0.1 for gapwatch's integration tests.

It answers each request with the next response of a script, logs every request
(one JSON object per line: method, path, query, headers, body and whether its
Standard Webhooks signature verified) and, like an orchestrator running a DAG,
can run a backfill command after accepting a request.

  webhook_receiver.py --port-file F --log F [--script 500,429:2,200] [--secret S]
                      [--timeout-after N] [--on-accept CMD]
                      [--peak-concurrency-file F] [--delay S]

Script items: CODE, CODE:RETRY_AFTER (429:2 sends Retry-After: 2), or
hang:CODE (answers only after --hang seconds, to test client timeouts). The
last item repeats.

--peak-concurrency-file keeps in F the largest number of requests that were
being handled at the same time (the benchmark checks max_concurrent with it);
--delay holds every answer for S seconds so that concurrency can build up.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(secret, headers, body):
    """Checks the Standard Webhooks signature independently of gapwatch.

    As the spec has it (standard-webhooks/standard-webhooks, spec/standard-webhooks.md,
    "Signature scheme"): the headers webhook-id, webhook-timestamp and
    webhook-signature; the signed content "{id}.{timestamp}.{body}"; HMAC-SHA256;
    space-separated "v1,{base64}" signatures, any of which may match. The key is
    read as the reference Python library reads a secret string
    (libraries/python/standardwebhooks/webhooks.py, Webhook.__init__): an optional
    "whsec_" prefix dropped, the rest base64-decoded with "==" appended (Python's
    decoder ignores padding beyond what it needs). The Go (webhook.go NewWebhook)
    and JavaScript (src/index.ts) libraries strip the same prefix and decode the
    same base64. Nothing else here models an upstream API.
    """
    if secret is None:
        return None
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not timestamp:
        return False
    prefix = "whsec_"
    encoded = secret[len(prefix):] if secret.startswith(prefix) else secret
    key = base64.b64decode(encoded + "==")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part == f"v1,{expected}" for part in signatures.split())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--port", type=int, default=0, help="listen on this port (default: any free one)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="and this key (PEM)")
    parser.add_argument("--log", required=True)
    parser.add_argument("--script", default="200")
    parser.add_argument("--secret")
    parser.add_argument("--hang", type=float, default=5.0)
    parser.add_argument("--on-accept", help="command run with the JSON body's table, start, end")
    parser.add_argument("--peak-concurrency-file",
                        help="keep the peak number of requests handled at once in this file")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds to wait before answering each request")
    parser.add_argument("--echo", action="store_true",
                        help="answer with the request's path, headers and body, as some servers do "
                             "(an adversary for secret masking, not a fake of any orchestrator: "
                             "no upstream API is modelled here)")
    args = parser.parse_args()

    script = args.script.split(",")
    lock = threading.Lock()
    state = {"count": 0, "in_flight": 0, "peak": 0}

    def track(change):
        with lock:
            state["in_flight"] += change
            if state["in_flight"] <= state["peak"]:
                return
            state["peak"] = state["in_flight"]
            with open(args.peak_concurrency_file + ".tmp", "w") as f:
                f.write(str(state["peak"]))
            os.replace(args.peak_concurrency_file + ".tmp", args.peak_concurrency_file)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def handle_any(self):
            if not args.peak_concurrency_file:
                return self.handle_request()
            track(+1)
            try:
                return self.handle_request()
            finally:
                track(-1)

        def handle_request(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                item = script[min(state["count"], len(script) - 1)]
                state["count"] += 1
            url = urllib.parse.urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            entry = {
                "method": self.command,
                "path": urllib.parse.unquote(url.path),
                "raw_path": url.path,
                "query": dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
                "signature_valid": verify_signature(args.secret, headers, body),
                "response": item,
                "received_at": time.time(),
            }
            with lock, open(args.log, "a") as log:
                log.write(json.dumps(entry) + "\n")
            if args.delay > 0:
                time.sleep(args.delay)
            hang = item.startswith("hang:")
            if hang:
                time.sleep(args.hang)
                item = item[len("hang:"):]
            code, _, retry_after = item.partition(":")
            code = int(code)
            echoed = {"path": self.path, "headers": headers, "body": entry["body"]}
            reply = json.dumps({"received": entry["headers"].get("idempotency-key")}
                               if not args.echo else echoed).encode()
            self.send_response(code)
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            try:
                self.wfile.write(reply)
                self.wfile.flush()
            except BrokenPipeError:
                pass
            # Like an orchestrator, the run happens after the answer, so that
            # gapwatch records the acceptance before the data can arrive.
            if 200 <= code < 300 and args.on_accept and body:
                payload = json.loads(body)
                subprocess.run([args.on_accept, payload["table"], payload["start"], payload["end"]],
                               check=False)

        do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = handle_any

    if args.peak_concurrency_file:
        with open(args.peak_concurrency_file, "w") as f:
            f.write("0")
    # Room for bursts of concurrent deliveries (the default backlog is 5).
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
