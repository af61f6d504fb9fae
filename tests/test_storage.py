"""Storage guarantees on SQLite and PostgreSQL: nothing lost, nothing half-written,
a database outage answered as SERVICE_UNAVAILABLE, several servers on one database."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event

from server.http.app import CALLER
from server.rpc import Principal
from server.settings import SettingsError, load_settings
from server.storage import DatabaseMissing, DatabaseOpenError, Storage
from server.storage.tables import metadata
from tests.support.world import Api

MakeApi = Callable[[dict[str, str]], Awaitable[Api]]
SPACE = {"id": "@kept", "name": "Kept", "type": "space"}


async def test_readyz_reports_the_database(world: Api) -> None:
    response = await world.client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"]["database"] == "ok"


async def test_a_restart_keeps_everything(make_api: MakeApi, db_env: dict[str, str]) -> None:
    first = await make_api(db_env)
    from server.cli.seed import create_being

    await create_being(first.storage, {"id": "@alice", "name": "Alice", "type": "user"})
    await first.ok("being.create", SPACE, as_="@alice")
    await first.ok("intention.create", {"spaceId": "@kept", "content": "still here"}, as_="@alice")
    await first.client.close()
    second = await make_api(db_env)
    assert second.storage.fresh is False
    assert (await second.ok("being.get", {"id": "@kept"}, as_="@alice"))["ownerId"] == "@alice"
    page = await second.ok("intention.list", {"spaceId": "@kept"})
    assert [i["content"] for i in page["items"]] == ["still here"]


async def test_a_half_failed_write_leaves_no_trace(world: Api) -> None:
    engine = world.storage.engine.sync_engine

    def fail_membership(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO MEMBERSHIPS"):
            raise RuntimeError("disk on fire")

    event.listen(engine, "before_cursor_execute", fail_membership)
    try:
        error = await world.error("being.create", SPACE, as_="@member")
    finally:
        event.remove(engine, "before_cursor_execute", fail_membership)
    assert error["code"] == -32603 and "fire" not in str(error)
    assert await world.code("being.get", {"id": "@kept"}, as_="@ops", admin=True) == "NOT_FOUND"
    assert (await world.ok("being.create", SPACE, as_="@member"))["id"] == "@kept"


async def test_the_tables_match_the_migrations(world: Api) -> None:
    def diff(conn: sa.Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async with world.storage.read() as conn:
        assert await conn.run_sync(diff) == []


async def test_the_server_side_caller_reads_storage(world: Api) -> None:
    from schema import being

    caller = world.app[CALLER]
    room = await caller.as_principal(Principal("@listener"))(being.get, {"id": "@room"})
    assert room.visibility == "private"
    with pytest.raises(Exception, match="NOT_FOUND"):
        await caller.as_principal(Principal("@stranger"))(being.get, {"id": "@room"})


async def test_a_prepared_read_reads_what_sqlalchemy_reads(world: Api) -> None:
    """On SQLite's loop reader ``Prepared`` skips SQLAlchemy's execution: the values it
    reads (times, JSON, NULLs, a value fixed in the statement) are SQLAlchemy's."""
    from datetime import UTC, datetime, timedelta

    from server.storage.store import Prepared
    from server.storage.tables import beings

    statement = sa.select(
        beings.c.id,
        beings.c.created_at,
        beings.c.meta,
        beings.c.visibility,
        beings.c.owner_id,
        sa.literal(7),
    ).where(
        beings.c.id == sa.bindparam("id"),
        beings.c.created_at < sa.bindparam("before", type_=beings.c.created_at.type),
        beings.c.type != "bot",
    )
    prepared = Prepared(statement)
    later = datetime.now(UTC) + timedelta(hours=1)
    for params in (
        {"id": "@hall", "before": later},
        {"id": "@owner", "before": later},
        {"id": "@owner", "before": datetime(2000, 1, 1, tzinfo=UTC)},
        {"id": "@nobody", "before": later},
    ):
        async with world.storage.read() as conn:
            read = await prepared.first(conn, params)
            row = (await conn.execute(statement, params)).first()
        assert read == (None if row is None else tuple(row)), params
        assert read is None or read[1].tzinfo is not None
    async with world.storage.read() as conn:
        hall = await prepared.first(conn, {"id": "@hall", "before": later})
    assert hall is not None and hall[0] == "@hall" and hall[3] == "public" and hall[5] == 7
    # SQLite's reads took the DBAPI path (compiled once); PostgreSQL's, SQLAlchemy's
    assert (prepared._compiled is not None) == (world.storage.loop_reader is not None)


