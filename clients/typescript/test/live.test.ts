// Subscriptions of the built client against a live roomrpc server (started by
// tests/test_client_ts.py on the test world: @hall public, @room private, @mod and
// @member members of both, @listener of @room). ROOMRPC_PROXY_URL reaches the same server
// through a TCP relay that drops every connection, without a close frame, when
// ROOMRPC_CUT_URL is posted to.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";

import { NetworkError, RpcError, createClient } from "../src/index.js";
import type { Intention } from "../src/index.js";

const env = (name: string): string => process.env[name] ?? assert.fail(`${name} is not set`);
const url = env("ROOMRPC_URL");
const proxyUrl = env("ROOMRPC_PROXY_URL");
const tokens = JSON.parse(env("ROOMRPC_TOKENS")) as Record<string, string>;
const fast = { baseDelayMs: 20, maxDelayMs: 200 };

const writer = createClient({ url, token: tokens["@mod"] });
const clients: { $close(): void }[] = [];
after(() => {
  for (const c of clients) c.$close();
});

function live(options: Parameters<typeof createClient>[0]) {
  const client = createClient({ reconnect: fast, ...options });
  clients.push(client);
  return client;
}

async function cut(): Promise<number> {
  const response = await fetch(env("ROOMRPC_CUT_URL"), { method: "POST" });
  return Number(await response.text());
}

const say = (content: string, spaceId = "@room") => writer.intention.create({ spaceId, content });

