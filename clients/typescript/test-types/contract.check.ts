// Type tests against the checked-in client (the real contract): `tsc` must reject
// every `@ts-expect-error` line, and accept the others.
import { createClient, isRpcError } from "../src/index.js";
import type { Health } from "../src/index.js";

const client = createClient({ url: "/rpc", token: () => "token" });

export async function real(): Promise<void> {
  const health: Health = await client.system.health({});
  const status: "ok" = health.status;
  const same: Health = await client.system.health();
  // @ts-expect-error an unknown field
  await client.system.health({ bogus: 1 });
  // @ts-expect-error no such procedure
  await client.system.reboot({});
  const doc: Record<string, unknown> = await client.rpc.discover();
  try {
    await client.system.health();
  } catch (err) {
    if (isRpcError(err, client.system.health)) {
      // @ts-expect-error system.health declares no NOT_FOUND
      if (err.code === "NOT_FOUND") return;
    }
  }
  void [status, same, doc];
}
