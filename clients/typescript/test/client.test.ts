// The built client against a live roomrpc server (started by tests/test_client_ts.py with
// the zoo and spec-example procedures, RPC_MAX_BATCH=6 and RPC_CALL_TIMEOUT=1).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { CONTRACT_HASH, NetworkError, ResponseError, RpcError, createClient, isRpcError } from "../src/index.js";
import type { ClientOptions, FetchLike } from "../src/index.js";

const url = process.env["ROOMRPC_URL"] ?? assert.fail("ROOMRPC_URL is not set");

/** A client whose every HTTP request is recorded: its parsed JSON body. */
function recorded(options: Partial<ClientOptions> = {}) {
  const bodies: unknown[] = [];
  const fetch: FetchLike = (input, init) => {
    bodies.push(JSON.parse(String(init.body)));
    return globalThis.fetch(input, init);
  };
  return { client: createClient({ url, fetch, ...options }), bodies };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail("the call did not reject");
}

describe("calls", () => {
  it("returns typed results", async () => {
    const client = createClient({ url });
    const health = await client.system.health();
    assert.equal(health.status, "ok");
    assert.match(health.time, /^\d{4}-\d\d-\d\dT/);
    const tom = await client.zoo.get({ id: "@tom" });
    assert.deepEqual([tom.name, tom.kind, tom.score, tom.tags, tom.counts], ["tom", "cat", 50, [{ label: "lazy", color: "red" }], { naps: 3 }]);
    assert.equal(tom.bornAt, "2020-01-02T03:04:05Z");
    assert.equal(await client.subtract({ minuend: 42, subtrahend: 23 }), 19);
    assert.deepEqual(await client.zoo.list({ limit: 1 }), { items: [tom] });
  });

  it("sends the token (a string or a function) as a bearer token", async () => {
    const fixed = createClient({ url, token: "user:@alice" });
    assert.equal((await fixed.zoo.add({ name: "rex", kind: "dog" })).id, "@rex");
    const lazy = createClient({ url, token: async () => "user:@alice" });
    assert.equal((await lazy.zoo.add({ name: "kit", kind: "cat" })).nick, "new");
  });

  it("sends extra headers", async () => {
    const client = createClient({ url, headers: () => ({ "X-Request-Id": "from-the-test" }) });
    const error = await rejection(client.zoo.get({ id: "@nobody" }));
    assert.ok(error instanceof RpcError);
    assert.equal(error.requestId, "from-the-test");
  });

  it("takes headers as a Headers, a Map or pairs, and the url as a URL", async () => {
    const sources = {
      "a-headers": new Headers({ "X-Request-Id": "a-headers" }),
      "a-map": new Map([["X-Request-Id", "a-map"]]),
      pairs: [["X-Request-Id", "pairs"]] as const,
    };
    for (const [id, headers] of Object.entries(sources)) {
      const client = createClient({ url: new URL(url), headers });
      const error = await rejection(client.zoo.get({ id: "@nobody" }));
      assert.ok(error instanceof RpcError);
      assert.equal(error.requestId, id);
    }
  });

  it("keeps its own Content-Type and Authorization over the extra headers", async () => {
    const seen: Record<string, string>[] = [];
    const fetch: FetchLike = (input, init) => {
      seen.push(init.headers);
      return globalThis.fetch(input, init);
    };
    const headers = { "content-type": "text/plain", Authorization: "Bearer nobody", "X-App": "demo" };
    const client = createClient({ url, fetch, headers, token: "user:@alice" });
    assert.equal((await client.zoo.add({ name: "max", kind: "dog" }, { idempotencyKey: "k-1" })).id, "@max");
    assert.deepEqual(seen, [
      {
        "content-type": "application/json",
        authorization: "Bearer user:@alice",
        "x-app": "demo",
        accept: "application/json",
        "x-contract-hash": CONTRACT_HASH,
        "idempotency-key": "k-1",
      },
    ]);
  });

  it("exposes each procedure's path and error codes", () => {
    const client = createClient({ url });
    assert.equal(client.zoo.get.path, "zoo.get");
    assert.equal(client.zoo.get.kind, "query");
    assert.ok(client.zoo.get.errors.includes("NOT_FOUND"));
    assert.ok(!(client.zoo.get.errors as readonly string[]).includes("CONFLICT"));
  });
});

