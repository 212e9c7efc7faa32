// Diagnoses at tricky JSON Pointers, in a report opened from disk: a key
// with "/" and "~" (~1, ~0), a control character in a key (%01), a
// duplicated key (the last counts), a path into an array, the whole body,
// a path the body does not have, a query parameter; a body that is not
// JSON; a binary body. Numbers stay as they were sent.

import { pathToFileURL } from "node:url";
import { run, check, equal, env, openPage, closePage, shot, until, rows,
    clean, offline, openRow, bodyNotes } from "./lib.mjs";

const REPORT = env("PATCHSCOPE_TEST_REPORT");

run(async (browser) => {
	const fileUrl = pathToFileURL(REPORT).href;
	const page = await openPage(browser);
	await offline(page, fileUrl);
	await page.goto(fileUrl);
	await until(page, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 3, "the three rows");
	const r = await rows(page);

	await openRow(page, r[0].id);
	const notes = await bodyNotes(page);
	const at = (path) => notes.filter((n) => n.path === path);
	const one = (path, line, cls, what) => {
		const n = at(path);
		check(n.length === 1 && line.test(n[0].line) && n[0].lineClass.includes(cls),
		    `${what}: ${path} at ${line} (${JSON.stringify(n)})`);
	};
	one("/a~1b/c~0d/1/x", /^\s*"x": 12345678901234567890$/, "hl-error",
	    "~1 and ~0 in keys, an array index; the number as sent");
	one("/dup", /^\s*"dup": 2,$/, "hl-warning", "a duplicated key: the last");
	one("/ctl%01", /^\s*"ctl\\u0001": true$/, "hl-info", "a control character as %01");
	// Notes outside the lines: the whole body, and a path not in it.
	const outside = await page.$$eval(".dcol .body > .dnote", (ns) => ns.map((n) => [
	    n.querySelector(".path").textContent, n.textContent]));
	equal(outside.map((x) => x[0]), ["(whole body)", "/missing"],
	    "the whole body's note and the missing path's are above the body");
	check(/not found in this body/.test(outside[1][1]), "the missing path says so");
	check(await page.$eval(".dcol .body", (b) => b.classList.contains("whole-error")),
	    "a whole-body error marks the body");
	const q = await page.$$eval(".dsec > .dnote .path", (p) => p.map((x) => x.textContent));
	equal(q, ["query:fields"], "the query's note is with the query");
	// The array's range is marked by the error inside it, its siblings not.
	const marks = await page.$$eval(".json .ln", (ls) => ls.map((l) =>
	    [l.textContent.trim(), l.className.replace(/^ln ?/, "")]));
	equal(marks.filter((m) => m[1] !== "").map((m) => m[0]),
	    ['"x": 12345678901234567890', '"dup": 2,', '"ctl\\u0001": true'],
	    "only the named values are marked");
	await shot(page, "pointers");

	await openRow(page, r[1].id);
	const raw = await page.$eval(".dcol .body pre.raw", (p) => p.textContent);
	equal(raw, '{"actions": [1, 2,]}', "a body that is not JSON is shown as sent");
	equal((await page.$$eval(".dcol .body > .dnote .code", (c) => c.map((x) => x.textContent))),
	    ["json.syntax"], "its json.syntax note is above it");

	await openRow(page, r[2].id);
	const note = await page.$eval(".dcol .dsec h3 .muted", (n) => n.textContent);
	check(/binary, shown as base64/.test(note), `a binary body says so (${note})`);

	equal(page.blocked, [], "no request but the file");
	await clean(page, "pointers");
	await closePage(page);
});
