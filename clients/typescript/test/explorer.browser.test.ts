// The explorer page in headless Debian Chromium, driven by playwright-core (no browser
// download: the system's /usr/bin/chromium). Screenshots go to $ARTIFACTS.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";

const url = process.env["ROOMRPC_URL"] ?? assert.fail("ROOMRPC_URL is not set");
const artifacts = process.env["ARTIFACTS"] ?? "test-artifacts";
const root = new URL("/", url).href;
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A full-page screenshot from the top (the header is sticky). */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artifacts, name), fullPage: true });
}

describe("explorer", () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    page.on("request", (r) => !r.url().startsWith(root) && problems.push(`off-site request: ${r.url()}`));
    await page.goto(root);
  });

  after(async () => {
    await browser?.close();
  });

  it("lists every procedure rpc.discover names", async () => {
    await page.waitForSelector('[data-procedure="system.health"]');
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", method: "rpc.discover", id: 1 }),
    });
    const { result } = (await response.json()) as { result: { methods: { name: string }[] } };
    const listed = await page.$$eval("[data-procedure]", (links) => links.map((a) => a.getAttribute("data-procedure")));
    assert.deepEqual(listed.sort(), result.methods.map((m) => m.name).sort());
    assert.ok(result.methods.length >= 2);
  });

  it("calls system.health through the page and shows the result", async () => {
    await page.click('[data-procedure="system.health"]');
    assert.equal(await page.textContent("#method-name"), "system.health");
    assert.equal(await page.inputValue("#params"), "{}");
    await page.click("#send");
    await page.waitForSelector("#result.success");
    assert.match((await page.textContent("#result-status")) ?? "", /^OK · \d+ ms$/);
    const shown = JSON.parse((await page.textContent("#result-json")) ?? "null") as Record<string, unknown>;
    assert.equal(shown["status"], "ok");
    assert.match(String(shown["version"]), /^\d+\.\d+/);
    await shoot(page, "explorer-system-health.png");
  });

  it("shows a procedure's input, example and declared errors, and an error readably", async () => {
    await page.click('[data-procedure="zoo.get"]');
    assert.match((await page.textContent("table.params")) ?? "", /id.*string.*pattern \^@/s);
    assert.match((await page.textContent("ul.errors")) ?? "", /NOT_FOUND -32004 · HTTP 404/);
    assert.deepEqual(JSON.parse(await page.inputValue("#params")), { id: "@demo" });
    await page.click("#send");
    await page.waitForSelector("#result.failure");
    assert.match((await page.textContent("#result-status")) ?? "", /^NOT_FOUND \(-32004, HTTP 404\)/);
    assert.match((await page.textContent("#result")) ?? "", /No animal @demo/);
    await page.fill("#params", '{"id": 7}');
    await page.click("#send");
    await page.waitForSelector("#result.failure >> text=$.id");
    await shoot(page, "explorer-invalid-params.png");
  });

  it("sends the bearer token field", async () => {
    await page.click('[data-procedure="zoo.add"]');
    await page.fill("#params", '{"name": "rex", "kind": "dog"}');
    await page.click("#send");
    await page.waitForSelector("#result.failure >> text=UNAUTHORIZED");
    await page.fill("#token", "user:@alice");
    await page.click("#send");
    await page.waitForSelector("#result.success");
    assert.match((await page.textContent("#result-json")) ?? "", /"id": "@rex"/);
    await shoot(page, "explorer-token.png");
  });

  it("loads nothing from elsewhere and logs no errors", () => {
    assert.deepEqual(problems, []);
  });
});
