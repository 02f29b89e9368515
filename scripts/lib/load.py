#!/usr/bin/env python3
"""End-to-end load: N concurrent clients post events to a running Pingoo API for S seconds.

Registers a user and a site, then every client posts POST /api/events (keep-alive) in a
loop. Reports events/s and latency percentiles, then polls the site's summary until it
counts every accepted event and reports how long that took. Usage:

    load.py --api http://127.0.0.1:5004/api [--clients 32] [--seconds 20] [--json FILE]
"""

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse
import uuid

AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


def call(conn, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, (json.loads(data) if data else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.api)
    base = url.path.rstrip("/")

    def connect():
        return http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    setup = connect()
    email = f"load-{uuid.uuid4().hex[:12]}@example.com"
    status, reg = call(setup, "POST", f"{base}/auth/register", {"email": email, "password": "password123"})
    if status != 200:
        sys.exit(f"register: {status} {reg}")
    token = reg["data"]["token"]
    status, site = call(setup, "POST", f"{base}/sites", {"name": "load", "domain": "https://example.com"}, token)
    if status != 200:
        sys.exit(f"create site: {status} {site}")
    site_id = site["data"]["id"]

    latencies = [[] for _ in range(args.clients)]
    errors = [0] * args.clients
    stop = time.monotonic() + args.seconds

    def client(n):
        conn = connect()
        i = 0
        while time.monotonic() < stop:
            body = {
                "site_id": site_id,
                "session_id": f"c{n}-s{i // 5}",
                "ip": f"203.0.{n}.{i % 250 + 1}",
                "url": f"/page/{i % 30}",
                "event_type": "page_view",
                "user_agent": AGENT,
            }
            t = time.perf_counter()
            try:
                status, _ = call(conn, "POST", f"{base}/events", body, token)
            except (OSError, http.client.HTTPException):
                status = 0
                conn = connect()
            if status == 200:
                latencies[n].append((time.perf_counter() - t) * 1000)
            else:
                errors[n] += 1
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    done = time.monotonic()
    all_ms = sorted(x for per in latencies for x in per)
    accepted = len(all_ms)

    summary_s = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status, body = call(setup, "GET", f"{base}/events/{site_id}/summary", token=token)
        if status == 200 and body["data"]["pv"] >= accepted:
            summary_s = time.monotonic() - done
            break
        time.sleep(0.1)

    def pct(p):
        return all_ms[min(len(all_ms) - 1, int(p / 100 * len(all_ms)))] if all_ms else None

    result = {
        "clients": args.clients,
        "seconds": round(elapsed, 2),
        "accepted": accepted,
        "errors": sum(errors),
        "events_per_second": round(accepted / elapsed, 1),
        "p50_ms": round(pct(50), 2) if all_ms else None,
        "p99_ms": round(pct(99), 2) if all_ms else None,
        "mean_ms": round(statistics.mean(all_ms), 2) if all_ms else None,
        "summary_complete_after_s": round(summary_s, 2) if summary_s is not None else None,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if summary_s is None:
        sys.exit("the summary never counted every event")


if __name__ == "__main__":
    main()
