// Type tests of subscriptions against the checked-in client (the real contract): `tsc` must
// reject every `@ts-expect-error` line, and accept the others.
import { createClient, isRpcError } from "../src/index.js";
import type { Intention, SpaceEvent, TrackedEvent, Unsubscribable } from "../src/index.js";

const client = createClient({ url: "/rpc", token: () => "token" });

export function callbacks(signal: AbortSignal): Unsubscribable {
  const handle: Unsubscribable = client.intention.watch(
    { spaceId: "@demo-space", lastEventId: "41" },
    {
      onData: (intention, id) => {
        const same: Intention = intention;
        const content: string = intention.content;
        const eventId: string = id;
        // @ts-expect-error an intention has no such field
        void intention.body;
        // @ts-expect-error the id is a string, not a number
        const n: number = id;
        void [same, content, eventId, n];
      },
      onError: (error) => {
        if (isRpcError(error) && error.code === "NOT_FOUND") return;
        // @ts-expect-error intention.watch never ends with CONFLICT
        if (isRpcError(error) && error.code === "CONFLICT") return;
        // @ts-expect-error nor with a made-up reason
        if (isRpcError(error) && error.data.reason === "whatever") return;
        if (isRpcError(error) && error.data.reason === "slow_consumer") return;
      },
      onComplete: () => undefined,
      signal,
    },
  );
  // @ts-expect-error spaceId is required
  client.intention.watch({}, { onData: () => undefined });
  // @ts-expect-error a number is no space id
  client.intention.watch({ spaceId: 42 }, { onData: () => undefined });
  // @ts-expect-error the wire name is camelCase
  client.intention.watch({ spaceId: "@demo-space", last_event_id: "1" }, { onData: () => undefined });
  // @ts-expect-error onData is required
  client.intention.watch({ spaceId: "@demo-space" }, {});
  client.space.watch({ spaceId: "@demo-space" }, {
    onData: (event: SpaceEvent) => {
      // @ts-expect-error not a space event type
      if (event.type === "created") return;
    },
  });
  // @ts-expect-error a space event is not an intention
  client.space.watch({ spaceId: "@demo-space" }, { onData: (event: Intention) => void event });
  // @ts-expect-error subscriptions are not awaited for a result
  const answer: Promise<unknown> = client.intention.watch({ spaceId: "@demo-space" }, { onData: () => undefined });
  void answer;
  return handle;
}

export async function iterated(signal: AbortSignal): Promise<number> {
  let total = 0;
  for await (const { id, data } of client.intention.watch.iterate({ spaceId: "@demo-space" }, { signal })) {
    const event: TrackedEvent<Intention> = { id, data };
    total += data.id + event.data.content.length;
    // @ts-expect-error an intention has no such field
    total += data.score;
  }
  for await (const event of client.space.watch.iterate({ spaceId: "@demo-space" })) {
    // @ts-expect-error a space event has no content
    void event.data.content;
  }
  // @ts-expect-error spaceId is required
  client.intention.watch.iterate({});
  return total;
}
