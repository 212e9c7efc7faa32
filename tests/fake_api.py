#!/usr/bin/python3
"""A fake of the booking service's profile API, for patchscope's tests.

Usage:
    /usr/bin/python3 tests/fake_api.py [--listen 127.0.0.1:0]
                                       [--tls-cert FILE --tls-key FILE]
                                       [--quiet]

Prints exactly `listening on HOST:PORT` on stdout (flushed) once it accepts
connections; everything else goes to stderr.  SIGTERM and SIGINT stop it
(exit 0).  Python 3 standard library only.

The profile API (see docs profile-api.md, "A fake for tests"):
    GET|PATCH /v1/{accountId}/profiles/{profileId}
    GET|PATCH /v1/profiles/{profileId}
HTTP Basic auth is required (any credentials).  Profiles live in memory; the
seed is account "acc1", profile "p1", three actions act_1..act_3.

`fields` projection: a comma-separated list of dotted paths.  "a" selects the
key a whole; "a.b" selects key b inside a (inside each element when a is an
array of objects), and then only the named sub-keys of a are returned;
"a.*" selects every key of a (of each element).  Without `fields` a default,
smaller set is returned (no actions).

PATCH: a JSON object; top-level keys are updated, keys left out are kept;
arrays are replaced whole (an action left out is deleted); actions without an
id get a fresh one; an invalid body gets the bare 400 of the real service
(`"errors": []`).

Test endpoints, all under /_fake/:
    GET  /_fake/stats        {"requests", "connections", "accepted",
                              "resumed", "open", "paths", "methods"}
    POST /_fake/reset        restore the seed, zero the counters, forget
                             the drift setting and the requests seen
    ANY  /_fake/echo         the request as JSON
    GET  /_fake/slow?delay=S[&status=N]
    GET  /_fake/stream?bytes=N[&chunked=1]
    POST|PUT /_fake/upload[?delay=S]   {"bytes": N, "sha256": hex}
                             (delay: wait S seconds before reading the body)
    GET  /_fake/headers?Name=value...  200 with those response headers
                             (to see what a proxy does to hop-by-hop ones)
    GET  /_fake/gzip
    GET  /_fake/chunked?parts=K
    GET  /_fake/status/{code}[?length=N]   (304 with a Content-Length: N)
    GET  /_fake/interim?count=N   N "100 Continue" heads, then 200
    GET  /_fake/close-mid-body
    GET  /_fake/eof-body[?bytes=N]
    GET  /_fake/garbage
    POST /_fake/drift        {"ops": [...], "status": N}: from now on every
                             answer of the profile API (GET, HEAD, PATCH)
                             that would be 200 is changed: the JSON Patch
                             operations (RFC 6902 "add", "remove",
                             "replace"; paths into the answer as sent, a
                             path the answer lacks is left alone) are
                             applied to its body, and with "status" it is
                             answered with that status instead, in the
                             API's error shape.  The stored profile is not
                             touched.  Answers {"drift": the setting}.
    GET  /_fake/drift        the setting ({"ops": [], "status": null})
    DELETE /_fake/drift      back to the true answers (so does reset)
    GET  /_fake/seen         {"requests": [{"method", "path", "query",
                             "authorization", "body"}]}: the profile API
                             requests since the last reset (the last 200)
HEAD works on every GET endpoint.

Counters: "requests" counts requests other than /_fake/stats and /_fake/reset
(those are the harness talking to the fake directly); "connections" counts the
connections that carried at least one counted request since the last reset
(so a pooled connection reused after a reset counts once); "accepted" counts
raw TCP accepts since the last reset; "resumed" counts TLS handshakes that
resumed an earlier session (a ticket) since the last reset; "paths" maps
path -> request count; "methods" maps method -> request count;
"open" is the number of connections open right now, besides the one asking
(not reset).

The stream endpoint's body is the byte pattern (offset & 0xff), see
stream_block(); tests can compute the expected digest without asking.
"""

import argparse
import base64
import copy
import gzip
import hashlib
import json
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

IO_BLOCK = 64 * 1024
MAX_KEPT_BODY = 16 * 1024 * 1024     # body bytes kept in memory per request
MAX_CHUNK_LINE = 4096


