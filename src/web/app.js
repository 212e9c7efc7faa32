/*
 * patchscope web view: the page script.
 *
 * One page, three sources of exchanges (DESIGN.md, "The web view"):
 *   - live (`--web`): GET /api/exchanges, then server-sent events from
 *     /api/events, each event one HAR entry with an increasing "_id";
 *   - view (`patchscope view FILE...`): GET /api/exchanges, nothing more;
 *   - report (`patchscope report`): the exchanges are inline, in the
 *     JSON script element with id "patchscope-data", and the page makes
 *     no request at all.
 *
 * Every entry is hostile data (URLs, headers and bodies come from the
 * traffic): the DOM is built with createElement and textContent only, never
 * from HTML strings. No eval, no inline handlers: the page runs under a
 * strict Content-Security-Policy.
 *
 * The table is virtual: only the rows on screen (plus a margin) exist in the
 * DOM, so 10,000 exchanges scroll as fast as 10.
 */
(function () {
	"use strict";

	var ROW_H = 22;            /* px; the height of .row in app.css */
	var ROW_MARGIN = 12;       /* rows rendered above and below the screen */
	var SEARCH_BODY_MAX = 256 * 1024;  /* body characters the filter reads */
	var PRETTY_MAX = 512 * 1024;       /* larger bodies are shown as text */
	var SHOW_MAX = 2 * 1024 * 1024;    /* characters of a body shown at all */
	var JSON_DEPTH_MAX = 256;
	var RETRY_MS = 2000;
	var FILTER_SLICE_MS = 12;
	var OPTIONS_MAX = 500;     /* hosts or methods offered in a <select> */

	var SEVERITIES = ["error", "warning", "info"];

	/* ---- state ---- */

	var recs = [];            /* every exchange kept, by increasing _id */
	var byId = new Map();     /* _id -> rec */
	var shown = [];           /* the recs the filter lets through, in order */
	var selected = null;      /* the selected rec, or null */
	var detailRec = null;     /* the rec in the detail pane, or null */
	var mode = "";
	var keep = 0;
	var lastId = 0;
	var dropBase = 0;         /* what the server last said was dropped */
	var dropSince = 0;        /* ...and what the page dropped after that */
	var dropOldest = 0;       /* ids below this were counted in dropBase */
	var methods = new Set();
	var hosts = new Set();
	var filter = { terms: [], text: "", method: "", status: "", host: "",
	    diag: false };
	var filterJob = 0;        /* generation of the running filter */
	var filtering = false;    /* a filter job is under way */
	var renderQueued = false;
	var follow = true;        /* keep the newest row in sight */
	var es = null;
	var retryTimer = 0;
	var forbidden = false;

	var el = {};

	function $(id) {
		return document.getElementById(id);
	}

	/* ---- small DOM helpers: text only ---- */

	function h(tag, cls, text) {
		var n = document.createElement(tag);
		if (cls)
			n.className = cls;
		if (text !== undefined && text !== null)
			n.textContent = String(text);
		return n;
	}

	function clear(n) {
		while (n.firstChild)
			n.removeChild(n.firstChild);
	}

	function str(v) {
		return typeof v === "string" ? v : "";
	}

	function num(v) {
		return typeof v === "number" && isFinite(v) ? v : null;
	}

	function obj(v) {
		return v !== null && typeof v === "object" && !Array.isArray(v) ?
		    v : {};
	}

	function arr(v) {
		return Array.isArray(v) ? v : [];
	}

	/* ---- what a row shows, computed once per exchange ---- */

	function splitUrl(url) {
		var m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(url);
		if (!m)
			return { scheme: "", host: "", path: url };
		return { scheme: m[1].toLowerCase(), host: m[2],
		    path: m[3] === "" ? "/" : m[3] };
	}

	function bodyBytes(text, b64) {
		if (b64) {
			var t = text.replace(/[^A-Za-z0-9+/]/g, "");
			return Math.floor(t.length * 3 / 4);
		}
		var n = 0;
		for (var i = 0; i < text.length; i++) {
			var c = text.charCodeAt(i);
			if (c < 0x80)
				n += 1;
			else if (c < 0x800)
				n += 2;
			else if (c >= 0xd800 && c < 0xdc00) {
				n += 4;
				i++;
			} else
				n += 3;
		}
		return n;
	}

	function bodySize(b, b64) {
		if (num(b._truncated) !== null)
			return b._truncated;
		if (typeof b.text !== "string")
			return num(b.size) !== null && b.size >= 0 ? b.size : 0;
		if (b.text.length > 4 * 1024 * 1024 && num(b.size) !== null &&
		    b.size >= 0)
			return b.size;
		return bodyBytes(b.text, b64);
	}

	function makeRec(e, fallbackId) {
		var req = obj(e.request), res = obj(e.response);
		var u = splitUrl(str(req.url));
		var pd = obj(req.postData), ct = obj(res.content);
		var counts = { error: 0, warning: 0, info: 0 };
		var codes = [];
		arr(e._diagnoses).forEach(function (d) {
			d = obj(d);
			var sev = SEVERITIES.indexOf(d.severity) >= 0 ?
			    d.severity : "info";
			counts[sev]++;
			codes.push(str(d.code));
		});
		var started = Date.parse(str(e.startedDateTime));
		var id = num(e._id);
		return {
			e: e,
			id: id === null ? fallbackId : id,
			method: str(req.method),
			url: str(req.url),
			host: u.host,
			path: u.path,
			status: num(res.status) || 0,
			reqSize: typeof pd.text === "string" ?
			    bodySize(pd, pd._encoding === "base64") : 0,
			resSize: bodySize(ct, ct.encoding === "base64"),
			started: isNaN(started) ? null : started,
			time: num(e.time),
			counts: counts,
			ndiag: codes.length,
			codes: codes.join(" "),
			replay: str(e._replay),
			fault: str(e._fault),
			error: str(e._error),
			hay: null
		};
	}

	/* The lower-cased text the free-text filter searches. */
	function haystack(r) {
		if (r.hay !== null)
			return r.hay;
		var e = r.e, req = obj(e.request), res = obj(e.response);
		var parts = [r.method, r.url, String(r.status || "no answer"),
		    str(res.statusText), r.codes, r.fault, r.error, r.replay];
		arr(e._diagnoses).forEach(function (d) {
			parts.push(str(obj(d).message), str(obj(d).path));
		});
		arr(req.headers).concat(arr(res.headers)).forEach(function (hd) {
			parts.push(str(obj(hd).name) + ": " + str(obj(hd).value));
		});
		parts.push(str(obj(req.postData).text).slice(0, SEARCH_BODY_MAX));
		parts.push(str(obj(res.content).text).slice(0, SEARCH_BODY_MAX));
		r.hay = parts.join("\n").toLowerCase();
		return r.hay;
	}

	/* ---- formatting ---- */

	function pad(n, w) {
		var s = String(n);
		while (s.length < w)
			s = "0" + s;
		return s;
	}

	function fmtClock(ms) {
		if (ms === null)
			return "";
		var d = new Date(ms);
		return pad(d.getHours(), 2) + ":" + pad(d.getMinutes(), 2) + ":" +
		    pad(d.getSeconds(), 2) + "." + pad(d.getMilliseconds(), 3);
	}

	function fmtSize(n) {
		if (n < 1024)
			return n + " B";
		if (n < 1024 * 1024)
			return (n / 1024).toFixed(n < 10240 ? 1 : 0) + " kB";
		return (n / 1048576).toFixed(1) + " MB";
	}

	function fmtDuration(ms) {
		if (ms === null || ms < 0)
			return "";
		if (ms < 1000)
			return Math.round(ms) + " ms";
		return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
	}

	function plural(n, one, many) {
		return n + " " + (n === 1 ? one : many);
	}

	/* ---- adding exchanges ---- */

	/*
	 * Add value to a filter's <select>, in order. Hostile traffic can bring
	 * any number of hosts or methods: past OPTIONS_MAX the list stops
	 * growing (the free-text filter still finds them).
	 */
	function noteOption(set, select, value) {
		if (value === "" || set.has(value) || set.size >= OPTIONS_MAX)
			return;
		set.add(value);
		var lo = 1, hi = select.options.length;
		while (lo < hi) {
			var mid = (lo + hi) >> 1;
			if (select.options[mid].value < value)
				lo = mid + 1;
			else
				hi = mid;
		}
		var o = h("option", null, value);
		o.value = value;
		select.insertBefore(o, lo < select.options.length ?
		    select.options[lo] : null);
	}

	/* Index of the first rec in list whose id is >= id. */
	function lowerBound(list, id) {
		var lo = 0, hi = list.length;
		while (lo < hi) {
			var mid = (lo + hi) >> 1;
			if (list[mid].id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo;
	}

	/*
	 * Take entries from the server or the report; duplicates (an event and
	 * a fetch that overlap after a reconnect) are ignored by _id.
	 */
	function addEntries(list) {
		var reorder = false, added = 0;
		for (var i = 0; i < list.length; i++) {
			var e = list[i];
			if (e === null || typeof e !== "object" || Array.isArray(e))
				continue;
			var r = makeRec(e, recs.length ? recs[recs.length - 1].id + 1 :
			    1);
			if (byId.has(r.id))
				continue;
			byId.set(r.id, r);
			if (recs.length && r.id < recs[recs.length - 1].id) {
				recs.splice(lowerBound(recs, r.id), 0, r);
				reorder = true;
			} else
				recs.push(r);
			if (r.id > lastId)
				lastId = r.id;
			noteOption(methods, el.method, r.method);
			noteOption(hosts, el.host, r.host);
			if (!reorder && !filtering && matches(r))
				shown.push(r);
			added++;
		}
		if (added === 0)
			return;
		trimToKeep();
		if (reorder)
			refilter(false);
		queueRender();
	}

	/* The page keeps what the server keeps: the last `keep` exchanges. */
	function trimToKeep() {
		if (mode !== "live" || keep <= 0 || recs.length <= keep)
			return;
		var cut = recs.length - keep;
		var gone = recs.splice(0, cut);
		gone.forEach(function (r) {
			byId.delete(r.id);
			if (r.id >= dropOldest)
				dropSince++;
		});
		var firstKept = recs[0].id;
		var s = lowerBound(shown, firstKept);
		if (s > 0) {
			shown.splice(0, s);
			el.rows.scrollTop = Math.max(0, el.rows.scrollTop - s * ROW_H);
		}
		if (selected && !byId.has(selected.id))
			selected = null;
		showNotice();
	}

	/*
	 * The server says d exchanges were dropped, the oldest it keeps being
	 * `oldest`. Ids below that are counted in d; the page counts the ones
	 * it drops itself from there on (trimToKeep).
	 */
	function setDropped(d, oldest) {
		if (num(d) === null || d <= dropBase + dropSince)
			return;
		dropBase = d;
		dropSince = 0;
		dropOldest = num(oldest) !== null ? oldest : lastId + 1;
		showNotice();
	}

	function showNotice() {
		var n = dropBase + dropSince;
		if (n <= 0) {
			el.notice.hidden = true;
			return;
		}
		el.notice.textContent = plural(n, "older exchange was",
		    "older exchanges were") + " dropped (--web-keep " + keep +
		    "): the view keeps the last " + keep + ".";
		el.notice.hidden = false;
	}

	/* ---- the filter ---- */

	function matches(r) {
		var f = filter;
		if (f.method && r.method !== f.method)
			return false;
		if (f.host && r.host !== f.host)
			return false;
		if (f.status) {
			var cls = r.status >= 100 && r.status < 600 ?
			    String(Math.floor(r.status / 100)) : "0";
			if (cls !== f.status)
				return false;
		}
		if (f.diag && r.ndiag === 0)
			return false;
		if (f.terms.length) {
			var hay = haystack(r);
			for (var i = 0; i < f.terms.length; i++)
				if (hay.indexOf(f.terms[i]) < 0)
					return false;
		}
		return true;
	}

	function readFilter() {
		var text = el.q.value.trim().toLowerCase();
		return { terms: text === "" ? [] : text.split(/\s+/), text: text,
		    method: el.method.value, status: el.fstatus.value,
		    host: el.host.value, diag: el.diag.checked };
	}

	/* A filter that can only let fewer through than the old one. */
	function narrower(n, o) {
		if ((o.method && n.method !== o.method) ||
		    (o.status && n.status !== o.status) ||
		    (o.host && n.host !== o.host) || (o.diag && !n.diag))
			return false;
		return o.terms.every(function (t) {
			return n.terms.some(function (u) {
				return u.indexOf(t) >= 0;
			});
		});
	}

	function applyFilter() {
		var n = readFilter();
		/* While a job runs, `shown` is not yet the old filter's result. */
		var narrowing = !filtering && narrower(n, filter);
		filter = n;
		refilter(narrowing);
	}

	/*
	 * Run the filter in slices of a few milliseconds, so that typing stays
	 * responsive over 10,000 exchanges with their bodies. Narrowing only
	 * re-checks the rows already shown. The table keeps showing the old
	 * result until the new one is complete; exchanges that arrive
	 * meanwhile are checked at the end.
	 */
	function refilter(narrowing) {
		var job = ++filterJob;
		var source = narrowing ? shown.slice() : recs.slice();
		var upto = lastId;
		var out = [], i = 0;
		filtering = true;
		el.count.textContent = "filtering…";
		function step() {
			if (job !== filterJob)
				return;
			var t0 = performance.now();
			while (i < source.length) {
				if (matches(source[i]))
					out.push(source[i]);
				i++;
				if ((i & 255) === 0 && performance.now() - t0 >
				    FILTER_SLICE_MS)
					break;
			}
			if (i < source.length) {
				setTimeout(step, 0);
				return;
			}
			filtering = false;
			out = out.filter(function (r) {
				return byId.get(r.id) === r;
			});
			for (var j = lowerBound(recs, upto + 1); j < recs.length; j++)
				if (matches(recs[j]))
					out.push(recs[j]);
			shown = out;
			if (selected && lowerBoundHas(shown, selected))
				scrollToRec(selected, "nearest");
			queueRender();
		}
		step();
	}

	function lowerBoundHas(list, r) {
		var i = lowerBound(list, r.id);
		return i < list.length && list[i] === r;
	}

	/* ---- the table ---- */

	var pool = [];     /* row elements, reused */

	function queueRender() {
		if (renderQueued)
			return;
		renderQueued = true;
		requestAnimationFrame(function () {
			renderQueued = false;
			render();
		});
	}

	function headerHeight() {
		return el.head.offsetHeight || ROW_H;
	}

	function makeRow() {
		var row = h("div", "row");
		row.setAttribute("role", "row");
		var cls = ["id num", "clock", "method", "host", "path", "status num",
		    "size num", "size num", "dur num", "diag", "replay", "fault"];
		cls.forEach(function (c) {
			var cell = h("span", c);
			cell.setAttribute("role", "gridcell");
			row.appendChild(cell);
		});
		row.addEventListener("click", function () {
			var r = byId.get(Number(row.dataset.id));
			if (r) {
				select(r, null);
				openDetail(r);
				el.rows.focus({ preventScroll: true });
			}
		});
		return row;
	}

	function badge(sev, n) {
		var b = h("span", "badge " + sev, String(n));
		b.title = plural(n, sev, sev === "info" ? "info" : sev + "s");
		return b;
	}

	function fillRow(row, r) {
		var c = row.children;
		row.dataset.id = String(r.id);
		c[0].textContent = String(r.id);
		c[1].textContent = fmtClock(r.started);
		c[2].textContent = r.method;
		c[2].className = "method m-" + (/^[A-Z]+$/.test(r.method) ?
		    r.method : "other");
		c[3].textContent = r.host;
		c[3].title = r.host;
		c[4].textContent = r.path;
		c[4].title = r.url;
		c[5].textContent = r.status ? String(r.status) : "—";
		c[5].className = "status num s" + (r.status ?
		    String(r.status).charAt(0) : "0");
		c[5].title = r.error ? "patchscope: " + r.error : "";
		c[6].textContent = r.reqSize ? fmtSize(r.reqSize) : "";
		c[7].textContent = r.status ? fmtSize(r.resSize) : "";
		c[8].textContent = fmtDuration(r.time);
		clear(c[9]);
		SEVERITIES.forEach(function (s) {
			if (r.counts[s])
				c[9].appendChild(badge(s, r.counts[s]));
		});
		c[10].textContent = r.replay;
		c[10].className = "replay" + (r.replay ? " r-" +
		    (r.replay === "hit" ? "hit" : "miss") : "");
		c[11].textContent = r.fault;
		c[11].title = r.fault;
		row.classList.toggle("selected", r === selected);
		row.classList.toggle("has-error", r.counts.error > 0);
		row.setAttribute("aria-selected", r === selected ? "true" : "false");
	}

	function render() {
		var hh = headerHeight();
		el.sizer.style.height = (shown.length * ROW_H) + "px";
		if (follow)
			el.rows.scrollTop = el.rows.scrollHeight;
		var top = el.rows.scrollTop, view = el.rows.clientHeight - hh;
		var first = Math.max(0, Math.floor(top / ROW_H) - ROW_MARGIN);
		var last = Math.min(shown.length, Math.ceil((top + view) / ROW_H) +
		    ROW_MARGIN);
		var need = Math.max(0, last - first);
		while (pool.length < need) {
			var row = makeRow();
			pool.push(row);
			el.rows.appendChild(row);
		}
		for (var i = 0; i < pool.length; i++) {
			var rowEl = pool[i];
			if (i < need) {
				fillRow(rowEl, shown[first + i]);
				rowEl.style.top = (hh + (first + i) * ROW_H) + "px";
				rowEl.hidden = false;
			} else
				rowEl.hidden = true;
		}
		/* Shrink the pool when the window got smaller. */
		while (pool.length > need + 2 * ROW_MARGIN) {
			var extra = pool.pop();
			extra.parentNode.removeChild(extra);
		}
		el.count.textContent = filtering ? "filtering…" :
		    shown.length === recs.length ?
		    plural(recs.length, "exchange", "exchanges") :
		    shown.length + " of " + recs.length + " exchanges";
		showEmpty();
	}

	function showEmpty() {
		if (forbidden) {
			el.empty.hidden = true;
			return;
		}
		if (recs.length === 0) {
			el.empty.textContent = mode === "live" ?
			    "No exchanges yet: they appear here as your client sends " +
			    "requests through patchscope." : "No exchanges.";
			el.empty.hidden = false;
		} else if (shown.length === 0) {
			el.empty.textContent = "No exchange matches the filter.";
			el.empty.hidden = false;
		} else
			el.empty.hidden = true;
	}

	function onScroll() {
		var r = el.rows;
		follow = r.scrollTop + r.clientHeight >= r.scrollHeight - 2;
		queueRender();
	}

	/* Scroll so that rec r is on screen ("nearest" or "center"). */
	function scrollToRec(r, how) {
		var i = lowerBound(shown, r.id);
		if (i >= shown.length || shown[i] !== r)
			return;
		var hh = headerHeight();
		var y = i * ROW_H, view = el.rows.clientHeight - hh;
		var top = el.rows.scrollTop;
		if (how === "center")
			el.rows.scrollTop = Math.max(0, y - view / 2);
		else if (y < top)
			el.rows.scrollTop = y;
		else if (y + ROW_H > top + view)
			el.rows.scrollTop = y + ROW_H - view;
		follow = false;
	}

	function select(r, how) {
		selected = r;
		if (r && how)
			scrollToRec(r, how);
		queueRender();
	}

	/* Move the selection by delta rows (Infinity: to the end). */
	function moveSelection(delta) {
		if (shown.length === 0)
			return;
		var i;
		if (delta === -Infinity)
			i = 0;
		else if (delta === Infinity)
			i = shown.length - 1;
		else if (!selected || !lowerBoundHas(shown, selected))
			i = delta > 0 ? 0 : shown.length - 1;
		else
			i = lowerBound(shown, selected.id) + delta;
		i = Math.max(0, Math.min(shown.length - 1, i));
		select(shown[i], "nearest");
		if (detailRec)
			openDetail(shown[i]);
	}

	/* ---- JSON pretty-printing that keeps the body's own tokens ---- */

	/*
	 * Parse JSON text into a tree that keeps every scalar's text as written
	 * (a large number stays as it was sent), or return null if it is not
	 * JSON. Nodes: {t: "o", m: [{k, raw, v}]}, {t: "a", m: [v]},
	 * {t: "s"|"n"|"l", raw}. Lines are filled in by layout().
	 */
	function parseJson(text) {
		var i = 0, n = text.length;
		var ws = /[ \t\r\n]*/y;
		var strRe = /"(?:[^"\\\u0000-\u001f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
		var numRe = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
		var litRe = /true|false|null/y;

		function skip() {
			ws.lastIndex = i;
			ws.exec(text);
			i = ws.lastIndex;
		}
		function tok(re) {
			re.lastIndex = i;
			var m = re.exec(text);
			if (!m)
				throw new Error("bad token");
			i = re.lastIndex;
			return m[0];
		}
		function value(depth) {
			if (depth > JSON_DEPTH_MAX)
				throw new Error("too deep");
			skip();
			var c = text.charAt(i);
			if (c === "{") {
				var o = { t: "o", m: [] };
				i++;
				skip();
				if (text.charAt(i) === "}") {
					i++;
					return o;
				}
				for (;;) {
					skip();
					var raw = tok(strRe);
					skip();
					if (text.charAt(i++) !== ":")
						throw new Error(": expected");
					o.m.push({ k: JSON.parse(raw), raw: raw,
					    v: value(depth + 1) });
					skip();
					c = text.charAt(i++);
					if (c === "}")
						return o;
					if (c !== ",")
						throw new Error(", expected");
				}
			}
			if (c === "[") {
				var a = { t: "a", m: [] };
				i++;
				skip();
				if (text.charAt(i) === "]") {
					i++;
					return a;
				}
				for (;;) {
					a.m.push(value(depth + 1));
					skip();
					c = text.charAt(i++);
					if (c === "]")
						return a;
					if (c !== ",")
						throw new Error(", expected");
				}
			}
			if (c === "\"")
				return { t: "s", raw: tok(strRe) };
			if (c === "t" || c === "f" || c === "n")
				return { t: "l", raw: tok(litRe) };
			return { t: "n", raw: tok(numRe) };
		}
		try {
			var root = value(0);
			skip();
			return i === n ? root : null;
		} catch (err) {
			return null;
		}
	}

	/*
	 * Lay the tree out as indented lines. Each line is a list of [class,
	 * text] pieces; each node gets .first and .last, its line numbers.
	 */
	function layout(root) {
		var lines = [];
		function put(node, indent, keyRaw, comma) {
			var pre = [["ind", indent]];
			if (keyRaw !== null)
				pre.push(["key", keyRaw], ["punct", ": "]);
			var tail = comma ? [["punct", ","]] : [];
			node.first = lines.length;
			if (node.t === "o" || node.t === "a") {
				var open = node.t === "o" ? "{" : "[";
				var close = node.t === "o" ? "}" : "]";
				if (node.m.length === 0) {
					lines.push(pre.concat([["punct", open + close]], tail));
					node.last = node.first;
					return;
				}
				lines.push(pre.concat([["punct", open]]));
				node.m.forEach(function (m, j) {
					var last = j === node.m.length - 1;
					if (node.t === "o")
						put(m.v, indent + "  ", m.raw, !last);
					else
						put(m, indent + "  ", null, !last);
				});
				lines.push([["ind", indent], ["punct", close]].concat(tail));
			} else {
				var cls = node.t === "s" ? "str" : node.t === "n" ? "num" :
				    "lit";
				lines.push(pre.concat([[cls, node.raw]], tail));
			}
			node.last = lines.length - 1;
		}
		put(root, "", null, false);
		return lines;
	}

	/*
	 * The node a diagnosis path names, or null. Paths are JSON Pointers
	 * (RFC 6901: "~1" is "/", "~0" is "~"); patchscope writes a control
	 * character in a key as %XX, so a key is tried as written, then with
	 * those decoded.
	 */
	function resolvePointer(root, path) {
		if (path === "")
			return root;
		if (path.charAt(0) !== "/")
			return null;
		var node = root;
		var parts = path.slice(1).split("/");
		for (var p = 0; p < parts.length; p++) {
			var key = parts[p].replace(/~1/g, "/").replace(/~0/g, "~");
			if (node.t === "o") {
				var found = findMember(node, key);
				if (!found) {
					var dec = key.replace(/%([01][0-9A-Fa-f]|7[Ff])/g,
					    function (_, x) {
						return String.fromCharCode(parseInt(x, 16));
					});
					found = dec !== key ? findMember(node, dec) : null;
				}
				if (!found)
					return null;
				node = found;
			} else if (node.t === "a") {
				if (!/^(0|[1-9][0-9]*)$/.test(key) ||
				    Number(key) >= node.m.length)
					return null;
				node = node.m[Number(key)];
			} else
				return null;
		}
		return node;
	}

	function findMember(node, key) {
		/* With duplicate keys, the last one counts (as jansson reads). */
		for (var j = node.m.length - 1; j >= 0; j--)
			if (node.m[j].k === key)
				return node.m[j].v;
		return null;
	}

	/* ---- the detail pane ---- */

	function section(title, extra) {
		var s = h("section", "dsec");
		var hd = h("h3", null, title);
		if (extra)
			hd.appendChild(h("span", "muted", " " + extra));
		s.appendChild(hd);
		return s;
	}

	function kvTable(rows) {
		var t = h("table", "kv");
		rows.forEach(function (r) {
			var tr = h("tr");
			tr.appendChild(h("th", null, r[0]));
			var td = h("td", r[2] || null, r[1]);
			tr.appendChild(td);
			t.appendChild(tr);
		});
		return t;
	}

	function headerTable(list) {
		list = arr(list);
		if (list.length === 0)
			return h("div", "muted", "none");
		return kvTable(list.map(function (x) {
			x = obj(x);
			var v = str(x.value);
			return [str(x.name), v, /^redacted:[0-9a-f]{12}$/.test(v) ?
			    "redacted" : null];
		}));
	}

	function diagNote(d, where) {
		var box = h("div", "dnote " + d.sev);
		var line = h("div", "dnote-head");
		line.appendChild(h("span", "sev " + d.sev, d.sev));
		line.appendChild(h("span", "code", d.code));
		line.appendChild(h("span", "path", d.path === "" ?
		    "(whole body)" : d.path));
		if (where)
			line.appendChild(h("span", "muted", where));
		box.appendChild(line);
		box.appendChild(h("div", "msg", d.message));
		if (d.suggestion !== null) {
			var sg = h("div", "sugg");
			sg.appendChild(h("span", "muted", "suggestion: "));
			sg.appendChild(h("span", "sugg-val", d.suggestion));
			box.appendChild(sg);
		}
		d.note = box;
		return box;
	}

	function readDiagnoses(e) {
		return arr(e._diagnoses).map(function (d) {
			d = obj(d);
			var sugg = d.suggestion;
			return {
				sev: SEVERITIES.indexOf(d.severity) >= 0 ? d.severity :
				    "info",
				code: str(d.code),
				path: str(d.path),
				message: str(d.message),
				suggestion: sugg === undefined || sugg === null ? null :
				    typeof sugg === "string" ? sugg : JSON.stringify(sugg),
				note: null
			};
		});
	}

	function bodyInfo(b, b64field) {
		var text = str(b.text);
		var parts = [];
		var b64 = b[b64field] === "base64";
		if (b64)
			parts.push("binary, shown as base64");
		if (typeof b._decodedFrom === "string")
			parts.push("decoded from " + b._decodedFrom);
		if (num(b._truncated) !== null)
			parts.push("truncated: the first " +
			    fmtSize(bodyBytes(text, b64)) + " of " +
			    fmtSize(b._truncated) + " are stored");
		if (typeof b.mimeType === "string" && b.mimeType !== "")
			parts.unshift(b.mimeType);
		return { text: text, b64: b64, note: parts.join(" · ") };
	}

	/*
	 * A body, pretty-printed when it is JSON, with the diagnoses (request
	 * bodies only) at the lines their pointers name.
	 */
	function bodyView(info, diags) {
		var wrap = h("div", "body");
		var text = info.text;
		var tree = null;
		if (!info.b64 && text.length <= PRETTY_MAX &&
		    /^[\s]*[{[]/.test(text))
			tree = parseJson(text);
		var unplaced = [];
		if (!tree) {
			diags.forEach(function (d) {
				unplaced.push(d);
			});
			unplaced.forEach(function (d) {
				wrap.appendChild(diagNote(d, d.path === "" ? null :
				    "(the body is not JSON)"));
			});
			var pre = h("pre", "raw");
			pre.textContent = text.length > SHOW_MAX ?
			    text.slice(0, SHOW_MAX) : text;
			wrap.appendChild(pre);
			if (text.length > SHOW_MAX)
				wrap.appendChild(h("div", "muted", "showing the first " +
				    SHOW_MAX + " characters of " + text.length +
				    " (Download HAR for all of it)"));
			return wrap;
		}
		var lines = layout(tree);
		var at = new Map();      /* line -> diagnoses noted after it */
		var mark = [];           /* per line: worst severity covering it */
		diags.forEach(function (d) {
			var node = d.path === "" ? null : resolvePointer(tree, d.path);
			if (d.path === "" || !node) {
				unplaced.push(d);
				return;
			}
			if (!at.has(node.first))
				at.set(node.first, []);
			at.get(node.first).push(d);
			for (var l = node.first; l <= node.last; l++) {
				var cur = mark[l];
				if (cur === undefined || SEVERITIES.indexOf(d.sev) <
				    SEVERITIES.indexOf(cur.sev))
					mark[l] = { sev: d.sev, start: l === node.first };
				else if (l === node.first)
					cur.start = true;
			}
		});
		unplaced.forEach(function (d) {
			var where = null;
			if (d.path !== "")
				where = "(not found in this body)";
			wrap.appendChild(diagNote(d, where));
		});
		if (unplaced.some(function (d) { return d.path === ""; }))
			wrap.classList.add("whole-" + unplaced.filter(function (d) {
				return d.path === "";
			}).map(function (d) {
				return d.sev;
			}).sort(function (a, b) {
				return SEVERITIES.indexOf(a) - SEVERITIES.indexOf(b);
			})[0]);
		var code = h("div", "json");
		code.setAttribute("role", "document");
		lines.forEach(function (pieces, ln) {
			var line = h("div", "ln");
			line.dataset.line = String(ln + 1);
			pieces.forEach(function (p) {
				line.appendChild(p[0] === "ind" ? document.createTextNode(
				    p[1]) : h("span", "j-" + p[0], p[1]));
			});
			if (mark[ln]) {
				line.classList.add("hl", "hl-" + mark[ln].sev);
				if (mark[ln].start)
					line.classList.add("hl-start");
			}
			code.appendChild(line);
			var ds = at.get(ln);
			if (ds)
				ds.forEach(function (d) {
					code.appendChild(diagNote(d, null));
				});
		});
		wrap.appendChild(code);
		return wrap;
	}

	function summaryRows(r) {
		var e = r.e, res = obj(e.response);
		var rows = [];
		rows.push(["status", r.status ? r.status + " " + str(res.statusText) :
		    "no answer", "s" + String(r.status || 0).charAt(0)]);
		if (r.started !== null)
			rows.push(["started", new Date(r.started).toISOString()]);
		rows.push(["duration", fmtDuration(r.time)]);
		var t = obj(e.timings);
		if (num(t.send) !== null || num(t.wait) !== null)
			rows.push(["timings", ["send", "wait", "receive"].map(function (k) {
				return k + " " + fmtDuration(num(t[k]));
			}).join(", ")]);
		if (str(e.serverIPAddress))
			rows.push(["server", e.serverIPAddress]);
		if (str(e._answeredBy))
			rows.push(["answered by", e._answeredBy]);
		if (r.error)
			rows.push(["error", r.error, "err"]);
		if (r.fault)
			rows.push(["fault", r.fault, "fault-v"]);
		if (r.replay)
			rows.push(["replay", r.replay]);
		rows.push(["exchange", "#" + r.id]);
		return rows;
	}

	function openDetail(r) {
		detailRec = r;
		var e = r.e, req = obj(e.request), res = obj(e.response);
		el.detail.hidden = false;
		document.body.classList.add("with-detail");
		el.curlBox.hidden = true;
		clear(el.dTitle);
		el.dTitle.appendChild(h("span", "method m-" +
		    (/^[A-Z]+$/.test(r.method) ? r.method : "other"), r.method));
		el.dTitle.appendChild(h("span", "durl", r.url));
		el.dTitle.title = r.url;
		var body = el.dBody;
		clear(body);
		var diags = readDiagnoses(e);

		var top = h("div", "dtop");
		var sum = section("Exchange");
		sum.appendChild(kvTable(summaryRows(r)));
		top.appendChild(sum);
		var dl = section("Diagnoses", diags.length ? "(" + diags.length +
		    ")" : "");
		if (diags.length === 0)
			dl.appendChild(h("div", "muted", "none"));
		var list = h("ul", "dlist");
		diags.forEach(function (d) {
			var li = h("li", "ditem " + d.sev);
			li.appendChild(h("span", "sev " + d.sev, d.sev));
			li.appendChild(h("span", "code", d.code));
			li.appendChild(h("span", "path", d.path === "" ? "(whole)" :
			    d.path));
			li.appendChild(h("span", "msg", d.message));
			li.tabIndex = 0;
			li.title = "Show it in the request body";
			var go = function () {
				if (d.note) {
					d.note.scrollIntoView({ block: "center" });
					d.note.classList.remove("flash");
					void d.note.offsetWidth;
					d.note.classList.add("flash");
				}
			};
			li.addEventListener("click", go);
			li.addEventListener("keydown", function (ev) {
				if (ev.key === "Enter") {
					ev.stopPropagation();
					go();
				}
			});
			list.appendChild(li);
		});
		dl.appendChild(list);
		top.appendChild(dl);
		body.appendChild(top);

		var cols = h("div", "dcols");
		var left = h("div", "dcol");
		left.appendChild(h("h2", null, "Request"));
		var qs = arr(req.queryString);
		var qdiags = diags.filter(function (d) {
			return d.path.indexOf("query:") === 0;
		});
		if (qs.length || qdiags.length) {
			var qsec = section("Query");
			qsec.appendChild(kvTable(qs.map(function (x) {
				return [str(obj(x).name), str(obj(x).value)];
			})));
			qdiags.forEach(function (d) {
				qsec.appendChild(diagNote(d, null));
			});
			left.appendChild(qsec);
		}
		var bdiags = diags.filter(function (d) {
			return d.path.indexOf("query:") !== 0;
		});
		var pd = obj(req.postData);
		if (typeof pd.text === "string" || bdiags.length) {
			var pinfo = bodyInfo(pd, "_encoding");
			var bsec = section("Body", pinfo.note);
			bsec.appendChild(bodyView(pinfo, bdiags));
			left.appendChild(bsec);
		}
		var hsec = section("Headers");
		hsec.appendChild(headerTable(req.headers));
		left.appendChild(hsec);
		cols.appendChild(left);

		var right = h("div", "dcol");
		right.appendChild(h("h2", null, "Response"));
		if (!r.status) {
			right.appendChild(h("div", "muted", "No answer" + (r.error ?
			    " (" + r.error + ")" : "") + (r.fault ? ", fault " +
			    r.fault : "") + "."));
		} else {
			var cinfo = bodyInfo(obj(res.content), "encoding");
			var rb = section("Body", cinfo.note);
			rb.appendChild(bodyView(cinfo, []));
			right.appendChild(rb);
			var rh = section("Headers");
			rh.appendChild(headerTable(res.headers));
			right.appendChild(rh);
		}
		cols.appendChild(right);
		body.appendChild(cols);
		body.scrollTop = 0;
		var firstNote = diags.filter(function (d) {
			return d.note && d.path.indexOf("query:") !== 0;
		})[0];
		if (firstNote)
			firstNote.note.scrollIntoView({ block: "nearest" });
		queueRender();
	}

	function closeDetail() {
		detailRec = null;
		el.detail.hidden = true;
		document.body.classList.remove("with-detail");
		clear(el.dBody);
		queueRender();
		el.rows.focus({ preventScroll: true });
	}

	/* ---- copy as curl ---- */

	/* One shell word: single quotes, each ' written as '\''. */
	function shq(s) {
		return "'" + String(s).replace(/'/g, "'\\''") + "'";
	}

	var HOP = ["host", "content-length", "connection", "keep-alive",
	    "transfer-encoding", "te", "trailer", "upgrade",
	    "proxy-connection"];
	var TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
	/*
	 * Characters a terminal or the shell's line editor acts on when the
	 * command is pasted (C0 but line feed, DEL, C1; a tab completes
	 * names when pasted without bracketed paste): a body with
	 * them is piped in from base64, a URL gets them percent-encoded, a
	 * header with them is left out, so none reaches the command line.
	 */
	var CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

	/* A name for a comment line: JSON, with no control character raw. */
	function quoted(s) {
		return JSON.stringify(s).replace(/[\x7f-\x9f\u2028\u2029]/g,
		    function (c) {
			return "\\u" + ("000" + c.charCodeAt(0).toString(16))
			    .slice(-4);
		});
	}

	function utf8Base64(s) {
		var bytes = new TextEncoder().encode(s);
		var bin = "";
		for (var i = 0; i < bytes.length; i += 0x8000)
			bin += String.fromCharCode.apply(null,
			    bytes.subarray(i, i + 0x8000));
		return btoa(bin);
	}

	/*
	 * The request as a curl command line. Everything from the exchange is
	 * one single-quoted word; the URL goes through --url and the body
	 * through --data-raw (no @file reading). A binary body (or one with a
	 * control character) is piped in from base64. Headers that cannot be
	 * sent as they are (a name that is not a token, a line break or
	 * control character in a value) and a method that is not a token are
	 * left out and named in a comment above the command.
	 */
	function curlCommand(e) {
		var req = obj(e.request);
		var method = str(req.method) || "GET";
		var args = ["curl"];
		var notes = [];
		var pd = obj(req.postData);
		var hasBody = typeof pd.text === "string" && pd.text !== "";
		var b64 = pd._encoding === "base64";
		var pipe = null;
		var url = str(req.url).replace(/[\x00-\x20\x7f-\x9f]/g,
		    encodeURIComponent);
		if (!TOKEN.test(method)) {
			notes.push("the method " + quoted(method));
			method = hasBody ? "POST" : "GET";
		}
		if (/[[\]{}]/.test(url))
			args.push("--globoff");
		if (method === "HEAD")
			args.push("--head");
		else if (!(method === "POST" && hasBody) &&
		    !(method === "GET" && !hasBody))
			args.push("-X", shq(method));
		var sentEnc = false;
		arr(req.headers).forEach(function (x) {
			x = obj(x);
			var name = str(x.name), value = str(x.value);
			if (HOP.indexOf(name.toLowerCase()) >= 0)
				return;
			if (!TOKEN.test(name) || /[\r\n]/.test(value) ||
			    CONTROL.test(value)) {
				notes.push(quoted(name));
				return;
			}
			if (name.toLowerCase() === "accept-encoding")
				sentEnc = true;
			args.push("-H", shq(name + ": " + value));
		});
		if (sentEnc)
			args.push("--compressed");
		if (hasBody) {
			if (b64 || CONTROL.test(pd.text)) {
				pipe = b64 ? pd.text.replace(/[^A-Za-z0-9+/=]/g, "") :
				    utf8Base64(pd.text);
				args.push("--data-binary", "@-");
			} else
				args.push("--data-raw", shq(pd.text));
		}
		args.push("--url", shq(url));
		var cmd = args.join(" ");
		if (pipe !== null)
			cmd = "printf '%s' " + shq(pipe) + " | base64 -d | " + cmd;
		if (notes.length)
			cmd = "# left out, not sendable as they are: " +
			    notes.join(", ") + "\n" + cmd;
		if (num(pd._truncated) !== null)
			cmd = "# the body was truncated in the recording: only its " +
			    "first part is sent\n" + cmd;
		return cmd;
	}

	function copyCurl() {
		if (!detailRec)
			return;
		var cmd = curlCommand(detailRec.e);
		var fallback = function () {
			el.curlText.value = cmd;
			el.curlBox.hidden = false;
			el.curlText.focus();
			el.curlText.select();
		};
		if (!navigator.clipboard || !navigator.clipboard.writeText) {
			fallback();
			return;
		}
		navigator.clipboard.writeText(cmd).then(function () {
			el.curlBox.hidden = true;
			flashStatus("curl command copied");
		}, fallback);
	}

	var statusText = "";
	var flashTimer = 0;

	function setStatus(text, cls) {
		statusText = text;
		el.statusLine.textContent = text;
		el.statusLine.className = "status" + (cls ? " " + cls : "");
	}

	function flashStatus(text) {
		el.statusLine.textContent = text;
		clearTimeout(flashTimer);
		flashTimer = setTimeout(function () {
			el.statusLine.textContent = statusText;
		}, 2500);
	}

	/* ---- download HAR ---- */

	function harOf(list) {
		return {
			log: {
				version: "1.2",
				creator: { name: "patchscope", version: "web view" },
				entries: list.map(function (r) {
					var out = {};
					Object.keys(r.e).forEach(function (k) {
						if (k !== "_id" && k !== "_replay")
							out[k] = r.e[k];
					});
					return out;
				})
			}
		};
	}

	function downloadHar() {
		var text = JSON.stringify(harOf(shown), null, 1) + "\n";
		var blob = new Blob([text], { type: "application/json" });
		var a = document.createElement("a");
		var d = new Date();
		a.download = "patchscope-" + d.getFullYear() + pad(d.getMonth() + 1,
		    2) + pad(d.getDate(), 2) + "-" + pad(d.getHours(), 2) +
		    pad(d.getMinutes(), 2) + pad(d.getSeconds(), 2) + ".har";
		a.href = URL.createObjectURL(blob);
		document.body.appendChild(a);
		a.click();
		a.parentNode.removeChild(a);
		setTimeout(function () {
			URL.revokeObjectURL(a.href);
		}, 60000);
		flashStatus(plural(shown.length, "exchange", "exchanges") +
		    " saved as " + a.download);
	}

	/* ---- keyboard ---- */

	function typing(t) {
		return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" ||
		    t.tagName === "SELECT");
	}

	function onKey(ev) {
		if (ev.ctrlKey || ev.metaKey || ev.altKey)
			return;
		var t = ev.target;
		if (t === el.q) {
			if (ev.key === "Escape") {
				ev.preventDefault();
				el.q.blur();
				el.rows.focus({ preventScroll: true });
			} else if (ev.key === "ArrowDown" || ev.key === "Enter") {
				ev.preventDefault();
				el.rows.focus({ preventScroll: true });
				if (ev.key === "ArrowDown")
					moveSelection(1);
			}
			return;
		}
		if (t === el.curlText && ev.key === "Escape") {
			el.curlBox.hidden = true;
			el.rows.focus({ preventScroll: true });
			return;
		}
		if (typing(t))
			return;
		if (ev.key !== "/" && ev.key !== "Escape" && t && t.closest &&
		    t.closest("#detail"))
			return;
		var page = Math.max(1, Math.floor((el.rows.clientHeight -
		    headerHeight()) / ROW_H) - 1);
		switch (ev.key) {
		case "/":
			ev.preventDefault();
			el.q.focus();
			el.q.select();
			return;
		case "ArrowDown":
			moveSelection(1);
			break;
		case "ArrowUp":
			moveSelection(-1);
			break;
		case "PageDown":
			moveSelection(page);
			break;
		case "PageUp":
			moveSelection(-page);
			break;
		case "Home":
			moveSelection(-Infinity);
			break;
		case "End":
			moveSelection(Infinity);
			break;
		case "Enter":
			if (t && t.closest && t.closest("button, .ditem"))
				return;
			if (selected)
				openDetail(selected);
			break;
		case "Escape":
			if (detailRec)
				closeDetail();
			break;
		default:
			return;
		}
		ev.preventDefault();
	}

	/* ---- the server ---- */

	/*
	 * The token: from the fragment the first time, then from this
	 * origin's storage (a reload finds it there). Storage belongs to the
	 * origin, port included: a cookie would be sent to every port of the
	 * host (RFC 6265 8.5), to other local servers, and two views would
	 * overwrite each other's.
	 */
	var token = "";
	var TOKEN_KEY = "patchscope_token";

	function readToken() {
		var hash = location.hash;
		var t = hash.length < 2 ? null :
		    new URLSearchParams(hash.slice(1)).get("token");
		if (t !== null && /^[A-Za-z0-9._~-]{1,256}$/.test(t)) {
			token = t;
			try {
				localStorage.setItem(TOKEN_KEY, t);
			} catch (err) {
				/* no storage: this load still has the token */
			}
		} else {
			try {
				token = str(localStorage.getItem(TOKEN_KEY));
			} catch (err) {
				token = "";
			}
		}
		if (hash.length >= 2)
			history.replaceState(null, "", location.pathname +
			    location.search);
	}

	function Forbidden() {}

	function showForbidden() {
		forbidden = true;
		if (es) {
			es.close();
			es = null;
		}
		clearTimeout(retryTimer);
		setStatus("refused", "bad");
		clear(el.problem);
		el.problem.appendChild(h("strong", null,
		    "patchscope refused this page (403 Forbidden)."));
		el.problem.appendChild(document.createTextNode(
		    " The view's token is missing or wrong, or this address is " +
		    "not the one patchscope printed. Open the address from its " +
		    "output again: web on http://127.0.0.1:PORT/#token=… (the token " +
		    "changes each time patchscope starts)."));
		el.problem.hidden = false;
		showEmpty();
	}

	function takeDoc(doc) {
		doc = obj(doc);
		if (typeof doc.mode === "string" && doc.mode !== mode)
			setMode(doc.mode);
		if (num(doc.keep) !== null)
			keep = doc.keep;
	}

	/* GET /api/exchanges?after=N until it has nothing more. */
	function loadAfter(after, first) {
		return fetch("/api/exchanges?after=" + after, {
			credentials: "omit", cache: "no-store",
			headers: token ? { Authorization: "Bearer " + token } : {}
		}).then(function (resp) {
			if (resp.status === 403)
				throw new Forbidden();
			if (!resp.ok)
				throw new Error("HTTP " + resp.status);
			return resp.json();
		}).then(function (doc) {
			takeDoc(doc);
			var list = arr(obj(doc).exchanges);
			if (first)
				setDropped(num(doc.dropped) || 0, 0);
			else if (num(doc.dropped) !== null)
				setDropped(doc.dropped, list.length ? num(obj(list[0])._id) :
				    null);
			var before = lastId;
			addEntries(list);
			if (list.length && lastId > before)
				return loadAfter(lastId, false);
			return null;
		});
	}

	function failed(err) {
		if (err instanceof Forbidden) {
			showForbidden();
			return true;
		}
		return false;
	}

	function connect() {
		if (forbidden)
			return;
		/*
		 * A new stream starts after the last exchange the page has; the
		 * browser's own reconnects send Last-Event-ID, which wins.
		 */
		es = new EventSource("/api/events?lastEventId=" + lastId +
		    "&token=" + encodeURIComponent(token));
		var mine = es;
		es.addEventListener("open", function () {
			if (mine !== es)
				return;
			setStatus("live", "ok");
			/* Fill what happened between the fetch and this stream. */
			loadAfter(lastId, false).catch(failed);
		});
		es.addEventListener("exchange", function (ev) {
			var e;
			try {
				e = JSON.parse(ev.data);
			} catch (err) {
				return;
			}
			addEntries([e]);
		});
		es.addEventListener("dropped", function (ev) {
			try {
				var d = obj(JSON.parse(ev.data));
				setDropped(d.dropped, d.oldest);
			} catch (err) {
				/* a malformed event changes nothing */
			}
		});
		es.addEventListener("error", function () {
			if (mine !== es)
				return;
			if (es.readyState !== EventSource.CLOSED) {
				setStatus("reconnecting…", "warn");
				return;
			}
			/* Closed for good (a refusal, or gone): find out, retry. */
			es = null;
			setStatus("disconnected: retrying", "warn");
			loadAfter(lastId, false).then(function () {
				retryTimer = setTimeout(connect, RETRY_MS);
			}, function (err) {
				if (!failed(err))
					retryTimer = setTimeout(connect, RETRY_MS);
			});
		});
	}

	function setMode(m) {
		mode = m;
		el.mode.textContent = m;
		el.mode.className = "mode mode-" + (/^[a-z]+$/.test(m) ? m : "x");
		document.title = "patchscope " + m;
	}

	function startServer() {
		readToken();
		setStatus("loading…", "");
		loadAfter(0, true).then(function () {
			queueRender();
			if (mode === "live") {
				setStatus("connecting…", "");
				connect();
				return;
			}
			follow = false;
			el.rows.scrollTop = 0;
			setStatus("", "");
		}, function (err) {
			if (failed(err))
				return;
			setStatus("not answering", "bad");
			clear(el.problem);
			el.problem.appendChild(document.createTextNode(
			    "Could not read the exchanges from patchscope (" +
			    String(err && err.message || err) + "). Is it still " +
			    "running? Reload the page to try again."));
			el.problem.hidden = false;
		});
	}

	function startReport(node) {
		var doc;
		try {
			doc = JSON.parse(node.textContent);
		} catch (err) {
			doc = null;
		}
		setMode("report");
		if (doc === null || typeof doc !== "object") {
			el.problem.textContent = "This report's data could not be read.";
			el.problem.hidden = false;
			return;
		}
		takeDoc(doc);
		setMode("report");
		setDropped(num(doc.dropped) || 0, 0);
		addEntries(arr(doc.exchanges));
		setStatus("", "");
		follow = false;
		queueRender();
	}

	function start() {
		[["rows", "rows"], ["sizer", "sizer"], ["count", "count"],
		    ["mode", "mode"], ["statusLine", "status"],
		    ["notice", "notice"], ["problem", "problem"],
		    ["empty", "empty"], ["q", "q"], ["method", "f-method"],
		    ["fstatus", "f-status"], ["host", "f-host"], ["diag", "f-diag"],
		    ["detail", "detail"], ["dTitle", "d-title"], ["dBody", "d-body"],
		    ["curlBox", "curl-box"], ["curlText", "curl-text"],
		    ["download", "download"], ["copy", "copy-curl"],
		    ["close", "d-close"]].forEach(function (p) {
			el[p[0]] = $(p[1]);
		});
		el.head = el.rows.querySelector(".head");

		var timer = 0;
		el.q.addEventListener("input", function () {
			clearTimeout(timer);
			timer = setTimeout(applyFilter, 60);
		});
		[el.method, el.fstatus, el.host, el.diag].forEach(function (n) {
			n.addEventListener("change", applyFilter);
		});
		el.rows.addEventListener("scroll", onScroll, { passive: true });
		window.addEventListener("resize", queueRender);
		document.addEventListener("keydown", onKey);
		el.download.addEventListener("click", downloadHar);
		el.copy.addEventListener("click", copyCurl);
		el.close.addEventListener("click", closeDetail);

		var data = document.getElementById("patchscope-data");
		if (data)
			startReport(data);
		else
			startServer();
		render();
	}

	if (document.readyState === "loading")
		document.addEventListener("DOMContentLoaded", start);
	else
		start();
}());
