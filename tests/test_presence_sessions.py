"""Presence of our own over real sockets: join, status, grace, instances, access, watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from server.bus import PostgresBus
from server.domain.presence import (
    PresentSession,
    Source,
    change_of,
    heartbeat_every,
    members_of,
    sweep_every,
)
from server.http.app import DEPS
from tests.support.live import declared, error_data
from tests.support.sockets import WsRpc
from tests.support.world import Api, populate

MakeApi = Callable[[dict[str, str]], Awaitable[Api]]
HALL = {"roomBeingId": "@hall"}
WAIT = 10.0  # seconds a test waits for what must happen, before it fails


class Socket(WsRpc):
    """A WebSocket to ``/rpc`` with the shortcuts these tests use."""

    async def ok(self, method: str, params: Any) -> Any:
        answer = await self.call(method, params)
        assert "result" in answer, answer
        return answer["result"]

    async def error(self, method: str, params: Any) -> dict[str, Any]:
        answer = await self.call(method, params)
        assert "error" in answer, answer
        return answer["error"]  # type: ignore[no-any-return]

    async def event(self, sid: str) -> Any:
        """The next event's data."""
        params = await self.next(sid)
        assert "data" in params, params
        return params["data"]

    def quiet(self, sid: str) -> bool:
        return self.pending(sid) == 0


async def _connect(api: Api, as_: str | None) -> Socket:
    ws = await Socket.connect(api.client, token=None if as_ is None else api.token(as_))
    assert isinstance(ws, Socket)
    return ws


@asynccontextmanager
async def socket(api: Api, as_: str | None) -> AsyncIterator[Socket]:
    ws = await _connect(api, as_)
    try:
        yield ws
    finally:
        await ws.close()


async def members(api: Api, room: str = "@hall") -> list[dict[str, Any]]:
    return await api.ok("presence.members", {"roomBeingId": room}, as_="@member")  # type: ignore[no-any-return]


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``check`` holds (polling), failing after WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while not await check():
            await asyncio.sleep(0.05)


def who(found: list[dict[str, Any]]) -> list[tuple[str, list[str | None]]]:
    return [(m["identity"], [s["device"] for s in m["sessions"]]) for m in found]


@pytest.fixture
async def short(make_api: MakeApi, db_env: dict[str, str]) -> Api:
    """The world with a one-second grace period."""
    env = {**db_env, "PRESENCE_GRACE_SECONDS": "1", "PRESENCE_TTL_SECONDS": "3"}
    return await populate(await make_api(env))


# Over plain HTTP ---------------------------------------------------------------------------


async def test_join_over_http_says_to_use_the_websocket(world: Api) -> None:
    error = await declared(world, "presence.join", HALL, as_="@member")
    assert error_data(error) == ("BAD_REQUEST", "websocket_required")
    assert "WebSocket" in error["message"]
    assert await members(world) == []


async def test_update_and_leave_without_a_session(world: Api) -> None:
    error = await declared(world, "presence.update", {**HALL, "status": "away"}, as_="@member")
    assert error_data(error) == ("NOT_FOUND", "not_present")
    assert await world.ok("presence.leave", HALL, as_="@member") is False


async def test_bad_status_and_long_custom_text_say_where(world: Api) -> None:
    bad = {**HALL, "status": "asleep"}
    error = await declared(world, "presence.update", bad, as_="@member")
    assert error["data"]["issues"][0]["path"] == "$.status"
    long = {**HALL, "customStatus": "x" * 101}
    error = await declared(world, "presence.update", long, as_="@member")
    assert error["data"]["issues"][0]["path"] == "$.customStatus"


# On a socket -------------------------------------------------------------------------------


async def test_join_update_leave_on_a_socket(short: Api) -> None:
    async with socket(short, "@member") as ws:
        joined = await ws.ok("presence.join", {**HALL, "device": "tab-1", "status": "busy"})
        assert joined["resumed"] is False
        [session] = joined["member"]["sessions"]
        assert (session["device"], session["status"], session["source"]) == (
            "tab-1",
            "busy",
            "socket",
        )
        await ws.ok("presence.join", {**HALL, "device": "phone"})
        assert who(await members(short)) == [("@member", ["tab-1", "phone"])]
        update = {**HALL, "device": "tab-1", "status": "away", "customStatus": "lunch"}
        member = await ws.ok("presence.update", update)
        changed = [s for s in member["sessions"] if s["device"] == "tab-1"]
        assert [(s["status"], s["customStatus"]) for s in changed] == [("away", "lunch")]
        cleared = await ws.ok("presence.update", {**HALL, "device": "tab-1", "customStatus": None})
        assert [s["customStatus"] for s in cleared["sessions"]] == [None, None]
        assert [s["status"] for s in cleared["sessions"]] == ["away", "online"]
        assert await ws.ok("presence.leave", {**HALL, "device": "phone"}) is True
        assert who(await members(short)) == [("@member", ["tab-1"])]
        assert await ws.ok("presence.leave", {**HALL, "device": "tab-1"}) is True
        assert await members(short) == []  # at once: no grace after a leave


