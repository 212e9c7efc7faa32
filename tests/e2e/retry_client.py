"""A small client of the profile API that retries, for patchscope's tests.

It behaves the way a test tells it to, so that patchscope's judgement of a
client's reaction to failures (client.retry.early, client.retry.unsafe) can
be checked against a client that does it right and one that does not:

    honour_retry_after  on 429/503, wait what Retry-After says (else retry
                        at once)
    look_first          after a PATCH failed ambiguously (no answer, a cut
                        answer, a timeout, 500/502/504), GET the profile
                        first; if the change is already there, stop (else
                        send the PATCH again without looking)

Every attempt is kept in .log as (method, outcome) for the test to read.
"""

import time

import requests

AMBIGUOUS_STATUS = (500, 502, 504)


class RetryClient:
    def __init__(self, session, base, auth, honour_retry_after=True,
                 look_first=True, tries=4, timeout=5.0):
        self.s = session
        self.base = base
        self.auth = auth
        self.honour = honour_retry_after
        self.look_first = look_first
        self.tries = tries
        self.timeout = timeout
        self.log = []

    def _send(self, method, path, body=None):
        try:
            r = self.s.request(method, self.base + path, json=body,
                               auth=self.auth, timeout=self.timeout)
            r.content       # read it all: a cut body fails here
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as e:
            # A connection that failed through a proxy is a ProxyError,
            # a subclass: name them all by the class clients catch.
            name = "Timeout" if isinstance(e, requests.Timeout) else \
                "ConnectionError" if isinstance(e, requests.ConnectionError) \
                else type(e).__name__
            self.log.append((method, name))
            return None
        # urllib3 1.x hands over a body cut short without a word: check
        # its length, as a careful client does.
        length = r.headers.get("Content-Length")
        if length is not None and length.isdigit() and \
                int(length) != len(r.content):
            self.log.append((method, "IncompleteRead"))
            return None
        self.log.append((method, r.status_code))
        return r

    @staticmethod
    def _wait(r):
        value = r.headers.get("Retry-After")
        try:
            return float(value)
        except (TypeError, ValueError):
            return 1.0

    def get(self, path):
        """GET, retrying 429/503 and lost answers; the last response."""
        r = None
        for _ in range(self.tries):
            r = self._send("GET", path)
            if r is not None and r.status_code not in (429, 503) + \
                    AMBIGUOUS_STATUS:
                return r
            if r is not None and r.status_code in (429, 503) and \
                    self.honour:
                time.sleep(self._wait(r))
        return r

    def _applied(self, path, body):
        r = self.get(path)
        if r is None or r.status_code != 200:
            return False
        try:
            doc = r.json()
        except ValueError:
            return False
        return all(doc.get(k) == v for k, v in body.items())

    def patch(self, path, body):
        """PATCH, retrying as configured; the last response (None: none)."""
        r = None
        for _ in range(self.tries):
            r = self._send("PATCH", path, body)
            if r is not None and r.status_code in (429, 503):
                if self.honour:
                    time.sleep(self._wait(r))
                continue
            if r is not None and r.status_code not in AMBIGUOUS_STATUS:
                return r
            # Ambiguous: it may have been applied. Back off a little, as
            # clients do, then look (or not).
            time.sleep(0.05)
            if self.look_first and self._applied(path, body):
                return r
        return r