describe("batching", () => {
  it("sends calls of the same tick as one batch, each settling on its own", async () => {
    const { client, bodies } = recorded();
    const [health, diff, missing] = await Promise.allSettled([
      client.system.health(),
      client.subtract({ minuend: 5, subtrahend: 3 }),
      client.zoo.get({ id: "@nobody" }),
    ]);
    assert.equal(bodies.length, 1);
    assert.ok(Array.isArray(bodies[0]));
    assert.equal((bodies[0] as unknown[]).length, 3);
    assert.equal(health.status === "fulfilled" && health.value.status, "ok");
    assert.equal(diff.status === "fulfilled" && diff.value, 2);
    assert.ok(missing.status === "rejected" && isRpcError(missing.reason, "NOT_FOUND"));
  });

  it("sends a lone call as a plain request object", async () => {
    const { client, bodies } = recorded();
    await client.system.health();
    assert.equal((bodies[0] as { method: string }).method, "system.health");
  });

  it("splits batches at maxSize", async () => {
    const { client, bodies } = recorded({ batch: { maxSize: 2 } });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => client.sum({ a: n })));
    assert.deepEqual(results, [1, 2, 3, 4, 5]);
    assert.deepEqual(bodies.map((b) => (Array.isArray(b) ? b.length : 1)), [2, 2, 1]);
  });

  it("can be turned off", async () => {
    const { client, bodies } = recorded({ batch: false });
    await Promise.all([client.system.health(), client.system.health(), client.sum({})]);
    assert.equal(bodies.length, 3);
    assert.ok(bodies.every((b) => !Array.isArray(b)));
  });

  it("later ticks make new batches", async () => {
    const { client, bodies } = recorded();
    await client.system.health();
    await client.system.health();
    assert.equal(bodies.length, 2);
  });
});

