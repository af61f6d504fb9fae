/**
 * What a call can fail with: the server's answer ({@link RpcError}), no answer
 * at all ({@link NetworkError}), or an answer that is not JSON-RPC
 * ({@link ResponseError}). An aborted call rejects with its signal's reason,
 * as `fetch` does.
 */

import type { AnyProcedure, ErrorOf } from "./client.js";
import { CORE_ERRORS, ERROR_TABLE } from "./errors.gen.js";
import type { ErrorCode, ErrorData, Issue } from "./errors.gen.js";
import type { FetchResponse } from "./platform.js";

/** Where an error happened: the procedure called and the HTTP answer, if any. */
export interface ErrorContext {
  /** The procedure's wire name, e.g. `"being.get"`. */
  readonly path?: string | undefined;
  /** The HTTP status of the response that carried the error. */
  readonly status?: number | undefined;
  /** The response's `X-Request-Id` header. */
  readonly requestId?: string | undefined;
}

/** What an {@link RpcError} is built from: `error.data`'s fields and the JSON-RPC code. */
export type RpcErrorOptions = { [K in keyof ErrorData]?: ErrorData[K] | undefined } & {
  rpcCode?: number | undefined;
};

const BY_NUMBER = new Map<number, ErrorCode>(
  Object.entries(ERROR_TABLE).map(([name, row]) => [row.code, name as ErrorCode]),
);

/**
 * The server answered the call with a JSON-RPC error.
 *
 * `C` is the set of named codes it may carry: narrow it with
 * {@link isRpcError}`(err, client.being.get)` to the codes that procedure
 * declares (plus those any call may fail with).
 */
export class RpcError<C extends ErrorCode = ErrorCode, R extends string = string> extends Error {
  override readonly name = "RpcError";
  /** The named code, e.g. `"NOT_FOUND"`. */
  readonly code: C;
  /** The JSON-RPC error code, e.g. `-32004`. */
  readonly rpcCode: number;
  /** The HTTP status this error maps to (a batch answers 200 as a whole). */
  readonly httpStatus: number;
  /** For invalid params: each bad value's JSON path (`$.roomBeingId`) and what is wrong. */
  readonly issues: readonly Issue[];
  /** The server's request id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** The procedure called, e.g. `"being.get"`. */
  readonly path: string | undefined;
  /** Why, in a word a program can test (when the server gives one). */
  readonly reason: R | undefined;
  /** Whether trying again later may succeed (when the server says). */
  readonly retryable: boolean | undefined;
  /** Seconds to wait before trying again (when the server says). */
  readonly retryAfter: number | undefined;
  /** The JSON-RPC `error.data` as received; `reason` narrowed to the procedure's reasons. */
  readonly data: Omit<ErrorData, "reason"> & { reason?: R };

  constructor(code: C, message: string, options: RpcErrorOptions = {}) {
    super(message);
    const { rpcCode, ...data } = options;
    const row = ERROR_TABLE[code];
    this.code = code;
    this.rpcCode = rpcCode ?? row.code;
    this.httpStatus = data.httpStatus ?? row.httpStatus;
    this.issues = data.issues ?? [];
    this.requestId = data.requestId ?? undefined;
    this.path = data.path ?? undefined;
    this.reason = data.reason as R | undefined;
    this.retryable = data.retryable;
    this.retryAfter = data.retryAfter;
    const fields = Object.entries({ ...data, code, httpStatus: this.httpStatus });
    this.data = Object.fromEntries(fields.filter(([, v]) => v !== undefined)) as unknown as this["data"];
  }

