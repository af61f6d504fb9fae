// A server shutting down under the client: its subscriptions end with the retryable
// SERVICE_UNAVAILABLE (`shutting_down`), and the client resumes them on the next server by
// itself. Started by tests/test_client_ts.py: ROOMRPC_PROXY_URL relays to the serving
// instance; posting ROOMRPC_FAILOVER_URL points the relay at the next instance and shuts the
// current one down. Every instance shares one PostgreSQL database (and its bus); writes go
// to the last one, which is never shut down.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { createClient } from "../src/index.js";

const env = (name: string): string => process.env[name] ?? assert.fail(`${name} is not set`);
const tokens = JSON.parse(env("ROOMRPC_TOKENS")) as Record<string, string>;
const writer = createClient({ url: env("ROOMRPC_WRITE_URL"), token: tokens["@mod"] });

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

describe("a server shutting down", () => {
  for (const transport of ["websocket", "sse"] as const) {
    it(`over ${transport}: the subscription resumes on the next server, no gap, no duplicate`, async (t) => {
      const client = createClient({
        url: env("ROOMRPC_PROXY_URL"),
        token: tokens["@member"],
        subscriptions: transport,
        reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
      });
      const seen: number[] = [];
      const errors: unknown[] = [];
      let starts = 0;
      const sub = client.intention.watch(
        { spaceId: "@room" },
        { onData: (d) => seen.push(d.id), onStarted: () => (starts += 1), onError: (e) => errors.push(e) },
      );
      await until(() => starts === 1, "the subscription");
      const created: number[] = [];
      let writing = true;
      let stopped = false;
      t.after(() => {
        stopped = true; // a failed step must not leave the writer, nor the client, running
        client.$close();
      });
      const writes = (async () => {
        while (writing && !stopped) {
          created.push((await writer.intention.create({ spaceId: "@room", content: "x" })).id);
          await new Promise((done) => setTimeout(done, 5));
        }
      })();
      await until(() => seen.length >= 5, "events before the shutdown");
      const failover = await fetch(env("ROOMRPC_FAILOVER_URL"), { method: "POST", signal: AbortSignal.timeout(15_000) });
      assert.equal(failover.status, 200, await failover.text());
      await until(() => starts === 2, "the resubscription on the next server");
      await until(() => seen.length >= 15, "events after the shutdown");
      writing = false;
      await writes;
      const last = created[created.length - 1];
      await until(() => seen[seen.length - 1] === last, "the last write");
      assert.deepEqual(seen, created.filter((id) => id >= (seen[0] ?? 0)), "no gap, no duplicate");
      assert.deepEqual(errors, []);
      sub.unsubscribe();
      client.$close();
    });
  }
});
