#!/usr/bin/env python3
"""Collects the figures scripts/bench wrote into DIR, adds binary and zip sizes, prints
one table and writes DIR/results.json. Usage: report.py DIR BINARY..."""

import io
import json
import os
import platform
import sys
import time
import zipfile


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def zipped(binary):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(binary, "rb") as f:
            z.writestr(info, f.read())
    return len(buf.getvalue())


def main():
    out, binaries = sys.argv[1], sys.argv[2:]
    ingest = load(os.path.join(out, "ingest.json"))
    aggregate = load(os.path.join(out, "aggregate.json")) or []
    cold = load(os.path.join(out, "cold_start.json")) or {}
    e2e = load(os.path.join(out, "e2e.json"))
    sizes = {}
    for b in binaries:
        if os.path.exists(b):
            sizes[os.path.basename(b)] = {"binary_bytes": os.path.getsize(b), "zip_bytes": zipped(b)}
    mb = lambda n: f"{n / 1e6:.1f} MB"
    rows = []

    def row(group, what, figure, target=""):
        rows.append((group, what, figure, target))

    if ingest:
        row("1 ingest CPU", f"parse+validate+enrich+item, 1 core, {ingest['agents']} agents x {ingest['addresses']} addresses",
            f"{ingest['events_per_second']:,.0f} events/s ({ingest['micros_per_event']:.2f} µs)", ">= 50,000/s")
    by_what = {a["what"]: a for a in aggregate}
    raw = by_what.get("raw event PutItem", {}).get("write_units_per_event")
    for a in aggregate:
        if "write_units_per_event" in a and a["what"] != "raw event PutItem":
            fig = f"{a['write_units_per_event']:.3f} WCU/event counters"
            target = ""
            if raw is not None and a["what"].startswith("batch 100: next"):
                fig += f", {a['write_units_per_event'] + raw:.2f} with the raw event"
                target = "<= 1.3 total"
            if a["what"] == "busy day: batch 1":
                target = "<= 12 WCU/event"
            if a["what"] == "busy day: batch 100":
                target = "<= 2 WCU/event"
            if a["what"].startswith("busy day: batch 1, worst"):
                fig += f" ({a.get('write_units', 0):.0f} WCU in all)"
            row("2 aggregation", a["what"], fig, target)
    if raw is not None:
        row("2 aggregation", "raw event PutItem", f"{raw:.2f} WCU/event")
    for a in aggregate:
        if "read_units" in a:
            row("3 reads", a["what"], f"{a['requests']} request(s), {a['read_units']:.1f} RCU, {a['ms']:.1f} ms", "equal cost")
    for path, c in cold.items():
        row("4 cold start", os.path.basename(path), f"median {c['median_ms']:.1f} ms, max {c['max_ms']:.1f} ms ({c['runs']} starts)", "median < 30 ms")
    for name, s in sizes.items():
        row("5 size", name, f"binary {mb(s['binary_bytes'])}, zip {mb(s['zip_bytes'])}", "zip < 4 MB")
    if e2e:
        row("6 end to end", f"{e2e['clients']} clients x {e2e['seconds']} s, POST /api/events",
            f"{e2e['events_per_second']:,.0f} events/s, p50 {e2e['p50_ms']} ms, p99 {e2e['p99_ms']} ms, {e2e['errors']} errors")
        row("6 end to end", "summary counts every event", f"{e2e['summary_complete_after_s']} s after the last post")

    w = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    print(f"{'benchmark':<{w[0]}}  {'what':<{w[1]}}  {'figure':<{w[2]}}  target")
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "arch": platform.machine(), "system": platform.platform()},
        "ingest": ingest,
        "aggregate": aggregate,
        "cold_start": cold,
        "sizes": sizes,
        "end_to_end": e2e,
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nwritten: {os.path.join(out, 'results.json')}")


if __name__ == "__main__":
    main()
