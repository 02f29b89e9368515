#!/usr/bin/env python3
"""Fuzz the running API with schemathesis, from its own OpenAPI document.

    fuzz.py --api http://127.0.0.1:PORT [--schema FILE|URL] [--out DIR] [--seed N]
            [--max-examples N] [--phases LIST] [--only REGEX] [--schemathesis PATH]

What it does, in order:

1. Reads the document (`{api}/api/openapi.json` unless `--schema` names a file or URL) and
   lists its operations.
2. Seeds fixtures through the real API, never the store: registers a user, signs in (JWT),
   creates a site, sends beacons to `POST /api/send` (its `tracking_id`, with an `Origin` on
   the site's domain), creates a `read_ingest` API key and a share.
3. Runs `schemathesis run` once per group of operations, each group with its own generated
   `schemathesis.toml`:
   - auth per operation, from its `security`: no header on public operations, the API key
     where a key scheme is accepted, the user's JWT otherwise;
   - real values for path parameters, chosen by the path segment before the parameter
     (`sites/{…}` and `events/{…}`: the site id, `keys/{…}`: the key id, `shares/{…}`: the
     share id, `share/{…}`: the share token), whatever the parameter is called;
   - the beacon operations get the site's `tracking_id` and an `Origin` on its domain.
   The main operations share one seeded user and run as main-public, main-beacon, main-jwt
   and main-key (one run per kind of credential: see run_group's caller). Operations that
   destroy or change what the others rely on (ISOLATED below: deleting the account or the
   site, signing out, changing the password or e-mail, refresh-token rotation, revoking the
   key or the share, clearing statistics, changing the site) each run alone, after the
   main ones, against a throwaway user seeded for that operation only. In the main runs the
   coverage phase sends undocumented methods only if they change nothing (GET, OPTIONS,
   PATCH, TRACE, QUERY).
4. Prints one line per failure (group, operation, check, the reproducing curl), writes the
   same to `OUT/report.txt` and schemathesis' JUnit XML to `OUT/junit/GROUP.xml`, and exits
   1 if anything failed (2 on a usage or seeding error).

Repeatable: a fixed seed, one worker, no example database, operations in document order,
and fresh fixtures per run. Only stdlib here; schemathesis runs as a separate process
(`.local/fuzz-venv/bin/schemathesis`, installed by scripts/lib/fuzz.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
# schemathesis 4.32's defaults for negative_data_rejection, plus 413: a body over the
# route's limit is rejected as too large before it is parsed.
NEGATIVE_REJECTED = [
    "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
]
SAFE_UNEXPECTED_METHODS = ["get", "options", "patch", "trace", "query"]
BEACON_PATH = re.compile(r"(^|/)(send|collect)$")
PASSWORD = "fuzz-password-1"
SITE_DOMAIN = "fuzz.example.com"
BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)

# Operations that must not share fixtures with the others, as (method, path regex) on the
# document's path with every parameter written `{}`. Each runs alone, in this order, against
# a user of its own; `body` fixes fields to that user's real values so the handler gets
# past validation and really deletes, signs out, rotates, … (the run goes on against the
# then dead fixtures, which must answer documented errors).
ISOLATED = [
    ("put", r"/api/sites/\{\}", "changes the site's domain and time zone (beacons, stats)", {}),
    ("delete", r"/api/sites/\{\}/stats", "clears the site's statistics", {}),
    ("delete", r"/api/sites/\{\}/shares/\{\}", "revokes the share", {}),
    ("delete", r"/api/auth/keys/\{\}", "revokes the API key", {}),
    ("delete", r"/api/sites/\{\}", "deletes the site", {}),
    ("post", r"/api/auth/refresh", "rotates the refresh token (reuse revokes the family)",
     {"body.refresh_token": "refresh_token"}),
    ("put", r"/api/auth/profile", "an e-mail change revokes the user's other tokens", {}),
    ("post", r"/api/auth/logout", "revokes the session's tokens", {}),
    ("post", r"/api/auth/logout-all", "revokes every token of the user", {}),
    ("put", r"/api/auth/password", "revokes every token of the user",
     {"body.old_password": "password"}),
    ("delete", r"/api/auth/me", "deletes the user", {"body.password": "password"}),
]


# Stateful scenarios along the document's links (create a site, then read, change, share
# and delete that site; create a key, then revoke it): one schemathesis run of these
# operations' stateful phase, with the JWT of a user of its own and no fixture ids, so the
# ids come from the answers the links point at.
STATEFUL = [
    ("post", r"/api/sites"),
    ("get", r"/api/sites/\{\}"),
    ("put", r"/api/sites/\{\}"),
    ("delete", r"/api/sites/\{\}"),
    ("get", r"/api/sites/\{\}/usage"),
    ("delete", r"/api/sites/\{\}/stats"),
    ("post", r"/api/sites/\{\}/shares"),
    ("get", r"/api/sites/\{\}/shares"),
    ("delete", r"/api/sites/\{\}/shares/\{\}"),
    ("post", r"/api/auth/keys"),
    ("delete", r"/api/auth/keys/\{\}"),
]


class SeedError(Exception):
    pass


# --- the document ----------------------------------------------------------------------------


@dataclass
class Operation:
    method: str
    path: str  # as the document writes it (schemathesis' labels use it)
    spec: dict
    security: list  # the effective security requirement objects
    prefix: str = ""  # the servers' base path, when the paths are relative to one

    @property
    def full(self) -> str:
        return self.prefix + self.path

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def shape(self) -> str:
        return re.sub(r"\{[^}]*\}", "{}", self.full)

    def path_params(self) -> list[str]:
        return re.findall(r"\{([^}]*)\}", self.path)


def load_document(location: str, deadline: float) -> dict:
    if re.match(r"https?://", location):
        while True:
            try:
                with urllib.request.urlopen(location, timeout=10) as response:
                    return json.load(response)
            except (urllib.error.URLError, OSError, ValueError) as err:
                if time.monotonic() > deadline:
                    raise SeedError(f"cannot read the OpenAPI document at {location}: {err}")
                time.sleep(0.5)
    text = Path(location).read_text(encoding="utf-8")
    if location.endswith((".yaml", ".yml")):
        raise SeedError("give the document as JSON (utoipa writes JSON)")
    return json.loads(text)


def base_path(doc: dict) -> str:
    """The path of the first server URL ("/api" in `servers: [{url: "/api"}]`), or ""."""
    servers = doc.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url", ""))
    path = re.sub(r"^[a-z]+://[^/]*", "", url)
    return path.rstrip("/")


def operations(doc: dict) -> list[Operation]:
    out = []
    default = doc.get("security", [])
    prefix = base_path(doc)
    for path, item in (doc.get("paths") or {}).items():
        for method in METHODS:
            spec = item.get(method)
            if isinstance(spec, dict):
                out.append(Operation(method, path, spec, spec.get("security", default), prefix))
    return out


def classify_schemes(doc: dict, key_schemes: list[str], jwt_schemes: list[str]) -> set[str]:
    """The names of the security schemes that stand for an API key."""
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    keys = set(key_schemes)
    for name, scheme in schemes.items():
        if name in keys or name in jwt_schemes:
            continue
        text = f"{name} {scheme.get('description', '')}".lower()
        if "key" in name.lower() or "api key" in text or "pgo_" in text:
            keys.add(name)
    return keys


def credential_for(op: Operation, key_schemes: set[str]) -> str | None:
    """'key', 'jwt' or None (public) for one operation."""
    names = [name for requirement in op.security for name in requirement]
    if not names or any(not requirement for requirement in op.security):
        return None  # no requirement, or an empty one (auth optional): public
    if any(name in key_schemes for name in names):
        return "key"
    return "jwt"


# --- seeding through the API -----------------------------------------------------------------


@dataclass
class Fixtures:
    email: str
    password: str
    token: str = ""
    refresh_token: str = ""
    user_id: int = 0
    site_id: int = 0
    tracking_id: str = ""
    key: str = ""
    key_id: int = 0
    share_id: int = 0
    share_token: str = ""
    beacons: int = 0
    notes: list = field(default_factory=list)


def call(api: str, method: str, path: str, body=None, token=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", BROWSER_UA)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    return status, payload


def expect(what: str, status: int, payload, want: int = 200):
    if status != want:
        hint = ""
        if status == 429:
            hint = " (raise REGISTER_MAX_PER_NETWORK / LOGIN_MAX_FAILURES for the runner)"
        raise SeedError(f"seeding: {what} answered {status}, not {want}: {payload}{hint}")
    if want == 200:
        if not isinstance(payload, dict) or payload.get("code") != 0 or "data" not in payload:
            raise SeedError(f"seeding: {what} answered no success envelope: {payload}")
        return payload["data"]
    return payload


def seed(api: str, name: str) -> Fixtures:
    # The same e-mail every run, so a fresh stack sees the same requests and answers; a
    # stack that already has it (a second run against scripts/dev) gets a suffixed one.
    fx = Fixtures(email=f"fuzz-{name}@example.com", password=PASSWORD)
    body = {"email": fx.email, "password": fx.password, "username": f"fuzz {name}"}
    status, payload = call(api, "POST", "/api/auth/register", body)
    if status == 409:
        fx.email = body["email"] = f"fuzz-{name}-{uuid.uuid4().hex[:10]}@example.com"
        status, payload = call(api, "POST", "/api/auth/register", body)
    expect("POST /api/auth/register", status, payload)
    data = expect("POST /api/auth/login", *call(
        api, "POST", "/api/auth/login", {"email": fx.email, "password": fx.password}))
    fx.token, fx.refresh_token, fx.user_id = data["token"], data["refresh_token"], data["user"]["id"]
    site = expect("POST /api/sites", *call(
        api, "POST", "/api/sites",
        {"name": f"Fuzz {name}", "domain": f"https://{SITE_DOMAIN}", "timezone": "UTC"},
        token=fx.token))
    fx.site_id, fx.tracking_id = site["id"], site["tracking_id"]
    pages = ["/", "/pricing", "/docs/start", "/blog/hello?utm_source=news", "/"]
    for i, page in enumerate(pages):
        beacon = {
            "tracking_id": fx.tracking_id,
            "session_id": f"fuzz-session-{i % 2}",
            "url": f"https://{SITE_DOMAIN}{page}",
            "referrer": "https://www.google.com/" if i == 0 else f"https://{SITE_DOMAIN}/",
            "screen": "1920x1080",
        }
        if i == 4:
            beacon.update(event_type="signup", event_value="fuzz")
        expect("POST /api/send", *call(
            api, "POST", "/api/send", beacon, headers={"Origin": f"https://{SITE_DOMAIN}"}),
            want=204)
        fx.beacons += 1
    key = expect("POST /api/auth/keys", *call(
        api, "POST", "/api/auth/keys", {"name": f"fuzz {name}", "scope": "read_ingest"},
        token=fx.token))
    fx.key, fx.key_id = key["key"], key["id"]
    share = expect(f"POST /api/sites/{fx.site_id}/shares", *call(
        api, "POST", f"/api/sites/{fx.site_id}/shares", {}, token=fx.token))
    fx.share_id, fx.share_token = share["id"], share["token"]
    return fx


# --- one schemathesis run per group ----------------------------------------------------------


def path_value(op: Operation, index: int, fx: Fixtures):
    """The fixture value for the index-th path parameter, by the segment before it."""
    segments = op.full.strip("/").split("/")
    positions = [i for i, seg in enumerate(segments) if seg.startswith("{")]
    i = positions[index]
    before = segments[i - 1] if i > 0 else ""
    return {
        "sites": fx.site_id,
        "events": fx.site_id,
        "keys": fx.key_id,
        "shares": fx.share_id,
        "share": fx.share_token,
    }.get(before)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def main_kind(op: Operation, key_schemes: set[str]) -> str:
    credential = credential_for(op, key_schemes)
    if credential is None:
        return "main-beacon" if is_beacon(op) else "main-public"
    return f"main-{credential}"


def is_beacon(op: Operation) -> bool:
    return op.method == "post" and bool(BEACON_PATH.search(op.full))


def group_config(ops: list[Operation], selected: list[Operation], fx: Fixtures,
                 key_schemes: set[str], body_fixed: dict, warnings: list[str], shared: bool,
                 fixture_ids: bool = True) -> str:
    lines = [
        "# Generated by scripts/lib/fuzz.py for one run; holds throwaway local tokens.",
        # No crash cache (.schemathesis/ in the working directory): it would replay an
        # earlier run's failures first, and the run would no longer be the seed's alone.
        "[cache]",
        "enabled = false",
        "",
        "[auth]",
        # The credentials are the seeded fixtures' (per operation, below), never a user that
        # schemathesis would sign up by itself.
        "auto-signup = false",
        "",
        "[generation]",
        "database = \"none\"",
        # The header is ours (below): schemathesis' own random security values only add 401s.
        "with-security-parameters = false",
        "",
    ]
    if shared:
        # The coverage phase also sends each path the methods the document does not list
        # there, with the operation's credentials and ids. Against fixtures the other
        # operations rely on, only methods that change nothing: an undocumented DELETE or
        # PUT that the API does serve would delete or change them.
        lines += [
            "[phases.coverage]",
            f"unexpected-methods = {toml_value(SAFE_UNEXPECTED_METHODS)}",
            "",
        ]
    lines += [
        "[checks.negative_data_rejection]",
        f"expected-statuses = {toml_value(NEGATIVE_REJECTED)}",
        "",
    ]
    chosen = {op.label for op in selected}
    for op in ops:
        lines.append("[[operations]]")
        lines.append(f"include-name = {toml_value(op.label)}")
        if op.label not in chosen:
            lines += ["enabled = false", ""]
            continue
        headers = {}
        credential = credential_for(op, key_schemes)
        if credential == "key":
            headers["Authorization"] = f"Bearer {fx.key}"
        elif credential == "jwt":
            headers["Authorization"] = f"Bearer {fx.token}"
        params = {}
        for index, name in enumerate(op.path_params() if fixture_ids else []):
            value = path_value(op, index, fx)
            if value is None:
                warnings.append(f"{op.label}: no fixture for path parameter {{{name}}}; generated")
            else:
                params[f"path.{name}"] = value
        if is_beacon(op):
            headers["Origin"] = f"https://{SITE_DOMAIN}"
            params["body.tracking_id"] = fx.tracking_id
        if op.method == "post" and op.full == "/api/events":
            params["body.site_id"] = fx.site_id
        if not fixture_ids and op.method == "post" and op.full == "/api/sites":
            # A random domain is nearly always refused, and a refused create starts no
            # scenario: the stateful run creates real sites (its user's own).
            params["body.domain"] = f"https://{SITE_DOMAIN}"
            params["body.timezone"] = "Asia/Shanghai"
        for key, attr in body_fixed.items():
            params[key] = getattr(fx, attr)
        if not headers and not params:
            lines.append("enabled = true")
        if headers:
            lines.append(f"headers = {toml_value(headers)}")
        if params:
            lines.append(f"parameters = {toml_value(params)}")
        lines.append("")
    return "\n".join(lines)


@dataclass
class Failure:
    group: str
    operation: str
    check: str
    message: str
    curl: str


def junit_failures(group: str, path: Path) -> list[Failure]:
    if not path.exists():
        return []
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        for node in list(case.findall("failure")) + list(case.findall("error")):
            text = "\n".join(t for t in (node.get("message"), node.text) if t)
            out += split_failures(group, case.get("name", "?"), text, node.tag)
    return out


def split_failures(group: str, operation: str, text: str, tag: str) -> list[Failure]:
    """schemathesis' JUnit text: numbered test cases, each with its failed checks
    (`- ST108 Response violates schema` and the detail), the response (`[400] Bad Request:`
    and its body) and `Reproduce with:` and the curl line."""
    out = []
    for block in re.split(r"\n(?=\d+\. Test Case ID:)", text):
        curl = re.search(r"Reproduce with:\s*\n\s*(curl [^\n]+)", block)
        response = re.search(r"^(\[\d{3}\][^\n]*)\n\s*\n?\s*([^\n]*)", block, re.M)
        parts = re.split(r"^- (?=[A-Z]+\d+ )", block, flags=re.M)[1:]
        for part in parts:
            title, _, rest = part.partition("\n")
            detail = []
            for line in rest.splitlines():
                if re.match(r"\[\d{3}\]|Reproduce with:", line.strip()):
                    break
                if line.strip():
                    detail.append(line.rstrip())
            detail = detail[:6]
            if response:
                detail.append(f"{response.group(1).rstrip(':')} {response.group(2).strip()[:300]}")
            out.append(Failure(group, operation, title.strip(), "\n".join(detail),
                               curl.group(1).strip() if curl else ""))
    if not out:
        out.append(Failure(group, operation, tag, text.strip()[:2000], ""))
    return out


def run_group(args, name: str, doc_path: Path, ops: list[Operation], selected: list[Operation],
              fx: Fixtures, key_schemes: set[str], body_fixed: dict, out: Path,
              phases: str | None = None) -> tuple[int, list[Failure], list[str]]:
    gdir = out / name
    shutil.rmtree(gdir, ignore_errors=True)
    gdir.mkdir(parents=True)
    warnings: list[str] = []
    config = gdir / "schemathesis.toml"
    stateful = phases == "stateful"
    config.write_text(group_config(ops, selected, fx, key_schemes, body_fixed, warnings,
                                   shared=name.startswith("main"), fixture_ids=not stateful))
    junit = out / "junit" / f"{name}.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    cmd = [
        args.schemathesis, "--config-file", str(config), "--no-color", "run", str(doc_path),
        "--url", args.api + (ops[0].prefix if ops else ""),
        "--checks", ",".join(CHECKS),
        "--phases", phases or args.phases,
        "--max-examples", str(args.max_examples),
        "--seed", str(args.seed),
        "--workers", "1",
        "--request-timeout", "30",
        "--continue-on-failure",
        # Local throwaway tokens: the curl lines must carry them to reproduce anything.
        "--output-sanitize", "false",
        "--warnings", "off",
        "--report", "junit,har" if args.har else "junit",
        "--report-dir", str(gdir),
        "--report-junit-path", str(junit),
    ]
    log = gdir / "output.log"
    print(f"\n---- fuzz group {name}: {len(selected)} operation(s) ----", flush=True)
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(line)
            if not args.quiet:
                sys.stdout.write(line)
        rc = proc.wait()
    failures = junit_failures(name, junit)
    if rc != 0 and not failures:
        failures = [Failure(name, "(run)", f"schemathesis exited {rc}",
                            f"see {log.relative_to(ROOT) if log.is_relative_to(ROOT) else log}", "")]
    return rc, failures, warnings


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", required=True, help="the API's origin, e.g. http://127.0.0.1:5004")
    parser.add_argument("--schema", help="OpenAPI document (JSON file or URL); default {api}/api/openapi.json")
    parser.add_argument("--out", default=str(ROOT / ".local" / "fuzz"), help="reports and configs (default .local/fuzz)")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "25")),
                        help="examples per operation in the fuzzing phase (default 25, or FUZZ_MAX_EXAMPLES)")
    parser.add_argument("--phases", default="examples,coverage,fuzzing",
                        help="schemathesis phases (default examples,coverage,fuzzing)")
    parser.add_argument("--no-stateful", action="store_true",
                        help="skip the stateful scenarios along the document's links")
    parser.add_argument("--only", help="only operations whose 'METHOD /path' matches this regex")
    parser.add_argument("--key-scheme", action="append", default=[], help="a security scheme that is an API key (repeatable)")
    parser.add_argument("--jwt-scheme", action="append", default=[], help="a security scheme that is a JWT (repeatable)")
    parser.add_argument("--schemathesis", default=str(ROOT / ".local" / "fuzz-venv" / "bin" / "schemathesis"))
    parser.add_argument("--har", action="store_true", help="also record every request and response (OUT/GROUP/har-*.json)")
    parser.add_argument("--quiet", action="store_true", help="only the summary, not schemathesis' own output")
    args = parser.parse_args()
    args.api = args.api.rstrip("/")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    try:
        doc = load_document(args.schema or f"{args.api}/api/openapi.json", time.monotonic() + 60)
        doc_path = out / "openapi.json"
        doc_path.write_text(json.dumps(doc, indent=1))
        ops = operations(doc)
        if not ops:
            raise SeedError("the document has no operations")
        if args.only:
            wanted = [op for op in ops if re.search(args.only, op.label)]
        else:
            wanted = ops
        key_schemes = classify_schemes(doc, args.key_scheme, args.jwt_scheme)

        # Group the operations: the main groups (one fixture set), then each isolated one
        # alone (a fixture set of its own each).
        groups: list[tuple[str, list[Operation], dict, str, str]] = []
        isolated_labels = set()
        for method, pattern, why, body_fixed in ISOLATED:
            for op in wanted:
                if op.method == method and re.fullmatch(pattern, op.shape) and op.label not in isolated_labels:
                    isolated_labels.add(op.label)
                    slug = re.sub(r"[^a-z0-9]+", "-", f"{method} {op.shape.replace('{}', 'id')}".lower()).strip("-")
                    groups.append((slug, [op], body_fixed, why, slug))
        # schemathesis 4.32 keeps one HTTP session per worker, made with the headers of the
        # first operation it sends, and adds those headers to every later request that lacks
        # them: a JWT would reach the public operations. So the main operations run in one
        # schemathesis run per kind of credential (and the beacons, with their Origin, alone):
        # within a run every operation sets the same headers.
        main_ops = [op for op in wanted if op.label not in isolated_labels]
        kinds = {
            "main-public": "public operations",
            "main-beacon": "the beacon (its Origin header and the site's tracking_id)",
            "main-jwt": "operations with the user's JWT",
            "main-key": "operations with the API key",
        }
        for kind in reversed(list(kinds)):
            chosen = [op for op in main_ops if main_kind(op, key_schemes) == kind]
            if chosen:
                groups.insert(0, (kind, chosen, {}, kinds[kind], "main"))

        stateful_ops = [op for op in wanted
                        if any(op.method == m and re.fullmatch(p, op.shape) for m, p in STATEFUL)]
        if stateful_ops and not args.no_stateful:
            groups.append(("stateful", stateful_ops, {}, "scenarios along the document's links "
                           "(create, read, change, share, delete)", "stateful"))

        print(f"fuzz: {len(wanted)} operation(s) from {args.schema or args.api + '/api/openapi.json'}; "
              f"seed {args.seed}, {args.max_examples} examples per operation, phases {args.phases}")
        print(f"fuzz: API-key schemes: {', '.join(sorted(key_schemes)) or '(none: the JWT everywhere)'}")
        for name, selected, _, why, _ in groups:
            print(f"  group {name}: {len(selected)} operation(s) — {why}")

        failures: list[Failure] = []
        warnings: list[str] = []
        statuses = []
        fixtures: dict[str, Fixtures] = {}
        for name, selected, body_fixed, _, fixture_set in groups:
            if fixture_set not in fixtures:
                fixtures[fixture_set] = seed(args.api, str(len(fixtures)))
            rc, found, warned = run_group(args, name, doc_path, ops, selected, fixtures[fixture_set],
                                          key_schemes, body_fixed, out,
                                          phases="stateful" if name == "stateful" else None)
            statuses.append((name, rc, len(found)))
            failures += found
            warnings += warned
    except SeedError as err:
        print(f"fuzz: error: {err}", file=sys.stderr)
        return 2

    elapsed = time.monotonic() - started
    lines = [f"fuzz report: {len(wanted)} operation(s), seed {args.seed}, "
             f"{args.max_examples} examples per operation, phases {args.phases}, {elapsed:.0f}s"]
    for name, rc, count in statuses:
        lines.append(f"  {name}: {'ok' if rc == 0 else f'FAILED ({count} failure(s))'}")
    for warning in dict.fromkeys(warnings):
        lines.append(f"  warning: {warning}")
    for f in failures:
        lines.append("")
        lines.append(f"FAIL [{f.group}] {f.operation} — {f.check}")
        for line in f.message.splitlines():
            lines.append(f"    {line.strip()}")
        if f.curl:
            lines.append(f"  reproduce: {f.curl}")
    lines.append("")
    bad = sum(1 for _, rc, _ in statuses if rc)
    lines.append(f"fuzz: {'FAILED' if bad else 'ok'}: {len(failures)} failure(s) in {bad} of "
                 f"{len(groups)} group(s); reports in {out}")
    report = "\n".join(lines) + "\n"
    (out / "report.txt").write_text(report)
    print("\n" + report, end="")
    return 1 if any(rc for _, rc, _ in statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
