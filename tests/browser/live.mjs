// The seed story through `patchscope record --web`: rows appear while the
// client runs; the filter narrows them; the failing PATCH shows
// actions.partial and action.anchor.unknown at their places in its body;
// copy as curl; the keyboard; a reconnect that misses nothing; download HAR.
//
// Steps the wrapper does (test_web_browser.py, test_seed_story_live), with
// one client session:
//   get     the thread's GET, through the proxy
//   patch   its failing PATCH
//   more    the GET of every field and the fixed PATCH, while the page's
//           event stream is cut
//   after   one GET of another host name, once the page reconnected

import { readdir } from "node:fs/promises";
import { run, step, data, check, equal, env, openPage, closePage, shot,
    until, rows, counts, setFilter, clean, sleep, T, api, rowCount,
    checkSeedPatch } from "./lib.mjs";

const WEB = env("PATCHSCOPE_TEST_WEB");          // http://127.0.0.1:P/#token=T
const DOWNLOADS = env("PATCHSCOPE_TEST_DOWNLOADS");
const token = new URL(WEB).hash.replace(/^#token=/, "");

async function downloaded(dir) {
	for (let i = 0; i < T(10000) / 50; i++) {
		const names = (await readdir(dir)).filter((n) => n.endsWith(".har"));
		if (names.length)
			return names[0];
		await sleep(50);
	}
	throw new Error(`no .har file appeared in ${dir}`);
}


run(async (browser) => {
	const page = await openPage(browser);
	// Count the event streams the page opens, to cut one.
	await page.evaluateOnNewDocument(() => {
		const Orig = window.EventSource;
		window.__streams = [];
		window.EventSource = class extends Orig {
			constructor(url, opts) {
				super(url, opts);
				window.__streams.push(this);
			}
		};
	});
	await page.goto(WEB);

	// The token: kept in this origin's storage (not a cookie, which every
	// port of the host would get), and gone from the address bar.
	equal(new URL(page.url()).hash, "", "the token is removed from the address bar");
	equal(await page.cookies(), [], "no cookie");
	equal(await page.evaluate(() => localStorage.getItem("patchscope_token")),
	    token, "the token is kept in the origin's localStorage");
	await until(page, () => window.__streams.length === 1 &&
	    window.__streams[0].readyState === 1, "the event stream to open");
	equal(await page.$eval("#mode", (n) => n.textContent), "live", "mode live");
	equal(await rowCount(page), 0, "no rows before the client runs");
	check(await page.$eval("#empty", (n) => !n.hidden &&
	    /No exchanges yet/.test(n.textContent)), "an empty table says so");

	// Rows appear while the client runs, without a reload.
	await page.evaluate(() => { window.__sameDocument = 42; });
	await step("get");
	await until(page, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 1,
	    "the GET to appear");
	equal((await rows(page)).map((x) => x.method), ["GET"],
	    "the GET is there while the client goes on");
	await step("patch");
	await until(page, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 2,
	    "the PATCH to appear");
	equal(await page.evaluate(() => window.__sameDocument), 42,
	    "the rows came without a reload");
	let r = await rows(page);
	equal(r.map((x) => [x.method, x.status]), [["GET", "200"], ["PATCH", "400"]],
	    "the rows: the GET, then the failing PATCH");
	const badges = await page.$$eval(".rows .row:not(.head):not([hidden]) .badge.error",
	    (b) => b.map((x) => x.textContent));
	check(badges.length === 1 && Number(badges[0]) >= 2,
	    `the PATCH's error badge counts its errors (${badges})`);

	// A reconnect: cut the stream, let the client go on, then let the page
	// find out; it fetches what it missed and opens a new stream.
	await page.evaluate(() => window.__streams[0].close());
	await step("more");
	await sleep(T(400));
	equal(await rowCount(page), 2, "with the stream cut, no new row");
	await page.evaluate(() => window.__streams[0].dispatchEvent(new Event("error")));
	await until(page, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 4,
	    "the exchanges sent while cut off");
	await until(page, () => window.__streams.length === 2 &&
	    window.__streams[1].readyState === 1, "a new event stream");
	await step("after");
	await until(page, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 5,
	    "the exchange sent after the reconnect");
	const all = (await api(WEB)).exchanges;
	r = await rows(page);
	equal(r.map((x) => x.id), all.map((e) => e._id),
	    "after the reconnect: every exchange once, in order");
	equal(await counts(page), { shown: 5, total: 5 }, "the count says 5");

	// The filter, against what the server holds.
	const hasDiag = all.filter((e) => (e._diagnoses || []).length > 0).length;
	const status4 = all.filter((e) => e.response.status >= 400 &&
	    e.response.status < 500).length;
	equal(status4, 1, "one 4xx in the story");
	equal(await setFilter(page, { method: "PATCH" }), { shown: 2, total: 5 },
	    "method PATCH: the two PATCHes");
	equal(await setFilter(page, { method: "", status: "4" }), { shown: 1, total: 5 },
	    "status 4xx: the failing PATCH");
	equal(await setFilter(page, { status: "0" }), { shown: 0, total: 5 },
	    "status: no answer: none");
	check(await page.$eval("#empty", (n) => !n.hidden), "an empty result says so");
	equal(await setFilter(page, { status: "", diag: true }),
	    { shown: hasDiag, total: 5 }, "has diagnoses");
	equal(await setFilter(page, { diag: false, text: "action.anchor.unknown" }),
	    { shown: 1, total: 5 }, "text: a diagnosis code");
	equal(await setFilter(page, { text: "booking_canceled" }),
	    { shown: 1, total: 5 }, "text: body text, any case");
	equal(await setFilter(page, { text: "fields=actions.%2A" }),
	    { shown: 1, total: 5 }, "text: the URL");
	const hosts = await page.$$eval("#f-host option", (o) => o.map((x) => x.value));
	equal(hosts.length, 3, "two hosts to choose from");
	equal(await setFilter(page, { text: "", host: hosts[hosts.indexOf(
	    new URL(all[4].request.url).host)] }), { shown: 1, total: 5 },
	    "host: the other host's one exchange");
	equal(await setFilter(page, { host: "" }), { shown: 5, total: 5 },
	    "filter cleared");

	// The failing PATCH: its diagnoses at their pointers.
	r = await rows(page);
	const failing = r.find((x) => x.status === "400");
	await page.click(`.rows .row[data-id="${failing.id}"] .path`);
	await until(page, () => !document.getElementById("detail").hidden,
	    "the detail pane");
	await checkSeedPatch(page, "live");
	// Every line of the actions array is marked, and nothing outside it.
	const marks = await page.$$eval(".json .ln", (ls) => ls.map((l) =>
	    [l.textContent, l.classList.contains("hl")]));
	const open = marks.findIndex((m) => /"actions": \[$/.test(m[0]));
	const close = marks.findIndex((m, i) => i > open && /^  \],?$/.test(m[0]));
	check(open > 0 && close > open && marks.every((m, i) =>
	    m[1] === (i >= open && i <= close)),
	    "the lines of /actions are highlighted, no others");
	const query = await page.$$eval(".dsec .dnote .code", (c) =>
	    c.map((x) => x.textContent));
	check(query.includes("query.fields.ignored"),
	    "query.fields.ignored is shown with the query");
	await page.$eval(".json .dnote.error", (n) => n.scrollIntoView({ block: "center" }));
	await shot(page, "live-failing-patch");

	// Copy as curl: the clipboard, then the fallback.
	await page.evaluate(() => {
		window.__copied = null;
		navigator.clipboard.writeText = (t) => {
			window.__copied = t;
			return Promise.resolve();
		};
	});
	await page.click("#copy-curl");
	const cmd = await until(page, () => window.__copied, "the clipboard");
	check(cmd.includes("redacted:") && !cmd.includes("secret-api-key"),
	    "copy as curl keeps the redaction marker, not the secret");
	check(await page.$eval("#curl-box", (n) => n.hidden),
	    "no fallback box when the clipboard works");
	data("curl", { command: cmd, entry: all.find((e) => e._id === failing.id) });
	await page.evaluate(() => {
		navigator.clipboard.writeText = () => Promise.reject(
		    new DOMException("denied", "NotAllowedError"));
	});
	await page.click("#copy-curl");
	await until(page, () => !document.getElementById("curl-box").hidden,
	    "the fallback box");
	equal(await page.$eval("#curl-text", (t) => t.value), cmd,
	    "the fallback box holds the same command");
	equal(await page.evaluate(() => document.activeElement.id), "curl-text",
	    "the command is selected to copy");
	await page.keyboard.press("Escape");
	check(await page.$eval("#curl-box", (n) => n.hidden), "Escape closes the box");

	// The keyboard.
	await page.keyboard.press("/");
	equal(await page.evaluate(() => document.activeElement.id), "q",
	    "/ focuses the filter");
	await page.keyboard.type("x");
	await page.keyboard.press("Escape");
	check(await page.evaluate(() => document.activeElement.id !== "q"),
	    "Escape leaves the filter");
	await setFilter(page, { text: "" });
	await page.focus("#rows");
	const at = all.findIndex((e) => e._id === failing.id);
	await page.keyboard.press("ArrowUp");
	let sel = (await rows(page)).filter((x) => x.selected).map((x) => x.id);
	equal(sel, [all[at - 1]._id], "up selects the row above");
	equal(await page.$eval("#d-title .durl", (n) => n.textContent),
	    all[at - 1].request.url,
	    "the open detail follows the selection");
	await page.keyboard.press("Escape");
	check(await page.$eval("#detail", (n) => n.hidden), "Escape closes the detail");
	await page.keyboard.press("ArrowDown");
	await page.keyboard.press("ArrowDown");
	sel = (await rows(page)).filter((x) => x.selected).map((x) => x.id);
	equal(sel, [all[at + 1]._id], "down, down selects two rows below");
	check(await page.$eval("#detail", (n) => n.hidden),
	    "moving does not open the detail");
	await page.keyboard.press("Enter");
	await until(page, () => !document.getElementById("detail").hidden,
	    "Enter to open the detail");
	equal(await page.$eval("#d-title .durl", (n) => n.textContent),
	    all[at + 1].request.url,
	    "Enter opens the selected exchange");

	// Download HAR of what the filter shows: the two PATCHes.
	await page.ctx.setDownloadBehavior({ policy: "allow",
	    downloadPath: DOWNLOADS });
	equal(await setFilter(page, { method: "PATCH" }), { shown: 2, total: 5 },
	    "PATCHes only, to download");
	await page.click("#download");
	const saved = await downloaded(DOWNLOADS);
	check(/^patchscope-\d{8}-\d{6}\.har$/.test(saved), `downloaded ${saved}`);

	await clean(page, "live");
	await closePage(page);
});