describe("abort", () => {
  it("rejects with the signal's reason, not with the server's late answer", async () => {
    const client = createClient({ url });
    // Unaborted, this call would resolve (true) after 900 ms: the rejection is the abort's.
    const error = await rejection(client.zoo.sleep({ ms: 900 }, { signal: AbortSignal.timeout(50) }));
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "TimeoutError");
  });

  it("cancels the HTTP request once every call on it is aborted", async () => {
    const signals: AbortSignal[] = [];
    const fetch: FetchLike = (input, init) => {
      if (init.signal) signals.push(init.signal);
      return globalThis.fetch(input, init);
    };
    const client = createClient({ url, fetch });
    const controller = new AbortController();
    const call = client.zoo.sleep({ ms: 900 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await rejection(call);
    assert.equal(signals.length, 1);
    assert.equal(signals[0]?.aborted, true);
  });

  it("leaves the other calls of its batch alone", async () => {
    const { client, bodies } = recorded();
    const controller = new AbortController();
    const slow = client.zoo.sleep({ ms: 500 }, { signal: controller.signal });
    const other = client.zoo.sleep({ ms: 500 });
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(slow);
    assert.ok(error instanceof DOMException && error.name === "AbortError");
    assert.equal(await other, true);
    assert.equal(bodies.length, 1);
  });

  it("never sends a call aborted before its batch goes out", async () => {
    const { client, bodies } = recorded();
    const controller = new AbortController();
    const call = client.system.health(undefined, { signal: controller.signal });
    controller.abort();
    await rejection(call);
    const early = await rejection(client.system.health(undefined, { signal: controller.signal }));
    assert.ok(early instanceof DOMException);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(bodies.length, 0);
  });
});

describe("errors", () => {
  const client = createClient({ url });

  it("a declared error narrows to the procedure's codes", async () => {
    const error = await rejection(client.zoo.get({ id: "@nobody" }));
    assert.ok(isRpcError(error, client.zoo.get));
    assert.equal(error.code, "NOT_FOUND");
    assert.equal(error.rpcCode, -32004);
    assert.equal(error.httpStatus, 404);
    assert.equal(error.message, "No animal @nobody");
    assert.equal(error.path, "zoo.get");
    assert.equal(error.reason, "unknown_animal");
    assert.match(error.requestId ?? "", /.+/);
    assert.equal(error.data.code, "NOT_FOUND");
    assert.ok(!isRpcError(error, client.zoo.add), "another procedure's error");
  });

  it("invalid params carry issues with JSON paths", async () => {
    const error = await rejection(client.zoo.get({ id: "tom" }));
    assert.ok(isRpcError(error, "INVALID_PARAMS"));
    assert.equal(error.rpcCode, -32602);
    assert.equal(error.httpStatus, 400);
    assert.equal(error.issues[0]?.path, "$.id");
  });

  it("a protected procedure without a token is UNAUTHORIZED, so is a bad token", async () => {
    const anonymous = await rejection(client.zoo.add({ name: "rex", kind: "dog" }));
    assert.ok(isRpcError(anonymous, client.zoo.add) && anonymous.code === "UNAUTHORIZED");
    assert.equal(anonymous.httpStatus, 401);
    const refused = await rejection(createClient({ url, token: "nonsense" }).system.health());
    assert.ok(isRpcError(refused, "UNAUTHORIZED"));
  });

  it("CONFLICT, internal errors (redacted), timeouts, unknown methods", async () => {
    const authed = createClient({ url, token: "user:@alice" });
    const conflict = await rejection(authed.zoo.add({ name: "tom", kind: "cat" }));
    assert.ok(isRpcError(conflict, authed.zoo.add) && conflict.code === "CONFLICT");
    assert.equal(conflict.retryable, false);
    const crash = await rejection(client.zoo.crash());
    assert.ok(isRpcError(crash, "INTERNAL_SERVER_ERROR"));
    assert.equal(crash.httpStatus, 500);
    assert.doesNotMatch(JSON.stringify(crash.data) + crash.message, /secret/);
    const slow = await rejection(client.zoo.sleep({ ms: 1500 }));
    assert.ok(isRpcError(slow, client.zoo.sleep) && slow.code === "TIMEOUT");
    assert.equal(slow.retryable, true);
    const missing = await rejection(client.$call("zoo.feed", {}));
    assert.ok(isRpcError(missing, "METHOD_NOT_FOUND"));
    assert.equal(missing.path, "zoo.feed");
  });

  it("a request-wide error reaches every call of the batch", async () => {
    const big = createClient({ url, batch: { maxSize: 10 } });
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6, 7].map((a) => big.sum({ a })));
    for (const result of results) {
      assert.ok(result.status === "rejected" && isRpcError(result.reason, "PAYLOAD_TOO_LARGE"));
      assert.equal(result.reason.httpStatus, 413);
    }
  });

  it("no answer at all is a NetworkError", async () => {
    const nowhere = createClient({ url: "http://127.0.0.1:9/rpc" });
    const error = await rejection(nowhere.system.health());
    assert.ok(error instanceof NetworkError);
    assert.deepEqual(error.paths, ["system.health"]);
    assert.ok(error.cause !== undefined);
  });

  it("an answer that is not JSON, or not JSON-RPC, is a ResponseError", async () => {
    const root = new URL("/", url).href;
    const html = await rejection(createClient({ url: root }).system.health());
    assert.ok(html instanceof ResponseError);
    assert.equal(html.problem, "not-json");
    assert.equal(html.status, 405);
    const health = new URL("/healthz", url).href;
    const other = await rejection(createClient({ url: health, fetch: (u, i) => fetch(u, { ...i, method: "GET", body: null }) }).system.health());
    assert.ok(other instanceof ResponseError);
    assert.equal(other.problem, "not-json-rpc");
    assert.equal(other.status, 200);
  });

  it("an answer without this call's id is a ResponseError", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", result: 1, id: 999 });
    const fetch: FetchLike = async () => new Response(body, { headers: { "Content-Type": "application/json" } });
    const error = await rejection(createClient({ url, fetch }).system.health());
    assert.ok(error instanceof ResponseError);
    assert.equal(error.problem, "no-answer");
    assert.equal(error.path, "system.health");
  });

  it("an error thrown by the token function rejects the calls with it", async () => {
    const failing = createClient({ url, token: () => Promise.reject(new Error("no session")) });
    const error = await rejection(failing.system.health());
    assert.ok(error instanceof Error && error.message === "no session");
  });
});

describe("rarer shapes", () => {
  it("decode as the generated types say", async () => {
    const exotic = await createClient({ url }).zoo.exotic();
    assert.deepEqual(exotic.task, { type: "walk", minutes: 30 });
    assert.equal(exotic.box.value.id, "@tom");
    assert.deepEqual([exotic.keeper.name, exotic.shift.hours, exotic.shift.night], ["sam", 8, false]);
    assert.deepEqual([exotic.where, exotic.cage], [[51.5, -0.1], [1, 2]]);
    assert.equal(atob(exotic.photo), "\x89PNG");
    assert.deepEqual([exotic.opened, exotic.species, exotic.byNumber, exotic.grid], ["2020-01-01", ["cat"], { "1": "one" }, [[1, null]]]);
    if (exotic.task.type === "walk") assert.equal(exotic.task.minutes, 30);
  });
});
