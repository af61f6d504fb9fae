"""Bench of ``being.get`` with a real token and a real database.

``make bench`` (bench/__main__.py) runs these scenarios beside its own, as ratios
to the plain aiohttp handler in the same run: ``scenarios()`` seeds a SQLite
database in a temporary folder and points the bench server at it.

``python -m bench.beings`` measures the per-request costs on the hot
path one by one (token check, principal lookup, cached principal, the query),
on SQLite and, when reachable, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

__all__ = ["LATENCY", "RATIOS", "SERVERS", "load_scenario", "main", "scenarios"]

_KEEP: list[Any] = []  # temporary folders live as long as the bench
SQLITE = "/rpc being.get, token, SQLite"
POSTGRES = "/rpc being.get, token, PostgreSQL"
# For bench/__main__.py: ratios printed after its table, scenarios timed at a fixed load.
RATIOS = [(SQLITE, "minimal aiohttp+msgspec server"), (POSTGRES, "minimal aiohttp+msgspec server")]
LATENCY = [SQLITE, POSTGRES]
_LOAD: list[Any] = []
SERVERS: dict[str, dict[str, str]] = {}  # the app on PostgreSQL, when reachable


def load_scenario() -> Any:
    """The being.get scenario on SQLite (what the memory figure loads a worker with)."""
    return _LOAD[0] if _LOAD else None


def _env(data_dir: str, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": data_dir, "AUTH_SECRET": secrets.token_urlsafe(48), **extra}


async def _seed(env: dict[str, str]) -> str:
    """Migrate and seed the demo world; a token for @alice."""
    from server.auth import Tokens
    from server.cli.seed import seed_demo
    from server.settings import load_settings
    from server.storage import Storage

    settings = load_settings(env, env_file=None)
    storage = await Storage.open(settings)
    try:
        await seed_demo(storage)
    finally:
        await storage.close()
    return Tokens.from_settings(settings).mint("@alice", ttl=timedelta(hours=2))


def scenarios() -> list[Any]:
    """For bench/__main__.py: being.get, alone and 50 to a batch, with a real token."""
    from bench.__main__ import Scenario

    folder = tempfile.TemporaryDirectory(prefix="roomrpc-bench-")
    _KEEP.append(folder)
    env = _env(folder.name)
    token = asyncio.run(_seed(env))
    os.environ.update(env)  # the bench server process inherits it
    auth = (("Authorization", f"Bearer {token}"),)

    def call(i: int, id_: str = "@demo-space") -> dict[str, Any]:
        return {"jsonrpc": "2.0", "method": "being.get", "params": {"id": id_}, "id": i}

    batch = json.dumps([call(i) for i in range(50)]).encode()
    single = Scenario(SQLITE, "/rpc", json.dumps(call(1)).encode(), 1, auth)
    _LOAD.append(single)
    found = [
        single,
        Scenario("/rpc being.get, anonymous", "/rpc", json.dumps(call(1)).encode()),
        Scenario("/rpc batch of 50 being.get, token", "/rpc", batch, 50, auth),
    ]
    pg = asyncio.run(_pg_env(folder.name))
    if pg is None:
        print("being.get on PostgreSQL: not reachable at 127.0.0.1:5432, skipped")
        RATIOS.remove((POSTGRES, "minimal aiohttp+msgspec server"))
        LATENCY.remove(POSTGRES)
        return found
    pg_env, drop = pg
    pg_token = asyncio.run(_seed(pg_env))
    atexit.register(lambda: asyncio.run(drop()))
    SERVERS["app-pg"] = pg_env
    pg_auth = (("Authorization", f"Bearer {pg_token}"),)
    body = json.dumps(call(1)).encode()
    return [*found, Scenario(POSTGRES, "/rpc", body, 1, pg_auth, server="app-pg")]


async def _per_call(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    """Microseconds per call of ``fn``, best of three runs of ``n``."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            await fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


async def _costs(env: dict[str, str], label: str) -> None:
    from server.auth import BearerResolver, Tokens
    from server.settings import load_settings
    from server.storage import Storage, beings

    token = await _seed(env)
    settings = load_settings(env, env_file=None)
    storage = await Storage.open(settings)
    tokens = Tokens.from_settings(settings)
    cached = BearerResolver(tokens, lambda: storage, cache_seconds=60)
    uncached = BearerResolver(tokens, lambda: storage, cache_seconds=0)
    header = f"Bearer {token}"

    async def verify() -> Any:
        return tokens.verify(token)

    async def lookup() -> bool:
        async with storage.read() as conn:
            return await beings.exists(conn, "@alice")

    async def get() -> Any:
        async with storage.read() as conn:
            return await beings.get(conn, "@demo-space", "@alice")

    try:
        rows = [
            ("JWT verify (PyJWT, HS256)", await _per_call(verify, 2000)),
            ("principal lookup (one SELECT)", await _per_call(lookup, 500)),
            (
                "resolver, uncached (verify + lookup)",
                await _per_call(lambda: uncached(header), 500),
            ),
            ("resolver, cached (dict hit)", await _per_call(lambda: cached(header), 20000)),
            ("being.get query (with viewer's role)", await _per_call(get, 500)),
        ]
    finally:
        await storage.close()
    print(f"\n{label}")
    for name, micros in rows:
        print(f"  {name:40} {micros:9.1f} µs")


async def _pg_env(
    folder: str,
) -> tuple[dict[str, str], Callable[[], Coroutine[Any, Any, None]]] | None:
    import asyncpg

    for user in ("postgres", "root"):
        url = f"postgresql://{user}@127.0.0.1:5432/test"
        try:
            conn = await asyncpg.connect(url, timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            continue
        await conn.close()
        schema = f"roomrpc_bench_{secrets.token_hex(4)}"
        return _env(folder, DATABASE_URL=url, DATABASE_SCHEMA=schema), _dropper(url, schema)
    return None


def _dropper(url: str, schema: str) -> Callable[[], Coroutine[Any, Any, None]]:
    async def drop() -> None:  # on a connection of its own: callable from any event loop
        import asyncpg

        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    return drop


async def _main() -> None:
    with tempfile.TemporaryDirectory(prefix="roomrpc-bench-") as folder:
        await _costs(_env(folder), "SQLite (WAL; reads on the loop's thread, writes via aiosqlite)")
        pg = await _pg_env(folder)
        if pg is None:
            print("\nPostgreSQL: not reachable at 127.0.0.1:5432, skipped")
            return
        env, drop = pg
        try:
            await _costs(env, "PostgreSQL (asyncpg, loopback)")
        finally:
            await drop()


def main() -> None:
    """Print the hot path's per-request costs."""
    asyncio.run(_main())


if __name__ == "__main__":
    main()
