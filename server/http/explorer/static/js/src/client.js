// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/** The client: options, the typed procedure functions, and how the generated contract builds them. */
import { CORE_ERRORS } from "./errors.gen.js";
import { HttpLink } from "./link.js";
/** Builds the namespaces of a generated client (the generated `createClient` calls this). */
export function buildClient(table, options, contractHash) {
    const link = new HttpLink(options, contractHash);
    const root = {
        $call: (method, params, call) => link.call(method, params, call, overHttp(table[method]?.kind ?? "mutation")),
    };
    const spaces = {};
    for (const [path, meta] of Object.entries(table)) {
        const fn = (input, call) => link.call(path, input, call, overHttp(meta.kind));
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
/** How a call goes over HTTP: a subscription is refused there (BAD_REQUEST says how to subscribe). */
function overHttp(kind) {
    return kind === "mutation" ? "mutation" : "query";
}
