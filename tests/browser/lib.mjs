// Shared helpers of the browser tests of patchscope's web view.
//
// The scripts are run by tests/e2e/test_web_browser.py, which starts
// patchscope and the fake API, and one Chromium for the whole file; it
// passes what a script needs in the environment:
//   PATCHSCOPE_BROWSER_WS   the DevTools endpoint of that Chromium (when it
//                           is not set, the script launches its own)
//   PATCHSCOPE_SHOTS        where screenshots go (default: no screenshots)
//   PATCHSCOPE_TIME_SCALE   a factor for every timeout (sanitized builds)
//   PATCHSCOPE_TEST_*       the addresses and files of the test
//
// A script talks to the wrapper over stdin/stdout, one line at a time:
//   STEP name        the wrapper does its part (e.g. sends requests through
//                    the proxy) and answers with one line of JSON
//   DATA name json   a value for the wrapper to check (e.g. a curl command)
//   ok: ...          a check that passed (for the log)
// and exits 0 when every check passed, 1 with "FAIL: ..." on stderr if not.

import puppeteer from "puppeteer-core";
import { createInterface } from "node:readline";
import path from "node:path";

export const SCALE = Number(process.env.PATCHSCOPE_TIME_SCALE || "1") || 1;
export const T = (ms) => Math.round(ms * SCALE);
export const env = (name) => {
	const v = process.env[name];
	if (v === undefined || v === "")
		throw new Error(`${name} is not set (run this script from tests/e2e/test_web_browser.py)`);
	return v;
};

const lines = createInterface({ input: process.stdin });
const waiting = [];
const queued = [];
lines.on("line", (l) => {
	const w = waiting.shift();
	if (w)
		w(l);
	else
		queued.push(l);
});

// Ask the wrapper to do its part of the test; returns its JSON answer.
export async function step(name) {
	process.stdout.write(`STEP ${name}\n`);
	const line = queued.length ? queued.shift() :
	    await new Promise((resolve) => waiting.push(resolve));
	const answer = JSON.parse(line);
	if (answer && answer.error)
		throw new Error(`the wrapper's step ${name} failed: ${answer.error}`);
	return answer;
}

export function data(name, value) {
	process.stdout.write(`DATA ${name} ${JSON.stringify(value)}\n`);
}

const t0 = Date.now();
const stamp = () => `${String(Date.now() - t0).padStart(6)} ms`;

export function check(cond, what) {
	if (!cond)
		throw new Error(what);
	process.stdout.write(`ok: ${stamp()} ${what}\n`);
}

export function equal(got, want, what) {
	const g = JSON.stringify(got), w = JSON.stringify(want);
	if (g !== w)
		throw new Error(`${what}: got ${g}, want ${w}`);
	process.stdout.write(`ok: ${stamp()} ${what}\n`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function browser() {
	const ws = process.env.PATCHSCOPE_BROWSER_WS;
	if (ws)
		return puppeteer.connect({ browserWSEndpoint: ws });
	const args = ["--no-sandbox", "--disable-gpu"];
	if (process.env.PATCHSCOPE_TEST_REBIND)
		args.push(`--host-resolver-rules=MAP ${process.env.PATCHSCOPE_TEST_REBIND} 127.0.0.1`);
	return puppeteer.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true, args });
}

// A page in a fresh browser context (its own cookies), that records page
// errors, console errors and dialogs, with a fixed viewport. `track`
// lists every request the page makes.
export async function openPage(b, opts = {}) {
	const ctx = await b.createBrowserContext();
	const page = await ctx.newPage();
	page.setDefaultTimeout(T(10000));
	await page.setViewport({ width: opts.width || 1400,
	    height: opts.height || 900 });
	page.problems = [];
	page.dialogs = [];
	page.requests = [];
	page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
	page.on("console", (m) => {
		if (m.type() === "error" && !opts.quietConsole)
			page.problems.push(`console error: ${m.text()}`);
	});
	page.on("dialog", async (d) => {
		page.dialogs.push(`${d.type()}: ${d.message()}`);
		await d.dismiss();
	});
	page.on("request", (r) => page.requests.push(r.url()));
	page.ctx = ctx;
	return page;
}

