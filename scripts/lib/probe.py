#!/usr/bin/env python3
"""Does URL answer as what it should be? Exits 0 if so, 1 if not (yet).

    probe.py dynamodb URL   a DynamoDB endpoint: ListTables answers 200 with TableNames
    probe.py s3 URL         an S3 endpoint: ListBuckets answers 200 with ListAllMyBucketsResult
    probe.py ok URL         any HTTP server: GET answers 200

Any HTTP status is not enough: another program on a reused port also answers.
"""

import json
import sys
import urllib.error
import urllib.request

# Neither stand-in checks signatures, but both want a well-formed header.
AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)


def dynamodb(url):
    request = urllib.request.Request(
        url,
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": AUTH.format(service="dynamodb"),
        },
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return response.status == 200 and "TableNames" in json.load(response)


def s3(url):
    request = urllib.request.Request(
        url.rstrip("/") + "/",
        headers={
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": AUTH.format(service="s3"),
        },
    )
    with urllib.request.urlopen(request, timeout=2) as response:
        return response.status == 200 and b"ListAllMyBucketsResult" in response.read()


def ok(url):
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


def main(argv):
    probes = {"dynamodb": dynamodb, "s3": s3, "ok": ok}
    if len(argv) != 3 or argv[1] not in probes:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        return 0 if probes[argv[1]](argv[2]) else 1
    except (OSError, ValueError, urllib.error.URLError):
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
