"""The TypeScript client: strict builds, type tests, Node's test runner against a live server."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from server.http.socket import LIVE
from tests.support import codegen_zoo, spec_examples
from tests.support.typescript import TS, build_for, run_node_tests, tsc
from tests.support.world import USERS, Api


@pytest.fixture
async def live_url(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    make_app: Callable[..., web.Application],
) -> str:
    app = make_app(
        contract=codegen_zoo.CONTRACT,
        routers=(codegen_zoo.router,),
        RPC_MAX_BATCH="6",
        RPC_CALL_TIMEOUT="1",
    )
    server = await aiohttp_server(app)
    return str(server.make_url("/rpc"))


def test_checked_in_client_builds_under_strict(tmp_path: Path) -> None:
    tsc("-p", TS / "tsconfig.json", "--outDir", tmp_path)
    assert (tmp_path / "index.js").is_file()
    assert (tmp_path / "index.d.ts").is_file()


def test_checked_in_client_type_tests() -> None:
    """``test-types/``: wrong inputs against the real contract fail to compile."""
    tsc("-p", TS / "tsconfig.typecheck.json")


def test_type_tests_can_fail(tmp_path: Path) -> None:
    """An ``@ts-expect-error`` on a line that compiles is itself an error: the checks bite."""
    index = (TS / "src" / "index.js").as_posix()
    (tmp_path / "probe.ts").write_text(
        f'import {{ createClient }} from "{index}";\n'
        'const client = createClient({ url: "/rpc" });\n'
        "// @ts-expect-error (wrongly: this call is fine)\n"
        "void client.system.health({});\n",
        encoding="utf-8",
    )
    config = {
        "extends": (TS / "tsconfig.typecheck.json").as_posix(),
        "compilerOptions": {"rootDir": "/"},
        "include": [(TS / "src").as_posix(), (tmp_path / "probe.ts").as_posix()],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="Unused '@ts-expect-error'"):
        tsc("-p", tmp_path / "tsconfig.json")


# Code a frontend or Node developer writes against the package, imported by its name.
_CONSUMER = """
import { createClient, isRpcError, RpcError } from "@roomrpc/client";
import type { Being, JoinToken, PresentMember } from "@roomrpc/client";

const headers: [string, string][] = [["x-app", "demo"]];
const client = createClient({ url: "http://127.0.0.1/rpc", token: async () => "t", headers });

