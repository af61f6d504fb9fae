// The explorer on the demo world (a real app, real tokens), at desktop and phone width,
// in headless Debian Chromium. Screenshots go to $ARTIFACTS.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";

import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";

const url = process.env["ROOMRPC_URL"] ?? assert.fail("ROOMRPC_URL is not set");
const token = process.env["ROOMRPC_TOKEN"] ?? assert.fail("ROOMRPC_TOKEN is not set");
const artifacts = process.env["ARTIFACTS"] ?? "test-artifacts";
const root = new URL("/", url).href;
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];
const WIDTHS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 400, height: 800 },
];

/** Nothing wider than the window, no name cut off without an ellipsis. */
async function assertNoOverflow(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => {
    const wide = document.documentElement.scrollWidth - window.innerWidth;
    const clipped = [...document.querySelectorAll<HTMLElement>("main *, .top *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.offsetParent !== null)
      .map((el) => `${el.tagName}.${el.className}`);
    return { wide, clipped: clipped.slice(0, 5) };
  });
  assert.ok(overflow.wide <= 0, `the page is ${overflow.wide}px wider than the window`);
  assert.deepEqual(overflow.clipped, []);
}

for (const size of WIDTHS) {
  describe(`explorer on the demo world, ${size.name} (${size.width}px)`, () => {
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];

    before(async () => {
      mkdirSync(artifacts, { recursive: true });
      browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: root });
      page = await context.newPage();
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
      await page.goto(`${root}#space.members`);
      await page.waitForSelector('[data-method="space.members"]');
    });

    after(async () => {
      await browser?.close();
    });

    it("shows how to get a token, and every error a call may get", async () => {
      assert.match((await page.textContent(".token-hint")) ?? "", /roomrpc token @alice/);
      const errors = (await page.$$eval("[data-method] ul.errors", (lists) => lists.map((l) => l.textContent).join(" ")));
      assert.match((await page.textContent("[data-method] .any-call")) ?? "", /Any call may also get/);
      for (const code of ["UNAUTHORIZED", "INVALID_PARAMS", "INTERNAL_SERVER_ERROR", "TIMEOUT"]) {
        assert.match(errors, new RegExp(code));
      }
      await assertNoOverflow(page);
    });

    it("has examples that work on the demo world, and scrolls to the answer", async () => {
      assert.deepEqual(JSON.parse(await page.inputValue("#params"))["spaceId"], "@demo-space");
      await page.fill("#token", token);
      assert.equal(await page.isVisible(".token-hint"), false); // a token is there: no hint
      await page.click("#send");
      await page.waitForSelector("#result.success");
      const members = JSON.parse((await page.textContent("#result-json")) ?? "null") as { items: { beingId: string }[] };
      assert.deepEqual(members.items.map((m) => m.beingId), ["@alice", "@bob"]);
      await page.waitForFunction(() => {
        const box = document.getElementById("result")?.getBoundingClientRect();
        return box !== undefined && box.top >= 0 && box.top < window.innerHeight;
      });
      await assertNoOverflow(page);
      await page.screenshot({ path: join(artifacts, `explorer-demo-${size.name}.png`) });
    });

    it("gives a live curl line with the real token that answers the same", async () => {
      const curl = (await page.textContent("#curl")) ?? "";
      assert.ok(curl.includes(`Bearer ${token}`), "the real token, not a mask");
      assert.match(curl, /"method":"space.members"/);
      await page.fill("#params", '{"spaceId": "@alice-private"}');
      assert.match((await page.textContent("#curl")) ?? "", /@alice-private/); // live
      await page.fill("#params", '{"spaceId": "@demo-space"}');
      await page.evaluate(() => document.getElementById("result")?.setAttribute("class", "result empty"));
      await page.click("#send"); // a second call: its own id
      await page.waitForSelector("#result.success");
      const line = (await page.textContent("#curl")) ?? "";
      await page.click("#copy-curl");
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), line);
      const { stdout } = await promisify(execFile)("bash", ["-c", line]);
      const answer = JSON.parse(stdout) as { id: unknown; result: { items: unknown[] } };
      const sent = JSON.parse(/-d '(.*)'$/s.exec(line)?.[1] ?? "null") as { id: unknown };
      assert.equal(answer.id, sent.id); // the id the page itself sent
      assert.equal(answer.result.items.length, 2);
    });

    it("creates and deletes with its own examples, as @alice", async () => {
      for (const method of ["being.create", "being.delete", "intention.create", "space.setRole"]) {
        await page.evaluate((name) => (location.hash = name), method);
        await page.waitForSelector(`[data-method="${method}"]`);
        await page.click("#send");
        await page.waitForSelector("#result:not(.empty)");
        const status = (await page.textContent("#result-status")) ?? "";
        assert.match(status, /^OK/, `${method}: ${status} ${await page.textContent("#result")}`);
      }
    });

    it("keeps long names inside the sidebar", async () => {
      const cut = await page.$$eval(".namespace a", (links) =>
        links.filter((a) => a.scrollWidth > a.clientWidth + 1).map((a) => a.textContent),
      );
      assert.deepEqual(cut, []);
      await page.evaluate(() => window.scrollTo(0, 0)); // the header is sticky on desktops
      await page.screenshot({ path: join(artifacts, `explorer-demo-${size.name}-full.png`), fullPage: true });
    });

    it("logs no errors", () => {
      assert.deepEqual(problems, []);
    });
  });
}