async def test_access_is_the_spaces(short: Api) -> None:
    async with socket(short, "@stranger") as ws:
        error = await ws.error("presence.join", {"roomBeingId": "@room"})
        assert error_data(error) == ("NOT_FOUND", "no_such_being")
        error = await ws.error("presence.join", {"roomBeingId": "@nobody"})
        assert error_data(error) == ("NOT_FOUND", "no_such_being")
        assert (await ws.ok("presence.join", HALL))["member"]["beingId"] == "@stranger"
    async with socket(short, "@listener") as ws:
        await ws.ok("presence.join", {"roomBeingId": "@room"})
        assert who(await members(short, "@room")) == [("@listener", [None])]
    for outsider in ("@stranger", None):
        error = await declared(short, "presence.members", {"roomBeingId": "@room"}, as_=outsider)
        assert error_data(error) == ("NOT_FOUND", "no_such_being")
    error = await declared(short, "presence.leave", {"roomBeingId": "@room"}, as_="@stranger")
    assert error_data(error) == ("NOT_FOUND", "no_such_being")


async def test_a_socket_needs_a_signed_in_caller(short: Api) -> None:
    async with socket(short, None) as ws:
        error = await ws.error("presence.join", HALL)
        assert error_data(error)[0] == "UNAUTHORIZED"


async def test_sessions_per_socket_are_bounded(make_api: MakeApi, db_env: dict[str, str]) -> None:
    api = await populate(await make_api({**db_env, "PRESENCE_SESSIONS_PER_SOCKET": "2"}))
    async with socket(api, "@member") as ws:
        await ws.ok("presence.join", {**HALL, "device": "a"})
        await ws.ok("presence.join", {"roomBeingId": "@room", "device": "a"})
        error = await ws.error("presence.join", {**HALL, "device": "b"})
        assert error_data(error) == ("TOO_MANY_REQUESTS", "too_many_sessions")
        await ws.ok("presence.join", {**HALL, "device": "a", "status": "busy"})  # held already
        await ws.ok("presence.leave", {"roomBeingId": "@room", "device": "a"})
        await ws.ok("presence.join", {**HALL, "device": "b"})
        assert who(await members(api)) == [("@member", ["a", "b"])]


# Grace and instances -----------------------------------------------------------------------


