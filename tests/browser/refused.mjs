// A page without the right token gets 403 from the API and says so; a Host
// name other than the view's own (DNS rebinding: PATCHSCOPE_TEST_REBIND
// resolves to 127.0.0.1 in this Chromium) gets 403 for the page itself. Two
// views (PATCHSCOPE_TEST_OTHER, another port) in one browser both work.

import { run, check, equal, env, openPage, closePage, shot, until,
    rowCount } from "./lib.mjs";

const WEB = env("PATCHSCOPE_TEST_WEB");
const REBIND = env("PATCHSCOPE_TEST_REBIND");
const OTHER = env("PATCHSCOPE_TEST_OTHER");
const u = new URL(WEB);

async function refused(page, what) {
	await until(page, () => !document.getElementById("problem").hidden,
	    `${what}: the refusal`);
	const text = await page.$eval("#problem", (n) => n.textContent);
	check(/403/.test(text) && /token/.test(text),
	    `${what}: the page says 403 and names the token ("${text.slice(0, 60)}...")`);
	equal(await rowCount(page), 0, `${what}: no rows`);
	equal(await page.$eval("#status", (n) => n.textContent), "refused",
	    `${what}: the status says refused`);
	check(await page.$eval("#empty", (n) => n.hidden),
	    `${what}: no "no exchanges yet" under the refusal`);
}

run(async (browser) => {
	// A wrong token (403 answers show as console errors: expected here).
	let page = await openPage(browser, { quietConsole: true });
	await page.goto(`${u.origin}/#token=${"0".repeat(32)}`);
	await refused(page, "a wrong token");
	equal(new URL(page.url()).hash, "", "the wrong token is removed from the address bar");
	await shot(page, "refused-token");
	await closePage(page);

	// No token at all.
	page = await openPage(browser, { quietConsole: true });
	await page.goto(`${u.origin}/`);
	await refused(page, "no token");
	await closePage(page);

	// Another Host name, with the right token.
	page = await openPage(browser, { quietConsole: true });
	const resp = await page.goto(`http://${REBIND}:${u.port}/${u.hash}`);
	equal(resp.status(), 403, "another Host name: 403");
	equal(await page.$("#rows"), null, "another Host name: no page");
	equal(page.requests.filter((r) => /\/(app\.js|app\.css|api\/)/.test(r)), [],
	    "another Host name: no script, style or API request was made");
	await closePage(page);

	// The right token still works.
	page = await openPage(browser);
	await page.goto(WEB);
	await until(page, () => document.getElementById("status").textContent === "live",
	    "the right token: live");
	check(await page.$eval("#problem", (n) => n.hidden), "the right token: no refusal");

	// Another view (another port) opened in the same browser: each keeps
	// its own token, so both still work after a reload; no cookie (a
	// cookie goes to every port of 127.0.0.1).
	const other = await page.ctx.newPage();
	await other.goto(OTHER);
	await until(other, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length > 0, "the other view's rows");
	await page.reload();
	await until(page, () => document.getElementById("status").textContent === "live",
	    "the first view after a reload: live");
	check(await page.$eval("#problem", (n) => n.hidden),
	    "the first view after a reload: no refusal");
	await other.reload();
	await until(other, () => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length > 0,
	    "the other view's rows after a reload");
	check(await other.$eval("#problem", (n) => n.hidden),
	    "the other view after a reload: no refusal");
	equal(await page.cookies(), [], "no cookie holds the token");
	await closePage(page);
});
