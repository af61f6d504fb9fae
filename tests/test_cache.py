"""The row cache behind ``being.get``: a write is seen on the writer's next read, and on
another instance of the same PostgreSQL database once the bus has told it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from server.bus import Hub
from server.cli.seed import create_being
from server.http.app import DEPS
from server.storage.cache import MISS, RowCache
from tests.support.db import AUTH_SECRET, PgServer
from tests.support.world import Api

MakeApi = Callable[[dict[str, str]], Awaitable[Api]]
_DELIVERY = 10.0  # seconds: a bound on the bus's delivery, never a speed assertion


async def _eventually(check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + _DELIVERY
    while not await check():
        assert time.monotonic() < deadline, "the other instance never saw the write"
        await asyncio.sleep(0.02)


async def _space(api: Api, visibility: str = "public") -> None:
    await create_being(api.storage, {"id": "@alice", "name": "Alice", "type": "user"})
    await create_being(api.storage, {"id": "@bob", "name": "Bob", "type": "user"})
    await api.ok(
        "being.create",
        {"id": "@kept", "name": "Kept", "type": "space", "visibility": visibility},
        as_="@alice",
    )


async def test_the_writer_reads_its_write_at_once(api: Api) -> None:
    await _space(api, "private")
    assert (await api.ok("being.get", {"id": "@kept"}, as_="@alice"))["name"] == "Kept"
    assert await api.code("being.get", {"id": "@kept"}, as_="@bob") == "NOT_FOUND"
    await api.ok("being.update", {"id": "@kept", "name": "Renamed"}, as_="@alice")
    assert (await api.ok("being.get", {"id": "@kept"}, as_="@alice"))["name"] == "Renamed"
    await api.ok("space.addMember", {"spaceId": "@kept", "beingId": "@bob"}, as_="@alice")
    assert (await api.ok("being.get", {"id": "@kept"}, as_="@bob"))["name"] == "Renamed"
    await api.ok("space.removeMember", {"spaceId": "@kept", "beingId": "@bob"}, as_="@alice")
    assert await api.code("being.get", {"id": "@kept"}, as_="@bob") == "NOT_FOUND"
    await api.ok("being.delete", {"id": "@kept"}, as_="@alice")
    assert await api.code("being.get", {"id": "@kept"}, as_="@alice") == "NOT_FOUND"


@pytest.fixture
async def two(make_api: MakeApi, pg: PgServer | None, tmp_path: Path) -> tuple[Api, Api]:
    """Two instances of the app on one PostgreSQL schema."""
    if pg is None:
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (database test)")
    env = {
        "DATA_DIR": str(tmp_path),
        "AUTH_SECRET": AUTH_SECRET,
        "DATABASE_URL": pg.url,
        "DATABASE_SCHEMA": pg.new_schema(),
    }
    one = await make_api(env)
    return one, await make_api(env)


async def test_a_write_on_one_instance_reaches_the_others_cache(two: tuple[Api, Api]) -> None:
    one, other = two
    await _space(one, "private")
    assert (await other.ok("being.get", {"id": "@kept"}, as_="@alice"))["name"] == "Kept"
    assert await other.code("being.get", {"id": "@kept"}, as_="@bob") == "NOT_FOUND"
    await one.ok("being.update", {"id": "@kept", "name": "Renamed"}, as_="@alice")

    async def renamed() -> bool:
        found = await other.ok("being.get", {"id": "@kept"}, as_="@alice")
        return bool(found["name"] == "Renamed")

    await _eventually(renamed)
    await one.ok("space.addMember", {"spaceId": "@kept", "beingId": "@bob"}, as_="@alice")

    async def member() -> bool:
        return await other.code("being.get", {"id": "@kept"}, as_="@bob") == "ok"

    await _eventually(member)
    await one.ok("being.delete", {"id": "@kept"}, as_="@alice")

    async def gone() -> bool:
        return await other.code("being.get", {"id": "@kept"}, as_="@alice") == "NOT_FOUND"

    await _eventually(gone)


async def test_a_resync_clears_the_cache(two: tuple[Api, Api]) -> None:
    """When the listener reconnects the bus says RESYNC: what was missed is read again."""
    one, other = two
    await _space(one)
    await other.ok("being.get", {"id": "@kept"}, as_="@alice")
    cache = other.storage.cache
    assert len(cache) > 0
    bus = other.app[DEPS].bus
    assert isinstance(bus, Hub)
    bus.resync()  # what the PostgreSQL bus does after a reconnect

    async def cleared() -> bool:
        return len(cache) == 0

    await _eventually(cleared)


def test_a_read_that_raced_with_a_write_is_not_kept() -> None:
    cache = RowCache(ttl=60, size=10)
    generation = cache.generation  # a read begins
    cache.drop(["@kept"])  # a write commits meanwhile
    cache.put("k", "old", ["@kept"], generation)  # the read ends: what it read may be old
    assert cache.get("k") is MISS
    cache.put("k", "new", ["@kept"], cache.generation)
    assert cache.get("k") == "new"


def test_entries_expire_and_the_cache_stays_bounded() -> None:
    cache = RowCache(ttl=0.05, size=3)
    for i in range(5):
        cache.put(i, str(i), [f"@b{i}"], cache.generation)
    assert len(cache) == 3 and cache.get(0) is MISS and cache.get(4) == "4"
    time.sleep(0.06)
    assert cache.get(4) is MISS


def test_off_keeps_nothing() -> None:
    cache = RowCache(ttl=0, size=10)
    cache.put("k", "v", ["@b"], cache.generation)
    assert cache.get("k") is MISS
