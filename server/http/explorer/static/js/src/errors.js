// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/**
 * What a call can fail with: the server's answer ({@link RpcError}), no answer
 * at all ({@link NetworkError}), or an answer that is not JSON-RPC
 * ({@link ResponseError}). An aborted call rejects with its signal's reason,
 * as `fetch` does.
 */
import { CORE_ERRORS, ERROR_TABLE } from "./errors.gen.js";
const BY_NUMBER = new Map(Object.entries(ERROR_TABLE).map(([name, row]) => [row.code, name]));
/**
 * The server answered the call with a JSON-RPC error.
 *
 * `C` is the set of named codes it may carry: narrow it with
 * {@link isRpcError}`(err, client.being.get)` to the codes that procedure
 * declares (plus those any call may fail with).
 */
export class RpcError extends Error {
    name = "RpcError";
    /** The named code, e.g. `"NOT_FOUND"`. */
    code;
    /** The JSON-RPC error code, e.g. `-32004`. */
    rpcCode;
    /** The HTTP status this error maps to (a batch answers 200 as a whole). */
    httpStatus;
    /** For invalid params: each bad value's JSON path (`$.roomBeingId`) and what is wrong. */
    issues;
    /** The server's request id: quote it when reporting a problem. */
    requestId;
    /** The procedure called, e.g. `"being.get"`. */
    path;
    /** Why, in a word a program can test (when the server gives one). */
    reason;
    /** Whether trying again later may succeed (when the server says). */
    retryable;
    /** Seconds to wait before trying again (when the server says). */
    retryAfter;
    /** The JSON-RPC `error.data` as received; `reason` narrowed to the procedure's reasons. */
    data;
    constructor(code, message, options = {}) {
        super(message);
        const { rpcCode, ...data } = options;
        const row = ERROR_TABLE[code];
        this.code = code;
        this.rpcCode = rpcCode ?? row.code;
        this.httpStatus = data.httpStatus ?? row.httpStatus;
        this.issues = data.issues ?? [];
        this.requestId = data.requestId ?? undefined;
        this.path = data.path ?? undefined;
        this.reason = data.reason;
        this.retryable = data.retryable;
        this.retryAfter = data.retryAfter;
        const fields = Object.entries({ ...data, code, httpStatus: this.httpStatus });
        this.data = Object.fromEntries(fields.filter(([, v]) => v !== undefined));
    }
    /** An `RpcError` from a JSON-RPC error object as it came off the wire. */
    static fromWire(error, context = {}) {
        const wire = isObject(error) ? error : {};
        const rpcCode = typeof wire["code"] === "number" ? wire["code"] : ERROR_TABLE.INTERNAL_SERVER_ERROR.code;
        const data = isObject(wire["data"]) ? wire["data"] : {};
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
    name = "NetworkError";
    /** The endpoint called. */
    url;
    /** The procedures the failed request carried. */
    paths;
    /** Trying again later may succeed (no server answered: nothing said no). */
    retryable = true;
    /**
     * The request may have reached the server before the connection was lost: a mutation
     * may have run. `false` only when the client knows it was never sent.
     */
    maybeRan;
    constructor(url, paths, cause, options = {}) {
        const why = cause instanceof Error ? cause.message : String(cause);
        super(`No answer from ${url}: ${why}`, { cause });
        this.url = url;
        this.paths = paths;
        this.maybeRan = options.maybeRan ?? true;
    }
}
/** The server answered, but not with JSON-RPC (a proxy's HTML page, an empty body ...). */
export class ResponseError extends Error {
    name = "ResponseError";
    /** `not-json`: the body does not parse; `not-json-rpc`: it is JSON of another shape;
     * `no-answer`: the response has no entry for this call. */
    problem;
    /** The HTTP status. */
    status;
    /** The response's `Content-Type`. */
    contentType;
    /** The start of the body (at most 1000 characters). */
    body;
    /** The procedure whose call this is. */
    path;
    /** The response's `X-Request-Id` header. */
    requestId;
    constructor(problem, response, body, path) {
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
export function isRpcError(err, ...which) {
    if (!(err instanceof RpcError))
        return false;
    const [first] = which;
    if (first === undefined)
        return true;
    if (typeof first === "function") {
        return err.path === first.path && first.errors.includes(err.code);
    }
    return which.includes(err.code);
}
/** Is `code` one that any call may fail with, whatever it declares? */
export function isCoreError(code) {
    return CORE_ERRORS.includes(code);
}
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