  /** An `RpcError` from a JSON-RPC error object as it came off the wire. */
  static fromWire(error: unknown, context: ErrorContext = {}): RpcError {
    const wire = isObject(error) ? error : {};
    const rpcCode = typeof wire["code"] === "number" ? wire["code"] : ERROR_TABLE.INTERNAL_SERVER_ERROR.code;
    const data: RpcErrorOptions = isObject(wire["data"]) ? (wire["data"] as RpcErrorOptions) : {};
    const named = typeof data.code === "string" && data.code in ERROR_TABLE ? data.code : undefined;
    const code = named ?? BY_NUMBER.get(rpcCode) ?? "INTERNAL_SERVER_ERROR";
    const message = typeof wire["message"] === "string" ? wire["message"] : ERROR_TABLE[code].message;
    return new RpcError(code, message, {
      ...data,
      rpcCode,
      httpStatus: data.httpStatus ?? context.status ?? ERROR_TABLE[code].httpStatus,
      path: data.path ?? context.path ?? null,
      requestId: data.requestId ?? context.requestId ?? null,
    });
  }
}

/** The request got no HTTP answer: the network, DNS, CORS or the server's socket failed. */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
  /** The endpoint called. */
  readonly url: string;
  /** The procedures the failed request carried. */
  readonly paths: readonly string[];
  /** Trying again later may succeed (no server answered: nothing said no). */
  readonly retryable = true;
  /**
   * The request may have reached the server before the connection was lost: a mutation
   * may have run. `false` only when the client knows it was never sent.
   */
  readonly maybeRan: boolean;

  constructor(url: string, paths: readonly string[], cause: unknown, options: { maybeRan?: boolean | undefined } = {}) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`No answer from ${url}: ${why}`, { cause });
    this.url = url;
    this.paths = paths;
    this.maybeRan = options.maybeRan ?? true;
  }
}

/** Why a {@link ResponseError} was raised. */
export type ResponseProblem = "not-json" | "not-json-rpc" | "no-answer";

/** The server answered, but not with JSON-RPC (a proxy's HTML page, an empty body ...). */
export class ResponseError extends Error {
  override readonly name = "ResponseError";
  /** `not-json`: the body does not parse; `not-json-rpc`: it is JSON of another shape;
   * `no-answer`: the response has no entry for this call. */
  readonly problem: ResponseProblem;
  /** The HTTP status. */
  readonly status: number;
  /** The response's `Content-Type`. */
  readonly contentType: string | null;
  /** The start of the body (at most 1000 characters). */
  readonly body: string;
  /** The procedure whose call this is. */
  readonly path: string | undefined;
  /** The response's `X-Request-Id` header. */
  readonly requestId: string | undefined;

  constructor(problem: ResponseProblem, response: FetchResponse, body: string, path?: string) {
    const what = {
      "not-json": "is not JSON",
      "not-json-rpc": "is not a JSON-RPC 2.0 response",
      "no-answer": "has no answer for this call",
    }[problem];
    super(`HTTP ${response.status} response ${what}${path ? ` (${path})` : ""}`);
    this.problem = problem;
    this.status = response.status;
    this.contentType = response.headers.get("Content-Type");
    this.body = body.slice(0, 1000);
    this.path = path;
    this.requestId = response.headers.get("X-Request-Id") ?? undefined;
  }
}

/** Is `err` an {@link RpcError} (of any code)? */
export function isRpcError(err: unknown): err is RpcError;
/**
 * Is `err` an error answered for `procedure`, with a code it may fail with?
 * Narrows `err.code` to its declared codes plus the core ones:
 *
 * ```ts
 * catch (err) {
 *   if (isRpcError(err, client.being.get) && err.code === "NOT_FOUND") ...
 * }
 * ```
 */
export function isRpcError<P extends AnyProcedure>(err: unknown, procedure: P): err is ErrorOf<P>;
/** Is `err` an {@link RpcError} with one of these codes? */
export function isRpcError<C extends ErrorCode>(err: unknown, ...codes: [C, ...C[]]): err is RpcError<C>;
export function isRpcError(err: unknown, ...which: (AnyProcedure | ErrorCode)[]): boolean {
  if (!(err instanceof RpcError)) return false;
  const [first] = which;
  if (first === undefined) return true;
  if (typeof first === "function") {
    return err.path === first.path && first.errors.includes(err.code);
  }
  return (which as string[]).includes(err.code);
}

/** Is `code` one that any call may fail with, whatever it declares? */
export function isCoreError(code: ErrorCode): boolean {
  return (CORE_ERRORS as readonly string[]).includes(code);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
