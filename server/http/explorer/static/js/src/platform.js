// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/**
 * The platform objects the client touches (`fetch`, `AbortSignal`, headers, timers),
 * typed by their shape rather than by the DOM library's names: the client then
 * compiles in a program with the DOM library, with `@types/node`, or with neither,
 * and the browser's and Node's own objects fit these types.
 */
/** The platform's globals, typed by the shapes above (read when used, so they can be replaced). */
export const platform = globalThis;
/** `headers` as a plain object, names in lower case (the last of a repeated name wins). */
export function headerRecord(headers) {
    const record = {};
    if (headers === undefined)
        return record;
    const add = (value, name) => {
        record[name.toLowerCase()] = value;
    };
    if (isPairs(headers))
        for (const [name, value] of headers)
            add(value, name);
    else if (hasForEach(headers))
        headers.forEach(add);
    else
        for (const [name, value] of Object.entries(headers))
            add(value, name);
    return record;
}
function isPairs(headers) {
    return Array.isArray(headers);
}
function hasForEach(headers) {
    return typeof headers.forEach === "function";
}
