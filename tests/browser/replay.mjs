// `replay --web` with a --fault: the replay column says hit and miss, the
// fault column names the fault, the filter finds misses by text, and the
// detail says what answered.

import { run, check, equal, env, openPage, closePage, shot, until, rows,
    setFilter, clean, openRow, api } from "./lib.mjs";

const WEB = env("PATCHSCOPE_TEST_WEB");

run(async (browser) => {
	const all = (await api(WEB)).exchanges;
	equal(all.length, 3, "the server holds the three exchanges");
	const page = await openPage(browser);
	await page.goto(WEB);
	await until(page, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 3, "the three rows");
	const r = await rows(page);
	equal(r.map((x) => [x.method, x.status, x.replay, x.fault]), [
		["GET", "200", "hit", ""],
		["GET", "404", "miss", ""],
		["DELETE", "503", all[2]._replay || "", "status:503"]],
	    "the replay and fault columns");
	check(await page.$eval(`.rows .row[data-id="${r[1].id}"] .replay`,
	    (c) => c.classList.contains("r-miss")), "a miss stands out");
	equal(await setFilter(page, { text: "miss" }), { shown: 1, total: 3 },
	    "text: miss");
	equal(await setFilter(page, { text: "status:503" }), { shown: 1, total: 3 },
	    "text: the fault");
	await setFilter(page, { text: "" });
	await openRow(page, r[2].id);
	const summary = await page.$$eval(".dtop table.kv tr", (trs) =>
	    Object.fromEntries(trs.map((t) => [t.cells[0].textContent, t.cells[1].textContent])));
	equal(summary.fault, "status:503", "the detail names the fault");
	await shot(page, "replay");
	await clean(page, "replay");
	await closePage(page);
});
