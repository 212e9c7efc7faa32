// 10,000 exchanges (`view` of a generated cassette): the DOM holds only the
// rows on screen, scrolling renders the right ones, the filter narrows
// them (also step by step, as one types), the keyboard reaches both ends.

import { run, check, equal, env, openPage, closePage, shot, until, rows,
    counts, setFilter, api, clean, rowCount, sleep, T } from "./lib.mjs";

const WEB = env("PATCHSCOPE_TEST_WEB");
const MAX_ROWS = 120;     // 900 px of 22 px rows, plus the margins

run(async (browser) => {
	const all = (await api(WEB)).exchanges;
	equal(all.length, 10000, "the server holds 10,000 exchanges");
	const page = await openPage(browser);
	await page.goto(WEB);
	await until(page, () => document.getElementById("count").textContent ===
	    "10000 exchanges", "10,000 exchanges in the page", undefined, 30000);
	equal(await page.$eval("#mode", (n) => n.textContent), "view", "mode view");
	let n = await rowCount(page);
	check(n > 20 && n < MAX_ROWS, `only the rows on screen are in the DOM (${n})`);
	let r = await rows(page);
	equal(r[0].id, all[0]._id, "view starts at the first exchange");

	// Scroll to the middle: the rows there, and still few.
	await page.$eval("#rows", (el) => { el.scrollTop = 5000 * 22; });
	await until(page, (id) => Array.from(document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])")).some((x) =>
	    x.dataset.id === String(id)), "the rows around the middle", all[5000]._id);
	r = await rows(page);
	check(r.length < MAX_ROWS, `after scrolling, still few rows (${r.length})`);
	const first = all.findIndex((e) => e._id === r[0].id);
	equal(r.map((x) => x.id), all.slice(first, first + r.length).map((e) => e._id),
	    "the rendered rows are consecutive exchanges");

	// The filter.
	equal(await setFilter(page, { text: "marker-07777" }), { shown: 1, total: 10000 },
	    "text: one marker");
	equal((await rows(page)).map((x) => x.id), all.filter((e) =>
	    e.request.postData.text.includes("marker-07777")).map((e) => e._id),
	    "the row of that marker");
	equal(await setFilter(page, { text: "marker-077" }), { shown: 100, total: 10000 },
	    "text: 100 markers");
	await page.type("#q", "7");
	await sleep(T(150));     // the text input is debounced
	equal(await setFilter(page, {}), { shown: 10, total: 10000 },
	    "typing one more character narrows to 10");
	const s5 = all.filter((e) => e.response.status >= 500 && e.response.status < 600).length;
	equal(await setFilter(page, { text: "", status: "5" }), { shown: s5, total: 10000 },
	    "status 5xx");
	check(await rowCount(page) < MAX_ROWS, "5xx: few rows in the DOM");
	const none = all.filter((e) => e.response.status === 0).length;
	equal(await setFilter(page, { status: "0" }), { shown: none, total: 10000 },
	    "no answer");
	equal(await setFilter(page, { status: "", diag: true }), { shown: 100, total: 10000 },
	    "has diagnoses");
	const delHost = all.filter((e) => e.request.method === "DELETE" &&
	    e.request.url.startsWith("http://api3.example/")).length;
	equal(await setFilter(page, { diag: false, method: "DELETE", host: "api3.example" }),
	    { shown: delHost, total: 10000 }, "DELETE on one host");
	equal(await setFilter(page, { method: "", host: "" }), { shown: 10000, total: 10000 },
	    "filter cleared");

	// The keyboard reaches both ends.
	await page.focus("#rows");
	await page.keyboard.press("End");
	await until(page, (id) => { const s = document.querySelector(".rows .row.selected");
	    return s && s.dataset.id === String(id); }, "End selects the last row",
	    all[all.length - 1]._id);
	await page.keyboard.press("Enter");
	await until(page, () => !document.getElementById("detail").hidden, "Enter opens it");
	await page.keyboard.press("Home");
	await until(page, (id) => { const s = document.querySelector(".rows .row.selected");
	    return s && s.dataset.id === String(id); }, "Home selects the first row",
	    all[0]._id);
	equal(await page.$eval("#d-title .durl", (n) => n.textContent), all[0].request.url,
	    "the detail follows");
	check(await rowCount(page) < MAX_ROWS, "with the detail open, few rows");
	await shot(page, "big");
	await clean(page, "10,000");
	await closePage(page);
});
