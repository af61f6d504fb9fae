// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/**
 * Subscriptions: over a WebSocket (`GET /rpc` upgraded) or over Server-Sent Events
 * (`POST /rpc` with `Accept: text/event-stream`, read with `fetch`).
 *
 * Each subscription remembers where it is: the id of the last event it delivered, or
 * before any event, the position the server gave when it subscribed (the subscribe
 * answer's `lastEventId`; over SSE, the `subscribed` event's `id:`). When its connection
 * drops, or the server ends it with a retryable error (`slow_consumer`,
 * `shutting_down`), it subscribes again with that `lastEventId` after a backoff with
 * jitter: the server replays what came after it, so nothing is lost and nothing
 * repeats. A socket authenticates with `rpc.authenticate` (browsers cannot set
 * headers on a WebSocket) each time it opens; the handshake and that answer must come
 * within `openTimeout`, else the socket is abandoned as one that failed to open. SSE
 * sends `Authorization` and `Last-Event-ID` headers. An end for an expired token
 * (`token_expired`) asks the token function for a fresh token (once), authenticates
 * again with it, and resumes.
 *
 * Calls over the socket carry `idempotencyKey` and `timeoutMs` in their frame; one
 * whose socket drops goes again on the next socket when that is safe (a query, or a
 * mutation with a key, or any call the dropped socket never sent).
 */
