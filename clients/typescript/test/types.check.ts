// Type tests for the generated client (built for tests/codegen_zoo.py and the spec
// examples). tsc checks every `@ts-expect-error`: a line that compiles fails the build.
import { createClient, isRpcError } from "../src/index.js";
import type { Animal, ErrorCodeOf, ErrorOf, InputOf, OutputOf, Page } from "../src/index.js";

const client = createClient({ url: "http://127.0.0.1/rpc" });

export async function inputs(): Promise<void> {
  await client.zoo.get({ id: "@tom" });
  await client.system.health(); // no required field: params optional
  await client.system.health({});
  await client.zoo.list();
  await client.zoo.list({ limit: 5, kinds: ["cat", "owl"] });
  await client.zoo.add({ name: "rex", kind: "dog", tags: [{ label: "good" }], location: { x: 1, y: 2 } });
  await client.subtract({ minuend: 42, subtrahend: 23 }); // a flat (namespace-less) name
  await client.zoo.get({ id: "@tom" }, { signal: AbortSignal.timeout(1000) });
  // @ts-expect-error an unknown field
  await client.zoo.get({ id: "@tom", bogus: 1 });
  // @ts-expect-error a field of the wrong type
  await client.zoo.get({ id: 1 });
  // @ts-expect-error a required field missing
  await client.zoo.get({});
  // @ts-expect-error input required when it has required fields
  await client.zoo.get();
  // @ts-expect-error not one of the literals
  await client.zoo.add({ name: "rex", kind: "cow" });
  // @ts-expect-error an enum value it does not have
  await client.zoo.add({ name: "rex", kind: "dog", tags: [{ label: "x", color: "blue" }] });
  // @ts-expect-error unknown field on an empty input
  await client.system.health({ verbose: true });
  // @ts-expect-error a nested Struct's wrong type
  await client.zoo.add({ name: "rex", kind: "dog", location: { x: "1", y: 2 } });
  // @ts-expect-error wire names are camelCase
  await client.zoo.add({ name: "rex", kind: "dog", born_at: "x" });
  // @ts-expect-error no such procedure
  await client.zoo.remove({ id: "@tom" });
  // @ts-expect-error no such namespace
  await client.aquarium.get({});
  // @ts-expect-error the options argument is checked too
  await client.zoo.get({ id: "@tom" }, { signal: "now" });
}

export async function outputs(): Promise<void> {
  const tom: Animal = await client.zoo.get({ id: "@tom" });
  const kind: "cat" | "dog" | "owl" = tom.kind;
  const score: number = tom.score; // a default is always on the wire in an output
  const weight: number | null = tom.weightKg;
  const first: string | undefined = tom.tags[0]?.label;
  const pair: [number, string] = tom.pair;
  const bornAt: string = tom.bornAt;
  // @ts-expect-error may be UNSET: absent from the wire
  const nick: string = tom.nick;
  // @ts-expect-error the page's cursor is omitted when it is the default
  const cursor: string | null = (await client.zoo.list()).cursor;
  // @ts-expect-error results are typed
  const wrong: string = await client.subtract({ minuend: 1, subtrahend: 2 });
  const page: OutputOf<typeof client.zoo.list> = { items: [tom] } satisfies Page;
  const input: InputOf<typeof client.zoo.get> = { id: "@x" };
  void [kind, score, weight, first, pair, bornAt, nick, cursor, wrong, page, input];
  const exotic = await client.zoo.exotic();
  if (exotic.task.type === "Feed") {
    const grams: number = exotic.task.grams; // a tagged union narrows on its tag
    void grams;
  }
  // @ts-expect-error grams exists on Feed only
  void exotic.task.grams;
  const where: [lat: number, lon: number] = exotic.where;
  void where;
}

export async function errors(): Promise<void> {
  try {
    await client.zoo.get({ id: "@nobody" });
  } catch (err) {
    if (isRpcError(err, client.zoo.get)) {
      switch (err.code) {
        case "NOT_FOUND":
        case "INVALID_PARAMS":
          break;
        // @ts-expect-error zoo.get does not declare CONFLICT
        case "CONFLICT":
          break;
      }
      const status: number = err.httpStatus;
      const requestId: string | undefined = err.requestId;
      void [status, requestId, err.issues.map((i) => i.path)];
    }
    if (isRpcError(err, "NOT_FOUND", "CONFLICT")) {
      const code: "NOT_FOUND" | "CONFLICT" = err.code;
      void code;
    }
  }
  const declared: ErrorCodeOf<typeof client.zoo.add> = "CONFLICT";
  const core: ErrorCodeOf<typeof client.zoo.add> = "UNAUTHORIZED";
  // @ts-expect-error zoo.add does not declare NOT_FOUND
  const undeclared: ErrorCodeOf<typeof client.zoo.add> = "NOT_FOUND";
  const error: ErrorOf<typeof client.zoo.add> | undefined = undefined;
  void [declared, core, undeclared, error];
}

// @ts-expect-error url is required
createClient({});
// @ts-expect-error batch takes a max size or false
createClient({ url: "/rpc", batch: true });
createClient({ url: new URL("http://x/rpc"), token: async () => "t", batch: { maxSize: 10 }, headers: { "X-A": "1" } });
createClient({ url: "/rpc", token: "t", batch: false, fetch: (input, init) => fetch(input, init) });
