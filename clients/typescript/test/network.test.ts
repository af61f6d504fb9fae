// The built client on a network that fails, against a live roomrpc server (started by
// tests/test_client_ts.py on the test world: @room is private, @member and @mod are its
// members). ROOMRPC_PROXY_URL reaches the same server through a TCP relay the test drives
// at ROOMRPC_CONTROL_URL: POST /cut drops every connection (no close frame), /hold drops
// new ones as they come until /release, /swallow loses what the server sends until the
// next cut; GET /token?being=&ttl= mints a token (a negative ttl: expired already).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";

import { NetworkError, RpcError, createClient } from "../src/index.js";
import type { Intention, TokenContext } from "../src/index.js";

const env = (name: string): string => process.env[name] ?? assert.fail(`${name} is not set`);
const url = env("ROOMRPC_URL");
const proxyUrl = env("ROOMRPC_PROXY_URL");
const control = env("ROOMRPC_CONTROL_URL");
const tokens = JSON.parse(env("ROOMRPC_TOKENS")) as Record<string, string>;
const member = tokens["@member"] ?? assert.fail("no token for @member");
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

async function relay(action: "cut" | "hold" | "release" | "swallow"): Promise<string> {
  const response = await fetch(`${control}/${action}`, { method: "POST" });
  return response.text();
}

async function mint(being: string, ttl: number): Promise<string> {
  const response = await fetch(`${control}/token?being=${encodeURIComponent(being)}&ttl=${ttl}`);
  return response.text();
}

const say = (content: string, spaceId = "@room") => writer.intention.create({ spaceId, content });

/** The intentions of @room with this content, as the server has them. */
async function stored(content: string): Promise<Intention[]> {
  const page = await writer.intention.list({ spaceId: "@room", limit: 50 });
  return page.items.filter((i) => i.content === content);
}