export async function closePage(page) {
	await page.ctx.close();
}

export async function shot(page, name) {
	const dir = process.env.PATCHSCOPE_SHOTS;
	if (!dir)
		return;
	await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

// Wait until fn (run in the page) returns a truthy value; returns it.
export async function until(page, fn, what, arg, timeout = 10000) {
	try {
		const h = await page.waitForFunction(fn, { timeout: T(timeout),
		    polling: 50 }, arg);
		return await h.jsonValue();
	} catch (e) {
		throw new Error(`timed out waiting for ${what}`);
	}
}

// The rows the table has in the DOM now (the virtual table renders only
// what is on screen): [{id, method, host, path, status, diag, replay,
// fault, selected}].
export async function rows(page) {
	return page.$$eval(".rows .row:not(.head):not([hidden])", (els) =>
	    els.map((r) => ({
		id: Number(r.children[0].textContent),
		method: r.children[2].textContent,
		host: r.children[3].textContent,
		path: r.children[4].textContent,
		status: r.children[5].textContent,
		diag: r.children[9].textContent,
		replay: r.children[10].textContent,
		fault: r.children[11].textContent,
		selected: r.classList.contains("selected"),
		top: r.offsetTop
	    })).sort((a, b) => a.top - b.top));
}

// The "N of M exchanges" / "M exchanges" text of the top bar, parsed.
export async function counts(page) {
	const text = await page.$eval("#count", (n) => n.textContent);
	let m = /^(\d+) of (\d+) exchanges$/.exec(text);
	if (m)
		return { shown: Number(m[1]), total: Number(m[2]) };
	m = /^(\d+) exchanges?$/.exec(text);
	if (m)
		return { shown: Number(m[1]), total: Number(m[1]) };
	return { text };
}

// Set the filter controls (only those named) and wait for the result.
export async function setFilter(page, f) {
	await page.evaluate((f) => {
		const set = (id, v, ev) => {
			const n = document.getElementById(id);
			if (n.type === "checkbox")
				n.checked = v;
			else
				n.value = v;
			n.dispatchEvent(new Event(ev, { bubbles: true }));
		};
		if (f.method !== undefined)
			set("f-method", f.method, "change");
		if (f.status !== undefined)
			set("f-status", f.status, "change");
		if (f.host !== undefined)
			set("f-host", f.host, "change");
		if (f.diag !== undefined)
			set("f-diag", f.diag, "change");
	}, f);
	if (f.text !== undefined) {
		await page.click("#q", { clickCount: 3 });
		await page.keyboard.press("Backspace");
		if (f.text !== "")
			await page.type("#q", f.text);
		await sleep(T(150));     // the text input is debounced
	}
	await until(page, () => new Promise((resolve) =>
	    requestAnimationFrame(() => resolve(!/filtering/.test(
	    document.getElementById("count").textContent)))), "the filter");
	return counts(page);
}

// Run main(browser) and exit 0, or print the failure and exit 1.
export async function run(main) {
	let b = null;
	let code = 0;
	try {
		b = await browser();
		await main(b);
	} catch (e) {
		process.stderr.write(`FAIL: ${e && e.stack || e}\n`);
		code = 1;
	} finally {
		if (b) {
			if (process.env.PATCHSCOPE_BROWSER_WS)
				await b.disconnect();
			else
				await b.close();
		}
	}
	process.exit(code);
}

// The page made no mistake: no page error, no console error, no dialog,
// and the markers hostile data would set are unset.
export async function clean(page, what) {
	const pwned = await page.evaluate(() => window.__pwned);
	equal(pwned === undefined ? null : pwned, null,
	    `${what}: no script from the traffic ran`);
	equal(page.dialogs, [], `${what}: no dialog opened`);
	equal(page.problems, [], `${what}: no page or console error`);
}

// The diagnoses shown inside the pretty-printed request body: for each,
// its code, path, suggestion and the body line it is shown under.
export async function bodyNotes(page) {
	return page.$$eval(".json .dnote", (ns) => ns.map((n) => {
		let ln = n.previousElementSibling;
		while (ln && !ln.classList.contains("ln"))
			ln = ln.previousElementSibling;
		return {
			code: n.querySelector(".code").textContent,
			path: n.querySelector(".path").textContent,
			msg: n.querySelector(".msg").textContent,
			sugg: (n.querySelector(".sugg-val") || {}).textContent || null,
			line: ln ? ln.textContent : null,
			lineClass: ln ? ln.className : ""
		};
	}));
}

// The seed story's failing PATCH is open: actions.partial is at the
// "actions" array, action.anchor.unknown at the misspelt anchor.
export async function checkSeedPatch(page, what) {
	const notes = await bodyNotes(page);
	const partial = notes.find((n) => n.code === "actions.partial");
	check(partial && partial.path === "/actions" &&
	    /^\s*"actions": \[$/.test(partial.line) &&
	    /hl-error/.test(partial.lineClass),
	    `${what}: actions.partial is shown at "actions": [ (${JSON.stringify(partial)})`);
	const anchor = notes.find((n) => n.code === "action.anchor.unknown");
	check(anchor && /^\/actions\/\d+\/anchor$/.test(anchor.path) &&
	    /^\s*"anchor": "BOOKING_CANCELED",?$/.test(anchor.line) &&
	    /hl-error/.test(anchor.lineClass) && anchor.sugg === "BOOKING_CANCELLED",
	    `${what}: action.anchor.unknown is shown at "anchor": "BOOKING_CANCELED" with its suggestion (${JSON.stringify(anchor)})`);
}

// Let the page load fileUrl and nothing else: every other request is
// recorded in page.blocked and fails (data: and blob: URLs are not
// requests to anywhere and pass).
export async function offline(page, fileUrl) {
	page.blocked = [];
	await page.setRequestInterception(true);
	page.on("request", (r) => {
		const u = r.url();
		if (u === fileUrl || u.startsWith("data:") || u.startsWith("blob:"))
			r.continue();
		else {
			page.blocked.push(u);
			r.abort();
		}
	});
}

export const rowCount = (page) => page.$$eval(
    ".rows .row:not(.head):not([hidden])", (e) => e.length);

// Click the row of exchange id and wait for its detail.
export async function openRow(page, id) {
	await page.$eval("#rows", (rows, id) => {
		const r = rows.querySelector(`.row[data-id="${id}"]`);
		if (!r)
			throw new Error(`row ${id} is not on screen`);
	}, id);
	await page.click(`.rows .row[data-id="${id}"] .path`);
	await until(page, (id) => !document.getElementById("detail").hidden &&
	    document.querySelector(".rows .row.selected") &&
	    document.querySelector(".rows .row.selected").dataset.id === String(id),
	    `the detail of exchange ${id}`, id);
}

// GET /api/exchanges from the view at `web` (the printed URL), with the
// token, page after page: what the server holds, read apart from the page.
export async function api(web) {
	const u = new URL(web);
	const token = u.hash.replace(/^#token=/, "");
	let doc = null, after = 0;
	for (;;) {
		const r = await fetch(`${u.origin}/api/exchanges?after=${after}`, {
		    headers: { Authorization: `Bearer ${token}` } });
		if (r.status !== 200)
			throw new Error(`GET /api/exchanges: ${r.status}`);
		const page = await r.json();
		if (doc === null)
			doc = page;
		else
			doc.exchanges.push(...page.exchanges);
		if (page.exchanges.length === 0)
			return doc;
		after = page.exchanges[page.exchanges.length - 1]._id;
	}
}
