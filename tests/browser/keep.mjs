// --web-keep 2 after four exchanges: the page shows the last two and says
// that two older ones were dropped; a fifth makes it three. Step: more (the
// wrapper sends the fifth).

import { run, step, check, equal, env, openPage, closePage, until, rows,
    api, clean } from "./lib.mjs";

const WEB = env("PATCHSCOPE_TEST_WEB");

async function shows(page, n, what) {
	const ids = (await api(WEB)).exchanges.map((e) => e._id);
	equal(ids.length, 2, `${what}: the server keeps 2`);
	await until(page, (ids) => {
		const got = Array.from(document.querySelectorAll(
		    ".rows .row:not(.head):not([hidden])")).map((r) => Number(r.dataset.id));
		return JSON.stringify(got.sort((a, b) => a - b)) === JSON.stringify(ids);
	}, `${what}: the rows ${ids}`, ids);
	const want = `${n} older exchanges were dropped (--web-keep 2): the view keeps the last 2.`;
	try {
		await until(page, (w) => document.getElementById("notice").textContent === w,
		    `${what}: the notice of ${n} dropped`, want);
	} catch (e) {
		equal(await page.$eval("#notice", (x) => x.textContent), want,
		    `${what}: the notice`);
	}
	check(await page.$eval("#notice", (x) => !x.hidden), `${what}: the notice says ${n} were dropped`);
}

run(async (browser) => {
	const page = await openPage(browser);
	await page.goto(WEB);
	await shows(page, 2, "four sent");
	await until(page, () => document.getElementById("status").textContent === "live",
	    "the live stream");
	await step("more");
	await shows(page, 3, "five sent");
	await clean(page, "keep");
	await closePage(page);
});
