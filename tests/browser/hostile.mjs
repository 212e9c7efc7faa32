// Hostile traffic: script and HTML in a path, a query, request and response
// headers, bodies, JSON keys and a diagnosis message. Live and in a report
// opened from disk, every piece is shown as text and nothing runs; copy as
// curl quotes it for a shell (the wrapper runs the command).
//
// Steps: traffic (the wrapper sends the hostile requests through the proxy
// and answers {count}), report (it stops the proxy, makes a report of the
// cassette and answers {path}).

import { pathToFileURL } from "node:url";
import { run, step, data, check, equal, env, openPage, closePage, shot,
    until, rows, clean, offline, openRow, rowCount } from "./lib.mjs";

const WEB = env("PATCHSCOPE_TEST_WEB");
const IMG = env("PATCHSCOPE_TEST_IMG");
const SCRIPT = env("PATCHSCOPE_TEST_SCRIPT");

// No element the traffic could have made: only the page's own.
async function noMarkup(page, what, scripts) {
	const found = await page.evaluate(() => ({
		elements: document.querySelectorAll(
		    "img, iframe, object, embed, svg, video, audio, form, a[href]").length,
		scripts: document.scripts.length,
		handlers: Array.from(document.querySelectorAll("*")).filter((n) =>
		    Array.from(n.attributes).some((a) => /^on/i.test(a.name))).length,
		title: document.title
	}));
	equal(found, { elements: 0, scripts, handlers: 0, title: found.title },
	    `${what}: no element, script or handler from the traffic`);
	check(/^patchscope( |$)/.test(found.title), `${what}: the title is the page's`);
}

// Open every exchange; the hostile strings are on screen as text.
async function visitAll(page, what) {
	const seen = { path: false, header: false, body: false, key: false,
	    diag: false };
	const ids = (await rows(page)).map((r) => r.id);
	for (const id of ids) {
		await openRow(page, id);
		const text = await page.$eval("#detail", (d) => d.innerText);
		const title = await page.$eval("#d-title", (d) => d.textContent);
		if (title.includes(SCRIPT))
			seen.path = true;
		if (text.includes(IMG))
			seen.header = true;
		if (text.includes(SCRIPT + "\n"))
			seen.body = true;
		if (text.includes(JSON.stringify(SCRIPT)))
			seen.key = true;
		const msgs = await page.$$eval(".dnote .msg", (m) =>
		    m.map((x) => x.textContent));
		if (msgs.some((m) => m.includes(IMG)))
			seen.diag = true;
	}
	equal(seen, { path: true, header: true, body: true, key: true, diag: true },
	    `${what}: the path, a header, a body, a JSON key and a diagnosis show the markup as text`);
	const r = await rows(page);
	check(r.some((x) => x.path.includes(SCRIPT) && x.path.includes("<img/src=x")),
	    `${what}: the row shows the path as text`);
	return ids;
}

run(async (browser) => {
	const page = await openPage(browser);
	await page.goto(WEB);
	await until(page, () => document.getElementById("status").textContent === "live",
	    "the live stream");
	const { count } = await step("traffic");
	await until(page, (n) => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === n, "the rows", count);
	const ids = await visitAll(page, "live");

	// Copy as curl of the echo: the wrapper runs it.
	const echo = (await rows(page)).find((r) => r.path.startsWith("/_fake/echo"));
	await openRow(page, echo.id);
	await page.evaluate(() => {
		navigator.clipboard.writeText = (t) => {
			window.__copied = t;
			return Promise.resolve();
		};
	});
	await page.click("#copy-curl");
	data("curl", await until(page, () => window.__copied, "the clipboard"));
	await shot(page, "hostile-live");
	await noMarkup(page, "live", 1);
	await clean(page, "live");
	await closePage(page);

	// The same cassette as a report, from disk, offline.
	const { path } = await step("report");
	const fileUrl = pathToFileURL(path).href;
	const rep = await openPage(browser);
	await offline(rep, fileUrl);
	await rep.goto(fileUrl);
	await until(rep, (n) => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === n, "the report's rows",
	    ids.length);
	await visitAll(rep, "report");
	await shot(rep, "hostile-report");
	// The report's own: its inline script and the data element.
	await noMarkup(rep, "report", 2);
	equal(rep.blocked, [], "report: no request");
	await clean(rep, "report");
	await closePage(rep);
});
