// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.
/**
 * The API explorer served at `GET /`: every procedure from `rpc.discover`, its
 * input and declared errors, and a form that calls it through the client.
 */
import { buildClient } from "../src/client.js";
import { CORE_ERRORS } from "../src/errors.gen.js";
import { NetworkError, ResponseError, RpcError } from "../src/errors.js";
import { Schemas } from "./schema.js";
/** `h("div", {class: "x"}, child...)`: DOM nodes with text set safely (never as HTML). */
function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs))
        el.setAttribute(name, value);
    for (const child of children)
        if (child)
            el.append(child);
    return el;
}
function byId(id) {
    const el = document.getElementById(id);
    if (el === null)
        throw new Error(`#${id} is missing from the page`);
    return el;
}
const TOKEN_KEY = "roomrpc.explorer.token";
const endpoint = new URL("rpc", document.baseURI).pathname;
const tokenInput = byId("token");
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
tokenInput.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value));
/** The body of the last call this page sent: the curl line shows that very request. */
let lastSent = null;
const recordingFetch = (input, init) => {
    try {
        const sent = JSON.parse(String(init?.body ?? "null"));
        const one = (Array.isArray(sent) ? sent[0] : sent);
        if (one !== null && typeof one.method === "string")
            lastSent = { method: one.method, id: one.id };
    }
    catch {
        lastSent = null;
    }
    return fetch(input, init);
};
const client = buildClient({}, { url: endpoint, token: () => tokenInput.value.trim() || null, batch: false, fetch: recordingFetch });
/** The subscription the page runs (one at a time), and its own client (its own socket). */
let running;
function stopRunning() {
    if (running === undefined)
        return;
    const { handle, client: live } = running;
    running = undefined;
    handle.unsubscribe();
    live.$close();
}
/** Redraws the curl line of the procedure on show (set by `select`). */
let refreshCurl = () => undefined;
tokenInput.addEventListener("input", () => refreshCurl());
let schemas;
let doc;
async function main() {
    try {
        // Discovery is public: without the token field, so a stale token cannot hide the API.
        doc = (await buildClient({}, { url: endpoint }).$call("rpc.discover", {}));
    }
    catch (error) {
        byId("procedure").replaceChildren(h("p", { class: "failure" }, `Cannot load rpc.discover: ${describe(error)}`));
        return;
    }
    schemas = new Schemas(doc);
    byId("title").textContent = doc.info.title;
    byId("version").textContent = `v${doc.info.version} · OpenRPC ${doc.openrpc} · POST ${endpoint}`;
    renderNav("");
    byId("filter").addEventListener("input", (e) => renderNav(e.target.value));
    const first = location.hash.slice(1) || doc.methods.find((m) => !m.name.startsWith("rpc."))?.name;
    const method = doc.methods.find((m) => m.name === first) ?? doc.methods[0];
    if (method !== undefined)
        select(method);
    window.addEventListener("hashchange", () => {
        const chosen = doc.methods.find((m) => m.name === location.hash.slice(1));
        if (chosen !== undefined)
            select(chosen);
    });
}
function renderNav(filter) {
    const groups = new Map();
    for (const m of doc.methods) {
        if (filter && !m.name.toLowerCase().includes(filter.toLowerCase()))
            continue;
        const ns = m.name.includes(".") ? m.name.split(".")[0] ?? "" : "(no namespace)";
        groups.set(ns, [...(groups.get(ns) ?? []), m]);
    }
    const nav = byId("procedures");
    nav.replaceChildren(...[...groups].map(([ns, methods]) => h("section", { class: "namespace", "data-namespace": ns }, h("h2", {}, ns), h("ul", {}, ...methods.map((m) => navItem(m))))));
}
function navItem(m) {
    const link = h("a", { href: `#${m.name}`, "data-procedure": m.name, title: m.summary }, h("span", { class: `kind ${m["x-kind"] ?? "query"}` }, KIND_LETTER[m["x-kind"] ?? "query"]), h("span", { class: "name" }, m.name.includes(".") ? m.name.slice(m.name.indexOf(".") + 1) : m.name), m["x-protected"] ? h("span", { class: "lock", title: "needs a bearer token" }, "token") : null);
    link.addEventListener("click", (e) => {
        e.preventDefault();
        history.pushState(null, "", `#${m.name}`);
        select(m);
    });
    return h("li", {}, link);
}
const KIND_LETTER = { query: "Q", mutation: "M", subscription: "S" };
function select(m) {
    stopRunning();
    const live = m["x-kind"] === "subscription";
    for (const a of document.querySelectorAll("[data-procedure]")) {
        a.classList.toggle("active", a.getAttribute("data-procedure") === m.name);
    }
    const input = schemas.resolve({ $ref: `#/components/schemas/${inputName(m)}` });
    const editor = h("textarea", { id: "params", spellcheck: "false", "aria-label": "params (JSON)" });
    const example = schemas.example(input);
    const demo = DEMO_PARAMS[m.name];
    editor.value = JSON.stringify(demo !== undefined && isObject(example) ? { ...example, ...demo } : example, null, 2);
    editor.rows = Math.min(16, Math.max(4, editor.value.split("\n").length + 1));
    const curl = h("pre", { id: "curl", class: "curl" });
    lastSent = null; // a new page: id 1 until this procedure is sent
    const showCurl = () => {
        const id = lastSent !== null && lastSent.method === m.name ? lastSent.id : 1;
        curl.textContent = curlOf(m.name, editor.value, id, live);
    };
    const hint = tokenHint(m["x-protected"] === true);
    refreshCurl = () => {
        showCurl();
        hint.hidden = tokenInput.value.trim() !== ""; // said once, while there is no token
    };
    refreshCurl();
    editor.addEventListener("input", showCurl);
    const copy = h("button", { id: "copy-curl", type: "button", class: "secondary" }, "Copy");
    copy.addEventListener("click", () => {
        void navigator.clipboard.writeText(curl.textContent ?? "").then(() => (copy.textContent = "Copied"), () => (copy.textContent = "Select and copy"));
        setTimeout(() => (copy.textContent = "Copy"), 1500);
    });
    const send = h("button", { id: "send", type: "button" }, live ? "Subscribe" : "Send");
    const stop = h("button", { id: "stop", type: "button", class: "secondary" }, "Stop");
    stop.hidden = true;
    send.addEventListener("click", () => live ? subscribe(m, editor, send, stop) : void call(m, editor, send));
    editor.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey))
            send.click();
    });
    const page = h("article", { "data-method": m.name }, h("header", { class: "heading" }, h("h1", { id: "method-name" }, m.name), h("span", { class: `badge ${m["x-kind"] ?? "query"}` }, m["x-kind"] ?? "query"), m["x-protected"] ? h("span", { class: "badge protected" }, "bearer token") : null), h("p", { class: "summary" }, m.summary), m.description ? h("p", { class: "description" }, m.description) : null, h("h3", {}, "Params"), paramsTable(m), ...resultSection(m), h("h3", {}, "Declared errors"), errorsList(m), h("h3", {}, "Try it"), h("div", { class: "editor" }, editor, h("div", { class: "actions" }, send, stop, h("span", { class: "hint" }, "Ctrl+Enter"))), hint, h("div", { id: "result", class: "result empty", "aria-live": "polite" }, live ? "Subscribe to see its events arrive here, live." : "Send the call to see its answer here."), h("div", { class: "curl-box" }, h("div", { class: "curl-head" }, h("span", {}, live ? "The same subscription with curl (Server-Sent Events)" : "The same call with curl"), copy), curl));
    byId("procedure").replaceChildren(page);
}
/** What a call answers, or what a subscription sends. */
function resultSection(m) {
    const event = m["x-subscription"]?.event;
    if (event === undefined) {
        return [
            h("h3", {}, "Result"),
            h("p", { class: "result-type" }, h("code", {}, schemas.typeName(m.result.schema))),
            fieldsTable(m.result.schema),
        ];
    }
    return [
        h("h3", {}, "Events"),
        h("p", { class: "result-type" }, h("code", {}, schemas.typeName(event)), " · over a WebSocket (GET ", endpoint, ") or Server-Sent Events · resumes after ", h("code", {}, "lastEventId")),
        fieldsTable(event),
    ];
}
/** Examples that work as @alice on the demo world, where the schema's own would not. */
const DEMO_PARAMS = {
    "being.create": { id: "@my-space", name: "My space", type: "space", visibility: "public", ownerId: null },
    "being.update": { id: "@demo-space", name: "Demo space", visibility: "public" },
    "being.delete": { id: "@my-space" },
    "space.setRole": { role: "moderator" },
};
function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
/** How to get a token (a procedure that needs none still answers more with one). */
function tokenHint(needed) {
    return h("p", { class: "token-hint" }, needed ? "Needs a bearer token in the field above. " : "Without a token the call is anonymous. ", "To get one, run ", h("code", {}, ".venv/bin/roomrpc token @alice"), " in the project folder (", h("code", {}, "make run"), " also prints a curl line with one).");
}
function inputName(m) {
    const ref = m["x-input"]?.$ref ?? "";
    return ref.split("/").pop() ?? "";
}
function paramsTable(m) {
    if (m.params.length === 0)
        return h("p", { class: "muted" }, "None: send {} or leave params out.");
    return table(m.params);
}
/** The fields of an object result, when it is one. */
function fieldsTable(schema) {
    const s = schemas.resolve(schema);
    if (s.type !== "object" || s.properties === undefined || Object.keys(s.properties).length === 0)
        return null;
    const required = new Set(s.required ?? []);
    return table(Object.entries(s.properties).map(([name, field]) => ({ name, required: required.has(name), schema: field })));
}
function table(fields) {
    const rows = fields.map((p) => {
        const s = schemas.resolve(p.schema);
        const notes = [p.description ?? p.schema.description ?? s.description, ...schemas.constraints(p.schema)].filter(Boolean);
        return h("tr", {}, h("td", {}, h("code", {}, p.name), p.required ? h("span", { class: "required", title: "required" }, "*") : null), h("td", {}, h("code", {}, schemas.typeName(p.schema))), h("td", {}, notes.join(" · ")));
    });
    const head = h("tr", {}, h("th", {}, "name"), h("th", {}, "type"), h("th", {}, "notes"));
    return h("table", { class: "params" }, h("thead", {}, head), h("tbody", {}, ...rows));
}
/** The call as a curl line anyone can paste: the real token, the id the page sent. */
function curlOf(method, params, id, live = false) {
    let body;
    try {
        body = JSON.stringify({ jsonrpc: "2.0", method, params: JSON.parse(params || "{}"), id });
    }
    catch {
        body = `{"jsonrpc":"2.0","method":"${method}","params":…,"id":${JSON.stringify(id)}}`;
    }
    const bearer = tokenInput.value.trim();
    const token = bearer ? ` \\\n  -H 'Authorization: Bearer ${bearer.replaceAll("'", "")}'` : "";
    const stream = live ? ` \\\n  -H 'Accept: text/event-stream'` : "";
    return `curl -s${live ? "N" : ""} ${new URL(endpoint, location.href).href} \\\n  -H 'Content-Type: application/json'${stream}${token} \\\n  -d '${body.replaceAll("'", "'\\''")}'`;
}
/** The procedure's own errors, then those any call may get (the client's CORE_ERRORS). */
function errorsList(m) {
    const declared = m.errors.map((e) => e.$ref.split("/").pop() ?? "");
    const core = CORE_ERRORS.filter((name) => !declared.includes(name));
    const item = (name) => {
        const row = doc.components.errors[name];
        return h("li", {}, h("code", {}, name), row ? ` ${row.code} · HTTP ${row.data.httpStatus} · ${row.message}` : "");
    };
    return h("div", {}, declared.length > 0 ? h("ul", { class: "errors" }, ...declared.map(item)) : h("p", { class: "muted" }, "None of its own."), h("p", { class: "muted any-call" }, "Any call may also get:"), h("ul", { class: "errors core" }, ...core.map(item)));
}
async function call(m, editor, send) {
    const out = byId("result");
    let params;
    try {
        params = editor.value.trim() === "" ? {} : JSON.parse(editor.value);
    }
    catch (error) {
        show(out, "failure", "Params are not valid JSON", h("pre", {}, describe(error)));
        return;
    }
    send.disabled = true;
    const started = performance.now();
    try {
        const result = await client.$call(m.name, params);
        refreshCurl(); // the id this call was sent with
        show(out, "success", `OK · ${elapsed(started)}`, h("pre", { id: "result-json" }, JSON.stringify(result, null, 2)));
    }
    catch (error) {
        refreshCurl();
        show(out, "failure", `${errorTitle(error)} · ${elapsed(started)}`, errorBody(error));
    }
    finally {
        send.disabled = false;
    }
}
/** Subscribes on a socket of its own (the token field as it is now); events are listed as they come. */
function subscribe(m, editor, send, stop) {
    const out = byId("result");
    let params;
    try {
        params = editor.value.trim() === "" ? {} : JSON.parse(editor.value);
    }
    catch (error) {
        show(out, "failure", "Params are not valid JSON", h("pre", {}, describe(error)));
        return;
    }
    stopRunning();
    const status = h("div", { id: "result-status", class: "status" }, "Subscribing…");
    const list = h("ol", { id: "events", class: "events", reversed: "" });
    out.className = "result live";
    out.replaceChildren(status, list);
    let count = 0;
    const token = tokenInput.value.trim() || undefined;
    const live = buildClient({}, { url: endpoint, token });
    const ended = (kind, title, body) => {
        send.disabled = false;
        stop.hidden = true;
        running = undefined;
        live.$close();
        out.className = `result live ${kind}`;
        status.textContent = title;
        if (body !== undefined)
            out.insertBefore(body, list);
    };
    const handle = live.$subscribe(m.name, params, {
        onStarted: () => {
            status.textContent = count === 0 ? "Live · waiting for events" : `Live · ${count} events (resumed)`;
            out.classList.add("running");
        },
        onData: (data, id) => {
            count += 1;
            status.textContent = `Live · ${count} event${count === 1 ? "" : "s"}`;
            const item = h("li", { class: "event", "data-event-id": id }, h("div", { class: "event-head" }, h("code", {}, `id ${id}`), h("span", {}, new Date().toLocaleTimeString())), h("pre", {}, JSON.stringify(data, null, 2)));
            list.prepend(item);
            while (list.childElementCount > 200)
                list.lastElementChild?.remove();
        },
        onError: (error) => ended("failure", `Ended: ${errorTitle(error)}`, errorBody(error)),
        onComplete: () => ended("success", `Stopped · ${count} event${count === 1 ? "" : "s"}`),
    });
    running = { handle, client: live };
    send.disabled = true;
    stop.hidden = false;
    stop.onclick = () => stopRunning();
    out.scrollIntoView({ block: "nearest", behavior: "smooth" });
}
function show(out, kind, title, body) {
    out.className = `result ${kind}`;
    out.replaceChildren(h("div", { id: "result-status", class: "status" }, title), body);
    out.scrollIntoView({ block: "nearest", behavior: "smooth" });
}
function errorTitle(error) {
    if (error instanceof RpcError)
        return `${error.code} (${error.rpcCode}, HTTP ${error.httpStatus})`;
    if (error instanceof NetworkError)
        return "No answer from the server";
    if (error instanceof ResponseError)
        return `Not a JSON-RPC answer (HTTP ${error.status})`;
    return "Failed";
}
function errorBody(error) {
    if (!(error instanceof RpcError)) {
        const body = error instanceof ResponseError ? `\n\n${error.body}` : "";
        return h("pre", {}, describe(error) + body);
    }
    const facts = [
        ["message", error.message],
        ["request id", error.requestId],
        ["reason", error.reason],
        ["retryable", error.retryable === undefined ? undefined : String(error.retryable)],
    ];
    return h("div", {}, h("dl", {}, ...facts.filter(([, v]) => v !== undefined).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])), error.issues.length > 0
        ? h("ul", { class: "issues" }, ...error.issues.map((i) => h("li", {}, h("code", {}, i.path), ` ${i.message}`)))
        : null, h("details", {}, h("summary", {}, "error.data"), h("pre", {}, JSON.stringify(error.data, null, 2))));
}
function describe(error) {
    return error instanceof Error ? error.message : String(error);
}
function elapsed(started) {
    return `${Math.round(performance.now() - started)} ms`;
}
void main();
