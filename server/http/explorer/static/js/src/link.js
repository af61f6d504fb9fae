// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/**
 * The HTTP link: JSON-RPC 2.0 over `fetch`, with calls of the same tick batched.
 *
 * Like tRPC's httpBatchLink: calls queue until the current tick ends (or the
 * queue reaches `maxSize`), then go out as one JSON-RPC batch; each call still
 * resolves or rejects on its own, matched to its answer by id.
 */
import { NetworkError, ResponseError, RpcError } from "./errors.js";
import { headerRecord, platform } from "./platform.js";
const DEFAULT_MAX_BATCH = 50;
/** Sends calls to one JSON-RPC endpoint. */
export class HttpLink {
    #url;
    #options;
    #fetch;
    #maxSize;
    #queue = [];
    #timer;
    #nextId = 1;
    constructor(options) {
        this.#url = typeof options.url === "string" ? options.url : options.url.href;
        this.#options = options;
        // Never call the platform's fetch as a method of another object ("Illegal invocation").
        this.#fetch = options.fetch ?? ((input, init) => platform.fetch(input, init));
        const batch = options.batch ?? {};
        this.#maxSize = batch === false ? 1 : Math.max(1, Math.floor(batch.maxSize ?? DEFAULT_MAX_BATCH));
    }
    /** Calls `method` with `params` (by name); resolves with its result. */
    call(method, params, options = {}) {
        const { signal } = options;
        if (signal?.aborted)
            return Promise.reject(signal.reason);
        return new Promise((resolve, reject) => {
            const call = { id: this.#nextId++, method, params, resolve, reject, signal, done: false };
            if (signal !== undefined) {
                call.onAbort = () => this.#abort(call);
                signal.addEventListener("abort", call.onAbort, { once: true });
            }
            this.#queue.push(call);
            if (this.#queue.length >= this.#maxSize)
                this.#flush();
            else
                this.#timer ??= platform.setTimeout(() => this.#flush(), 0);
        });
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
        if (calls.length > 0)
            void this.#send(calls);
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
            deliver(calls, response, text);
        }
        catch (error) {
            if (!controller.signal.aborted)
                for (const c of calls)
                    settle(c, () => c.reject(error));
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
        const token = await resolve(this.#options.token);
        if (token)
            headers["authorization"] = `Bearer ${token}`;
        const live = calls.filter((c) => !c.done);
        if (live.length === 0)
            return undefined;
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
function deliver(calls, response, text) {
    let payload;
    try {
        payload = JSON.parse(text);
    }
    catch {
        for (const c of calls)
            settle(c, () => c.reject(new ResponseError("not-json", response, text, c.method)));
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
            settle(call, () => call.reject(RpcError.fromWire(entry.error, context(call.method))));
        else
            settle(call, () => call.resolve(entry.result));
    }
    for (const c of waiting.values()) {
        const problem = entries.some(isResponse) ? "no-answer" : "not-json-rpc";
        const error = shared !== undefined
            ? RpcError.fromWire(shared, context(c.method))
            : new ResponseError(problem, response, text, c.method);
        settle(c, () => c.reject(error));
    }
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