export async function consumer(): Promise<string> {
  try {
    const being: Being = await client.being.get({ id: "@alice" });
    const join: JoinToken = await client.livekit.getJoinToken({ roomBeingId: "@demo-space" });
    const here: PresentMember[] = await client.presence.members({ roomBeingId: "@demo-space" });
    return `${being.ownerId ?? being.name} ${join.wsUrl} ${here[0]?.beingId ?? ""}`;
  } catch (err) {
    if (isRpcError(err, client.livekit.getJoinToken) && err.code === "FORBIDDEN") {
      return `${err.httpStatus} ${err.requestId ?? ""}`;
    }
    if (err instanceof RpcError) return err.code;
    throw err;
  }
}
// @ts-expect-error roomBeingId is required
void client.livekit.getJoinToken({});
"""

_STRICTEST = {
    "target": "ES2022",
    "strict": True,
    "exactOptionalPropertyTypes": True,
    "noUncheckedIndexedAccess": True,
    "noImplicitOverride": True,
    "noPropertyAccessFromIndexSignature": True,
    "useUnknownInCatchVariables": True,
    "verbatimModuleSyntax": True,
    "isolatedModules": True,
    "noUnusedLocals": True,
    "noImplicitReturns": True,
    "skipLibCheck": False,
    "noEmit": True,
}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A consumer folder with the built package in ``node_modules/@roomrpc/client``."""
    folder = tmp_path_factory.mktemp("consumer")
    package = folder / "node_modules" / "@roomrpc" / "client"
    package.mkdir(parents=True)
    shutil.copy(TS / "package.json", package / "package.json")
    tsc("-p", TS / "tsconfig.json", "--outDir", package / "dist")
    (folder / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    (folder / "app.ts").write_text(_CONSUMER, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("module", "resolution", "lib", "types"),
    [
        ("node16", "node16", ["ES2022"], ["node"]),  # Node 20, no DOM
        ("nodenext", "nodenext", ["ES2022"], []),  # neither DOM nor @types/node
        ("esnext", "bundler", ["ES2022", "DOM"], []),  # a browser app
    ],
)
def test_package_type_checks_for_a_consumer(
    installed: Path, module: str, resolution: str, lib: list[str], types: list[str]
) -> None:
    """Imported by name (``exports``, ``types``), the package needs no DOM library."""
    options = {"module": module, "moduleResolution": resolution, "lib": lib, "types": types}
    options["typeRoots"] = [(TS / "node_modules" / "@types").as_posix()]
    config = {"compilerOptions": {**_STRICTEST, **options}, "files": ["app.ts"]}
    (installed / f"tsconfig.{resolution}.json").write_text(json.dumps(config), encoding="utf-8")
    tsc("-p", installed / f"tsconfig.{resolution}.json")


def test_sources_type_check_without_dom(tmp_path: Path) -> None:
    """``src/index.ts`` imported by path compiles in a program that has no DOM, no @types/node.

    With ``isolatedDeclarations`` too: each file's declarations need no inference.
    """
    index = (TS / "src" / "index.js").as_posix()
    (tmp_path / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    (tmp_path / "app.ts").write_text(
        _CONSUMER.replace('"@roomrpc/client"', f'"{index}"'), encoding="utf-8"
    )
    options: dict[str, object] = {
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "lib": ["ES2022"],
        "types": [],
    }
    declarations: dict[str, object] = {
        "isolatedDeclarations": True,
        "declaration": True,
        "noEmit": False,
    }
    declarations |= {"emitDeclarationOnly": True, "rootDir": "/", "outDir": "out"}
    config = {"compilerOptions": {**_STRICTEST, **options, **declarations}, "files": ["app.ts"]}
    (tmp_path / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    tsc("-p", tmp_path / "tsconfig.json")


_SPEC_CHECK = """
import { createClient } from "../src/index.js";
const client = createClient({ url: "/rpc" });
export async function spec(): Promise<number> {
  await client.update({ a: 1, e: 5 });
  const data: unknown[] = await client.get_data();
  // @ts-expect-error subtrahend is required
  await client.subtract({ minuend: 1 });
  // @ts-expect-error only the spec's procedures exist
  await client.system.health();
  return (await client.sum()) + data.length;
}
"""


def test_spec_examples_contract_builds(tmp_path: Path) -> None:
    """The spec examples alone (flat names, no namespace) make a client that type-checks."""
    build_for(spec_examples.CONTRACT, tmp_path, {"spec.check.ts": _SPEC_CHECK})
    assert (tmp_path / "dist-test" / "test" / "spec.check.js").is_file()


def test_test_contract_builds_with_type_tests(ts_build: Path) -> None:
    assert (ts_build / "test" / "types.check.js").is_file()


@pytest.mark.spec_examples  # the client's tests call the spec's methods too
async def test_client_against_live_server(ts_build: Path, live_url: str) -> None:
    output = await run_node_tests([ts_build / "test" / "client.test.js"], {"ROOMRPC_URL": live_url})
    passed = re.search(r"^\S pass (\d+)$", output, re.MULTILINE)  # the spec reporter's summary
    assert passed is not None and int(passed[1]) >= 15, output
    assert re.search(r"^\S fail 0$", output, re.MULTILINE), output


# --- safe retries: the client behind a proxy that loses the first answer to each body ---


class DroppingProxy:
    """Relays POST /rpc to the server; the first answer to each distinct body is lost
    (the connection closes after the server ran the request)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.seen: set[bytes] = set()
        self.log: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/rpc", self.relay)
        self.app.cleanup_ctx.append(self._session)

    async def _session(self, app: web.Application) -> AsyncIterator[None]:
        async with ClientSession() as self.session:
            yield

    async def relay(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        forwarded = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
        async with self.session.post(self.target, data=body, headers=forwarded) as answer:
            status, text = answer.status, await answer.read()
            replayed = answer.headers.get("Idempotent-Replayed") == "true"
        dropped = body not in self.seen
        self.seen.add(body)
        key = request.headers.get("Idempotency-Key")
        self.log.append(
            {"body": json.loads(body), "key": key, "dropped": dropped, "replayed": replayed}
        )
        if dropped:
            assert request.transport is not None
            request.transport.close()  # the server ran it; the caller never hears
        return web.Response(body=text, status=status, content_type="application/json")


_FORWARDED = {"authorization", "content-type", "idempotency-key", "x-timeout-ms", "x-contract-hash"}


async def test_client_retries_safely_through_lost_answers(
    ts_build: Path,
    live_url: str,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> None:
    proxy = DroppingProxy(live_url)
    proxy_server = await aiohttp_server(proxy.app)
    env = {"ROOMRPC_URL": live_url, "ROOMRPC_PROXY_URL": str(proxy_server.make_url("/rpc"))}
    output = await run_node_tests([ts_build / "test" / "retry.test.js"], env)
    assert re.search(r"^\S fail 0$", output, re.MULTILINE), output

    def calls_of(name: str) -> list[dict[str, Any]]:
        return [e for e in proxy.log if _names(e["body"]) == {name}]

    added = [e for e in calls_of("zoo.add") if e["body"]["params"]["name"] == "retried"]
    assert [(e["dropped"], e["replayed"]) for e in added] == [(True, False), (False, True)]
    assert added[0]["key"] is not None and added[0]["key"] == added[1]["key"]
    unkeyed = [e for e in calls_of("zoo.add") if e["body"]["params"]["name"] == "unkeyed"]
    assert [(e["dropped"], e["key"]) for e in unkeyed] == [(True, None)]  # never sent again


def _names(body: Any) -> set[str]:
    return {c["method"] for c in (body if isinstance(body, list) else [body])}


def test_the_readme_example_type_checks_in_a_browser_app(installed: Path) -> None:
    """The README's quick start, as a Vite app would compile it (bundler, DOM)."""
    readme = (TS.parents[1] / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```ts\n(.*?createClient.*?)```", readme, re.DOTALL)
    assert match, "the README shows a TypeScript example with createClient"
    (installed / "readme.ts").write_text(match[1] + "\nexport {};\n", encoding="utf-8")
    options = {"module": "esnext", "moduleResolution": "bundler", "lib": ["ES2022", "DOM"]}
    options["types"] = []
    config = {"compilerOptions": {**_STRICTEST, **options}, "files": ["readme.ts"]}
    (installed / "tsconfig.readme.json").write_text(json.dumps(config), encoding="utf-8")
    tsc("-p", installed / "tsconfig.readme.json")


# --- subscriptions: the client in Node against the real app, through a relay that cuts ---


class CuttingRelay:
    """A TCP relay to ``target``; ``cut()`` drops every connection at once (no close frame,
    no end of stream: the sockets are aborted), as a lost network or a killed proxy would.

    While ``holding``, new connections are dropped as they come (the network is still
    down); while ``swallowing``, what the server sends is lost (an answer that never
    arrives) until the next ``cut()``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.open: set[asyncio.StreamWriter] = set()
        self.holding = False
        self.swallowing = False

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.holding:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self.open |= {writer, up_writer}
        lost = lambda: self.swallowing  # noqa: E731 (read at each chunk)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer, lost))
        self.open -= {writer, up_writer}

    def cut(self) -> int:
        dropped = len(self.open) // 2
        for writer in self.open:
            writer.transport.abort()
        self.open.clear()
        self.swallowing = False
        return dropped

    async def stop(self) -> None:
        self.cut()
        self.server.close()
        await self.server.wait_closed()


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    lost: Callable[[], bool] = lambda: False,
) -> None:
    try:
        while data := await reader.read(65536):
            if lost():
                continue
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.transport.abort()


async def test_client_subscribes_and_resumes_against_live_server(
    ts_build: Path,
    world: Api,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> None:
    """``live.test.ts``: typed events over a WebSocket and over SSE, forced disconnects
    resumed with no gap and no duplicate, re-authentication, the ends, the iterator."""
    url = world.client.make_url("/rpc")
    assert url.host is not None and url.port is not None
    relay = CuttingRelay(url.host, url.port)
    port = await relay.start()
    control = web.Application()

    async def cut(request: web.Request) -> web.Response:
        return web.Response(text=str(relay.cut()))

    control.router.add_post("/cut", cut)
    control_server = await aiohttp_server(control)
    env = {
        "ROOMRPC_URL": str(url),
        "ROOMRPC_PROXY_URL": f"http://127.0.0.1:{port}/rpc",
        "ROOMRPC_CUT_URL": str(control_server.make_url("/cut")),
        "ROOMRPC_TOKENS": json.dumps({b: world.token(b) for b in USERS}),
        "NODE_OPTIONS": "--experimental-websocket",  # Node 20's WebSocket (Node 22: always there)
    }
    try:
        output = await run_node_tests([ts_build / "test" / "live.test.js"], env)
    finally:
        await relay.stop()
    passed = re.search(r"^\S pass (\d+)$", output, re.MULTILINE)
    assert passed is not None and int(passed[1]) >= 17, output
    assert re.search(r"^\S fail 0$", output, re.MULTILINE), output


async def test_client_survives_a_failing_network(
    ts_build: Path,
    world: Api,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> None:
    """``network.test.ts``: a subscription dropped before its first event resumes from the
    position its subscribe answer gave (the event published while it was away comes once);
    an expired token is renewed once through the token function, the call sent again (a
    socket authenticates again and resumes its subscriptions); calls over a socket that
    drops mid-call go again when safe (queries, keyed mutations: run once) and a mutation
    without a key fails with a retryable NetworkError instead."""
    url = world.client.make_url("/rpc")
    assert url.host is not None and url.port is not None
    relay = CuttingRelay(url.host, url.port)
    port = await relay.start()
    control = web.Application()

    async def act(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action == "cut":
            return web.Response(text=str(relay.cut()))
        relay.holding = {"hold": True, "release": False}.get(action, relay.holding)
        relay.swallowing = relay.swallowing or action == "swallow"
        return web.Response(text="ok")

    async def token(request: web.Request) -> web.Response:
        ttl = float(request.query["ttl"])  # negative: expired already (past the leeway)
        return web.Response(text=world.token(request.query["being"], ttl=ttl))

    control.router.add_post("/{action:cut|hold|release|swallow}", act)
    control.router.add_get("/token", token)
    control_server = await aiohttp_server(control)
    env = {
        "ROOMRPC_URL": str(url),
        "ROOMRPC_PROXY_URL": f"http://127.0.0.1:{port}/rpc",
        "ROOMRPC_CONTROL_URL": str(control_server.make_url("/")).rstrip("/"),
        "ROOMRPC_TOKENS": json.dumps({b: world.token(b) for b in USERS}),
        "NODE_OPTIONS": "--experimental-websocket",
    }
    try:
        output = await run_node_tests([ts_build / "test" / "network.test.js"], env)
    finally:
        await relay.stop()
    passed = re.search(r"^\S pass (\d+)$", output, re.MULTILINE)
    assert passed is not None and int(passed[1]) >= 9, output
    assert re.search(r"^\S fail 0$", output, re.MULTILINE), output


class SilentServer:
    """Accepts TCP connections and reads the WebSocket upgrade, never answering it (a stuck
    proxy); ``paths`` has each connection's requested path, in order."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.open: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.paths.append(head.split(b" ", 2)[1].decode())
            await reader.read()  # nothing is answered: until the client gives up
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.open.discard(writer)
            writer.transport.abort()

    async def stop(self) -> None:
        for writer in self.open:
            writer.transport.abort()
        self.server.close()
        await self.server.wait_closed()


async def test_client_abandons_a_socket_that_does_not_open(
    ts_build: Path, aiohttp_server: Callable[[web.Application], Awaitable[TestServer]]
) -> None:
    """``open.test.ts``: a socket whose handshake, or whose ``rpc.authenticate``, is never
    answered is given up after ``openTimeout``: calls over it and subscriptions get a
    NetworkError (``maybeRan`` false) once ``retry`` / ``reconnect`` allow no more tries,
    each try a new connection. Without the bound the Node tests hit their own timeout."""
    silent = SilentServer()
    port = await silent.start()
    muted: list[str] = []

    async def mute(request: web.Request) -> web.WebSocketResponse:
        muted.append(request.path)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:  # rpc.authenticate comes, and no answer
            pass
        return ws

    app = web.Application()
    app.router.add_get("/{path}", mute)
    mute_server = await aiohttp_server(app)
    env = {
        "ROOMRPC_SILENT_URL": f"http://127.0.0.1:{port}",
        "ROOMRPC_MUTE_URL": str(mute_server.make_url("")).rstrip("/"),
        "NODE_OPTIONS": "--experimental-websocket",
    }
    try:
        output = await run_node_tests([ts_build / "test" / "open.test.js"], env, 60)
    finally:
        await silent.stop()
    assert re.search(r"^\S pass 5$", output, re.MULTILINE), output
    tries = {path: silent.paths.count(path) for path in sorted(set(silent.paths))}
    # calls: `retry.attempts` tries in all; a subscription: `reconnect.attempts` retries
    assert tries == {"/once": 1, "/query": 2, "/subscribe": 3, "/unkeyed": 3}, silent.paths
    assert muted == ["/authenticate"] * 2


@pytest.mark.parametrize("db_env", ["postgresql"], indirect=True)
async def test_client_resumes_on_the_next_server_when_one_shuts_down(
    ts_build: Path,
    world: Api,
    make_api: Callable[[dict[str, str]], Awaitable[Api]],
    db_env: dict[str, str],
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> None:
    """``live.failover.test.ts``: three instances on one PostgreSQL; the relay's instance
    shuts down (its real shutdown: subscriptions end SERVICE_UNAVAILABLE, retryable), the
    relay now reaches the next, and the client resumes there by itself."""
    instances = [world, await make_api(db_env), await make_api(db_env)]
    urls = [api.client.make_url("/rpc") for api in instances]
    relay = CuttingRelay(urls[0].host or "", urls[0].port or 0)
    port = await relay.start()
    serving = 0

    async def failover(request: web.Request) -> web.Response:
        nonlocal serving
        current = instances[serving].client.app
        assert current is not None
        serving += 1
        relay.host, relay.port = urls[serving].host or "", urls[serving].port or 0
        try:
            await asyncio.wait_for(current[LIVE].shutdown(current), 10)
        except TimeoutError:
            return web.Response(status=500, text="the shutdown did not finish within 10 s")
        relay.cut()  # kept-alive HTTP connections too: a stopped server takes no more requests
        return web.Response(text=str(serving))

    control = web.Application()
    control.router.add_post("/failover", failover)
    control_server = await aiohttp_server(control)
    env = {
        "ROOMRPC_PROXY_URL": f"http://127.0.0.1:{port}/rpc",
        "ROOMRPC_WRITE_URL": str(urls[-1]),
        "ROOMRPC_FAILOVER_URL": str(control_server.make_url("/failover")),
        "ROOMRPC_TOKENS": json.dumps({b: world.token(b) for b in USERS}),
        "NODE_OPTIONS": "--experimental-websocket",
    }
    try:
        output = await run_node_tests([ts_build / "test" / "live.failover.test.js"], env, 90)
    finally:
        await relay.stop()
    assert re.search(r"^\S pass 2$", output, re.MULTILINE), output
    assert serving == 2
