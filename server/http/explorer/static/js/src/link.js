// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/**
 * The HTTP link: JSON-RPC 2.0 over `fetch`, with calls of the same tick batched.
 *
 * Like tRPC's httpBatchLink: calls queue until the current tick ends (or the
 * queue reaches `maxSize`), then go out as one JSON-RPC batch; each call still
 * resolves or rejects on its own, matched to its answer by id.
 *
 * Safe retries: a call that got no answer, or a retryable error, goes back into the
 * queue after a backoff with jitter (at least the server's `retryAfter`), with the
 * same id, params and idempotency key, if it is a query or a mutation with a key.
 * A call refused for an expired token (`token_expired`: the server ran nothing) goes
 * back once, whatever its kind, with the fresh token the token function gives.
 */
import { NetworkError, ResponseError, RpcError } from "./errors.js";
import { headerRecord, platform } from "./platform.js";
const DEFAULT_MAX_BATCH = 50;
const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 200, maxDelayMs: 5000 };
/** Is `error` the server refusing a token as expired? */
export function isTokenExpired(error) {
    return error instanceof RpcError && error.code === "UNAUTHORIZED" && error.reason === "token_expired";
}
/**
 * The client's bearer token, shared by its links: the token function is asked for each
 * request, and once per expired token for a fresh one (concurrent calls refused with the
 * same token share that renewal). A token once renewed is never sent again.
 */
