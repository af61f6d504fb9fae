// Type tests against the checked-in client (the real contract): `tsc` must reject
// every `@ts-expect-error` line, and accept the others.
import { createClient, isRpcError } from "../src/index.js";
import type { Being, Health, JoinToken, MemberPage, PresentMember } from "../src/index.js";

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

export async function reasons(): Promise<string> {
  try {
    await client.space.setRole({ spaceId: "@demo-space", beingId: "@bob", role: "member" });
  } catch (err) {
    if (isRpcError(err, client.space.setRole)) {
      // narrowed: the reasons space.setRole declares, and those of any call
      const reason: "last_owner" | "not_manager" | "in_progress" | "rate_limited" | undefined =
        err.data.reason === "last_owner" || err.data.reason === "not_manager" ? err.data.reason
        : err.data.reason === "in_progress" || err.data.reason === "rate_limited" ? err.data.reason
        : undefined;
      // @ts-expect-error space.setRole never gives "revoked" (livekit.getJoinToken does)
      if (err.data.reason === "revoked") return "never";
      // @ts-expect-error nor a made-up word
      if (err.reason === "whatever") return "never";
      const wait: number | undefined = err.data.retryAfter;
      return `${reason ?? ""} ${wait ?? 0}`;
    }
    if (isRpcError(err, client.livekit.getJoinToken) && err.data.reason === "revoked") return "revoked";
  }
  return "";
}

export async function namespaces(cursor: string | undefined): Promise<void> {
  const join: JoinToken = await client.livekit.getJoinToken({ roomBeingId: "@demo-space" });
  await client.livekit.getJoinToken({ roomBeingId: "@demo-space", ttlSeconds: 600, device: null });
  // @ts-expect-error roomBeingId is required
  await client.livekit.getJoinToken({});
  // @ts-expect-error a number is no being id
  await client.livekit.getJoinToken({ roomBeingId: 42 });
  // @ts-expect-error the wire name is camelCase
  await client.livekit.getJoinToken({ room_being_id: "@demo-space" });
  // @ts-expect-error not a role
  await client.space.addMember({ spaceId: "@demo-space", beingId: "@bob", role: "admin" });
  // @ts-expect-error an input field is not nullable unless the contract says so
  await client.being.update({ id: "@alice", visibility: null });
  // An optional input field takes undefined (left out of the JSON), even under exactOptionalPropertyTypes.
  const page: MemberPage = await client.space.members({ spaceId: "@demo-space", cursor });
  const being: Being = await client.being.get({ id: "@alice" });
  // @ts-expect-error ownerId is nullable
  const owner: string = being.ownerId;
  // @ts-expect-error limit is an integer, typed number
  const limit: string = (await client.intention.list({ spaceId: "@demo-space" })).nextBefore;
  const here: PresentMember[] = await client.presence.members({ roomBeingId: "@demo-space", reconcile: true });
  const beingId: string | null | undefined = here[0]?.beingId;
  const url: string | null = await client.media.mediaUrl();
  void [join.wsUrl, page.nextCursor, owner, limit, beingId, url];
}
