"""Presence from LiveKit when its webhooks are dropped or reordered: sessions told apart by
participant sid, and the periodic reconcile (one instance per room, by lease)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from livekit.protocol.webhook import WebhookEvent

from server.domain.access import now
from server.http.app import DEPS
from server.procedures._reconcile import reconcile_due
from server.storage import presence
from tests.livekit_server import LiveKitServer
from tests.support.live import start_live
from tests.support.sockets import WsRpc
from tests.support.world import Api, populate

HALL = {"roomBeingId": "@hall"}


async def members(api: Api) -> list[str]:
    found = await api.ok("presence.members", HALL, as_="@member")
    return [m["identity"] for m in found]


async def captured(lk: LiveKitServer, work: Any) -> list[WebhookEvent]:
    """The events ``work`` causes, kept from delivery (to be delivered by hand)."""
    url, lk.webhooks.url = lk.webhooks.url, None
    before = len(lk.events)
    try:
        await work
    finally:
        lk.webhooks.url = url
    return lk.events[before:]


async def test_a_late_leave_of_an_older_session_keeps_the_newer(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    # The same identity connects again: LiveKit ends the first session (participant_left of
    # the old sid) and starts a new one; the two webhooks arrive the other way round.
    events = await captured(livekit_server, livekit_server.join("@hall", "@member"))
    assert [e.event for e in events] == ["participant_left", "participant_joined"]
    left, joined = events
    assert left.participant.sid != joined.participant.sid
    await livekit_server.deliver(joined)
    await livekit_server.deliver(left)
    assert await members(live) == ["@member"]


async def test_a_leave_of_the_same_millisecond_but_another_sid_is_stale(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    [old_left, new_joined] = await captured(livekit_server, livekit_server.join("@hall", "@member"))
    old_left.participant.joined_at_ms = new_joined.participant.joined_at_ms  # one millisecond
    await livekit_server.deliver(new_joined)
    await livekit_server.deliver(old_left)
    assert await members(live) == ["@member"]


async def test_connection_aborted_is_a_leave(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member")
    await livekit_server.join("@hall", "@mod")
    await livekit_server.abort("@hall", "@member")
    assert "participant_connection_aborted" in livekit_server.event_names()
    assert await members(live) == ["@mod"]


async def test_room_finished_clears_the_room(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member")
    await livekit_server.join("@hall", "@mod")
    await captured(livekit_server, livekit_server.leave("@hall", "@mod"))  # its leave is lost
    await livekit_server.finish_room("@hall")
    assert livekit_server.event_names()[-1] == "room_finished"
    assert await members(live) == []


async def test_webhooks_dropped_after_30_s_are_repaired_by_the_periodic_reconcile(
    make_api: Any, db_env: dict[str, str], livekit_server: LiveKitServer
) -> None:
    api = await populate(
        await start_live(make_api, {**db_env, "LIVEKIT_RECONCILE_SECONDS": "0.3"}, livekit_server)
    )
    await livekit_server.join("@hall", "@member")
    await livekit_server.join("@hall", "@mod")
    assert await members(api) == ["@member", "@mod"]
    livekit_server.webhooks.max_age = 0.05  # LiveKit's 30 s, shortened
    livekit_server.webhooks.hold()  # our endpoint is unreachable for a while
    livekit_server.store.leave("@hall", "@member")  # (not awaiting its delivery)
    await asyncio.sleep(0.1)
    livekit_server.webhooks.release()
    await livekit_server.flush_webhooks()
    # The leave never reaches us: only a round of the periodic reconcile (it may already
    # have run) can take @member out.
    assert [e.event for e in livekit_server.webhooks.dropped] == ["participant_left"]
    for _ in range(50):
        if await members(api) == ["@mod"]:
            break
        await asyncio.sleep(0.1)
    assert await members(api) == ["@mod"]


async def test_one_instance_at_a_time_reconciles_a_room(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    await livekit_server.join("@room", "@member")
    deps = live.app[DEPS]
    assert deps.livekit is not None
    first, second = await asyncio.gather(
        reconcile_due(deps, deps.livekit, "instance-a", 60),
        reconcile_due(deps, deps.livekit, "instance-b", 60),
    )
    assert sorted(first + second) == ["@hall", "@room"]  # each room once, by one of them
    again = await reconcile_due(deps, deps.livekit, "instance-b", 60)
    assert sorted(again) == sorted(second)  # a holder keeps its rooms, the others wait
    async with live.storage.write() as conn:  # a lease that has run out is taken over
        later = now() + timedelta(seconds=61)
        assert await presence.take_lease(conn, "@hall", "instance-c", later, 60)
        assert not await presence.take_lease(conn, "@hall", "instance-a", later, 60)


async def test_a_repair_by_the_reconcile_is_told_to_watchers(
    make_api: Any, db_env: dict[str, str], livekit_server: LiveKitServer
) -> None:
    api = await populate(await start_live(make_api, db_env, livekit_server))
    ws = await WsRpc.connect(api.client, token=api.token("@owner"))
    sid = await ws.subscribe("presence.watch", HALL)
    assert (await ws.next(sid))["data"]["type"] == "snapshot"
    await livekit_server.join("@hall", "@member")
    assert (await ws.next(sid))["data"]["type"] == "join"
    await captured(livekit_server, livekit_server.leave("@hall", "@member"))  # lost
    deps = api.app[DEPS]
    assert deps.livekit is not None
    assert await reconcile_due(deps, deps.livekit, "instance-a", 60) == ["@hall"]
    left = (await ws.next(sid))["data"]
    assert (left["type"], left["member"]["identity"], left["member"]["sessions"]) == (
        "leave",
        "@member",
        [],
    )
    await ws.close()
