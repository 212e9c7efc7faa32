#!/usr/bin/python3
"""Write a HAR 1.2 cassette of N profile GETs, shaped as patchscope writes them.

Usage:
    /usr/bin/python3 tests/bench/make_cassette.py N OUT [--origin URL]

Entry i (0-based) is `GET ORIGIN/v1/acc1/profiles/p{i+1}` answered 200 with
`Content-Type: application/json` and the ~325-byte profile body of the
benchmark's origin (tests/bench/origin.conf.in) with its "id" set to
p{i+1}: so entry 0 holds exactly the bytes nginx serves for p1.

The layout is patchscope's own (docs/cassette.md; compare a file written by
`patchscope record`): two-space indentation, the request headers a client
sends through the proxy (Authorization already redacted to its marker), the
origin's response headers with Content-Length of the stored body, timings,
serverIPAddress, and real numbers printed as jansson prints them (%.17g).
Standard library only; the output is deterministic for a given N and origin.
Written to OUT.tmp and renamed, so OUT is never half-written.
"""

import argparse
import datetime
import hashlib
import json
import os
import sys

ORIGIN = "http://127.0.0.1:8001"
# The benchmark's wrk sends this header; a recorded cassette keeps its marker.
AUTHORIZATION = "Basic YWNjMTpiZW5jaC1rZXk="
# Kept in step with origin.conf.in (the body there is this with id "p1").
BODY = ('{"id":"%s","accountId":"acc1","name":"Consultation","timeZone":"Europe/Berlin",'
        '"actions":[{"id":"act_1","type":"WEBHOOK","status":"TEMPLATE","anchor":"BOOKING_CREATED",'
        '"offsetMinutes":0,"subject":"POST","to":"https://hooks.example.com/booking"},'
        '{"id":"act_2","type":"EMAIL","anchor":"BOOKING_CREATED","offsetMinutes":-1440}]}')
START = datetime.datetime(2026, 11, 28, 9, 0, 0, tzinfo=datetime.timezone.utc)


def body_of(n):
    return BODY % ("p%d" % n)


def g17(x):
    """A real number as jansson writes it (printf %.17g, always with a dot)."""
    s = "%.17g" % x
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def template(origin):
    """The text of one entry, with @@NAME@@ markers for what varies."""
    host = origin.split("://", 1)[1]
    marker = "redacted:" + hashlib.sha256(AUTHORIZATION.encode()).hexdigest()[:12]
    entry = {
        "startedDateTime": "@@STARTED@@",
        "time": "@@TIME@@",
        "request": {
            "method": "GET",
            "url": "@@URL@@",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [
                {"name": "Authorization", "value": marker},
                {"name": "User-Agent", "value": "patchscope-bench/1.0"},
                {"name": "Accept", "value": "application/json"},
                {"name": "Host", "value": host},
            ],
            "queryString": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [
                {"name": "Server", "value": "fake-profile-api/1.0"},
                {"name": "Date", "value": "@@DATE@@"},
                {"name": "Content-Type", "value": "application/json"},
                {"name": "Content-Length", "value": "@@LENGTH@@"},
            ],
            "content": {"size": "@@SIZE@@", "mimeType": "application/json", "text": "@@TEXT@@"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": "@@SIZE@@",
        },
        "cache": {},
        "timings": {"send": "@@SEND@@", "wait": "@@WAIT@@", "receive": "@@RECEIVE@@"},
        "serverIPAddress": "127.0.0.1",
    }
    text = json.dumps(entry, indent=2)
    text = "\n".join("      " + line for line in text.split("\n"))
    # Each marker becomes a %-field filled with ready JSON (strings quoted
    # by the caller); literal %-signs are kept.
    text = text.replace("%", "%%")
    for name in ("STARTED", "TIME", "URL", "DATE", "LENGTH", "SIZE", "TEXT", "SEND", "WAIT", "RECEIVE"):
        text = text.replace('"@@%s@@"' % name, "%%(%s)s" % name.lower())
    return text


def entries(n, origin):
    fmt = template(origin)
    for i in range(n):
        body = body_of(i + 1)
        size = len(body.encode())
        started = START + datetime.timedelta(milliseconds=3 * i)
        # Plausible loopback timings, varied but deterministic.
        send = 0.02 + (i % 7) * 0.003
        wait = 0.9 + (i % 13) * 0.05
        receive = 0.015 + (i % 5) * 0.002
        yield fmt % {
            "started": json.dumps(started.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (started.microsecond // 1000)),
            "time": g17(send + wait + receive),
            "url": json.dumps("%s/v1/acc1/profiles/p%d" % (origin, i + 1)),
            "date": json.dumps(started.strftime("%a, %d %b %Y %H:%M:%S GMT")),
            "length": json.dumps(str(size)),
            "size": size,
            "text": json.dumps(body),
            "send": g17(send),
            "wait": g17(wait),
            "receive": g17(receive),
        }


def main():
    ap = argparse.ArgumentParser(description="Write a HAR cassette of N profile GETs.")
    ap.add_argument("n", type=int, metavar="N", help="number of entries (>= 1)")
    ap.add_argument("out", metavar="OUT", help="the HAR file to write")
    ap.add_argument("--origin", default=ORIGIN, help="scheme://host:port of the recorded origin (default %(default)s)")
    args = ap.parse_args()
    if args.n < 1:
        ap.error("N must be at least 1")
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write('{\n  "log": {\n    "version": "1.2",\n    "creator": {\n'
                '      "name": "patchscope",\n      "version": "0.1.0"\n    },\n    "entries": [\n')
        first = True
        for e in entries(args.n, args.origin):
            if not first:
                f.write(",\n")
            f.write(e)
            first = False
        f.write("\n    ]\n  }\n}\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