async def test_two_servers_on_one_database_see_each_others_writes(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    one, two = await asyncio.gather(make_api(db_env), make_api(db_env))  # both migrate at once
    from server.cli.seed import create_being

    await create_being(one.storage, {"id": "@alice", "name": "Alice", "type": "user"})
    await one.ok("being.create", SPACE, as_="@alice")
    assert (await two.ok("being.get", {"id": "@kept"}))["ownerId"] == "@alice"
    await two.ok("intention.create", {"spaceId": "@kept", "content": "from two"}, as_="@alice")
    page = await one.ok("intention.list", {"spaceId": "@kept"})
    assert [i["content"] for i in page["items"]] == ["from two"]
    assert await two.code("being.create", SPACE, as_="@alice") == "CONFLICT"


class _Proxy:
    """A TCP proxy in front of PostgreSQL that a test can cut and restore."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self._writers += [writer, up_writer]
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@asynccontextmanager
async def _outage(api: Api, env: dict[str, str], proxy: _Proxy | None) -> AsyncIterator[None]:
    """The database goes away for the duration of the block, then comes back."""
    if proxy is not None:
        await proxy.cut()
        yield
        await proxy.start()
        return
    folder = Path(env["DATA_DIR"])
    away = folder.with_name(folder.name + "-away")
    await api.storage.close()  # SQLite keeps open files: let them go first
    os.rename(folder, away)
    try:
        yield
    finally:
        os.rename(away, folder)


async def test_a_database_outage_is_service_unavailable(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    proxy = None
    if "DATABASE_URL" in db_env:
        proxy = _Proxy()
        await proxy.start()
        db_env = {
            **db_env,
            "DATABASE_URL": f"postgresql://{_user(db_env)}@127.0.0.1:{proxy.port}/test",
        }
    api = await make_api(db_env)
    try:
        await _survive_an_outage(api, db_env, proxy)
    finally:
        await api.client.close()
        if proxy is not None:
            await proxy.cut()


async def _survive_an_outage(api: Api, db_env: dict[str, str], proxy: _Proxy | None) -> None:
    from server.cli.seed import create_being

    await create_being(api.storage, {"id": "@alice", "name": "Alice", "type": "user"})
    assert await api.code("auth.me", as_="@alice") == "ok"
    async with _outage(api, db_env, proxy):
        for params, who in (({"id": "@alice"}, "@alice"), ({"id": "@bob"}, None)):
            _status, body = await api.call("being.get", params, as_=who)
            error = body["error"]
            assert error["code"] == -32053 and error["data"]["code"] == "SERVICE_UNAVAILABLE"
            assert error["data"]["retryable"] is True
            assert "Traceback" not in str(body) and "sqlite" not in str(body).lower()
        response = await api.client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["checks"]["database"] == "unavailable"
    for _ in range(3):  # the first call after an outage may still meet a stale connection
        if await api.code("being.get", {"id": "@alice"}) == "ok":
            break
    assert await api.code("being.get", {"id": "@alice"}) == "ok"
    assert (await api.client.get("/readyz")).status == 200


def _user(env: dict[str, str]) -> str:
    return env["DATABASE_URL"].split("//", 1)[1].split("@", 1)[0]


async def test_an_unreachable_database_fails_start_up_cleanly(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/test"}
    with pytest.raises(
        DatabaseOpenError, match=r"^ConnectionRefusedError: \[Errno 111\] Connect call failed"
    ):
        await Storage.open(load_settings(env, env_file=None))


@pytest.mark.parametrize("url", ["mysql://x@y/z", "not a url"])
async def test_an_unsupported_database_url_is_refused(tmp_path: Path, url: str) -> None:
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": url}
    with pytest.raises(SettingsError, match=r"^invalid setting DATABASE_URL="):
        load_settings(env, env_file=None)


async def test_a_reader_creates_nothing(tmp_path: Path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path / "data")}, env_file=None)
    with pytest.raises(DatabaseMissing, match="no database file at"):
        await Storage.open(settings, create=False)
    assert not (tmp_path / "data").exists()


def test_migrations_form_one_chain_in_file_order() -> None:
    """One head, and each file revises the one before it: a merge cannot leave two heads."""
    from alembic.script import ScriptDirectory

    from server.storage.migrate import MIGRATIONS

    scripts = ScriptDirectory(str(MIGRATIONS))
    assert len(scripts.get_heads()) == 1
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    files = sorted(p.stem for p in (MIGRATIONS / "versions").glob("0*.py"))
    by_file = [Path(str(scripts.get_revision(r).module.__file__)).stem for r in chain]
    assert by_file == files


def test_the_newest_revision_is_read_as_alembic_reads_it() -> None:
    """Start-up compares the database with a head read from the scripts' text (so a
    database at head never imports Alembic); it must be the head Alembic finds."""
    from alembic.script import ScriptDirectory

    from server.storage import migrate

    expected = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert expected is not None
    assert migrate.head() == expected


def test_a_worker_at_the_newest_revision_does_not_import_alembic(tmp_path: Path) -> None:
    """Opening a database at head (as each worker does) leaves Alembic unimported."""
    import subprocess
    import sys

    env = {**os.environ, "DATA_DIR": str(tmp_path), "AUTH_SECRET": "s" * 48}
    code = (
        "import asyncio, sys\n"
        "from server.settings import load_settings\n"
        "from server.storage import Storage\n"
        "async def main():\n"
        "    storage = await Storage.open(load_settings(env_file=None))\n"
        "    await storage.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.stdout.strip() == "True", first.stderr  # an empty database: migrated
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert again.stdout.strip() == "False", again.stderr
