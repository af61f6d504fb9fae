// The explorer watching a subscription live, in headless Debian Chromium, against the real
// app on the test world: another client creates an intention, and the page shows it.
// Screenshots go to $ARTIFACTS.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";

import { createClient } from "../src/index.js";

const env = (name: string): string => process.env[name] ?? assert.fail(`${name} is not set`);
const url = env("ROOMRPC_URL");
const tokens = JSON.parse(env("ROOMRPC_TOKENS")) as Record<string, string>;
const artifacts = process.env["ARTIFACTS"] ?? "test-artifacts";
const root = new URL("/", url).href;
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];

describe("explorer: a subscription, live", () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const other = createClient({ url, token: tokens["@mod"] });

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    await page.goto(`${root}#intention.watch`);
    await page.waitForSelector('[data-method="intention.watch"]');
  });

  after(async () => {
    await browser?.close();
  });

  it("lists subscription procedures with their own mark and their event type", async () => {
    const kinds = await page.$$eval('[data-procedure$=".watch"] .kind', (els) => els.map((e) => [e.className, e.textContent]));
    assert.ok(kinds.length >= 2, "intention.watch and space.watch are listed");
    for (const [cls, letter] of kinds) assert.deepEqual([cls, letter], ["kind subscription", "S"]);
    assert.equal(await page.textContent(".heading .badge.subscription"), "subscription");
    assert.match((await page.textContent('[data-method] .result-type')) ?? "", /Intention/);
    assert.equal(await page.textContent("#send"), "Subscribe");
    assert.match((await page.textContent("#curl")) ?? "", /Accept: text\/event-stream/);
  });

  it("shows intentions another client creates as they arrive, until Stop", async () => {
    await page.fill("#token", tokens["@member"] ?? "");
    await page.fill("#params", JSON.stringify({ spaceId: "@room" }));
    await page.click("#send");
    await page.waitForSelector("#result.running");
    assert.equal(await page.isVisible("#stop"), true);
    const first = await other.intention.create({ spaceId: "@room", content: "Hello from another client" });
    const second = await other.intention.create({ spaceId: "@room", content: "And a second one", kind: "action" });
    await page.waitForSelector(`#events li[data-event-id="${second.id}"]`);
    const shown = await page.$$eval("#events li pre", (els) => els.map((e) => JSON.parse(e.textContent ?? "null")));
    assert.deepEqual(shown, [second, first]); // newest first, exactly as the server sent them
    assert.equal(await page.textContent("#result-status"), "Live · 2 events");
    await page.screenshot({ path: join(artifacts, "explorer-live.png"), fullPage: true });

    await page.click("#stop");
    await page.waitForSelector("#result:not(.running)");
    assert.equal(await page.textContent("#result-status"), "Stopped · 2 events");
    assert.equal(await page.isVisible("#stop"), false);
    await other.intention.create({ spaceId: "@room", content: "Unseen" });
    await new Promise((done) => setTimeout(done, 300));
    assert.equal(await page.locator("#events li").count(), 2);
    assert.deepEqual(problems, []);
  });

  it("shows a refusal as the typed error it is", async () => {
    await page.fill("#token", tokens["@stranger"] ?? "");
    await page.click("#send");
    await page.waitForSelector("#result.failure");
    assert.match((await page.textContent("#result-status")) ?? "", /^Ended: NOT_FOUND/);
    assert.equal(await page.isEnabled("#send"), true);
  });
});
