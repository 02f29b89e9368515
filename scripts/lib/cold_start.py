#!/usr/bin/env python3
"""Cold start of a Lambda binary: process start to its first answered invocation.

A minimal Lambda Runtime API on loopback hands the binary one API Gateway (HTTP API v2)
request for GET /api/health and takes its response. Usage:

    cold_start.py [--runs N] BINARY...

Prints, per binary, the median and max over N starts (default 20) in milliseconds.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/api/health",
    "rawQueryString": "",
    "headers": {"host": "bench.local", "user-agent": "bench"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "bench",
        "domainName": "bench.local",
        "domainPrefix": "bench",
        "http": {
            "method": "GET",
            "path": "/api/health",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "bench",
        },
        "requestId": "bench",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Jan/2026:00:00:00 +0000",
        "timeEpoch": 1767225600000,
    },
    "isBase64Encoded": False,
}


# Functions that are not behind API Gateway get their own trigger's event.
EVENTS = {
    "aggregator": {"Records": []},
    "janitor": {"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}},
}


class Runtime(BaseHTTPRequestHandler):
    event = EVENT

    answered = None  # threading.Event set when the response arrives
    response = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            if Runtime.answered.is_set():
                # One invocation per start: park the poller until we kill the process.
                time.sleep(5)
            body = json.dumps(Runtime.event).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-request")
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
            self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the measured process was killed while parked
        else:
            self.send_response(404)
            self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length)
        if "/response" in self.path or "/error" in self.path:
            Runtime.response = (self.path, payload)
            Runtime.answered.set()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def measure(binary, runs, port):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PINGOO_ENV": "production",
        "JWT_SECRET": "b" * 64,
        "RUST_LOG": "warn",
    }
    # The janitor talks to DynamoDB on its first invocation: point it at the stand-in.
    for name in ("DYNAMODB_ENDPOINT", "APP_TABLE", "EVENTS_TABLE", "STATS_TABLE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    name = os.path.basename(binary)
    Runtime.event = EVENTS.get(name, EVENT)
    http = name not in EVENTS
    times = []
    for _ in range(runs):
        Runtime.answered = threading.Event()
        Runtime.response = None
        start = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ok = Runtime.answered.wait(timeout=30)
        elapsed = (time.perf_counter() - start) * 1000
        proc.kill()
        _, err = proc.communicate()
        if not ok:
            sys.exit(f"{binary}: no response within 30 s\n{err.decode(errors='replace')}")
        path, payload = Runtime.response
        if "/response" not in path or (http and b"statusCode" not in payload):
            sys.exit(f"{binary}: unexpected answer {path}: {payload[:300]!r}")
        times.append(elapsed)
    return statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    results = {}
    print(f"{'binary':<40} {'median ms':>10} {'max ms':>10}  (runs={args.runs})")
    for binary in args.binaries:
        median, worst = measure(binary, args.runs, port)
        results[binary] = {"median_ms": round(median, 2), "max_ms": round(worst, 2), "runs": args.runs}
        print(f"{binary:<40} {median:>10.2f} {worst:>10.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    server.shutdown()


if __name__ == "__main__":
    main()
