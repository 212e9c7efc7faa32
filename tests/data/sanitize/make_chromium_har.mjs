// make_chromium_har.mjs OUT.har: a HAR exported the way Chrome's DevTools
// export one ("Export HAR (with sensitive data)"), made by headless
// Chromium, with made-up secrets in every place a HAR holds them.
//
// A small server (here, on 127.0.0.1, port 0) serves a page that sets
// cookies (Set-Cookie and document.cookie) and whose script sends: a GET
// with an Authorization header and an api_key query parameter, a form
// POST (application/x-www-form-urlencoded), a JSON POST with tokens, and
// a GET of a binary body (base64 in the HAR) that holds a token seen
// elsewhere, a GET answered with a redirect whose Location carries a
// token. The
// Network.* events of the DevTools protocol are collected and written as
// Chrome's HAR exporter (front_end/models/har/HARLog.ts) writes them:
// cookies, queryString and postData.params arrays, _initiator,
// _resourceType, _priority, pages, timings, response bodies (base64 for
// binary ones).
//
// Needs /usr/bin/chromium (or $CHROMIUM) and puppeteer-core from
// tests/browser/node_modules (npm ci there). Used by
// tests/e2e/test_sanitize.py, which also checks in one export made this way
// (tests/data/sanitize/chromium.har).

import { createRequire } from "node:module";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "browser",
    "package.json"));
const puppeteer = require("puppeteer-core");

const out = process.argv[2];
if (!out) {
	console.error("usage: make_chromium_har.mjs OUT.har");
	process.exit(2);
}

// The made-up secrets (tests/e2e/test_sanitize.py greps for each).
const S = {
	pageToken: "sk_live_SECRET123",
	session: "sess_SECRET456",
	apiKey: "ak/SECRET789+x",
	password: "pw_SECRET000/+",
	accessToken: "at_SECRET111",
	clientSecret: "cs_SECRET222",
	refresh: "rt_SECRET333",
	csrf: "csrf_SECRET444",
	bearer: "tok_SECRET555",
	redirectToken: "rd_SECRET666",
	theme: "dark",
};

const page = `<!doctype html><html><head><title>sanitize test</title></head>
<body><p>patchscope sanitize test page</p>
<img src="/pixel.gif?x=1">
<script>
document.cookie = "theme=${S.theme}; path=/";
(async () => {
  await fetch("/api/me?api_key=${encodeURIComponent(S.apiKey)}&page=1", {
    headers: { "Authorization": "Bearer ${S.bearer}" } });
  await fetch("/login", { method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "user=alice&password=${encodeURIComponent(S.password)}&remember=1" });
  await fetch("/api/items", { method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: "x", access_token: "${S.accessToken}",
      nested: { client_secret: "${S.clientSecret}", n: 1.5 } }) });
  await fetch("/api/blob");
  await fetch("/go");
  document.title = "done";
})();
</script></body></html>`;

// A 1x1 GIF: a binary body, exported as base64.
const gif = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7",
    "base64");

