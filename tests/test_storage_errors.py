"""Database faults over real HTTP: a database that is full, going away or refusing
connections is SERVICE_UNAVAILABLE (retryable), never an internal error, and a
server that cannot reach it at start-up says so in one line.

PostgreSQL's own refusals are produced for real: a role over its connection limit
(53300), a role that may not log in (28000), and the answer PostgreSQL gives while
it starts up or shuts down (57P03), spoken on the wire by a gate in front of it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import struct
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.db import AUTH_SECRET, PgServer
from tests.support.world import Api, populate

MakeApi = Callable[[dict[str, str]], Awaitable[Api]]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_only(pg: PgServer | None) -> PgServer:
    if pg is None:
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (database test)")
    return pg


async def _admin(pg: PgServer, *statements: str) -> None:
    conn = await asyncpg.connect(pg.url, timeout=2)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def role(pg_only: PgServer) -> AsyncIterator[str]:
    """A role of its own (LOGIN, no limit yet) that may create its schema; dropped after."""
    name = f"roomrpc_lim_{secrets.token_hex(4)}"
    await _admin(
        pg_only,
        f"CREATE ROLE {name} LOGIN CONNECTION LIMIT -1",
        f"GRANT CREATE ON DATABASE test TO {name}",
    )
    yield name
    await _admin(
        pg_only,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'",
        f"DROP OWNED BY {name} CASCADE",
        f"DROP ROLE {name}",
    )


def _env(pg: PgServer, tmp_path: Path, user: str, port: int = 5432) -> dict[str, str]:
    return {
        "DATA_DIR": str(tmp_path),
        "AUTH_SECRET": AUTH_SECRET,
        "DATABASE_URL": f"postgresql://{user}@127.0.0.1:{port}/test",
        "DATABASE_SCHEMA": pg.new_schema(),
        "DATABASE_POOL_SIZE": "2",
    }


async def _all_unavailable(api: Api) -> None:
    """Many calls at once, and a batch: each one SERVICE_UNAVAILABLE and retryable."""
    calls = [api.call("being.get", {"id": "@hall"}) for _ in range(12)]
    calls += [api.call("being.get", {"id": "@owner"}, as_="@owner") for _ in range(4)]
    batch = [
        {"jsonrpc": "2.0", "method": "being.get", "params": {"id": "@hall"}, "id": i}
        for i in range(8)
    ]
    answers = [body for _, body in await asyncio.gather(*calls)]
    answers += (await api.post(batch))[1]
    for body in answers:
        data = body["error"]["data"]
        assert (data["code"], data["retryable"]) == ("SERVICE_UNAVAILABLE", True), body
        assert "Traceback" not in str(body)


async def _recovers(api: Api) -> None:
    for _ in range(5):  # a connection the outage left stale is dropped on first use
        if await api.code("being.get", {"id": "@hall"}) == "ok":
            return
    assert await api.code("being.get", {"id": "@hall"}) == "ok"


async def test_a_role_over_its_connection_limit_is_service_unavailable(
    make_api: MakeApi, pg_only: PgServer, role: str, tmp_path: Path, caplog: Any
) -> None:
    api = await populate(await make_api(_env(pg_only, tmp_path, role)))
    await _admin(
        pg_only,
        f"ALTER ROLE {role} CONNECTION LIMIT 0",
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'",
    )
    with caplog.at_level(logging.WARNING, "roomrpc"):
        await _all_unavailable(api)
    assert "[53300]" in caplog.text  # PostgreSQL's "too many connections for role"
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert (await api.client.get("/readyz")).status == 503
    await _admin(pg_only, f"ALTER ROLE {role} CONNECTION LIMIT -1")
    await _recovers(api)


class _Gate:
    """A TCP gate in front of PostgreSQL: it forwards, or answers every new connection as
    PostgreSQL does while starting up or shutting down (FATAL 57P03) and cuts the rest."""

    def __init__(self) -> None:
        self.refusing = False
        self.port = 0
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        self.refusing = True
        for writer in list(self._open):
            writer.close()

    async def stop(self) -> None:
        await self.refuse()
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            await _cannot_connect_now(reader, writer)
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self._open |= {writer, upstream_writer}
        await asyncio.gather(
            _pipe(reader, upstream_writer), _pipe(upstream_reader, writer), return_exceptions=True
        )
        self._open -= {writer, upstream_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _cannot_connect_now(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """PostgreSQL's answer to a start-up packet while it cannot take connections."""
    try:
        length, code = struct.unpack("!ii", await reader.readexactly(8))
        if code == 80877103:  # SSLRequest: "no SSL here", then the real start-up packet
            writer.write(b"N")
            length, _ = struct.unpack("!ii", await reader.readexactly(8))
        await reader.readexactly(length - 8)
        fields = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
        writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def gate(pg_only: PgServer) -> AsyncIterator[_Gate]:
    gate = _Gate()
    await gate.start()
    yield gate
    await gate.stop()


def _superuser(pg: PgServer) -> str:
    return pg.url.split("//", 1)[1].split("@", 1)[0]


async def test_a_database_that_cannot_accept_connections_now_is_service_unavailable(
    make_api: MakeApi, pg_only: PgServer, gate: _Gate, tmp_path: Path, caplog: Any
) -> None:
    env = _env(pg_only, tmp_path, _superuser(pg_only), gate.port)
    api = await populate(await make_api(env))
    await gate.refuse()
    with caplog.at_level(logging.WARNING, "roomrpc"):
        await _all_unavailable(api)
    assert "CannotConnectNowError [57P03]" in caplog.text
    assert not any(r.exc_info for r in caplog.records)
    gate.refusing = False
    await _recovers(api)


def _serve(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        cwd=cwd,
        env={**os.environ, "HOST": "127.0.0.1", "PORT": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(done: subprocess.CompletedProcess[str], cause: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # the database, the cause and the variable, in one line
    assert lines[0].startswith("roomrpc: cannot open the database PostgreSQL postgresql://")
    assert cause in lines[0] and lines[0].endswith("(check DATABASE_URL)"), lines


@pytest.mark.parametrize(
    ("clause", "cause"),
    [("CONNECTION LIMIT 0", "[53300]"), ("NOLOGIN", "[28000]")],
)
async def test_start_up_refused_by_postgresql_is_one_line(
    pg_only: PgServer, role: str, tmp_path: Path, clause: str, cause: str
) -> None:
    await _admin(pg_only, f"ALTER ROLE {role} {clause}")
    done = await asyncio.to_thread(_serve, _env(pg_only, tmp_path, role), tmp_path)
    _one_line(done, cause)


async def test_start_up_while_postgresql_starts_is_one_line(
    pg_only: PgServer, gate: _Gate, tmp_path: Path
) -> None:
    await gate.refuse()
    env = _env(pg_only, tmp_path, _superuser(pg_only), gate.port)
    done = await asyncio.to_thread(_serve, env, tmp_path)
    _one_line(done, "[57P03]")
