// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/** The client: options, the typed procedure functions, and how the generated contract builds them. */
import { CORE_ERRORS } from "./errors.gen.js";
import { HttpLink } from "./link.js";
/** Builds the namespaces of a generated client (the generated `createClient` calls this). */
export function buildClient(table, options) {
    const link = new HttpLink(options);
    const root = {
        $call: (method, params, call) => link.call(method, params, call),
    };
    const spaces = {};
    for (const [path, meta] of Object.entries(table)) {
        const fn = (input, call) => link.call(path, input, call);
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