const server = http.createServer((req, res) => {
	let body = "";
	req.on("data", (c) => { body += c; });
	req.on("end", () => {
		const u = new URL(req.url, "http://x");
		if (u.pathname === "/app") {
			res.writeHead(200, {
				"Content-Type": "text/html; charset=utf-8",
				"Set-Cookie": `session_id=${S.session}; Path=/; HttpOnly`,
			});
			res.end(page);
		} else if (u.pathname === "/api/me") {
			res.writeHead(200, {
				"Content-Type": "application/json",
				"Set-Cookie": `csrftoken=${S.csrf}; Path=/; SameSite=Lax`,
			});
			res.end(JSON.stringify({ id: 1, name: "alice",
			    refresh_token: S.refresh }));
		} else if (u.pathname === "/api/blob") {
			// Binary to the browser: exported as base64.
			res.writeHead(200, {
				"Content-Type": "application/octet-stream",
			});
			res.end(Buffer.concat([Buffer.from([0, 1, 2]),
			    Buffer.from(`backup of ${S.refresh}`)]));
		} else if (u.pathname === "/go") {
			res.writeHead(302, {
				Location: `/done?token=${S.redirectToken}`,
			});
			res.end();
		} else if (u.pathname === "/pixel.gif") {
			res.writeHead(200, { "Content-Type": "image/gif" });
			res.end(gif);
		} else {
			res.writeHead(200, { "Content-Type": "application/json" });
			res.end(JSON.stringify({ ok: true, got: body.length }));
		}
	});
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await puppeteer.launch({
	executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
	headless: true,
	args: ["--no-sandbox", "--disable-gpu", "--no-first-run",
	    "--disable-extensions"],
});

// requestId -> what the events said about it.
const reqs = new Map();
const order = [];
const get = (id) => {
	if (!reqs.has(id)) {
		reqs.set(id, { id });
		order.push(id);
	}
	return reqs.get(id);
};

let har;
try {
	const tab = await browser.newPage();
	const cdp = await tab.createCDPSession();
	await cdp.send("Network.enable");
	const pageTimings = {};
	cdp.on("Page.domContentEventFired", (e) => {
		pageTimings.dom = e.timestamp;
	});
	cdp.on("Page.loadEventFired", (e) => { pageTimings.load = e.timestamp; });
	await cdp.send("Page.enable");
	cdp.on("Network.requestWillBeSent", (e) => {
		let r = get(e.requestId);
		if (e.redirectResponse) {
			// A redirect: the earlier hop becomes its own entry.
			r.response = e.redirectResponse;
			r.redirected = true;
			reqs.delete(e.requestId);
			const hop = `${e.requestId}:${order.length}`;
			r.id = hop;
			reqs.set(hop, r);
			order[order.indexOf(e.requestId)] = hop;
			r = get(e.requestId);
		}
		r.request = e.request;
		r.wallTime = e.wallTime;
		r.timestamp = e.timestamp;
		r.initiator = e.initiator;
		r.type = e.type;
	});
	cdp.on("Network.requestWillBeSentExtraInfo", (e) => {
		const r = get(e.requestId);
		r.extraHeaders = e.headers;
		r.associatedCookies = e.associatedCookies;
	});
	cdp.on("Network.responseReceived", (e) => {
		const r = get(e.requestId);
		r.response = e.response;
		r.type = e.type;
	});
	cdp.on("Network.responseReceivedExtraInfo", (e) => {
		const r = get(e.requestId);
		r.extraRespHeaders = e.headers;
		r.headersText = e.headersText;
	});
	cdp.on("Network.loadingFinished", (e) => {
		const r = get(e.requestId);
		r.encodedDataLength = e.encodedDataLength;
		r.endTime = e.timestamp;
		r.body = cdp.send("Network.getResponseBody",
		    { requestId: e.requestId }).catch(() => null);
	});
	await tab.goto(`${origin}/app?token=${S.pageToken}`,
	    { waitUntil: "load" });
	await tab.waitForFunction("document.title === 'done'",
	    { timeout: 10000 });
	// Let the last events arrive.
	await new Promise((r) => setTimeout(r, 300));
	har = await buildHar(pageTimings);
} finally {
	await browser.close();
	server.close();
}
fs.writeFileSync(out, JSON.stringify(har, null, 2));

// --- the HAR, as front_end/models/har/HARLog.ts builds it ---

function headerList(obj) {
	const list = [];
	for (const [name, value] of Object.entries(obj || {}))
		for (const v of String(value).split("\n"))
			list.push({ name, value: v });
	return list;
}

// Chrome's queryString and params: split on & and =, values as written.
function params(text) {
	if (!text)
		return [];
	return text.split("&").map((pair) => {
		const i = pair.indexOf("=");
		return i < 0 ? { name: pair, value: "" } :
		    { name: pair.slice(0, i), value: pair.slice(i + 1) };
	});
}

function setCookies(headers) {
	const list = [];
	for (const h of headers)
		if (h.name.toLowerCase() === "set-cookie") {
			const [pair, ...attrs] = h.value.split(";");
			const i = pair.indexOf("=");
			const c = { name: pair.slice(0, i).trim(),
			    value: pair.slice(i + 1).trim(), path: "", domain: "",
			    expires: "1969-12-31T23:59:59.000Z",
			    httpOnly: false, secure: false };
			for (const a of attrs) {
				const [k, v] = a.trim().split("=");
				if (/^path$/i.test(k)) c.path = v;
				else if (/^httponly$/i.test(k)) c.httpOnly = true;
				else if (/^secure$/i.test(k)) c.secure = true;
				else if (/^samesite$/i.test(k)) c.sameSite = v;
			}
			list.push(c);
		}
	return list;
}

function requestCookies(r) {
	return (r.associatedCookies || []).filter((a) => !a.blockedReasons ||
	    a.blockedReasons.length === 0).map(({ cookie: c }) => ({
		name: c.name, value: c.value, path: c.path, domain: c.domain,
		expires: c.expires > 0 ? new Date(c.expires * 1000)
		    .toISOString() : "1969-12-31T23:59:59.000Z",
		httpOnly: c.httpOnly, secure: c.secure,
		...(c.sameSite ? { sameSite: c.sameSite } : {}),
	}));
}

function timings(resp, r) {
	const t = resp && resp.timing;
	if (!t)
		return { blocked: -1, dns: -1, ssl: -1, connect: -1, send: 0,
		    wait: 0, receive: 0 };
	const span = (a, b) => (a >= 0 && b >= 0 ? b - a : -1);
	const recv = r.endTime ? Math.max(0, (r.endTime - t.requestTime) *
	    1000 - t.receiveHeadersEnd) : 0;
	return {
		blocked: Math.max(0, t.dnsStart >= 0 ? t.dnsStart :
		    t.sendStart),
		dns: span(t.dnsStart, t.dnsEnd),
		ssl: span(t.sslStart, t.sslEnd),
		connect: span(t.connectStart, t.connectEnd),
		send: t.sendEnd - t.sendStart,
		wait: t.receiveHeadersEnd - t.sendEnd,
		receive: recv,
		_blocked_queueing: Math.max(0, t.dnsStart >= 0 ? t.dnsStart :
		    t.sendStart),
	};
}

async function buildHar(pageTimings) {
	const first = reqs.get(order[0]);
	const pageStart = first.wallTime;
	const entries = [];
	for (const id of order) {
		const r = reqs.get(id);
		if (!r || !r.request || !r.response)
			continue;
		const rq = r.request;
		const rs = r.response;
		const u = new URL(rq.url);
		const reqHeaders = headerList(r.extraHeaders || rq.headers);
		const respHeaders = headerList(r.redirected ? rs.headers :
		    r.extraRespHeaders || rs.headers);
		const entry = {
			_initiator: r.initiator,
			_priority: rq.initialPriority,
			_resourceType: (r.type || "other").toLowerCase(),
			cache: {},
			connection: String(rs.connectionId || ""),
			pageref: "page_1",
			request: {
				method: rq.method,
				url: rq.url + (rq.urlFragment || ""),
				httpVersion: rs.protocol === "h2" ? "http/2.0" :
				    "HTTP/1.1",
				headers: reqHeaders,
				queryString: params(u.search.slice(1)),
				cookies: requestCookies(r),
				headersSize: -1,
				bodySize: rq.postData ? Buffer.byteLength(
				    rq.postData) : 0,
			},
			response: {
				status: rs.status,
				statusText: rs.statusText,
				httpVersion: "HTTP/1.1",
				headers: respHeaders,
				cookies: setCookies(respHeaders),
				content: {
					size: 0,
					mimeType: rs.mimeType || "x-unknown",
				},
				redirectURL: r.redirected ? (respHeaders.find((h) =>
				    h.name.toLowerCase() === "location") || {})
				    .value || "" : "",
				headersSize: -1,
				bodySize: -1,
				_transferSize: r.encodedDataLength || 0,
				_error: null,
				_fetchedViaServiceWorker: false,
			},
			serverIPAddress: rs.remoteIPAddress || "",
			startedDateTime: new Date(r.wallTime * 1000)
			    .toISOString(),
			time: 0,
			timings: timings(rs, r),
		};
		if (rq.postData !== undefined) {
			const ct = (reqHeaders.find((h) => h.name.toLowerCase() ===
			    "content-type") || {}).value || "";
			entry.request.postData = { mimeType: ct, text: rq.postData };
			if (ct.startsWith("application/x-www-form-urlencoded"))
				entry.request.postData.params = params(rq.postData);
		}
		const body = r.body ? await r.body : null;
		if (body) {
			entry.response.content.size = body.base64Encoded ?
			    Buffer.from(body.body, "base64").length :
			    Buffer.byteLength(body.body);
			entry.response.content.text = body.body;
			if (body.base64Encoded)
				entry.response.content.encoding = "base64";
		}
		const t = entry.timings;
		entry.time = [t.blocked, t.dns, t.connect, t.send, t.wait,
		    t.receive].reduce((a, b) => a + Math.max(0, b), 0);
		entries.push(entry);
	}
	const ms = (ts) => (ts && first.timestamp ?
	    (ts - first.timestamp) * 1000 : -1);
	return {
		log: {
			version: "1.2",
			creator: { name: "WebInspector", version: "537.36" },
			pages: [{
				startedDateTime: new Date(pageStart * 1000)
				    .toISOString(),
				id: "page_1",
				title: first.request.url,
				pageTimings: { onContentLoad: ms(pageTimings.dom),
				    onLoad: ms(pageTimings.load) },
			}],
			entries,
		},
	};
}
