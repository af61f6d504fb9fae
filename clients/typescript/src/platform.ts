/**
 * The platform objects the client touches (`fetch`, `AbortSignal`, headers, timers),
 * typed by their shape rather than by the DOM library's names: the client then
 * compiles in a program with the DOM library, with `@types/node`, or with neither,
 * and the browser's and Node's own objects fit these types.
 */

/** What the client needs of an `AbortSignal` (the browser's and Node's fit). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** The program's own `AbortSignal` type (DOM or `@types/node`); {@link AbortSignalLike} without one. */
export type PlatformAbortSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } }
  ? S
  : AbortSignalLike;

/** Extra request headers: a plain object, `[name, value]` pairs, or a `Headers` (or `Map`). */
export type HeadersLike =
  | Readonly<Record<string, string>>
  | readonly (readonly [string, string])[]
  | { forEach(callback: (value: string, name: string) => void): void };

/** What the client hands its `fetch`: always a JSON POST. The platform's `RequestInit` takes it. */
export interface FetchInit {
  readonly method: "POST";
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly signal: PlatformAbortSignal;
}

/** What the client reads of a `fetch` response (the platform's `Response` fits). */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** The body as a stream (read for Server-Sent Events). */
  readonly body?: { getReader(): StreamReader } | null;
}

/** What the client reads of a response body's stream reader. */
export interface StreamReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(): Promise<void>;
}

/** An event handler property, checked loosely so the platforms' own event types fit. */
type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"] | null;

/** What the client uses of a `WebSocket` (the browser's, Node 22's, the `ws` package's). */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown>;
  onmessage: Handler<{ readonly data: unknown }>;
  onclose: Handler<unknown>;
  onerror: Handler<unknown>;
}

/** A `WebSocket` class: `globalThis.WebSocket` by default, or e.g. `import { WebSocket } from "ws"`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A `fetch`: the platform's, or any function of this shape (tests, proxies, retries). */
export type FetchLike = (input: string, init: FetchInit) => Promise<FetchResponse>;

/** A URL object (`URL`): anything with an `href`. */
export interface UrlLike {
  readonly href: string;
}

interface Globals {
  fetch: FetchLike;
  AbortController: new () => { readonly signal: PlatformAbortSignal & AbortSignalLike; abort(): void };
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  crypto?: { randomUUID?: () => string };
  WebSocket?: WebSocketConstructor;
  URL: new (url: string, base?: string) => { protocol: string; readonly href: string };
  TextDecoder: new () => { decode(input?: Uint8Array, options?: { stream?: boolean }): string };
}

/** The platform's globals, typed by the shapes above (read when used, so they can be replaced). */
export const platform = globalThis as unknown as Globals;

/** `headers` as a plain object, names in lower case (the last of a repeated name wins). */
export function headerRecord(headers: HeadersLike | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined) return record;
  const add = (value: string, name: string) => {
    record[name.toLowerCase()] = value;
  };
  if (isPairs(headers)) for (const [name, value] of headers) add(value, name);
  else if (hasForEach(headers)) headers.forEach(add);
  else for (const [name, value] of Object.entries(headers)) add(value, name);
  return record;
}

function isPairs(headers: HeadersLike): headers is readonly (readonly [string, string])[] {
  return Array.isArray(headers);
}

function hasForEach(headers: HeadersLike): headers is Extract<HeadersLike, { forEach: unknown }> {
  return typeof (headers as { forEach?: unknown }).forEach === "function";
}
