"""Databases for storage tests: SQLite always, PostgreSQL whenever one is reachable.

Every PostgreSQL test gets its own schema, named with a random per-session
prefix, so engineers and CI sharing one server never see each other's rows;
the session drops its schemas when it ends. A run without PostgreSQL says so
in the summary.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

__all__ = ["AUTH_SECRET", "PgServer", "db_env", "pg"]

AUTH_SECRET = "roomrpc-test-secret-" + "0123456789abcdef" * 2
PG_DSN = "postgresql://{user}@127.0.0.1:5432/test"
_SKIPPED: list[str] = []


class PgServer:
    """A reachable PostgreSQL and the schemas this session made on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"roomrpc_t{secrets.token_hex(4)}_"
        self._count = itertools.count(1)

    def new_schema(self) -> str:
        """A schema name no other run uses (created by the server when it starts)."""
        return f"{self.prefix}{next(self._count)}"

    def drop_all(self) -> None:
        asyncio.run(_drop(self.url, self.prefix))


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, timeout=2)


async def _drop(url: str, prefix: str) -> None:
    conn = await _connect(url)
    try:
        rows = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", prefix
        )
        for row in rows:
            await conn.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()


def _reachable() -> str | None:
    given = os.environ.get("ROOMRPC_TEST_PG_URL")
    for url in [given] if given else [PG_DSN.format(user=u) for u in ("postgres", "root")]:
        try:
            asyncio.run(_probe(url))
        except (OSError, asyncpg.PostgresError, TimeoutError):
            continue
        return url
    return None


async def _probe(url: str) -> None:
    conn = await _connect(url)
    await conn.close()


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer | None]:
    """The PostgreSQL server, or None when none answers at 127.0.0.1:5432."""
    url = _reachable()
    server = PgServer(url) if url else None
    yield server
    if server is not None:
        server.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_env(request: pytest.FixtureRequest, tmp_path: Path, pg: PgServer | None) -> dict[str, str]:
    """Settings (as environment variables) for a fresh database of each kind."""
    env = {"DATA_DIR": str(tmp_path), "AUTH_SECRET": AUTH_SECRET}
    if request.param == "postgresql":
        if pg is None:
            _SKIPPED.append(request.node.nodeid)
            pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (database test)")
        env["DATABASE_URL"] = pg.url
        env["DATABASE_SCHEMA"] = pg.new_schema()
    return env


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly when the PostgreSQL half of the storage tests did not run."""
    if _SKIPPED:
        terminalreporter.write_sep(
            "!",
            f"PostgreSQL NOT TESTED: {len(_SKIPPED)} storage tests skipped "
            "(no server at 127.0.0.1:5432, database test)",
            red=True,
        )