/** Resolves once `check()` holds (polled), or fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

for (const transport of ["websocket", "sse"] as const) {
  describe(`a subscription over ${transport}`, () => {
    it("dropped before its first event, resumes where it started: what came meanwhile comes once", async () => {
      const before = await say("before the subscription");
      const client = live({ url: proxyUrl, token: member, subscriptions: transport });
      const seen: number[] = [];
      const errors: unknown[] = [];
      let starts = 0;
      const handle = client.intention.watch(
        { spaceId: "@room" },
        { onData: (d) => seen.push(d.id), onStarted: () => (starts += 1), onError: (e) => errors.push(e) },
      );
      await until(() => starts === 1, "the subscription");
      await until(() => handle.lastEventId !== undefined, "where it starts");
      assert.equal(handle.lastEventId, String(before.id)); // the newest intention then
      await relay("hold"); // the network stays down ...
      assert.ok(Number(await relay("cut")) >= 1, "a connection was cut");
      const missed = await say("while the client is away"); // ... while this is said
      await relay("release");
      await until(() => starts === 2, "the resubscription");
      const next = await say("after the reconnect");
      await until(() => seen.includes(next.id), "the event after the reconnect");
      assert.deepEqual(seen, [missed.id, next.id], "the missed event once, then the next");
      assert.deepEqual(errors, []);
      handle.unsubscribe();
    });

    it("outlives its token: renewed once through the token function, then resumed with no gap", async () => {
      const short = await mint("@member", 3); // the server ends the subscription when it expires
      const asked: TokenContext[] = [];
      const client = live({
        url,
        subscriptions: transport,
        token: (context) => {
          asked.push(context);
          return context.expired === undefined ? short : member;
        },
      });
      const seen: number[] = [];
      const errors: unknown[] = [];
      let starts = 0;
      // @room is private: an anonymous resubscription would be NOT_FOUND.
      const handle = client.intention.watch(
        { spaceId: "@room" },
        { onData: (d) => seen.push(d.id), onStarted: () => (starts += 1), onError: (e) => errors.push(e) },
      );
      await until(() => starts === 1, "the subscription");
      const first = await say("before the token expires");
      await until(() => seen.includes(first.id), "the first event");
      await until(() => asked.some((c) => c.expired !== undefined), "the expiry", 15_000);
      await until(() => starts === 2, "the resubscription");
      const second = await say("after the token was renewed");
      await until(() => seen.includes(second.id), "the event after the renewal");
      assert.deepEqual(seen, [first.id, second.id]);
      assert.deepEqual(errors, []);
      assert.deepEqual(
        asked.filter((c) => c.expired !== undefined),
        [{ expired: short }],
        "asked once for a fresh token, with the expired one",
      );
      handle.unsubscribe();
    });
  });
}

describe("an expired token over HTTP", () => {
  it("is renewed once for the calls it failed, which go again with the fresh one (the mutation runs once)", async () => {
    const expired = await mint("@member", -100);
    const asked: TokenContext[] = [];
    // A token function that keeps giving its stale token: the client sends the fresh one instead.
    const client = createClient({
      url,
      token: (context) => {
        asked.push(context);
        return context.expired === undefined ? expired : member;
      },
    });
    const content = `with a renewed token ${Date.now()}`;
    const [me, page, said] = await Promise.all([
      client.auth.me(),
      client.intention.list({ spaceId: "@room" }),
      client.intention.create({ spaceId: "@room", content }),
    ]);
    assert.equal(me.being.id, "@member");
    assert.ok(Array.isArray(page.items));
    assert.equal(said.authorId, "@member");
    assert.deepEqual((await stored(content)).map((i) => i.id), [said.id], "created once");
    assert.equal((await client.auth.me()).being.id, "@member");
    assert.deepEqual(asked.filter((c) => c.expired !== undefined), [{ expired }], "renewed once");
  });

  it("a static token cannot be renewed: token_expired reaches the caller", async () => {
    const client = createClient({ url, token: await mint("@member", -100) });
    const error = await client.auth.me().then(
      () => assert.fail("answered with an expired token"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RpcError && error.reason === "token_expired", String(error));
  });

  it("a token function that gives no fresh token: token_expired reaches the caller, asked once", async () => {
    const expired = await mint("@member", -100);
    let asked = 0;
    const client = createClient({ url, token: () => ((asked += 1), expired) });
    const error = await client.auth.me().then(
      () => assert.fail("answered with an expired token"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RpcError && error.reason === "token_expired", String(error));
    assert.equal(asked, 2); // the call, then once for a fresh one
  });
});

describe("calls over a socket that drops mid-call", () => {
  /** A client whose socket is open, and kept open by a subscription (an idle socket closes). */
  async function connected(options: Omit<Parameters<typeof createClient>[0], "url">) {
    const client = live({ url: proxyUrl, token: member, callsOverSocket: true, retry: fast, ...options });
    let started = false;
    client.intention.watch({ spaceId: "@hall" }, { onData: () => undefined, onStarted: () => (started = true) });
    await until(() => started, "the socket");
    return client;
  }

  it("a query and a mutation with an idempotency key go again on the next socket: the mutation runs once", async () => {
    const client = await connected({});
    await relay("swallow"); // the server's answers are lost from now on
    const content = `keyed ${Date.now()}`;
    const creating = client.intention.create({ spaceId: "@room", content });
    const listing = client.intention.list({ spaceId: "@room", limit: 1 });
    await until(async () => (await stored(content)).length === 1, "the mutation to run");
    assert.ok(Number(await relay("cut")) >= 1, "the socket was cut");
    const said = await creating;
    const page = await listing;
    assert.deepEqual((await stored(content)).map((i) => i.id), [said.id], "run once, its answer replayed");
    assert.equal(page.items.length, 1);
  });

  it("a mutation without an idempotency key is not sent again: a retryable NetworkError says it may have run", async () => {
    const client = await connected({ idempotencyKeys: false });
    await relay("swallow");
    const content = `unkeyed ${Date.now()}`;
    const creating = client.intention.create({ spaceId: "@room", content }).then(
      () => assert.fail("answered through a swallowing relay"),
      (e: unknown) => e,
    );
    await until(async () => (await stored(content)).length === 1, "the mutation to run");
    await relay("cut");
    const error = await creating;
    assert.ok(error instanceof NetworkError, String(error));
    assert.equal(error.retryable, true);
    assert.equal(error.maybeRan, true);
    assert.match(error.message, /not sent again/);
    assert.equal((await client.auth.me()).being.id, "@member"); // the next call opens a new socket
    assert.equal((await stored(content)).length, 1, "run once, never sent again");
  });

  it("retries are bounded: with no server, a query rejects with a NetworkError after its tries", async () => {
    const client = live({
      url: "http://127.0.0.1:9/rpc",
      callsOverSocket: true,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const error = await client.system.health().then(
      () => assert.fail("no server answered"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof NetworkError, String(error));
    assert.equal(error.maybeRan, false); // the socket never opened: nothing was sent
  });
});