def stream_block():
    """The 64 KiB block /_fake/stream repeats: byte i is i & 0xff."""
    return bytes(range(256)) * (IO_BLOCK // 256)


STREAM_BLOCK = stream_block()

ANCHORS = ("BOOKING_CREATED", "BOOKING_CANCELLED", "BOOKING_RESCHEDULED",
           "BEFORE_BOOKING", "AFTER_BOOKING", "NO_SHOW")
TYPES = ("WEBHOOK", "EMAIL", "SMS")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
READ_ONLY_KEYS = ("id", "accountId")
DEFAULT_FIELDS = "id,accountId,title,description,status,timeZone"
SEEN_MAX = 200

INVALID_PAYLOAD = {
    "type": "CaligraphException",
    "code": "caligraph_invalid_payload",
    "message": "Invalid payload",
    "status": "BAD_REQUEST",
    "errors": [],
    "httpStatusCode": 400,
}


def api_error(status, code, message, kind):
    return {"type": kind, "code": code, "message": message,
            "status": status_name(status), "errors": [],
            "httpStatusCode": status}


def status_name(status):
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "UNKNOWN"


def seed_profiles():
    """A fresh copy of the seeded data: {(account, profile id): profile}."""
    p1 = {
        "id": "p1",
        "accountId": "acc1",
        "title": "Discovery call",
        "description": "A 30 minute call to get to know each other.",
        "status": "ONLINE",
        "timeZone": "Europe/London",
        "subdomain": "acc1-discovery",
        "actions": [
            {
                "id": "act_1",
                "type": "WEBHOOK",
                "status": "TEMPLATE",
                "anchor": "BOOKING_CREATED",
                "offsetMinutes": 0,
                "title": "Tell the CRM",
                "to": "https://crm.example.com/hooks/booking",
                "subject": "POST",
                "body": '{"id": "{ID}", "start": "{START-ISO}", '
                        '"email": "{EMAIL}"}',
                "attachIcs": False,
                "headers": {"x-auth-token": "crm-secret-token-1"},
            },
            {
                "id": "act_2",
                "type": "EMAIL",
                "status": "TEMPLATE",
                "anchor": "BOOKING_CREATED",
                "offsetMinutes": -1440,
                "title": "Reminder a day before",
                "to": "{EMAIL}",
                "subject": "Your call tomorrow at {START-LOCAL-TIME}",
                "body": "Hi {FNAME}, see you tomorrow. {CANCEL-LINK}",
                "attachIcs": True,
            },
            {
                "id": "act_3",
                "type": "WEBHOOK",
                "status": "TEMPLATE",
                "anchor": "BOOKING_CANCELLED",
                "offsetMinutes": 0,
                "title": "Tell the CRM about cancellations",
                "to": "https://crm.example.com/hooks/cancel",
                "subject": "POST",
                "body": '{"id": "{ID}", "ref": "{REF}"}',
                "attachIcs": False,
            },
        ],
    }
    return {("acc1", "p1"): p1}


# --- projection ------------------------------------------------------------

def parse_fields(spec):
    """Turn "a,a.b,c" into a tree {"a": {"b": {}}, "c": {}}."""
    tree = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        node = tree
        for part in item.split("."):
            node = node.setdefault(part, {})
    return tree


def project(value, tree):
    """Keep only what the field tree selects (see the module docstring)."""
    if isinstance(value, list):
        return [project(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        out = copy.deepcopy(value)
        for key, sub in tree.items():
            if key != "*" and sub and key in out:
                out[key] = project(value[key], sub)
        return out
    out = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = project(value[key], sub) if sub else \
                copy.deepcopy(value[key])
    return out


# --- validation ------------------------------------------------------------

def is_http_url(s):
    if not isinstance(s, str):
        return False
    try:
        u = urlsplit(s)
    except ValueError:
        return False
    return u.scheme in ("http", "https") and bool(u.netloc)


def validate_action(action, existing_ids):
    """Return None if the action is acceptable, else a reason (for the log)."""
    if not isinstance(action, dict):
        return "action is not an object"
    if "id" in action:
        if not isinstance(action["id"], str) or action["id"] not in existing_ids:
            return "unknown action id %r" % (action["id"],)
    kind = action.get("type")
    if kind not in TYPES:
        return "bad type %r" % (kind,)
    if action.get("anchor") not in ANCHORS:
        return "bad anchor %r" % (action.get("anchor"),)
    if "offsetMinutes" in action:
        off = action["offsetMinutes"]
        if not isinstance(off, int) or isinstance(off, bool):
            return "offsetMinutes is not an integer"
    for key in ("title", "status", "to", "subject", "body"):
        if key in action and not isinstance(action[key], str):
            return "%s is not a string" % key
    if "attachIcs" in action and not isinstance(action["attachIcs"], bool):
        return "attachIcs is not a boolean"
    if "headers" in action:
        h = action["headers"]
        if not isinstance(h, dict) or \
                not all(isinstance(v, str) for v in h.values()):
            return "headers is not an object of strings"
    if kind == "WEBHOOK":
        if action.get("subject") not in HTTP_METHODS:
            return "webhook subject %r is not an HTTP method" % \
                (action.get("subject"),)
        if not is_http_url(action.get("to")):
            return "webhook to %r is not an http(s) URL" % (action.get("to"),)
    return None


def apply_patch(profile, patch, next_id):
    """Return (new profile, None) or (None, reason).  Does not mutate."""
    if not isinstance(patch, dict):
        return None, "body is not a JSON object"
    for key in READ_ONLY_KEYS:
        if key in patch and patch[key] != profile.get(key):
            return None, "%s is read-only" % key
    new = copy.deepcopy(profile)
    for key, value in patch.items():
        if key in READ_ONLY_KEYS:
            continue
        if key == "actions":
            if not isinstance(value, list):
                return None, "actions is not an array"
            existing = {a["id"] for a in profile.get("actions", [])}
            seen = set()
            actions = []
            for action in value:
                why = validate_action(action, existing)
                if why:
                    return None, why
                action = copy.deepcopy(action)
                if "id" in action:
                    if action["id"] in seen:
                        return None, "action id %s twice" % action["id"]
                    seen.add(action["id"])
                else:
                    action["id"] = next_id()
                action.setdefault("status", "TEMPLATE")
                action.setdefault("offsetMinutes", 0)
                actions.append(action)
            new["actions"] = actions
        else:
            new[key] = copy.deepcopy(value)
    return new, None


# --- drift: answers changed on purpose ---------------------------------------

def pointer_parts(path):
    """The reference tokens of a JSON Pointer (RFC 6901)."""
    if path == "":
        return []
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("a JSON Pointer starts with '/': %r" % (path,))
    return [p.replace("~1", "/").replace("~0", "~")
            for p in path[1:].split("/")]


def check_drift(setting):
    """Return the setting of POST /_fake/drift, checked, or raise
    ValueError."""
    if not isinstance(setting, dict):
        raise ValueError("expected an object")
    ops = setting.get("ops", [])
    status = setting.get("status")
    if not isinstance(ops, list):
        raise ValueError("ops is not an array")
    for op in ops:
        if not isinstance(op, dict) or \
                op.get("op") not in ("add", "remove", "replace"):
            raise ValueError("each op is {op: add|remove|replace, path}")
        if not pointer_parts(op.get("path")):
            raise ValueError("an op needs a path below the root")
        if op["op"] != "remove" and "value" not in op:
            raise ValueError("%s needs a value" % op["op"])
    if status is not None and (not isinstance(status, int) or
                               not 200 <= status <= 599):
        raise ValueError("status must be from 200 to 599")
    return {"ops": copy.deepcopy(ops), "status": status}


def apply_ops(doc, ops):
    """Apply add/remove/replace operations to doc in place; an operation
    whose parent is not in doc is skipped."""
    for op in ops:
        parts = pointer_parts(op["path"])
        parent = doc
        for part in parts[:-1]:
            if isinstance(parent, dict) and part in parent:
                parent = parent[part]
            elif isinstance(parent, list) and part.isdigit() and \
                    int(part) < len(parent):
                parent = parent[int(part)]
            else:
                parent = None
                break
        last = parts[-1]
        if isinstance(parent, dict):
            if op["op"] == "remove":
                parent.pop(last, None)
            elif op["op"] == "add" or last in parent:
                parent[last] = copy.deepcopy(op["value"])
        elif isinstance(parent, list):
            if last == "-" and op["op"] == "add":
                parent.append(copy.deepcopy(op["value"]))
            elif last.isdigit() and int(last) < len(parent):
                if op["op"] == "remove":
                    del parent[int(last)]
                elif op["op"] == "replace":
                    parent[int(last)] = copy.deepcopy(op["value"])
                else:
                    parent.insert(int(last), copy.deepcopy(op["value"]))
    return doc


# --- server state ----------------------------------------------------------

class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.generation = 0
        self.open = 0            # connections open now (not reset)
        self._reset_locked()

    def _reset_locked(self):
        self.profiles = seed_profiles()
        self.next_action = 4
        self.requests = 0
        self.connections = 0
        self.accepted = 0
        self.resumed = 0
        self.paths = {}
        self.methods = {}
        self.drift = {"ops": [], "status": None}
        self.seen = []
        self.generation += 1

    def reset(self):
        with self.lock:
            self._reset_locked()

    def count_accept(self):
        with self.lock:
            self.accepted += 1

    def count_resumed(self):
        with self.lock:
            self.resumed += 1

    def count_request(self, handler, path):
        """Count one request; count its connection once per generation."""
        with self.lock:
            self.requests += 1
            self.paths[path] = self.paths.get(path, 0) + 1
            method = handler.command
            self.methods[method] = self.methods.get(method, 0) + 1
            if handler.counted_generation != self.generation:
                handler.counted_generation = self.generation
                self.connections += 1

    def count_open(self, delta):
        with self.lock:
            self.open += delta

    def stats(self):
        """The counters; "open" leaves out the connection asking."""
        with self.lock:
            return {"requests": self.requests,
                    "connections": self.connections,
                    "accepted": self.accepted,
                    "resumed": self.resumed,
                    "open": self.open - 1,
                    "paths": dict(self.paths),
                    "methods": dict(self.methods)}

    def note_seen(self, entry):
        """Remember a profile API request (the last SEEN_MAX)."""
        with self.lock:
            self.seen.append(entry)
            del self.seen[:-SEEN_MAX]

    def new_action_id(self):
        # Called with self.lock held.
        n = self.next_action
        self.next_action += 1
        return "act_%d" % n


class BadRequest(Exception):
    pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, addr, handler, state, ssl_context, quiet):
        host = addr[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.state = state
        self.ssl_context = ssl_context
        self.quiet = quiet
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, ssl.SSLError,
                            BrokenPipeError)):
            log("connection from %s:%s ended: %s" %
                (client_address[0], client_address[1], exc))
            return
        log("error on connection from %s:%s:\n%s" %
            (client_address[0], client_address[1], traceback.format_exc()))


def log(msg):
    try:
        sys.stderr.write("fake_api: %s %s\n" %
                         (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --- request handler -------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle on
    # the fake plus delayed ACKs on the proxy add 40 ms to reused
    # connections, which is the fake's artefact, not the proxy's.
    disable_nagle_algorithm = True
    server_version = "fake-profile-api/1.0"
    sys_version = ""
    timeout = 300            # idle keep-alive connections die eventually

    def version_string(self):
        return self.server_version

    def setup(self):
        self.counted_generation = None
        self.server.state.count_accept()
        ctx = self.server.ssl_context
        if ctx is not None:
            self.request.settimeout(10)
            self.request = ctx.wrap_socket(self.request, server_side=True)
            if self.request.session_reused:
                self.server.state.count_resumed()
        super().setup()
        self.server.state.count_open(+1)

    def finish(self):
        self.server.state.count_open(-1)
        try:
            super().finish()
        finally:
            if self.server.ssl_context is not None:
                try:
                    self.request.close()
                except OSError:
                    pass

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            log("%s %s" % (self.address_string(), fmt % args))

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout, ssl.SSLError) as e:
            self.log_message("connection ended: %s", e)
            self.close_connection = True

    # Every method goes through one dispatcher.
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def do_HEAD(self):
        self.dispatch()

    # --- request bodies ----------------------------------------------------

    def body_chunks(self):
        """Yield the request body in pieces (Content-Length or chunked)."""
        te = self.headers.get_all("Transfer-Encoding") or []
        cl = self.headers.get_all("Content-Length") or []
        if te:
            codings = [c.strip().lower() for t in te for c in t.split(",")]
            if cl or codings[-1] != "chunked":
                raise BadRequest("bad Transfer-Encoding/Content-Length")
            yield from self._chunked_body()
            return
        if len(cl) > 1:
            raise BadRequest("several Content-Length headers")
        if not cl:
            return
        try:
            left = int(cl[0].strip())
        except ValueError:
            raise BadRequest("bad Content-Length")
        if left < 0:
            raise BadRequest("bad Content-Length")
        while left > 0:
            data = self.rfile.read1(min(left, IO_BLOCK)) \
                if hasattr(self.rfile, "read1") else \
                self.rfile.read(min(left, IO_BLOCK))
            if not data:
                raise ConnectionError("client closed inside the body")
            left -= len(data)
            yield data

    def _chunked_body(self):
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE)
            if not line:
                raise ConnectionError("client closed inside the body")
            if not line.endswith(b"\n"):
                raise BadRequest("chunk size line too long")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest("bad chunk size %r" % size_text)
            if size < 0:
                raise BadRequest("bad chunk size")
            if size == 0:
                break
            left = size
            while left > 0:
                data = self.rfile.read(min(left, IO_BLOCK))
                if not data:
                    raise ConnectionError("client closed inside a chunk")
                left -= len(data)
                yield data
            if self.rfile.readline(MAX_CHUNK_LINE).strip() != b"":
                raise BadRequest("chunk not followed by CRLF")
        # Trailers, then the blank line.
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE)
            if not line:
                raise ConnectionError("client closed inside the trailers")
            if line in (b"\r\n", b"\n"):
                break

    def read_body(self):
        """Read the whole body; keep at most MAX_KEPT_BODY bytes.

        Returns (bytes kept, total length)."""
        kept = []
        kept_len = 0
        total = 0
        for data in self.body_chunks():
            total += len(data)
            if kept_len < MAX_KEPT_BODY:
                piece = data[:MAX_KEPT_BODY - kept_len]
                kept.append(piece)
                kept_len += len(piece)
        return b"".join(kept), total

    # --- responses ---------------------------------------------------------

    def reply(self, status, body=b"", content_type="application/json",
              headers=()):
        if isinstance(body, (dict, list)):
            body = (json.dumps(body, indent=2) + "\n").encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        no_body = status in (204, 304) or 100 <= status < 200
        if not no_body:
            if body or content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and not no_body and body:
            self.wfile.write(body)

    def reply_json(self, status, obj, headers=()):
        self.reply(status, obj, "application/json", headers)

    # --- dispatch ----------------------------------------------------------

    def dispatch(self):
        target = self.path
        split = urlsplit(target)
        path = split.path or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        self.q = {k: v[-1] for k, v in query.items()}
        self.raw_query = split.query
        if path not in ("/_fake/stats", "/_fake/reset"):
            self.server.state.count_request(self, path)
        try:
            if path.startswith("/_fake/"):
                self.fake_endpoint(path, target)
            elif path.startswith("/v1/"):
                self.profile_endpoint(path)
            else:
                self.read_body()
                self.reply_json(404, api_error(404, "not_found",
                                               "No such resource",
                                               "NotFoundException"))
        except BadRequest as e:
            self.log_message("bad request: %s", e)
            self.close_connection = True
            self.reply_json(400, {"error": "bad_request", "message": str(e)})
        except (ConnectionError, socket.timeout, ssl.SSLError) as e:
            self.log_message("connection ended: %s", e)
            self.close_connection = True

    def param_int(self, name, default, lo=0, hi=1 << 62):
        try:
            v = int(self.q.get(name, default))
        except ValueError:
            raise BadRequest("%s is not an integer" % name)
        if v < lo or v > hi:
            raise BadRequest("%s out of range" % name)
        return v

    def param_float(self, name, default):
        try:
            v = float(self.q.get(name, default))
        except ValueError:
            raise BadRequest("%s is not a number" % name)
        if not 0 <= v <= 3600:
            raise BadRequest("%s out of range" % name)
        return v

    def fake_endpoint(self, path, target):
        m = self.command
        st = self.server.state
        if path == "/_fake/stats" and m in ("GET", "HEAD"):
            self.read_body()
            return self.reply_json(200, st.stats())
        if path == "/_fake/reset" and m == "POST":
            self.read_body()
            st.reset()
            return self.reply_json(200, {"reset": True})
        if path == "/_fake/echo":
            return self.echo(path, target)
        if path == "/_fake/drift" and m in ("POST", "DELETE"):
            body, _ = self.read_body()
            if m == "DELETE":
                setting = {"ops": [], "status": None}
            else:
                try:
                    setting = check_drift(json.loads(body.decode("utf-8")))
                except (UnicodeDecodeError, ValueError) as e:
                    raise BadRequest("bad drift setting: %s" % e)
            with st.lock:
                st.drift = setting
            return self.reply_json(200, {"drift": setting})
        if path == "/_fake/drift" and m in ("GET", "HEAD"):
            self.read_body()
            with st.lock:
                return self.reply_json(200, copy.deepcopy(st.drift))
        if path == "/_fake/seen" and m in ("GET", "HEAD"):
            self.read_body()
            with st.lock:
                return self.reply_json(200, {"requests": list(st.seen)})
        if path == "/_fake/upload" and m in ("POST", "PUT"):
            time.sleep(self.param_float("delay", 0))
            h = hashlib.sha256()
            n = 0
            for data in self.body_chunks():
                h.update(data)
                n += len(data)
            return self.reply_json(200, {"bytes": n, "sha256": h.hexdigest()})
        if m not in ("GET", "HEAD"):
            self.read_body()
            return self.reply_json(405, {"error": "method not allowed"},
                                   headers=[("Allow", "GET, HEAD")])
        self.read_body()
        if path == "/_fake/slow":
            delay = self.param_float("delay", 1)
            status = self.param_int("status", 200, 200, 599)
            time.sleep(delay)
            return self.reply_json(status, {"slept": delay})
        if path == "/_fake/stream":
            return self.stream(self.param_int("bytes", 0),
                               self.q.get("chunked") in ("1", "true", "yes"))
        if path == "/_fake/headers":
            extra = [(k, v) for k, vs in parse_qs(
                self.raw_query, keep_blank_values=True).items() for v in vs]
            return self.reply_json(200, {"headers": extra}, headers=extra)
        if path == "/_fake/gzip":
            doc = {"gzip": True, "profile": "p1",
                   "text": "compressible " * 64}
            body = gzip.compress(json.dumps(doc).encode())
            return self.reply(200, body, "application/json",
                              [("Content-Encoding", "gzip")])
        if path == "/_fake/chunked":
            return self.chunked_json(self.param_int("parts", 3, 1, 100000))
        if path.startswith("/_fake/status/"):
            try:
                code = int(path[len("/_fake/status/"):])
            except ValueError:
                raise BadRequest("bad status code")
            if not 200 <= code <= 599:
                raise BadRequest("status out of range")
            headers = []
            if code == 304:
                headers.append(("ETag", '"fake-etag"'))
                # RFC 9110 8.6: a 304 may carry the length of the body a
                # 200 would have had; no body follows it.
                if "length" in self.q:
                    headers.append(("Content-Length",
                                    str(self.param_int("length", 0, 0,
                                                       1 << 30))))
            if code in (204, 304):
                return self.reply(code, b"", None, headers)
            return self.reply_json(code, {"status": code}, headers)
        if path == "/_fake/interim":
            # N interim 100 responses, then the final answer.
            for _ in range(self.param_int("count", 1, 0, 100000)):
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return self.reply_json(200, {"interim": True})
        if path == "/_fake/close-mid-body":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            if m != "HEAD":
                self.wfile.write(b"0123456789")
            self.abort_connection()
            return None
        if path == "/_fake/eof-body":
            n = self.param_int("bytes", -1, -1)
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            if m != "HEAD":
                if n < 0:
                    self.wfile.write(b"read until close: the origin sent no "
                                     b"length and closed the connection\n")
                else:
                    self.write_pattern(n, False)
            self.wfile.flush()
            self.shutdown_write()
            return None
        if path == "/_fake/garbage":
            self.close_connection = True
            self.wfile.write(b"\x00\x01 this is not HTTP at all \xff\xfe\r\n\r\n")
            self.shutdown_write()
            return None
        return self.reply_json(404, {"error": "no such fake endpoint",
                                     "path": path})

    def shutdown_write(self):
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def abort_connection(self):
        """Close so the peer sees the body cut short."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        self.shutdown_write()

    def echo(self, path, target):
        body, total = self.read_body()
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = headers[key] + ", " + value if key in headers \
                else value
        self.reply_json(200, {
            "method": self.command,
            "target": target,
            "path": path,
            "query": self.raw_query,
            "version": self.request_version,
            "headers": headers,
            "header_list": [[n, v] for n, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
            "body_length": total,
        })

    def write_pattern(self, n, chunked):
        w = self.wfile
        left = n
        while left > 0:
            block = STREAM_BLOCK if left >= IO_BLOCK else STREAM_BLOCK[:left]
            if chunked:
                w.write(b"%x\r\n" % len(block) + block + b"\r\n")
            else:
                w.write(block)
            left -= len(block)

    def stream(self, n, chunked):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        self.write_pattern(n, chunked)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def chunked_json(self, parts):
        doc = json.dumps({"parts": parts,
                          "items": [{"n": i, "text": "part %d" % i}
                                    for i in range(parts)]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        step = max(1, -(-len(doc) // parts))
        pieces = [doc[i:i + step] for i in range(0, len(doc), step)]
        while len(pieces) < parts:          # tiny docs: split the last piece
            last = pieces.pop()
            if len(last) < 2:
                pieces.append(last)
                break
            pieces += [last[:len(last) // 2], last[len(last) // 2:]]
        for piece in pieces:
            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    # --- the profile API ---------------------------------------------------

    def profile_endpoint(self, path):
        parts = path.split("/")[1:]          # "v1", ...
        if len(parts) == 4 and parts[2] == "profiles":
            account, pid = parts[1], parts[3]
        elif len(parts) == 3 and parts[1] == "profiles":
            account, pid = None, parts[2]
        else:
            self.read_body()
            return self.reply_json(404, api_error(
                404, "not_found", "No such resource", "NotFoundException"))
        if self.command not in ("GET", "HEAD", "PATCH"):
            self.read_body()
            return self.reply_json(405, api_error(
                405, "method_not_allowed", "Method not allowed",
                "MethodNotAllowedException"),
                headers=[("Allow", "GET, HEAD, PATCH")])
        body, total = self.read_body()
        self.server.state.note_seen({
            "method": self.command, "path": path,
            "query": self.raw_query,
            "authorization": self.headers.get("Authorization"),
            "body": body.decode("utf-8", "replace")})
        if not self.authorized():
            return self.reply_json(401, api_error(
                401, "unauthorized", "Full authentication is required",
                "UnauthorizedException"),
                headers=[("WWW-Authenticate", 'Basic realm="profile-api"')])
        tree = parse_fields(self.q.get("fields") or DEFAULT_FIELDS)
        st = self.server.state
        with st.lock:
            key = self.find_profile(account, pid)
            if key is None:
                result = None
            elif self.command == "PATCH":
                why = None
                if total > len(body):
                    why = "body too large"
                else:
                    try:
                        patch = json.loads(body.decode("utf-8"))
                    except (UnicodeDecodeError, ValueError) as e:
                        why = "not JSON: %s" % e
                if why is None:
                    new, why = apply_patch(st.profiles[key], patch,
                                           st.new_action_id)
                if why is not None:
                    result = ("invalid", why)
                else:
                    st.profiles[key] = new
                    result = ("ok", project(new, tree))
            else:
                result = ("ok", project(st.profiles[key], tree))
        if result is None:
            return self.reply_json(404, api_error(
                404, "profile_not_found", "Profile not found",
                "NotFoundException"))
        if result[0] == "invalid":
            self.log_message("PATCH rejected: %s", result[1])
            return self.reply_json(400, INVALID_PAYLOAD)
        with st.lock:
            drift = copy.deepcopy(st.drift)
        if drift["status"] is not None:
            code = drift["status"]
            return self.reply_json(code, api_error(
                code, "drifted", "The fake API was told to answer %d" % code,
                "FakeDriftException"))
        return self.reply_json(200, apply_ops(result[1], drift["ops"]))

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        scheme, _, cred = auth.partition(" ")
        if scheme.lower() != "basic" or not cred.strip():
            return False
        try:
            base64.b64decode(cred.strip(), validate=True)
        except ValueError:
            return False
        return True

    def find_profile(self, account, pid):
        profiles = self.server.state.profiles
        if account is not None:
            return (account, pid) if (account, pid) in profiles else None
        for key in profiles:
            if key[1] == pid:
                return key
        return None


# --- main ------------------------------------------------------------------

def parse_listen(text):
    host, sep, port = text.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError("bad port %r" % port)
    return host, port


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake profile API for tests.")
    ap.add_argument("--listen", type=parse_listen,
                    default=("127.0.0.1", 0), metavar="HOST:PORT")
    ap.add_argument("--tls-cert", metavar="FILE")
    ap.add_argument("--tls-key", metavar="FILE")
    ap.add_argument("--quiet", action="store_true",
                    help="do not log every request")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        ctx.set_alpn_protocols(["http/1.1"])

    server = Server(args.listen, Handler, State(), ctx, args.quiet)
    host, port = server.server_address[:2]
    if ":" in host:
        host = "[%s]" % host

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sys.stdout.write("listening on %s:%d\n" % (host, port))
    sys.stdout.flush()
    log("serving %s on %s:%d" % ("https" if ctx else "http", host, port))
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
