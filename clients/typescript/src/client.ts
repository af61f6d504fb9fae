/** The client: options, the typed procedure functions, and how the generated contract builds them. */

import { CORE_ERRORS } from "./errors.gen.js";
import type { CoreErrorCode, CoreReason, ErrorCode } from "./errors.gen.js";
import type { NetworkError, ResponseError, RpcError } from "./errors.js";
import { HttpLink, Tokens } from "./link.js";
import { SseLink, WsLink } from "./live.js";
import type { LiveLink, Unsubscribable } from "./live.js";
import { platform } from "./platform.js";
import type { AbortSignalLike, FetchLike, HeadersLike, UrlLike, WebSocketConstructor } from "./platform.js";

export type { Unsubscribable } from "./live.js";

/**
 * A bearer token, or a function giving one: called once per HTTP request, SSE stream and
 * socket authentication (nothing: no header). When the server refuses a token as expired
 * (`UNAUTHORIZED`, `reason: "token_expired"`), the function is called once more with
 * `{ expired }`, that token: it gives a fresh one (refresh it), and the call is sent again
 * once with it (a socket authenticates again and resumes its subscriptions). A string
 * cannot be renewed: the error reaches the caller.
 */
export type TokenSource =
  | string
  | ((context: TokenContext) => string | null | undefined | Promise<string | null | undefined>);

/** What the client tells a token function. */
export interface TokenContext {
  /**
   * The token the server just refused as expired: give a fresh one, not this one (the
   * client never sends it again; a function that gives it again gets the fresh one sent
   * in its place). Absent when a token is simply needed.
   */
  readonly expired?: string | undefined;
}

/** Extra headers, or a function giving them (called once per HTTP request). */
export type HeadersSource = HeadersLike | (() => HeadersLike | Promise<HeadersLike>);

/** How to reach the server. */
export interface ClientOptions {
  /** The JSON-RPC endpoint: `https://api.example.com/rpc`, or `/rpc` in a page the server serves. */
  url: string | UrlLike;
  /**
   * Sent as `Authorization: Bearer <token>` (over a socket, with `rpc.authenticate`).
   * A function is asked again, with `{ expired }`, when the server answers
   * `token_expired`: see {@link TokenSource}.
   */
  token?: TokenSource | undefined;
  /** Sent with every request (`Authorization` and `Content-Type` are the client's own). */
  headers?: HeadersSource | undefined;
  /** The `fetch` to use; the platform's by default. */
  fetch?: FetchLike | undefined;
  /**
   * Calls made in the same tick go out as one JSON-RPC batch, at most `maxSize`
   * calls per HTTP request (default 50; keep it at or under the server's
   * `RPC_MAX_BATCH`). `false`: one HTTP request per call.
   */
  batch?: { maxSize?: number | undefined } | false | undefined;
  /**
   * Retries of calls that got no answer (a {@link NetworkError}, or a 5xx/429 page that
   * is not JSON-RPC) or a retryable error (`error.data.retryable`), with exponential
   * backoff and jitter, waiting at least the server's `retryAfter`. Only queries, and
   * mutations that carry an idempotency key, are retried (over HTTP, and over the socket
   * with `callsOverSocket`). `false`: never retry. (A call refused for an expired token is
   * sent again once with a fresh one, apart from these: see {@link TokenSource}.)
   */
  retry?: RetryOptions | false | undefined;
  /**
   * Send an `Idempotency-Key` with every mutation (default `true`): the server runs a
   * mutation once per key and replays its answer to a retry, so retried mutations never
   * run twice. Each mutation with a key goes out in an HTTP request of its own.
   */
  idempotencyKeys?: boolean | undefined;
  /** A deadline for every call, in milliseconds (see {@link CallOptions.timeout}). */
  timeout?: number | undefined;
  /**
   * How subscriptions travel: `"websocket"` (the default where a `WebSocket` class exists)
   * or `"sse"` (Server-Sent Events read with `fetch`: `Authorization` works as for calls).
   */
  subscriptions?: "websocket" | "sse" | undefined;
  /** The socket's URL (default: `url` with `ws:`/`wss:`). */
  wsUrl?: string | UrlLike | undefined;
  /** The `WebSocket` class (default `globalThis.WebSocket`; in Node 20, `ws`'s). */
  WebSocket?: WebSocketConstructor | undefined;
  /**
   * How long opening the socket may take, in milliseconds (default 10 000): its handshake,
   * then the token (the token function's time counts) and the answer to its
   * `rpc.authenticate`; a re-authentication with a renewed token gets as long for its
   * answer. A socket not open by then (a proxy that never answers the upgrade, a lost
   * packet) is closed and counts as a failed open: a {@link NetworkError} (`maybeRan`
   * false), after which subscriptions reconnect as `reconnect` says and calls over the
   * socket retry as `retry` says. `Infinity`: no limit.
   */
  openTimeout?: number | undefined;
  /**
   * Send queries and mutations over the subscriptions' socket too (default `false`: over HTTP).
   * Each frame carries the call's `idempotencyKey` and `timeoutMs` as HTTP's headers would.
   * A call whose socket drops before its answer is sent again on the next socket (as
   * `retry` says) if it is a query or a mutation with an idempotency key; a mutation
   * without one rejects with a {@link NetworkError} (`retryable`, `maybeRan`): it may
   * have run, so it is not sent again.
   */
  callsOverSocket?: boolean | undefined;
  /**
   * How a dropped subscription is resumed: backoff with jitter between tries (default
   * 250 ms doubling up to 10 s, tries without end). The count restarts once it resumes.
   */
  reconnect?: RetryOptions | undefined;
}

