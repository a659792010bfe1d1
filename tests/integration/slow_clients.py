#!/usr/bin/env python3
"""Slow clients against a running gapwatch (issue 14, item 3).

Opens --connections sockets to 127.0.0.1:PORT, half of them idle and half
sending `GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n` without ending the headers,
then asks for /healthz and /metrics on new connections and times the answers.
Then waits until the server has closed every slow socket (its header
timeout). Prints one line per measurement; exits 1 if /healthz or /metrics
took longer than --answer-within seconds, or if a slow socket was still open
after --closed-within seconds.
"""
import argparse
import select
import socket
import sys
import time


def ask(port, path, timeout):
    """The status line of GET path, and the seconds it took (None on timeout)."""
    started = time.monotonic()
    deadline = started + timeout
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            received = b""
            while time.monotonic() < deadline:
                conn.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = conn.recv(65536)
                if not chunk:
                    return received.split(b"\r\n", 1)[0].decode(), time.monotonic() - started
                received += chunk
    except OSError:
        pass
    return None, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--answer-within", type=float, default=1.0)
    parser.add_argument("--closed-within", type=float, default=15.0)
    args = parser.parse_args()

    slow = []
    for i in range(args.connections):
        conn = socket.create_connection(("127.0.0.1", args.port))
        if i % 2 == 1:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        slow.append(conn)
    opened = time.monotonic()

    failed = False
    for path in ("/healthz", "/metrics"):
        status, took = ask(args.port, path, timeout=max(args.answer_within, 5.0))
        print(f"{path} with {args.connections} slow connections open: "
              f"{status or 'no answer'} in {took * 1000:.0f} ms")
        if status is None or not status.startswith("HTTP/1.1 200") or took > args.answer_within:
            failed = True

    # The server closes each slow socket: the client sees end of stream.
    open_ones = set(slow)
    deadline = opened + args.closed_within
    while open_ones and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_ones), [], [], 0.1)
        for conn in ready:
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            if not data:
                open_ones.discard(conn)
    closed_after = time.monotonic() - opened
    print(f"slow connections closed by the server: {args.connections - len(open_ones)} of "
          f"{args.connections}, the last {closed_after:.1f} s after they were opened")
    if open_ones:
        failed = True
    for conn in slow:
        conn.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