import { NetworkError, ResponseError, RpcError } from "./errors.js";
import { Tokens, idempotencyKeyOf, isTokenExpired } from "./link.js";
import { headerRecord, platform } from "./platform.js";
const DEFAULT_RECONNECT = { attempts: Infinity, baseDelayMs: 250, maxDelayMs: 10_000 };
const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 200, maxDelayMs: 5000 };
const DEFAULT_OPEN_TIMEOUT_MS = 10_000;
/** The longest delay timers take (a longer one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;
/** One subscription, across however many connections it takes. */
class Sub {
    method;
    input;
    /** The server's id for it on the current connection. */
    sid;
    lastEventId;
    done = false;
    /** Tries since the last successful subscribe. */
    tries = 0;
    /** Renewed the token once already for an expired one since the last successful subscribe. */
    renewed = false;
    /** The token its last SSE stream carried. */
    token;
    onStop;
    #handlers;
    #abort;
    constructor(method, input, handlers) {
        this.method = method;
        this.input = input;
        this.#handlers = handlers;
        const last = input["lastEventId"];
        if (typeof last === "string")
            this.lastEventId = last;
        const signal = handlers.signal;
        if (signal !== undefined) {
            this.#abort = () => this.unsubscribe();
            signal.addEventListener("abort", this.#abort, { once: true });
        }
    }
    /** The input to subscribe with now: resuming after the last event delivered. */
    params() {
        return this.lastEventId === undefined ? this.input : { ...this.input, lastEventId: this.lastEventId };
    }
    /** Subscribed: `after` is where it starts, when the server says (the answer's `lastEventId`). */
    started(sid, after) {
        this.sid = sid;
        this.tries = 0;
        this.renewed = false;
        if (typeof after === "string")
            this.lastEventId = after;
        this.#handlers.onStarted?.();
    }
    /** The server said where the stream starts without an event (SSE's `subscribed` event). */
    moved(id) {
        if (!this.done)
            this.lastEventId = id;
    }
    /** A notification's params for this subscription: an event, or the end (`ended` decides what follows an error). */
    notified(params, ended) {
        if (this.done)
            return;
        if ("error" in params) {
            const error = RpcError.fromWire(params["error"], { path: this.method });
            this.sid = undefined;
            ended(error);
        }
        else if (typeof params["id"] === "string") {
            this.lastEventId = params["id"];
            this.#handlers.onData(params["data"], params["id"]);
        }
        else {
            this.sid = undefined;
            this.#finish();
            this.#handlers.onComplete?.();
        }
    }
    fail(error) {
        if (this.done)
            return;
        this.#finish();
        this.#handlers.onError?.(error);
    }
    unsubscribe() {
        if (this.done)
            return;
        this.#finish();
        this.#handlers.onComplete?.();
    }
    #finish() {
        this.done = true;
        if (this.#abort !== undefined)
            this.#handlers.signal?.removeEventListener("abort", this.#abort);
        this.onStop?.();
    }
}
/** The wait before try number `tries` (1 = the first retry), "equal jitter"; undefined: give up. */
function backoffMs(backoff, tries, error) {
    if (tries > backoff.attempts)
        return undefined;
    const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** Math.max(0, tries - 1));
    const floor = error instanceof RpcError ? (error.data.retryAfter ?? 0) * 1000 : 0;
    return Math.max(floor, ceiling / 2 + Math.random() * (ceiling / 2));
}
function reconnectOf(options) {
    const r = options.reconnect ?? {};
    return {
        attempts: r.attempts ?? DEFAULT_RECONNECT.attempts,
        baseDelayMs: r.baseDelayMs ?? DEFAULT_RECONNECT.baseDelayMs,
        maxDelayMs: r.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs,
    };
}
/** How calls over the socket are retried: `retry`, as over HTTP (`attempts` counts every try). */
function retryOf(options) {
    const r = options.retry === false ? { attempts: 1 } : (options.retry ?? {});
    return {
        attempts: Math.max(1, Math.floor(r.attempts ?? DEFAULT_RETRY.attempts)),
        baseDelayMs: r.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
        maxDelayMs: r.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    };
}
/** How long opening a socket may take (handshake and `rpc.authenticate`); undefined: no limit. */
function openTimeoutOf(options) {
    const ms = options.openTimeout ?? DEFAULT_OPEN_TIMEOUT_MS;
    return Number.isFinite(ms) ? Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(ms))) : undefined;
}
function deadline(ms, error) {
    let timer;
    const late = new Promise((_, expire) => {
        if (ms !== undefined)
            timer = platform.setTimeout(() => expire(error()), ms);
    });
    late.catch(() => undefined); // passing while no step is raced is no unhandled rejection
    return {
        race: (step) => Promise.race([step, late]),
        clear: () => {
            if (timer !== undefined)
                platform.clearTimeout(timer);
        },
    };
}
/** Resolves after `ms`. */
function sleep(ms) {
    return new Promise((done) => platform.setTimeout(done, ms));
}
async function resolve(source) {
    return typeof source === "function" ? await source() : source;
}
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
/** The socket's URL: `wsUrl`, or the HTTP URL with `ws:`/`wss:` (relative URLs against the page). */
export function socketUrl(options) {
    if (options.wsUrl !== undefined)
        return typeof options.wsUrl === "string" ? options.wsUrl : options.wsUrl.href;
    const http = typeof options.url === "string" ? options.url : options.url.href;
    const base = globalThis.location?.href;
    const url = base === undefined ? new platform.URL(http) : new platform.URL(http, base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.href;
}
/**
 * One WebSocket shared by every subscription (and, with `callsOverSocket`, every call).
 * Opened on first use, re-opened with backoff while anything needs it, closed when nothing does.
 */
export class WsLink {
    #options;
    #url;
    #backoff;
    #retryCalls;
    #openTimeout;
    #tokens;
    #subs = new Set();
    #bySid = new Map();
    #waiting = new Map();
    #ws;
    /** Resolves once the current socket is open and authenticated (again, while renewing). */
    #ready;
    /** The token the current socket authenticated with. */
    #authToken;
    /** The current socket authenticating again with a fresh token. */
    #renewing;
    #calls = 0;
    #nextId = 1;
    #closed = false;
    constructor(options, tokens) {
        this.#options = options;
        this.#url = socketUrl(options);
        this.#backoff = reconnectOf(options);
        this.#retryCalls = retryOf(options);
        this.#openTimeout = openTimeoutOf(options);
        this.#tokens = tokens ?? new Tokens(options.token);
    }
    subscribe(method, input, handlers) {
        const sub = new Sub(method, isObject(input) ? input : {}, handlers);
        if (handlers.signal?.aborted) {
            sub.done = true;
            return sub;
        }
        sub.onStop = () => this.#stop(sub);
        this.#subs.add(sub);
        void this.#start(sub);
        return sub;
    }
    /**
     * A query or mutation over the socket. A dropped socket, or a retryable error, sends it
     * again on the next socket (at most `retry.attempts` tries in all, with backoff) when
     * that is safe: a query, a mutation with an idempotency key (the server answers a repeat
     * from its store), or a call the socket never sent. Else the error is the caller's: a
     * mutation without a key that was sent rejects with a `NetworkError` (`maybeRan`).
     */
    async call(method, params, options = {}, kind = "mutation") {
        const { signal } = options;
        if (signal?.aborted)
            throw signal.reason;
        const key = idempotencyKeyOf(kind, options, this.#options);
        const timeout = options.timeout ?? this.#options.timeout;
        const frame = {};
        if (key !== undefined)
            frame["idempotencyKey"] = key;
        if (timeout !== undefined)
            frame["timeoutMs"] = Math.min(999_999_999, Math.max(1, Math.ceil(timeout)));
        const safe = kind === "query" || key !== undefined;
        const id = this.#nextId++;
        this.#calls += 1;
        try {
            for (let tries = 1;; tries += 1) {
                const attempt = { id, sent: false };
                try {
                    await this.#open();
                    return await this.#request(method, params, signal, frame, attempt);
                }
                catch (error) {
                    if (signal?.aborted || this.#closed)
                        throw error;
                    const wait = this.#callBackoff(error, tries, safe || !attempt.sent);
                    if (wait !== undefined) {
                        await sleep(wait);
                        if (signal?.aborted)
                            throw signal.reason;
                        continue;
                    }
                    if (error instanceof NetworkError && attempt.sent && !safe) {
                        const why = "the WebSocket closed before the answer; a mutation without an idempotency key may have run, so it was not sent again";
                        throw new NetworkError(this.#url, [method], new Error(why, { cause: error }));
                    }
                    throw error;
                }
            }
        }
        finally {
            this.#calls -= 1;
            this.#idle();
        }
    }
    /** How long to wait before try `tries + 1` of a call after `error`; undefined: do not. */
    #callBackoff(error, tries, safe) {
        if (!safe || tries >= this.#retryCalls.attempts)
            return undefined;
        const retryable = error instanceof NetworkError || (error instanceof RpcError && error.retryable === true);
        return retryable ? backoffMs(this.#retryCalls, tries, error) : undefined;
    }
    /** Ends every subscription (onComplete) and closes the socket. */
    close() {
        for (const sub of [...this.#subs])
            sub.unsubscribe();
        this.#closed = true;
        this.#drop(new NetworkError(this.#url, [], "the client was closed"));
    }
    async #start(sub) {
        try {
            await this.#open();
            if (sub.done)
                return;
            const answer = await this.#request(sub.method, sub.params(), undefined);
            const sid = isObject(answer) && typeof answer["subscription"] === "string" ? answer["subscription"] : undefined;
            if (sid === undefined)
                throw new NetworkError(this.#url, [sub.method], "the subscribe answer has no subscription id");
            if (sub.done) {
                this.#request("rpc.unsubscribe", { subscription: sid }, undefined).catch(() => undefined);
                return;
            }
            this.#bySid.set(sid, sub);
            sub.started(sid, isObject(answer) ? answer["lastEventId"] : undefined);
        }
        catch (error) {
            this.#retry(sub, error);
        }
    }
    /** The server ended `sub` with `error`: renew an expired token, resume, or end it. */
    #ended(sub, error) {
        if (isTokenExpired(error) && this.#tokens.renewable && !sub.renewed) {
            sub.renewed = true;
            this.#renewSocket().then(() => {
                if (!sub.done && sub.sid === undefined)
                    void this.#start(sub);
            }, (failure) => (failure instanceof RpcError ? sub.fail(failure) : this.#retry(sub, failure)));
        }
        else if (error.retryable === true) {
            this.#retry(sub, error);
        }
        else {
            sub.fail(error);
        }
    }
    /**
     * The socket's token expired: authenticate it again with a fresh one (once for all the
     * subscriptions it ended); calls and new subscriptions wait meanwhile. No answer within
     * `openTimeout` drops the socket (its subscriptions resume on a new one).
     */
    #renewSocket() {
        if (this.#renewing !== undefined)
            return this.#renewing;
        const ws = this.#ws;
        const ready = this.#ready;
        if (ws === undefined || ready === undefined)
            return this.#open(); // a new socket authenticates anew
        const renewing = (async () => {
            await ready;
            const expired = this.#authToken;
            const fresh = await this.#tokens.renew(expired);
            if (fresh === undefined || fresh === expired) {
                throw new RpcError("UNAUTHORIZED", "The token has expired and the token function gave no fresh one", {
                    reason: "token_expired",
                });
            }
            const limit = this.#openTimeout;
            const inTime = deadline(limit, () => {
                return new NetworkError(this.#url, [], `the WebSocket was not authenticated again within ${limit} ms`, { maybeRan: false });
            });
            try {
                await inTime.race(this.#request("rpc.authenticate", { token: fresh }, undefined));
            }
            finally {
                inTime.clear();
            }
            this.#authToken = fresh;
        })();
        this.#renewing = renewing;
        this.#ready = renewing;
        renewing.then(() => {
            if (this.#renewing === renewing)
                this.#renewing = undefined;
        }, (error) => {
            if (this.#renewing === renewing)
                this.#renewing = undefined;
            if (this.#ws === ws)
                this.#drop(error); // the next use opens a new socket
        });
        return renewing;
    }
    /** After `error`: try `sub` again later when that may help, else end it with the error. */
    #retry(sub, error) {
        if (sub.done)
            return;
        if (sub.sid !== undefined)
            this.#bySid.delete(sub.sid);
        sub.sid = undefined;
        const retryable = error instanceof NetworkError || (error instanceof RpcError && error.retryable === true);
        sub.tries += 1;
        const wait = retryable ? backoffMs(this.#backoff, sub.tries, error) : undefined;
        if (wait === undefined) {
            sub.fail(error);
            return;
        }
        platform.setTimeout(() => {
            if (!sub.done && sub.sid === undefined)
                void this.#start(sub);
        }, wait);
    }
    #stop(sub) {
        this.#subs.delete(sub);
        if (sub.sid !== undefined) {
            this.#bySid.delete(sub.sid);
            if (this.#ws !== undefined && this.#ws.readyState === 1) {
                // The socket closes, if nothing else needs it, once the server has answered.
                const answered = this.#request("rpc.unsubscribe", { subscription: sub.sid }, undefined);
                void answered.catch(() => undefined).finally(() => this.#idle());
                return;
            }
        }
        platform.setTimeout(() => this.#idle(), 0);
    }
    /** Closes the socket when nothing uses it. */
    #idle() {
        if (this.#subs.size === 0 && this.#calls === 0 && this.#waiting.size === 0 && this.#ws !== undefined) {
            const ws = this.#ws;
            this.#forget();
            ws.close(1000, "idle");
        }
    }
    /** The socket, open and authenticated (opened, with backoff after failures, on demand). */
    #open() {
        if (this.#closed)
            return Promise.reject(new NetworkError(this.#url, [], "the client was closed", { maybeRan: false }));
        this.#ready ??= this.#connect();
        return this.#ready;
    }
    /**
     * Opens a socket and authenticates it, all within `openTimeout`: a handshake that never
     * answers (a stuck proxy, a lost packet) or an `rpc.authenticate` with no answer
     * abandons the socket, a failed open like any other (nothing was sent: `maybeRan` false).
     */
    async #connect() {
        const Ctor = this.#options.WebSocket ?? platform.WebSocket;
        if (Ctor === undefined) {
            throw new NetworkError(this.#url, [], "no WebSocket here: pass the `WebSocket` option, or use `subscriptions: \"sse\"`", { maybeRan: false });
        }
        const ws = new Ctor(this.#url);
        this.#ws = ws;
        const limit = this.#openTimeout;
        const inTime = deadline(limit, () => {
            const stage = ws.readyState === 0 ? "did not open" : "was not authenticated";
            return new NetworkError(this.#url, [], `the WebSocket ${stage} within ${limit} ms`, { maybeRan: false });
        });
        try {
            await inTime.race(new Promise((opened, failed) => {
                ws.onopen = () => opened();
                ws.onerror = () => failed(new NetworkError(this.#url, [], "the WebSocket did not open", { maybeRan: false }));
                ws.onclose = () => failed(new NetworkError(this.#url, [], "the WebSocket closed while opening", { maybeRan: false }));
            }));
            ws.onmessage = (event) => this.#receive(event.data);
            ws.onerror = () => undefined; // onclose follows
            ws.onclose = () => {
                if (this.#ws === ws)
                    this.#drop(new NetworkError(this.#url, [], "the WebSocket closed"));
            };
            const token = await inTime.race(this.#tokens.current());
            if (token !== undefined)
                this.#authToken = await inTime.race(this.#authenticate(token));
        }
        catch (error) {
            if (error instanceof RpcError) {
                for (const sub of [...this.#subs])
                    sub.fail(error);
            }
            if (this.#ws === ws)
                this.#drop(error); // closes it, still connecting or not
            throw error;
        }
        finally {
            inTime.clear();
        }
    }
    /** `rpc.authenticate` with `token`, or once with a fresh one when it expired; the token used. */
    async #authenticate(token) {
        try {
            await this.#request("rpc.authenticate", { token }, undefined);
            return token;
        }
        catch (error) {
            if (!isTokenExpired(error))
                throw error;
            const fresh = await this.#tokens.renew(token);
            if (fresh === undefined || fresh === token)
                throw error;
            await this.#request("rpc.authenticate", { token: fresh }, undefined);
            return fresh;
        }
    }
    /** The socket is gone: reject its calls, resume its subscriptions on a new one. */
    #drop(error) {
        const ws = this.#ws;
        this.#forget();
        if (ws !== undefined && ws.readyState <= 1)
            ws.close(1000, "dropped");
        for (const waiting of this.#waiting.values())
            waiting.reject(error);
        this.#waiting.clear();
        for (const sub of this.#subs)
            if (sub.sid !== undefined)
                this.#retry(sub, error);
    }
    #forget() {
        if (this.#ws !== undefined) {
            this.#ws.onmessage = null;
            this.#ws.onclose = null;
            // What a socket closed while connecting still reports is ignored (the `ws` package
            // throws an error event nobody listens to).
            this.#ws.onerror = () => undefined;
            this.#ws.onopen = null;
        }
        this.#ws = undefined;
        this.#ready = undefined;
        this.#renewing = undefined;
        this.#authToken = undefined;
        this.#bySid.clear();
    }
    #request(method, params, signal, frame, attempt) {
        const ws = this.#ws;
        if (ws === undefined || ws.readyState !== 1) {
            return Promise.reject(new NetworkError(this.#url, [method], "the WebSocket is not open", { maybeRan: false }));
        }
        const id = attempt?.id ?? this.#nextId++;
        return new Promise((resolve, reject) => {
            const onAbort = () => {
                this.#waiting.delete(id);
                reject(signal?.reason);
            };
            signal?.addEventListener("abort", onAbort, { once: true });
            const settle = (action) => {
                signal?.removeEventListener("abort", onAbort);
                action();
            };
            this.#waiting.set(id, {
                method,
                resolve: (value) => settle(() => resolve(value)),
                reject: (reason) => settle(() => reject(reason)),
            });
            ws.send(JSON.stringify({ jsonrpc: "2.0", method, params: params ?? {}, id, ...frame }));
            if (attempt !== undefined)
                attempt.sent = true;
        });
    }
    #receive(data) {
        let message;
        try {
            message = JSON.parse(String(data));
        }
        catch {
            return;
        }
        for (const entry of Array.isArray(message) ? message : [message]) {
            if (!isObject(entry))
                continue;
            const params = entry["params"];
            if (typeof entry["method"] === "string" && isObject(params) && typeof params["subscription"] === "string") {
                const sub = this.#bySid.get(params["subscription"]);
                if (sub === undefined)
                    continue;
                if (!("id" in params))
                    this.#bySid.delete(params["subscription"]);
                sub.notified(params, (error) => this.#ended(sub, error));
                continue;
            }
            const waiting = typeof entry["id"] === "number" ? this.#waiting.get(entry["id"]) : undefined;
            if (waiting === undefined)
                continue;
            this.#waiting.delete(entry["id"]);
            if ("error" in entry)
                waiting.reject(RpcError.fromWire(entry["error"], { path: waiting.method }));
            else
                waiting.resolve(entry["result"]);
        }
    }
}
/** Subscriptions over Server-Sent Events: one `fetch` stream each, resumed with `Last-Event-ID`. */
export class SseLink {
    #options;
    #url;
    #fetch;
    #backoff;
    #tokens;
    #subs = new Set();
    constructor(options, tokens) {
        this.#options = options;
        this.#url = typeof options.url === "string" ? options.url : options.url.href;
        this.#fetch = options.fetch ?? ((input, init) => platform.fetch(input, init));
        this.#backoff = reconnectOf(options);
        this.#tokens = tokens ?? new Tokens(options.token);
    }
    subscribe(method, input, handlers) {
        const sub = new Sub(method, isObject(input) ? input : {}, handlers);
        if (handlers.signal?.aborted) {
            sub.done = true;
            return sub;
        }
        const controller = new platform.AbortController();
        sub.onStop = () => {
            this.#subs.delete(sub);
            controller.abort();
        };
        this.#subs.add(sub);
        void this.#run(sub, controller.signal);
        return sub;
    }
    close() {
        for (const sub of [...this.#subs])
            sub.unsubscribe();
    }
    async #run(sub, signal) {
        while (!sub.done) {
            let error;
            try {
                await this.#stream(sub, signal);
                if (sub.done)
                    return;
                error = new NetworkError(this.#url, [sub.method], "the event stream ended without its end");
            }
            catch (caught) {
                if (sub.done)
                    return;
                error = caught;
            }
            if (isTokenExpired(error) && this.#tokens.renewable && !sub.renewed) {
                // Refused, or ended, for an expired token: once more at once with a fresh one.
                sub.renewed = true;
                let fresh;
                try {
                    fresh = await this.#tokens.renew(sub.token);
                }
                catch (failure) {
                    sub.fail(failure);
                    return;
                }
                if (sub.done)
                    return;
                if (fresh !== undefined && fresh !== sub.token)
                    continue;
            }
            const retryable = error instanceof NetworkError ||
                (error instanceof RpcError && error.retryable === true) ||
                (error instanceof ResponseError && (error.status === 429 || error.status >= 500));
            sub.tries += 1;
            const wait = retryable ? backoffMs(this.#backoff, sub.tries, error) : undefined;
            if (wait === undefined) {
                sub.fail(error);
                return;
            }
            await new Promise((done) => platform.setTimeout(done, wait));
        }
    }
    /** One stream: returns when it closes; throws what ended it. */
    async #stream(sub, signal) {
        const headers = headerRecord(await resolve(this.#options.headers));
        headers["content-type"] = "application/json";
        headers["accept"] = "text/event-stream";
        const token = await this.#tokens.current();
        sub.token = token;
        if (token !== undefined)
            headers["authorization"] = `Bearer ${token}`;
        if (sub.lastEventId !== undefined)
            headers["last-event-id"] = sub.lastEventId;
        const body = JSON.stringify({ jsonrpc: "2.0", method: sub.method, params: sub.params(), id: 1 });
        let response;
        try {
            response = await this.#fetch(this.#url, { method: "POST", headers, body, signal });
        }
        catch (cause) {
            throw new NetworkError(this.#url, [sub.method], cause);
        }
        if (!(response.headers.get("Content-Type") ?? "").startsWith("text/event-stream")) {
            const text = await response.text();
            let payload;
            try {
                payload = JSON.parse(text);
            }
            catch {
                throw new ResponseError("not-json", response, text, sub.method);
            }
            const context = { path: sub.method, status: response.status, requestId: response.headers.get("X-Request-Id") ?? undefined };
            if (isObject(payload) && "error" in payload)
                throw RpcError.fromWire(payload["error"], context);
            throw new ResponseError("not-json-rpc", response, text, sub.method);
        }
        const reader = response.body?.getReader();
        if (reader === undefined)
            throw new NetworkError(this.#url, [sub.method], "the response has no readable body");
        sub.started(undefined, undefined);
        let ended;
        const decoder = new platform.TextDecoder();
        let buffer = "";
        let data = [];
        let id;
        let named;
        try {
            for (;;) {
                const chunk = await reader.read();
                if (chunk.done)
                    break;
                buffer += decoder.decode(chunk.value, { stream: true });
                let newline;
                while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
                    const line = buffer.slice(0, newline);
                    buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
                    if (line === "") {
                        // A blank line dispatches the event ("id:" is in the data too: params.id).
                        if (named === "subscribed") {
                            // the subscribe answer: where the stream starts, not an event
                            if (id !== undefined)
                                sub.moved(id);
                            data = [];
                            id = named = undefined;
                        }
                        else if (data.length > 0) {
                            const message = JSON.parse(data.join("\n"));
                            data = [];
                            id = named = undefined;
                            const params = isObject(message) ? message["params"] : undefined;
                            if (isObject(params)) {
                                sub.notified(params, (error) => (ended = error));
                                if (!("id" in params)) {
                                    if (ended !== undefined)
                                        throw ended;
                                    return;
                                }
                            }
                        }
                        else if (id !== undefined) {
                            sub.moved(id); // an id without data moves the position too, as in an EventSource
                            id = undefined;
                        }
                    }
                    else if (line.startsWith("data:")) {
                        data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
                    }
                    else if (line.startsWith("id:")) {
                        id = line.slice(line.startsWith("id: ") ? 4 : 3);
                    }
                    else if (line.startsWith("event:")) {
                        named = line.slice(line.startsWith("event: ") ? 7 : 6);
                    }
                    // ":" lines are comments (pings).
                }
            }
        }
        catch (error) {
            if (error instanceof RpcError || sub.done)
                throw error;
            throw new NetworkError(this.#url, [sub.method], error);
        }
        finally {
            reader.cancel().catch(() => undefined);
        }
    }
}
