// The built client against sockets that never open (started by tests/test_client_ts.py,
// which counts the connections each path gets): ROOMRPC_SILENT_URL accepts TCP
// connections and never answers the WebSocket handshake; ROOMRPC_MUTE_URL completes the
// handshake and never answers a message (so `rpc.authenticate` gets no answer). Each test
// uses a path of its own; the Python test checks how many connections each path got.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";

import { NetworkError, createClient } from "../src/index.js";

const env = (name: string): string => process.env[name] ?? assert.fail(`${name} is not set`);
const silent = env("ROOMRPC_SILENT_URL");
const mute = env("ROOMRPC_MUTE_URL");
const fast = { baseDelayMs: 10, maxDelayMs: 20 };
// Without a bound on the opening these tests would wait until the TCP connection dies:
// each fails at this instead.
const bounded = { timeout: 5_000 };

const clients: { $close(): void }[] = [];
after(() => {
  for (const c of clients) c.$close();
});

function client(options: Parameters<typeof createClient>[0]) {
  const made = createClient({ openTimeout: 200, reconnect: fast, ...options });
  clients.push(made);
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail("answered by a server that never answers"),
    (e: unknown) => e,
  );
}

function assertNotOpened(error: unknown, stage: RegExp): void {
  assert.ok(error instanceof NetworkError, String(error));
  assert.equal(error.maybeRan, false); // nothing went out: the socket never opened
  assert.equal(error.retryable, true);
  assert.match(error.message, stage);
}

describe("a socket whose handshake is never answered", () => {
  it("a query over it rejects with a NetworkError after `retry.attempts` tries", bounded, async () => {
    const c = client({ url: `${silent}/query`, callsOverSocket: true, retry: { attempts: 2, ...fast } });
    assertNotOpened(await rejection(c.system.health()), /did not open within 200 ms/);
  });

  it("a mutation without an idempotency key was never sent, so it is tried again too", bounded, async () => {
    const c = client({
      url: `${silent}/unkeyed`,
      callsOverSocket: true,
      idempotencyKeys: false,
      retry: { attempts: 3, ...fast },
    });
    const creating = c.intention.create({ spaceId: "@room", content: "never sent" });
    assertNotOpened(await rejection(creating), /did not open within 200 ms/);
  });

  it("`retry: false`: one try", bounded, async () => {
    const c = client({ url: `${silent}/once`, callsOverSocket: true, retry: false });
    assertNotOpened(await rejection(c.system.health()), /did not open within 200 ms/);
  });

  it("a subscription tries again as `reconnect` says, then ends with the NetworkError", bounded, async () => {
    const c = client({ url: `${silent}/subscribe`, reconnect: { attempts: 2, ...fast } });
    let started = false;
    const ended = await new Promise<unknown>((resolve) => {
      c.intention.watch({ spaceId: "@room" }, { onData: () => undefined, onStarted: () => (started = true), onError: resolve });
    });
    assertNotOpened(ended, /did not open within 200 ms/);
    assert.equal(started, false);
  });
});

describe("a socket whose rpc.authenticate is never answered", () => {
  it("is abandoned the same way: the call fails after its tries", bounded, async () => {
    const c = client({ url: `${mute}/authenticate`, token: "t", callsOverSocket: true, retry: { attempts: 2, ...fast } });
    assertNotOpened(await rejection(c.system.health()), /was not authenticated within 200 ms/);
  });
});