export class Tokens {
    #source;
    #renewal;
    #fresh;
    constructor(source) {
        this.#source = source;
    }
    /** Whether a fresh token may be asked for: the token is a function. */
    get renewable() {
        return typeof this.#source === "function";
    }
    /** The token to send now (undefined: none). */
    async current() {
        const source = this.#source;
        const token = (typeof source === "function" ? await source({}) : source) || undefined;
        const renewal = this.#renewal;
        if (token !== undefined && renewal !== undefined && token === renewal.expired && this.#fresh !== undefined) {
            return this.#fresh;
        }
        return token;
    }
    /** A fresh token in place of `expired` (the function is asked once per expired token). */
    renew(expired) {
        const source = this.#source;
        if (typeof source !== "function")
            return Promise.resolve(undefined);
        if (this.#renewal !== undefined && this.#renewal.expired === expired)
            return this.#renewal.fresh;
        this.#fresh = undefined;
        const fresh = (async () => (await source(expired === undefined ? {} : { expired })) || undefined)();
        this.#renewal = { expired, fresh };
        fresh.then((token) => {
            if (this.#renewal?.fresh === fresh && token !== expired)
                this.#fresh = token;
        }, () => {
            if (this.#renewal?.fresh === fresh)
                this.#renewal = undefined; // a failed renewal may be tried again
        });
        return fresh;
    }
}
/** Sends calls to one JSON-RPC endpoint. */
export class HttpLink {
    #url;
    #options;
    #fetch;
    #maxSize;
    #retry;
    #contractHash;
    #tokens;
    #queue = [];
    #timer;
    #nextId = 1;
    constructor(options, contractHash, tokens) {
        this.#tokens = tokens ?? new Tokens(options.token);
        this.#url = typeof options.url === "string" ? options.url : options.url.href;
        this.#options = options;
        // Never call the platform's fetch as a method of another object ("Illegal invocation").
        this.#fetch = options.fetch ?? ((input, init) => platform.fetch(input, init));
        const batch = options.batch ?? {};
        this.#maxSize = batch === false ? 1 : Math.max(1, Math.floor(batch.maxSize ?? DEFAULT_MAX_BATCH));
        const retry = options.retry === false ? { attempts: 1 } : (options.retry ?? {});
        this.#retry = {
            attempts: Math.max(1, Math.floor(retry.attempts ?? DEFAULT_RETRY.attempts)),
            baseDelayMs: retry.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
            maxDelayMs: retry.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
        };
        this.#contractHash = contractHash;
    }
    /** Calls `method` with `params` (by name); resolves with its result. */
    call(method, params, options = {}, kind = "mutation") {
        const { signal } = options;
        if (signal?.aborted)
            return Promise.reject(signal.reason);
        const key = idempotencyKeyOf(kind, options, this.#options);
        const timeout = options.timeout ?? this.#options.timeout;
        return new Promise((resolve, reject) => {
            const id = this.#nextId++;
            const call = {
                ...{ id, method, params, resolve, reject, signal, kind, key, timeout },
                ...{ done: false, tries: 0, token: undefined, renewed: false },
            };
            if (signal !== undefined) {
                call.onAbort = () => this.#abort(call);
                signal.addEventListener("abort", call.onAbort, { once: true });
            }
            this.#enqueue(call);
        });
    }
    #enqueue(call) {
        call.tries += 1;
        this.#queue.push(call);
        if (this.#queue.length >= this.#maxSize)
            this.#flush();
        else
            this.#timer ??= platform.setTimeout(() => this.#flush(), 0);
    }
    /** Rejects `call` with `error`, or queues it again when it may safely be retried. */
    #fail(call, error) {
        if (call.done)
            return;
        if (isTokenExpired(error) && !call.renewed && this.#tokens.renewable) {
            // Refused before it ran: once more, whatever its kind, with a fresh token.
            call.renewed = true;
            const again = (fresh) => {
                if (call.done)
                    return;
                if (fresh === undefined || fresh === call.token) {
                    settle(call, () => call.reject(error));
                    return;
                }
                call.tries -= 1; // not a retry of the network's: the budget stays
                this.#enqueue(call);
            };
            this.#tokens.renew(call.token).then(again, (cause) => settle(call, () => call.reject(cause)));
            return;
        }
        const safe = call.kind === "query" || call.key !== undefined;
        const wait = safe && call.tries < this.#retry.attempts ? this.#backoff(call, error) : undefined;
        if (wait === undefined) {
            settle(call, () => call.reject(error));
            return;
        }
        platform.setTimeout(() => {
            if (!call.done)
                this.#enqueue(call);
        }, wait);
    }
    /** How long to wait before trying `call` again after `error`; undefined: do not. */
    #backoff(call, error) {
        let floor = 0;
        if (error instanceof RpcError) {
            if (error.retryable !== true)
                return undefined;
            floor = (error.data.retryAfter ?? 0) * 1000;
        }
        else if (error instanceof ResponseError) {
            if (error.status !== 429 && error.status < 500)
                return undefined;
        }
        else if (!(error instanceof NetworkError)) {
            return undefined;
        }
        const { baseDelayMs, maxDelayMs } = this.#retry;
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (call.tries - 1));
        const jittered = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter"
        return Math.max(floor, jittered);
    }
    #abort(call) {
        settle(call, () => call.reject(call.signal?.reason));
        this.#queue = this.#queue.filter((c) => c !== call);
    }
    #flush() {
        platform.clearTimeout(this.#timer);
        this.#timer = undefined;
        const calls = this.#queue;
        this.#queue = [];
        // A key covers a whole HTTP request: each mutation with one goes alone.
        const shared = calls.filter((c) => c.key === undefined);
        for (const c of calls)
            if (c.key !== undefined)
                void this.#send([c]);
        if (shared.length > 0)
            void this.#send(shared);
    }
    async #send(calls) {
        const controller = new platform.AbortController();
        // Cancel the HTTP request once every call riding on it was aborted.
        const cancel = () => calls.every((c) => c.done) && controller.abort();
        for (const c of calls)
            c.signal?.addEventListener("abort", cancel, { once: true });
        try {
            const response = await this.#post(calls, controller.signal);
            if (response === undefined)
                return;
            const text = await response.text().catch((cause) => {
                throw new NetworkError(this.#url, paths(calls), cause);
            });
            deliver(calls, response, text, (c, error) => this.#fail(c, error));
        }
        catch (error) {
            if (!controller.signal.aborted)
                for (const c of calls)
                    this.#fail(c, error);
        }
        finally {
            for (const c of calls)
                c.signal?.removeEventListener("abort", cancel);
        }
    }
    async #post(calls, signal) {
        const headers = headerRecord(await resolve(this.#options.headers));
        headers["content-type"] = "application/json";
        headers["accept"] = "application/json";
        const token = await this.#tokens.current();
        if (token !== undefined)
            headers["authorization"] = `Bearer ${token}`;
        if (this.#contractHash !== undefined)
            headers["x-contract-hash"] = this.#contractHash;
        const live = calls.filter((c) => !c.done);
        if (live.length === 0)
            return undefined;
        for (const c of live)
            c.token = token;
        const key = live.length === 1 ? live[0]?.key : undefined;
        if (key !== undefined)
            headers["idempotency-key"] = key;
        const deadlines = live.flatMap((c) => (c.timeout === undefined ? [] : [c.timeout]));
        if (deadlines.length > 0)
            headers["x-timeout-ms"] = String(Math.max(1, Math.ceil(Math.min(...deadlines))));
        const envelopes = live.map((c) => ({ jsonrpc: "2.0", method: c.method, params: c.params ?? {}, id: c.id }));
        const body = JSON.stringify(envelopes.length === 1 ? envelopes[0] : envelopes);
        try {
            return await this.#fetch(this.#url, { method: "POST", headers, body, signal });
        }
        catch (cause) {
            if (signal.aborted)
                return undefined;
            throw new NetworkError(this.#url, paths(live), cause);
        }
    }
}
/** Hands each call its answer; a request-wide error (id null) goes to every call left. */
function deliver(calls, response, text, fail) {
    let payload;
    try {
        payload = JSON.parse(text);
    }
    catch {
        for (const c of calls)
            fail(c, new ResponseError("not-json", response, text, c.method));
        return;
    }
    const entries = Array.isArray(payload) ? payload : [payload];
    const waiting = new Map(calls.map((c) => [c.id, c]));
    let shared;
    const context = (path) => ({
        path,
        status: response.status,
        requestId: response.headers.get("X-Request-Id") ?? undefined,
    });
    for (const entry of entries) {
        if (!isResponse(entry))
            continue;
        const call = typeof entry.id === "number" ? waiting.get(entry.id) : undefined;
        if (call === undefined) {
            if (entry.id === null && "error" in entry)
                shared = entry.error;
            continue;
        }
        waiting.delete(call.id);
        if ("error" in entry)
            fail(call, RpcError.fromWire(entry.error, context(call.method)));
        else
            settle(call, () => call.resolve(entry.result));
    }
    for (const c of waiting.values()) {
        const problem = entries.some(isResponse) ? "no-answer" : "not-json-rpc";
        const error = shared !== undefined
            ? RpcError.fromWire(shared, context(c.method))
            : new ResponseError(problem, response, text, c.method);
        fail(c, error);
    }
}
/** The key a call carries: a mutation's own, or a fresh one unless `idempotencyKeys: false`; none for a query. */
export function idempotencyKeyOf(kind, call, client) {
    if (kind !== "mutation" || (call.idempotencyKey === undefined && client.idempotencyKeys === false))
        return undefined;
    return call.idempotencyKey ?? newKey();
}
/** A fresh idempotency key: a random UUID where the platform has one. */
export function newKey() {
    const uuid = platform.crypto?.randomUUID?.();
    if (uuid !== undefined)
        return uuid;
    const part = () => Math.random().toString(36).slice(2, 10);
    return `${Date.now().toString(36)}-${part()}${part()}${part()}`;
}
function isResponse(value) {
    if (typeof value !== "object" || value === null)
        return false;
    const entry = value;
    return entry["jsonrpc"] === "2.0" && "id" in entry && ("result" in entry || "error" in entry);
}
/** Runs `action` unless the call is already settled; drops its abort listener. */
function settle(call, action) {
    if (call.done)
        return;
    call.done = true;
    if (call.onAbort !== undefined)
        call.signal?.removeEventListener("abort", call.onAbort);
    action();
}
async function resolve(source) {
    return typeof source === "function" ? await source() : source;
}
function paths(calls) {
    return calls.map((c) => c.method);
}