async def test_a_reconnect_within_grace_is_the_same_session(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await populate(await make_api({**db_env, "PRESENCE_GRACE_SECONDS": "3"}))
    async with socket(api, "@member") as ws:
        first = await ws.ok("presence.join", {**HALL, "device": "tab", "status": "away"})
    assert who(await members(api)) == [("@member", ["tab"])]  # closed, within its grace
    async with socket(api, "@member") as ws:
        again = await ws.ok("presence.join", {**HALL, "device": "tab"})
    assert again["resumed"] is True
    assert again["member"] == first["member"]  # same since, status kept: nothing changed

    async def gone() -> bool:
        return await members(api) == []

    await eventually(gone)  # after the grace period
    async with socket(api, "@member") as ws:
        later = await ws.ok("presence.join", {**HALL, "device": "tab"})
    assert later["resumed"] is False and later["member"]["since"] > first["member"]["since"]
    assert later["member"]["sessions"][0]["status"] == "online"


async def test_without_grace_a_session_ends_with_its_socket(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await populate(await make_api({**db_env, "PRESENCE_GRACE_SECONDS": "0"}))
    async with socket(api, "@member") as ws:
        await ws.ok("presence.join", HALL)
        assert who(await members(api)) == [("@member", [None])]

    async def gone() -> bool:
        return await members(api) == []

    await eventually(gone)


async def test_sessions_of_a_silent_instance_expire(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    env = {**db_env, "PRESENCE_TTL_SECONDS": "2", "PRESENCE_GRACE_SECONDS": "60"}
    first = await populate(await make_api(env))
    second = await make_api(env)  # another instance on the same database
    async with socket(second, "@member") as ws, socket(first, "@owner") as other:
        await ws.ok("presence.join", HALL)
        await other.ok("presence.join", HALL)
        assert who(await members(first)) == [("@member", [None]), ("@owner", [None])]
        await asyncio.sleep(3)  # longer than the TTL: the heartbeat keeps both
        assert who(await members(first)) == [("@member", [None]), ("@owner", [None])]
        second.app[DEPS].presence.stop_heartbeat()  # as if it had crashed

        async def ghost_gone() -> bool:
            return who(await members(first)) == [("@owner", [None])]

        await eventually(ghost_gone)  # its socket is still open: no grace, the TTL ended it
        assert who(await members(second)) == [("@owner", [None])]


# presence.watch ----------------------------------------------------------------------------


def kinds(events: list[Any]) -> list[tuple[str, str | None, int]]:
    """(type, identity, sessions) of each change event."""
    return [(e["type"], e["member"]["identity"], len(e["member"]["sessions"])) for e in events]


async def test_watch_sends_a_snapshot_then_joins_updates_and_leaves(short: Api) -> None:
    async with socket(short, "@owner") as here, socket(short, "@member") as ws:
        await here.ok("presence.join", {**HALL, "status": "busy"})
        sid = await ws.subscribe("presence.watch", HALL)
        first = await ws.next(sid)
        assert first["data"]["type"] == "snapshot"
        [owner] = first["data"]["members"]
        assert (owner["identity"], owner["sessions"][0]["status"]) == ("@owner", "busy")
        steps = [
            ("presence.join", {**HALL, "device": "tab"}),
            ("presence.join", {**HALL, "device": "phone"}),
            ("presence.update", {**HALL, "device": "phone", "status": "away"}),
            ("presence.leave", {**HALL, "device": "tab"}),
            ("presence.leave", {**HALL, "device": "phone"}),
        ]
        events = []
        for method, params in steps:  # one at a time: quick writes may fold into one event
            await ws.ok(method, params)
            events.append(await ws.next(sid))
        assert kinds([e["data"] for e in events]) == [
            ("join", "@member", 1),
            ("update", "@member", 2),
            ("update", "@member", 2),
            ("update", "@member", 1),
            ("leave", "@member", 0),
        ]
        assert events[2]["data"]["member"]["sessions"][1]["status"] == "away"
        ids = [int(first["id"])] + [int(e["id"]) for e in events]
        assert ids == sorted(set(ids))  # increasing within the subscription
        resumed = await ws.subscribe("presence.watch", {**HALL, "lastEventId": events[-1]["id"]})
        again = await ws.next(resumed)  # a resume starts with a snapshot again
        assert again["data"]["type"] == "snapshot" and int(again["id"]) > ids[-1]
        assert [m["identity"] for m in again["data"]["members"]] == ["@owner"]


async def test_a_reconnect_within_grace_tells_nothing(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    api = await populate(await make_api({**db_env, "PRESENCE_GRACE_SECONDS": "2"}))
    async with socket(api, "@owner") as watcher:
        sid = await watcher.subscribe("presence.watch", HALL)
        assert (await watcher.event(sid))["type"] == "snapshot"
        async with socket(api, "@member") as ws:
            await ws.ok("presence.join", {**HALL, "device": "tab"})
        assert kinds([await watcher.event(sid)]) == [("join", "@member", 1)]
        async with socket(api, "@member") as ws:
            assert (await ws.ok("presence.join", {**HALL, "device": "tab"}))["resumed"] is True
        # The next event is the leave once the grace period is over: nothing came between.
        assert kinds([await watcher.event(sid)]) == [("leave", "@member", 0)]


async def test_watch_is_for_those_who_may_see_the_space(short: Api) -> None:
    async with socket(short, "@stranger") as ws:
        answer = await ws.call("presence.watch", {"roomBeingId": "@room"})
        assert error_data(answer["error"]) == ("NOT_FOUND", "no_such_being")
    async with socket(short, "@member") as ws:
        sid = await ws.subscribe("presence.watch", {"roomBeingId": "@room"})
        assert (await ws.event(sid))["type"] == "snapshot"


async def test_a_removed_member_stops_watching(world: Api) -> None:
    async with socket(world, "@member") as ws:
        sid = await ws.subscribe("presence.watch", {"roomBeingId": "@room"})
        assert (await ws.event(sid))["type"] == "snapshot"
        removal = {"spaceId": "@room", "beingId": "@member"}
        await world.ok("space.removeMember", removal, as_="@owner")
        end = await ws.next(sid)
        assert end["error"]["data"]["code"] == "NOT_FOUND"


async def test_two_instances_see_each_others_presence(
    make_api: MakeApi, db_env: dict[str, str]
) -> None:
    if "DATABASE_URL" not in db_env:
        pytest.skip("instances share events through PostgreSQL (SQLite's bus is in-process)")
    env = {**db_env, "PRESENCE_TTL_SECONDS": "2", "PRESENCE_GRACE_SECONDS": "60"}
    first = await populate(await make_api(env))
    second = await make_api(env)
    async with socket(first, "@owner") as watcher, socket(second, "@member") as ws:
        sid = await watcher.subscribe("presence.watch", HALL)
        assert (await watcher.event(sid))["type"] == "snapshot"
        await ws.ok("presence.join", {**HALL, "status": "away", "customStatus": "on a train"})
        joined = await watcher.event(sid)
        assert kinds([joined]) == [("join", "@member", 1)]
        assert joined["member"]["sessions"][0]["customStatus"] == "on a train"
        await ws.ok("presence.update", {**HALL, "status": "online"})
        updated = await watcher.event(sid)
        assert updated["member"]["sessions"][0]["status"] == "online"
        bus = first.app[DEPS].opened_bus
        assert isinstance(bus, PostgresBus)
        bus.drop_listener()  # the first one's listener breaks; a status changes meanwhile
        await ws.ok("presence.update", {**HALL, "status": "busy"})
        seen = [await watcher.event(sid)]
        while seen[-1]["type"] != "snapshot":  # after reconnecting: the rows, whole
            seen.append(await watcher.event(sid))
        [member] = seen[-1]["members"]
        if member["sessions"][0]["status"] != "busy":  # read before the update committed
            assert kinds([await watcher.event(sid)]) == [("update", "@member", 1)]
        second.app[DEPS].presence.stop_heartbeat()  # the second instance "crashes"
        events = [await watcher.event(sid)]
        while events[-1]["type"] != "leave":  # the update, unless the snapshot had it
            events.append(await watcher.event(sid))
        assert kinds(events[-1:]) == [("leave", "@member", 0)]
        assert all(e["member"]["sessions"][0]["status"] == "busy" for e in events[:-1])


async def test_watchers_of_one_change_share_one_read(short: Api) -> None:
    storage = short.storage
    engine = storage.loop_reader or storage.engine.sync_engine
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM presence_sessions JOIN beings" in statement:
            reads.append(statement)

    watchers = [await _connect(short, "@owner") for _ in range(8)]
    sids = [await w.subscribe("presence.watch", HALL) for w in watchers]
    for w, sid in zip(watchers, sids, strict=True):
        assert (await w.event(sid))["type"] == "snapshot"
    async with socket(short, "@member") as ws:
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            await ws.ok("presence.join", HALL)
            for w, sid in zip(watchers, sids, strict=True):
                assert kinds([await w.event(sid)]) == [("join", "@member", 1)]
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
    assert len(reads) < len(watchers)  # the join's own reads and one shared by the watchers
    for w in watchers:
        await w.close()


# The pure rules ----------------------------------------------------------------------------


def _at(second: int) -> datetime:
    return datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC)


def test_each_being_once_in_arrival_order_and_the_event_a_change_makes() -> None:
    def one(identity: str, being: str | None, device: str | None, second: int) -> PresentSession:
        source: Source = "socket" if identity == being else "livekit"
        return PresentSession(
            identity, being, being or identity, device, "online", None, _at(second), source
        )

    found = members_of(
        [
            one("@b", "@b", "phone", 3),
            one("@a#tab", "@a", "tab", 2),
            one("@b", "@b", None, 1),
            one("guest", None, None, 2),
        ]
    )
    assert [(m.identity, m.since.second, len(m.sessions)) for m in found] == [
        ("@b", 1, 2),
        ("@a", 2, 1),
        ("guest", 2, 1),
    ]
    assert [s.device for s in found[0].sessions] == [None, "phone"]
    b, a = found[0], found[1]
    assert (change_of(None, a), change_of(a, None), change_of(a, a)) == ("join", "leave", None)
    assert change_of(b, members_of(b.sessions[:1])[0]) == "update"
    assert a.gone().sessions == () and a.gone().since == a.since


def test_heartbeat_and_sweep_periods() -> None:
    assert heartbeat_every(30) == 10
    assert sweep_every(60, 30) == 5.0  # capped
    assert sweep_every(1, 3) == 0.25
    assert sweep_every(0, 0.1) == 0.05  # floored; no grace: the TTL decides
