// Make docs/web-view.png, the README's screenshot of the web view: the seed
// story (cassettes/seed-story.har) opened with `patchscope view`, the
// failing PATCH selected, its diagnoses in its body.
//
//   node tests/browser/screenshot.mjs [OUT.png]
//
// PATCHSCOPE names the binary (default build/src/patchscope); CHROMIUM the
// browser (default /usr/bin/chromium).

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = process.env.PATCHSCOPE || path.join(top, "build", "src", "patchscope");
const out = path.resolve(process.argv[2] || path.join(top, "docs", "web-view.png"));

const view = spawn(binary, ["view", "--web", "127.0.0.1:0",
    path.join(top, "cassettes", "seed-story.har")],
    { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
	const timer = setTimeout(() => reject(new Error(
	    "patchscope view printed no `web on URL` within 10 s")), 10000);
	view.on("error", reject);
	view.on("exit", (code) => reject(new Error(`patchscope view exited ${code}`)));
	createInterface({ input: view.stdout }).on("line", (line) => {
		const m = /^web on (\S+)$/.exec(line);
		if (m) {
			clearTimeout(timer);
			resolve(m[1]);
		}
	});
});

const browser = await puppeteer.launch({
	executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
	headless: true, args: ["--no-sandbox", "--disable-gpu"] });
try {
	const page = await browser.newPage();
	await page.setViewport({ width: 1360, height: 940 });
	await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
	await page.goto(url);
	await page.waitForFunction(() => document.querySelectorAll(
	    ".rows .row:not(.head):not([hidden])").length === 4);
	const id = await page.$$eval(".rows .row:not(.head):not([hidden])", (rows) =>
	    rows.find((r) => r.children[5].textContent === "400").dataset.id);
	await page.click(`.rows .row[data-id="${id}"] .path`);
	await page.waitForSelector(".json .dnote");
	// The request and the response, side by side, under the table.
	await page.$eval("#d-body", (body) => {
		body.scrollTop = body.querySelector(".dcols").offsetTop - body.offsetTop;
	});
	await new Promise((r) => setTimeout(r, 200));
	await page.screenshot({ path: out });
	process.stdout.write(`wrote ${out}\n`);
} finally {
	await browser.close();
	view.removeAllListeners("exit");
	view.kill("SIGTERM");
}