/** How calls are retried. */
export interface RetryOptions {
  /** Tries in all, the first included (default 3). */
  attempts?: number | undefined;
  /** The first backoff, in milliseconds (default 200); doubled on each retry. */
  baseDelayMs?: number | undefined;
  /** The longest backoff, in milliseconds (default 5000). */
  maxDelayMs?: number | undefined;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborting rejects the call with the signal's reason (and cancels its request when alone in it). */
  signal?: AbortSignalLike | undefined;
  /**
   * The call's deadline in milliseconds, sent as `X-Timeout-Ms`: the server gives up
   * (TIMEOUT) and cancels what the call waits on once it passes.
   */
  timeout?: number | undefined;
  /** This mutation's idempotency key (default: a fresh random one, kept across retries). */
  idempotencyKey?: string | undefined;
}

/** A procedure's parameters: its input is optional when it has no required field. */
export type ArgsOf<I> = {} extends I
  ? [input?: I, options?: CallOptions]
  : [input: I, options?: CallOptions];

/**
 * One procedure of the client: call it, or hand it to {@link isRpcError} to
 * narrow an error to the codes it declares and `data.reason` to the reasons it gives.
 */
export interface Procedure<Path extends string, I, O, E extends ErrorCode, R extends string = string> {
  (...args: ArgsOf<I>): Promise<O>;
  /** The wire name, e.g. `"being.get"`. */
  readonly path: Path;
  /** `query` reads; `mutation` changes state. */
  readonly kind: "query" | "mutation";
  /** Every code this procedure may fail with: its declared ones, then the core ones. */
  readonly errors: readonly (E | CoreErrorCode)[];
  /** Types only (never set at run time): what {@link InputOf} and friends read. */
  readonly "~types"?: { input: I; output: O; errors: E; reasons: R };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest procedure
export type AnyProcedure = Procedure<string, any, any, ErrorCode, string>;
/** What `P` takes: `InputOf<typeof client.being.get>`. */
export type InputOf<P extends AnyProcedure> = NonNullable<P["~types"]>["input"];
/** What `P` resolves to. */
export type OutputOf<P extends AnyProcedure> = NonNullable<P["~types"]>["output"];
/** Every named code `P` may reject with: its declared codes and the core ones. */
export type ErrorCodeOf<P extends AnyProcedure> = NonNullable<P["~types"]>["errors"] | CoreErrorCode;
/** Every `reason` `P`'s errors may carry: its own and those any call may give. */
export type ReasonOf<P extends AnyProcedure> = NonNullable<P["~types"]>["reasons"] | CoreReason;
/** The `RpcError` `P` may reject with: `code` narrowed to {@link ErrorCodeOf}, `reason` to {@link ReasonOf}. */
export type ErrorOf<P extends AnyProcedure> = RpcError<ErrorCodeOf<P>, ReasonOf<P>>;

/**
 * A subscription procedure (served over a WebSocket or SSE only): its input, and the type
 * of each event's `data`. Subscribing answers `{subscription: sid, lastEventId?}` (where it
 * starts); events arrive as notifications `{method: path, params: {subscription, id, data: Ev}}`.
 */
export interface Subscription<Path extends string, I, Ev, E extends ErrorCode, R extends string = string> {
  /**
   * Subscribes: `onData` gets each event until `unsubscribe()`, the signal, or the end.
   * A dropped connection, or a retryable end (`slow_consumer`, `shutting_down`), is
   * resumed from the last event (before any, from where the server said it started) by
   * itself, as is an end for an expired token when the token function gives a fresh one;
   * another error calls `onError`.
   */
  (...args: SubscribeArgs<I, SubscriptionHandlers<Ev, SubscriptionError<E, R>>>): Unsubscribable;
  /**
   * The same subscription as an async iterable: `for await (const { id, data } of
   * client.intention.watch.iterate(input, { signal }))`. Leaving the loop unsubscribes;
   * an error the subscription cannot resume from is thrown by the loop.
   */
  iterate(...args: IterateArgs<I>): AsyncIterableIterator<TrackedEvent<Ev>>;
  /** The wire name, e.g. `"intention.watch"`. */
  readonly path: Path;
  readonly kind: "subscription";
  /** Every code the subscription may fail or end with: its declared ones, then the core ones. */
  readonly errors: readonly (E | CoreErrorCode)[];
  /** Types only (never set at run time). */
  readonly "~types"?: { input: I; event: Ev; errors: E; reasons: R };
}

/** What a subscription calls back with. All optional but `onData`. */
export interface SubscriptionHandlers<Ev, Err> {
  /** Each event's data, and its id (increasing; what `lastEventId` resumes after). */
  onData: (data: Ev, id: string) => void;
  /** The subscription ended with an error it cannot resume from (it is over). */
  onError?: ((error: Err) => void) | undefined;
  /** The subscription ended without error: the server completed it, or it was unsubscribed. */
  onComplete?: (() => void) | undefined;
  /** Subscribed (again after each reconnect): from now on, nothing is missed. */
  onStarted?: (() => void) | undefined;
  /** Aborting unsubscribes. */
  signal?: AbortSignalLike | undefined;
}

/** How an async-iterated subscription is run. */
export interface IterateOptions {
  /** Aborting ends the iteration (the loop then simply exits). */
  signal?: AbortSignalLike | undefined;
}

/** One event of an iterated subscription: its id and its data. */
export interface TrackedEvent<Ev> {
  readonly id: string;
  readonly data: Ev;
}

/** What a subscription may end with: a server error (its declared codes and the core ones), or no server. */
export type SubscriptionError<E extends ErrorCode, R extends string = string> =
  | RpcError<E | CoreErrorCode, R | CoreReason>
  | NetworkError
  | ResponseError;

/** An iterated subscription's parameters: its input is optional when it has no required field. */
export type IterateArgs<I> = {} extends I
  ? [input?: I, options?: IterateOptions]
  : [input: I, options?: IterateOptions];

/** A subscription's parameters: its input is optional when it has no required field. */
export type SubscribeArgs<I, H> = {} extends I ? [input: I | undefined, handlers: H] : [input: I, handlers: H];
export interface ProcedureMeta {
  readonly kind: "query" | "mutation" | "subscription";
  readonly errors: readonly ErrorCode[];
  readonly protected: boolean;
}

/** Untyped access, for tools that learn the API at run time (the explorer). */
export interface RawClient {
  /** Calls `method` by its wire name with `params`; the answer is not checked. */
  $call(method: string, params?: unknown, options?: CallOptions): Promise<unknown>;
  /** Subscribes to `method` by its wire name; events are not checked. */
  $subscribe(method: string, params: unknown, handlers: SubscriptionHandlers<unknown, unknown>): Unsubscribable;
  /** Ends every subscription and closes the socket (a new call or subscription opens it again). */
  $close(): void;
}

/** Builds the namespaces of a generated client (the generated `createClient` calls this). */
export function buildClient<C>(
  table: Readonly<Record<string, ProcedureMeta>>,
  options: ClientOptions,
  contractHash?: string,
): C & RawClient {
  const tokens = new Tokens(options.token);
  const link = new HttpLink(options, contractHash, tokens);
  let live: LiveLink | undefined;
  let socket: WsLink | undefined;
  const overSse = options.subscriptions === "sse" || (options.subscriptions === undefined && (options.WebSocket ?? platform.WebSocket) === undefined);
  const liveLink = (): LiveLink =>
    (live ??= overSse ? new SseLink(options, tokens) : (socket = new WsLink(options, tokens)));
  const subscribe = (method: string, input: unknown, handlers: SubscriptionHandlers<unknown, unknown>) =>
    liveLink().subscribe(method, input, handlers);
  const call = (method: string, input: unknown, opts: CallOptions | undefined, kind: ProcedureMeta["kind"] | undefined) => {
    if (options.callsOverSocket === true && !overSse) {
      liveLink();
      if (socket !== undefined) return socket.call(method, input, opts, overHttp(kind ?? "mutation"));
    }
    return link.call(method, input, opts, overHttp(kind ?? "mutation"));
  };
  const root: Record<string, unknown> = {
    $call: (method: string, params?: unknown, opts?: CallOptions) => call(method, params, opts, table[method]?.kind),
    $subscribe: subscribe,
    $close: () => live?.close(),
  };
  const spaces: Record<string, Record<string, unknown>> = {};
  for (const [path, meta] of Object.entries(table)) {
    const fn =
      meta.kind === "subscription"
        ? Object.assign(
            (input: unknown, handlers: SubscriptionHandlers<unknown, unknown>) => subscribe(path, input, handlers),
            { iterate: (input: unknown, opts?: IterateOptions) => iterate(subscribe, path, input, opts) },
          )
        : (input?: unknown, opts?: CallOptions) => call(path, input, opts, meta.kind);
    Object.defineProperty(fn, "name", { value: path });
    Object.assign(fn, {
      path,
      kind: meta.kind,
      errors: Object.freeze([...meta.errors, ...CORE_ERRORS]),
    });
    const dot = path.indexOf(".");
    if (dot < 0) {
      root[path] = fn;
    } else {
      const space = (spaces[path.slice(0, dot)] ??= {});
      space[path.slice(dot + 1)] = fn;
    }
  }
  for (const [name, space] of Object.entries(spaces)) root[name] = Object.freeze(space);
  return Object.freeze(root) as C & RawClient;
}

/** A subscription as an async iterator: events queue until the loop reads them. */
function iterate(
  subscribe: (method: string, input: unknown, handlers: SubscriptionHandlers<unknown, unknown>) => Unsubscribable,
  method: string,
  input: unknown,
  options: IterateOptions = {},
): AsyncIterableIterator<TrackedEvent<unknown>> {
  const queue: TrackedEvent<unknown>[] = [];
  let ended: { error: unknown } | "done" | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const handle = subscribe(method, input, {
    onData: (data, id) => {
      queue.push({ id, data });
      notify();
    },
    onError: (error) => {
      ended = { error };
      notify();
    },
    onComplete: () => {
      ended ??= "done";
      notify();
    },
    signal: options.signal,
  });
  const finish = (): Promise<IteratorResult<TrackedEvent<unknown>>> => {
    ended ??= "done";
    handle.unsubscribe();
    queue.length = 0;
    return Promise.resolve({ done: true, value: undefined });
  };
  const iterator: AsyncIterableIterator<TrackedEvent<unknown>> = {
    async next() {
      for (;;) {
        const event = queue.shift();
        if (event !== undefined) return { done: false, value: event };
        if (ended === "done") return { done: true, value: undefined };
        if (ended !== undefined) {
          const { error } = ended;
          ended = "done";
          throw error;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    return: finish,
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** How a call goes over HTTP: a subscription is refused there (BAD_REQUEST says how to subscribe). */
function overHttp(kind: ProcedureMeta["kind"]): "query" | "mutation" {
  return kind === "mutation" ? "mutation" : "query";
}
