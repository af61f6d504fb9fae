// Safe retries against a live roomrpc behind a proxy that drops the first answer to
// every distinct request body (started by tests/test_client_ts.py). The proxy's log,
// read by the Python test afterwards, shows what reached the server.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { CONTRACT_HASH, NetworkError, RpcError, createClient } from "../src/index.js";
import type { FetchLike } from "../src/index.js";

const url = process.env["ROOMRPC_PROXY_URL"] ?? assert.fail("ROOMRPC_PROXY_URL is not set");
const direct = process.env["ROOMRPC_URL"] ?? assert.fail("ROOMRPC_URL is not set");
const quick = { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 };

describe("retries", () => {
  it("retries a mutation whose answer was lost, with the same key: it runs once", async () => {
    const client = createClient({ url, token: "user:@alice", retry: quick });
    const rex = await client.zoo.add({ name: "retried", kind: "dog" });
    assert.equal(rex.id, "@retried");
  });

  it("retries queries (no key), batched or not", async () => {
    // Each distinct body loses its first answer: alone or batched in either order, a
    // call may lose three, whatever the timers do.
    const client = createClient({ url, retry: { ...quick, attempts: 5 } });
    const [page, tom] = await Promise.all([client.zoo.list({ limit: 1 }), client.zoo.get({ id: "@tom" })]);
    assert.equal(page.items[0]?.id, "@tom");
    assert.equal(tom.name, "tom");
  });

  it("never retries a mutation without a key", async () => {
    const client = createClient({ url, token: "user:@alice", retry: quick, idempotencyKeys: false });
    const error = await client.zoo.add({ name: "unkeyed", kind: "owl" }).catch((e: unknown) => e);
    assert.ok(error instanceof NetworkError, String(error));
  });

  it("gives up after the configured attempts", async () => {
    const client = createClient({ url, retry: false });
    const error = await client.zoo.get({ id: "@tom" }, {}).catch((e: unknown) => e);
    assert.ok(error instanceof NetworkError);
  });

  it("waits the server's retryAfter before a retryable error is retried", async () => {
    const times: number[] = [];
    let first = true;
    const fetch: FetchLike = async (input, init) => {
      times.push(Date.now());
      if (first) {
        first = false;
        const busy = {
          jsonrpc: "2.0",
          id: JSON.parse(init.body).id,
          error: { code: -32029, message: "Too many requests", data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, retryable: true, retryAfter: 0.3 } },
        };
        return { status: 429, headers: new Headers(), text: async () => JSON.stringify(busy) };
      }
      return globalThis.fetch(input, init);
    };
    const client = createClient({ url: direct, fetch, retry: quick });
    assert.equal((await client.zoo.get({ id: "@tom" })).name, "tom");
    assert.equal(times.length, 2);
    assert.ok(times[1]! - times[0]! >= 290, `waited ${times[1]! - times[0]!} ms`);
  });

  it("does not retry an error that is not retryable", async () => {
    let calls = 0;
    const fetch: FetchLike = (input, init) => {
      calls += 1;
      return globalThis.fetch(input, init);
    };
    const client = createClient({ url: direct, fetch, retry: quick });
    const error = await client.zoo.get({ id: "@nobody" }).catch((e: unknown) => e);
    assert.ok(error instanceof RpcError && error.code === "NOT_FOUND");
    assert.equal(calls, 1);
  });
});

describe("deadlines and contract version", () => {
  it("sends the timeout as X-Timeout-Ms: the server gives up at the deadline", async () => {
    const sent: Record<string, string>[] = [];
    const fetch: FetchLike = (input, init) => {
      sent.push(init.headers);
      return globalThis.fetch(input, init);
    };
    const client = createClient({ url: direct, fetch, retry: false });
    const started = Date.now();
    const error = await client.zoo.sleep({ ms: 3000 }, { timeout: 150 }).catch((e: unknown) => e);
    assert.ok(error instanceof RpcError && error.code === "TIMEOUT", String(error));
    assert.ok(Date.now() - started < 1000);
    assert.equal(sent[0]?.["x-timeout-ms"], "150");
    assert.equal(sent[0]?.["x-contract-hash"], CONTRACT_HASH);
    assert.match(CONTRACT_HASH, /^[0-9a-f]{16}$/);
  });

  it("sends a fresh Idempotency-Key with each mutation, or the one given", async () => {
    const keys: (string | undefined)[] = [];
    const fetch: FetchLike = (input, init) => {
      keys.push(init.headers["idempotency-key"]);
      return globalThis.fetch(input, init);
    };
    const client = createClient({ url: direct, fetch, token: "user:@alice" });
    await client.zoo.add({ name: "kiwi", kind: "owl" });
    await client.zoo.add({ name: "kiwi", kind: "owl" }, { idempotencyKey: "mine-1" });
    await client.zoo.get({ id: "@tom" });
    assert.equal(keys.length, 3);
    assert.match(keys[0] ?? "", /^[0-9a-f-]{36}$/);
    assert.deepEqual(keys.slice(1), ["mine-1", undefined]);
  });
});
