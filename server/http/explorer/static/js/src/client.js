// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/** The client: options, the typed procedure functions, and how the generated contract builds them. */
import { CORE_ERRORS } from "./errors.gen.js";
import { HttpLink, Tokens } from "./link.js";
import { SseLink, WsLink } from "./live.js";
import { platform } from "./platform.js";
/** Builds the namespaces of a generated client (the generated `createClient` calls this). */
export function buildClient(table, options, contractHash) {
    const tokens = new Tokens(options.token);
    const link = new HttpLink(options, contractHash, tokens);
    let live;
    let socket;
    const overSse = options.subscriptions === "sse" || (options.subscriptions === undefined && (options.WebSocket ?? platform.WebSocket) === undefined);
    const liveLink = () => (live ??= overSse ? new SseLink(options, tokens) : (socket = new WsLink(options, tokens)));
    const subscribe = (method, input, handlers) => liveLink().subscribe(method, input, handlers);
    const call = (method, input, opts, kind) => {
        if (options.callsOverSocket === true && !overSse) {
            liveLink();
            if (socket !== undefined)
                return socket.call(method, input, opts, overHttp(kind ?? "mutation"));
        }
        return link.call(method, input, opts, overHttp(kind ?? "mutation"));
    };
    const root = {
        $call: (method, params, opts) => call(method, params, opts, table[method]?.kind),
        $subscribe: subscribe,
        $close: () => live?.close(),
    };
    const spaces = {};
    for (const [path, meta] of Object.entries(table)) {
        const fn = meta.kind === "subscription"
            ? Object.assign((input, handlers) => subscribe(path, input, handlers), { iterate: (input, opts) => iterate(subscribe, path, input, opts) })
            : (input, opts) => call(path, input, opts, meta.kind);
        Object.defineProperty(fn, "name", { value: path });
        Object.assign(fn, {
            path,
            kind: meta.kind,
            errors: Object.freeze([...meta.errors, ...CORE_ERRORS]),
        });
        const dot = path.indexOf(".");
        if (dot < 0) {
            root[path] = fn;
        }
        else {
            const space = (spaces[path.slice(0, dot)] ??= {});
            space[path.slice(dot + 1)] = fn;
        }
    }
    for (const [name, space] of Object.entries(spaces))
        root[name] = Object.freeze(space);
    return Object.freeze(root);
}
/** A subscription as an async iterator: events queue until the loop reads them. */
function iterate(subscribe, method, input, options = {}) {
    const queue = [];
    let ended;
    let wake;
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
    const finish = () => {
        ended ??= "done";
        handle.unsubscribe();
        queue.length = 0;
        return Promise.resolve({ done: true, value: undefined });
    };
    const iterator = {
        async next() {
            for (;;) {
                const event = queue.shift();
                if (event !== undefined)
                    return { done: false, value: event };
                if (ended === "done")
                    return { done: true, value: undefined };
                if (ended !== undefined) {
                    const { error } = ended;
                    ended = "done";
                    throw error;
                }
                await new Promise((resolve) => (wake = resolve));
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
function overHttp(kind) {
    return kind === "mutation" ? "mutation" : "query";
}