/** Resolves once `check()` holds (polled), or fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

for (const transport of ["websocket", "sse"] as const) {
  describe(`intention.watch over ${transport}`, () => {
    it("delivers each intention created, typed, with its id", async () => {
      const client = live({ url, token: tokens["@member"], subscriptions: transport });
      const events: [Intention, string][] = [];
      const started: boolean[] = [];
      const handle = client.intention.watch(
        { spaceId: "@room" },
        { onData: (data, id) => events.push([data, id]), onStarted: () => started.push(true) },
      );
      await until(() => started.length === 1, "the subscription");
      const said = await say(`hello over ${transport}`);
      await until(() => events.length === 1, "the event");
      assert.deepEqual(events[0], [said, String(said.id)]);
      assert.equal(handle.lastEventId, String(said.id));
      handle.unsubscribe();
      await say("unheard");
      await new Promise((done) => setTimeout(done, 100));
      assert.equal(events.length, 1);
    });

    it("resumes after forced disconnects with no gap and no duplicate while writes go on", async (t) => {
      const client = live({ url: proxyUrl, token: tokens["@member"], subscriptions: transport });
      const seen: number[] = [];
      let starts = 0;
      const errors: unknown[] = [];
      const handle = client.intention.watch(
        { spaceId: "@room" },
        { onData: (data) => seen.push(data.id), onStarted: () => (starts += 1), onError: (e) => errors.push(e) },
      );
      await until(() => starts === 1, "the subscription");
      const created: number[] = [];
      let writing = true;
      let stopped = false;
      t.after(() => {
        stopped = true; // a failed step must not leave the writer running
      });
      const writes = (async () => {
        while (writing && !stopped) {
          created.push((await say("x")).id);
          await new Promise((done) => setTimeout(done, 5));
        }
      })();
      for (let round = 1; round <= 3; round++) {
        await until(() => seen.length >= round * 5, `events of round ${round}`);
        assert.ok((await cut()) >= 1, "a connection was cut");
        await new Promise((done) => setTimeout(done, 50)); // writes go on meanwhile
      }
      await until(() => starts >= 4, "the resubscriptions");
      await until(() => seen.length >= 20, "events after the last cut");
      writing = false;
      await writes;
      const last = created[created.length - 1];
      await until(() => seen[seen.length - 1] === last, "the last write");
      assert.deepEqual(seen, created.filter((id) => id >= (seen[0] ?? 0)), "no gap, no duplicate");
      assert.deepEqual(errors, []);
      handle.unsubscribe();
    });

    it("re-authenticates after a reconnect: a private space still answers", async () => {
      // @room is private: an anonymous resubscription would be NOT_FOUND.
      const client = live({ url: proxyUrl, token: async () => tokens["@member"], subscriptions: transport });
      const seen: number[] = [];
      const errors: unknown[] = [];
      let starts = 0;
      client.intention.watch(
        { spaceId: "@room" },
        { onData: (d) => seen.push(d.id), onStarted: () => (starts += 1), onError: (e) => errors.push(e) },
      );
      await until(() => starts === 1, "the subscription");
      const first = await say("before the cut");
      await until(() => seen.includes(first.id), "the first event");
      await cut();
      await until(() => starts === 2, "the resubscription");
      const second = await say("after the cut");
      await until(() => seen.includes(second.id), "the event after the cut");
      assert.deepEqual(errors, []);
    });

    it("ends with onError, and does not resume, when access is lost", async () => {
      const client = live({ url, token: tokens["@listener"], subscriptions: transport });
      let started = false;
      let complete = false;
      const errors: unknown[] = [];
      client.intention.watch(
        { spaceId: "@room" },
        { onData: () => undefined, onStarted: () => (started = true), onError: (e) => errors.push(e), onComplete: () => (complete = true) },
      );
      await until(() => started, "the subscription");
      const owner = createClient({ url, token: tokens["@owner"] });
      await owner.space.removeMember({ spaceId: "@room", beingId: "@listener" });
      await until(() => errors.length === 1, "the end");
      const [error] = errors;
      assert.ok(error instanceof RpcError && error.code === "NOT_FOUND", String(error));
      await new Promise((done) => setTimeout(done, 200));
      assert.equal(errors.length, 1);
      assert.equal(complete, false);
      await owner.space.addMember({ spaceId: "@room", beingId: "@listener", role: "listener" });
    });

    it("refuses bad input at once with INVALID_PARAMS, and an unknown space with NOT_FOUND", async () => {
      const client = live({ url, token: tokens["@member"], subscriptions: transport });
      const failures = await Promise.all(
        [{ spaceId: "@room", lastEventId: "x" }, { spaceId: "@nowhere" }].map(
          (input) =>
            new Promise<unknown>((resolve) => {
              client.intention.watch(input, { onData: () => resolve("data"), onError: resolve });
            }),
        ),
      );
      assert.deepEqual(
        failures.map((e) => (e instanceof RpcError ? e.code : String(e))),
        ["INVALID_PARAMS", "NOT_FOUND"],
      );
    });

    it("iterates: for await over the events; leaving the loop unsubscribes", async () => {
      const client = live({ url, token: tokens["@member"], subscriptions: transport });
      const controller = new AbortController();
      const received: { id: string; data: Intention }[] = [];
      const loop = (async () => {
        for await (const event of client.intention.watch.iterate({ spaceId: "@hall" }, { signal: controller.signal })) {
          received.push(event);
          if (received.length === 2) break;
        }
      })();
      await new Promise((done) => setTimeout(done, 300));
      const a = await say("one", "@hall");
      const b = await say("two", "@hall");
      await loop;
      assert.deepEqual(
        received.map((e) => [e.id, e.data.content]),
        [[String(a.id), "one"], [String(b.id), "two"]],
      );
    });

    it("a signal unsubscribes: onComplete, then nothing more", async () => {
      const client = live({ url, token: tokens["@member"], subscriptions: transport });
      const controller = new AbortController();
      let started = false;
      let complete = 0;
      const seen: number[] = [];
      client.intention.watch(
        { spaceId: "@hall" },
        { onData: (d) => seen.push(d.id), onStarted: () => (started = true), onComplete: () => (complete += 1), signal: controller.signal },
      );
      await until(() => started, "the subscription");
      controller.abort();
      assert.equal(complete, 1);
      await say("after the abort", "@hall");
      await new Promise((done) => setTimeout(done, 150));
      assert.deepEqual(seen, []);
    });
  });
}

describe("the socket", () => {
  it("carries queries and mutations too, with callsOverSocket", async () => {
    const client = live({ url: proxyUrl, token: tokens["@member"], callsOverSocket: true });
    const me = await client.auth.me();
    assert.equal(me.being.id, "@member");
    const page = await client.intention.list({ spaceId: "@room" });
    assert.ok(Array.isArray(page.items));
    const error = await client.being.get({ id: "@nobody" }).then(
      () => assert.fail("no such being"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RpcError && error.code === "NOT_FOUND");
    await cut();
    assert.equal((await client.auth.me()).being.id, "@member"); // a new socket, authenticated again
  });

  it("a bad token ends the subscription with UNAUTHORIZED, not a retry loop", async () => {
    const client = live({ url, token: "not-a-jwt" });
    const error = await new Promise<unknown>((resolve) => {
      client.intention.watch({ spaceId: "@hall" }, { onData: () => resolve("data"), onError: resolve });
    });
    assert.ok(error instanceof RpcError && error.code === "UNAUTHORIZED", String(error));
  });

  it("no server: retries with backoff, then onError with a NetworkError", async () => {
    const client = live({ url: "http://127.0.0.1:9/rpc", reconnect: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } });
    const error = await new Promise<unknown>((resolve) => {
      client.intention.watch({ spaceId: "@hall" }, { onData: () => resolve("data"), onError: resolve });
    });
    assert.ok(error instanceof NetworkError, String(error));
  });
});
