// `patchscope report` of the seed story, opened from disk with every
// request but the file itself refused: the rows, the failing PATCH's
// diagnoses at their paths, download HAR; and no request at all.

import { pathToFileURL } from "node:url";
import { readdir } from "node:fs/promises";
import { run, check, equal, env, openPage, closePage, shot, until, rows,
    clean, offline, openRow, checkSeedPatch, sleep, T } from "./lib.mjs";

const REPORT = env("PATCHSCOPE_TEST_REPORT");
const DOWNLOADS = env("PATCHSCOPE_TEST_DOWNLOADS");

run(async (browser) => {
	const fileUrl = pathToFileURL(REPORT).href;
	const page = await openPage(browser);
	await offline(page, fileUrl);
	await page.goto(fileUrl);
	await until(page, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 4, "the four rows");
	equal(await page.$eval("#mode", (n) => n.textContent), "report", "mode report");
	const r = await rows(page);
	equal(r.map((x) => [x.method, x.status]),
	    [["GET", "200"], ["PATCH", "400"], ["GET", "200"], ["PATCH", "200"]],
	    "the seed story's rows");
	await openRow(page, r[1].id);
	await checkSeedPatch(page, "report");
	await page.$eval(".json .dnote.error", (n) => n.scrollIntoView({ block: "center" }));
	await shot(page, "report");

	await page.ctx.setDownloadBehavior({ policy: "allow", downloadPath: DOWNLOADS });
	await page.click("#download");
	let names = [];
	for (let i = 0; i < T(10000) / 50 && names.length === 0; i++) {
		names = (await readdir(DOWNLOADS)).filter((n) => n.endsWith(".har"));
		await sleep(50);
	}
	equal(names.length, 1, "download HAR works offline");

	equal(page.blocked, [], "no request but the file");
	equal(page.requests.filter((u) => u !== fileUrl && !u.startsWith("blob:") &&
	    !u.startsWith("data:")), [], "no request at all");
	await clean(page, "report");
	await closePage(page);
});
