"""Subscriptions over real sockets: WebSocket frames, credentials, events, ends, SSE, resume."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from schema import Base, query
from tests.support.sockets import WsRpc, read_sse
from tests.support.world import Api


def _say(content: str, space: str = "@hall") -> dict[str, str]:
    return {"spaceId": space, "content": content}


async def _ws(api: Api, as_: str | None = None) -> WsRpc:
    return await WsRpc.connect(api.client, token=None if as_ is None else api.token(as_))


async def test_calls_over_the_socket_answer_as_post_does(world: Api) -> None:
    ws = await _ws(world, "@member")
    _status, posted = await world.call("being.get", {"id": "@hall"}, as_="@member")
    assert await ws.call("being.get", {"id": "@hall"}) == posted
    await ws.send(
        [
            {"jsonrpc": "2.0", "method": "system.health", "id": "a"},
            {"jsonrpc": "2.0", "method": "system.health"},
        ]
    )
    assert (await ws.answer("a"))["result"]["status"] == "ok"
    await ws.ws.send_str("{not json")
    await ws.ws.send_bytes(b'{"jsonrpc":"2.0","method":"system.health","id":1}')
    await asyncio.sleep(0.2)
    codes = [o["error"]["data"]["code"] for o in ws.other]
    assert codes == ["PARSE_ERROR", "BAD_REQUEST"]
    assert (await ws.call("system.health"))["result"]["status"] == "ok"  # still usable
    await ws.close()


async def test_intention_watch_delivers_what_is_created(world: Api) -> None:
    ws = await _ws(world, "@member")
    sid = await ws.subscribe("intention.watch", {"spaceId": "@room"})
    said = await world.ok("intention.create", _say("hi", "@room"), as_="@mod")
    event = await ws.next(sid)
    assert event == {"subscription": sid, "id": str(said["id"]), "data": said}
    listed = await world.ok("intention.list", {"spaceId": "@room"}, as_="@member")
    assert listed["items"][0] == event["data"]
    assert await ws.call("rpc.unsubscribe", {"subscription": sid}) == {
        "jsonrpc": "2.0",
        "result": True,
        "id": 2,
    }
    assert (await ws.call("rpc.unsubscribe", {"subscription": sid}))["result"] is False
    await world.ok("intention.create", _say("unheard", "@room"), as_="@mod")
    await asyncio.sleep(0.2)
    assert ws.pending(sid) == 0
    await ws.close()


async def test_the_subscribe_answer_says_where_it_starts(world: Api) -> None:
    """``lastEventId`` in the answer: the newest event then (the resume point when resuming);
    resuming there before any event came replays what came meanwhile, once."""
    ws = await _ws(world, "@member")
    before = await world.ok("intention.create", _say("before", "@room"), as_="@mod")
    answer = await ws.call("intention.watch", {"spaceId": "@room"})
    assert answer["result"]["lastEventId"] == str(before["id"])
    await ws.close()
    missed = await world.ok("intention.create", _say("missed", "@room"), as_="@mod")
    again = await _ws(world, "@member")
    resumed = await again.call(
        "intention.watch", {"spaceId": "@room", "lastEventId": str(before["id"])}
    )
    assert resumed["result"]["lastEventId"] == str(before["id"])
    sid = resumed["result"]["subscription"]
    assert (await again.next(sid))["id"] == str(missed["id"])
    changes = await again.call("space.watch", {"spaceId": "@room"})
    assert changes["result"]["lastEventId"].isdigit()
    presence = await again.call("presence.watch", {"roomBeingId": "@room"})
    assert "lastEventId" not in presence["result"]  # a snapshot first, each time
    await again.close()


async def test_access_is_checked_at_subscribe_as_the_read_checks_it(world: Api) -> None:
    anonymous = await _ws(world)
    hidden = await anonymous.call("intention.watch", {"spaceId": "@room"})
    assert hidden["error"]["data"]["code"] == "NOT_FOUND"
    assert await anonymous.subscribe("intention.watch", {"spaceId": "@hall"})
    stranger = await _ws(world, "@stranger")
    refused = await stranger.call("intention.watch", {"spaceId": "@room"})
    assert refused["error"]["data"]["code"] == "NOT_FOUND"
    await anonymous.close()
    await stranger.close()


async def test_rpc_authenticate_binds_the_socket(world: Api) -> None:
    ws = await _ws(world)
    bad = await ws.call("rpc.authenticate", {"token": "not-a-jwt"})
    assert bad["error"]["data"]["code"] == "UNAUTHORIZED"
    assert (await ws.call("auth.me"))["error"]["data"]["code"] == "UNAUTHORIZED"  # anonymous
    me = await ws.call("rpc.authenticate", {"token": world.token("@member")})
    assert me["result"] == (await ws.call("auth.me"))["result"]
    assert me["result"]["being"]["id"] == "@member"
    assert await ws.subscribe("intention.watch", {"spaceId": "@room"})
    await ws.close()


async def test_a_subscription_over_plain_post_says_how_to_subscribe(world: Api) -> None:
    error = await world.error("intention.watch", {"spaceId": "@hall"})
    assert error["data"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"] and "text/event-stream" in error["message"]


async def test_removed_member_and_deleted_space_end_subscriptions(world: Api) -> None:
    ws = await _ws(world, "@member")
    sid = await ws.subscribe("intention.watch", {"spaceId": "@room"})
    await world.ok("space.removeMember", {"spaceId": "@room", "beingId": "@member"}, as_="@owner")
    end = await ws.next(sid)
    assert end["error"]["data"]["code"] == "NOT_FOUND"
    await world.ok("intention.create", _say("secret", "@room"), as_="@mod")
    await asyncio.sleep(0.2)
    assert ws.pending(sid) == 0  # never what it may no longer read
    public = await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    await world.ok("being.delete", {"id": "@hall"}, as_="@owner")
    assert (await ws.next(public))["error"]["data"]["code"] == "NOT_FOUND"
    await ws.close()


async def test_resume_after_a_forced_disconnect_loses_and_repeats_nothing(world: Api) -> None:
    stop = asyncio.Event()
    created: list[int] = []

    async def writer() -> None:
        while not stop.is_set():
            created.append((await world.ok("intention.create", _say("x"), as_="@member"))["id"])
            await asyncio.sleep(0.005)

    task = asyncio.create_task(writer())
    seen: list[int] = []
    last: str | None = None
    for _round in range(3):
        ws = await _ws(world, "@member")
        params: dict[str, Any] = {"spaceId": "@hall"}
        if last is not None:
            params["lastEventId"] = last
        sid = await ws.subscribe("intention.watch", params)
        if not seen:
            await asyncio.sleep(0.05)
        for _ in range(5):
            event = await ws.next(sid)
            seen.append(int(event["id"]))
            last = event["id"]
        ws.ws._response.connection.transport.abort()  # type: ignore[union-attr]  # no close frame
        await asyncio.sleep(0.03)  # writes go on meanwhile
    stop.set()
    await task
    ws = await _ws(world, "@member")
    sid = await ws.subscribe("intention.watch", {"spaceId": "@hall", "lastEventId": last})
    while seen[-1] != created[-1]:
        seen.append(int((await ws.next(sid))["id"]))
    assert seen == [i for i in created if i >= seen[0]]  # no gap, no duplicate
    await ws.close()


async def test_bad_last_event_id_is_invalid_params(world: Api) -> None:
    ws = await _ws(world)
    error = (await ws.call("intention.watch", {"spaceId": "@hall", "lastEventId": "x"}))["error"]
    assert error["data"]["issues"][0]["path"] == "$.lastEventId"
    await ws.close()


async def test_sse_streams_events_and_resumes_from_last_event_id(world: Api) -> None:
    first = await world.ok("intention.create", _say("one"), as_="@member")
    second = await world.ok("intention.create", _say("two"), as_="@member")
    body = {"jsonrpc": "2.0", "method": "intention.watch", "params": {"spaceId": "@hall"}, "id": 1}
    headers = {
        "Accept": "text/event-stream",
        "Content-Type": "application/json",
        "Last-Event-ID": str(first["id"]),
        "Authorization": f"Bearer {world.token('@member')}",
    }
    response = await world.client.post("/rpc", data=json.dumps(body), headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    third = await world.ok("intention.create", _say("three"), as_="@member")
    events = await read_sse(response, 2)
    assert [e[0] for e in events] == [str(second["id"]), str(third["id"])]
    assert events[1][1]["method"] == "intention.watch"
    assert events[1][1]["params"]["data"] == third
    await world.ok("being.delete", {"id": "@hall"}, as_="@owner")
    [(end_id, end)] = await read_sse(response, 1)
    assert end_id is None and end["params"]["error"]["data"]["code"] == "NOT_FOUND"
    assert await response.content.read() == b"\n"  # the end event's blank line, then closed
    response.close()


async def test_sse_refusal_is_json(world: Api) -> None:
    body = {"jsonrpc": "2.0", "method": "intention.watch", "params": {"spaceId": "@room"}, "id": 1}
    headers = {"Accept": "text/event-stream", "Content-Type": "application/json"}
    response = await world.client.post("/rpc", data=json.dumps(body), headers=headers)
    assert response.headers["Content-Type"] == "application/json"
    assert (await response.json())["error"]["data"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_limits_are_typed_errors(make_api: Any, db_env: dict[str, str]) -> None:
    from tests.support.world import populate

    api = await populate(
        await make_api(
            {**db_env, "LIVE_SUBSCRIPTIONS_PER_SOCKET": "2", "LIVE_SOCKETS_PER_BEING": "1"}
        )
    )
    ws = await _ws(api, "@member")
    await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    third = await ws.call("intention.watch", {"spaceId": "@hall"})
    assert third["error"]["data"]["reason"] == "subscriptions_per_socket"
    assert third["error"]["data"]["code"] == "TOO_MANY_REQUESTS"
    other = await _ws(api)
    refused = await other.call("rpc.authenticate", {"token": api.token("@member")})
    assert refused["error"]["data"]["reason"] == "sockets_per_being"
    assert (await other.call("system.health"))["result"]["status"] == "ok"
    await ws.close()
    await other.close()


async def test_space_watch_sends_changes_and_resumes(world: Api) -> None:
    ws = await _ws(world, "@member")
    sid = await ws.subscribe("space.watch", {"spaceId": "@room"})
    await world.ok("space.addMember", {"spaceId": "@room", "beingId": "@stranger"}, as_="@owner")
    await world.ok(
        "space.setRole",
        {"spaceId": "@room", "beingId": "@stranger", "role": "listener"},
        as_="@owner",
    )
    await world.ok("being.update", {"id": "@room", "name": "Room"}, as_="@owner")
    events = [await ws.next(sid) for _ in range(3)]
    assert [(e["data"]["type"], e["data"]["beingId"], e["data"]["role"]) for e in events] == [
        ("memberAdded", "@stranger", "member"),
        ("roleChanged", "@stranger", "listener"),
        ("updated", None, None),
    ]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids)
    again = await ws.subscribe("space.watch", {"spaceId": "@room", "lastEventId": events[0]["id"]})
    assert [(await ws.next(again))["id"] for _ in range(2)] == [e["id"] for e in events[1:]]
    stranger = await _ws(world, "@stranger")
    watched = await stranger.subscribe("space.watch", {"spaceId": "@room"})
    await world.ok("space.removeMember", {"spaceId": "@room", "beingId": "@stranger"}, as_="@owner")
    assert (await stranger.next(watched))["error"]["data"]["code"] == "NOT_FOUND"
    removed = await ws.next(sid)
    assert removed["data"]["type"] == "memberRemoved"
    await world.ok("being.delete", {"id": "@room"}, as_="@owner")
    assert (await ws.next(sid))["data"]["type"] == "deleted"
    assert (await ws.next(sid))["error"]["data"]["reason"] == "deleted"
    await ws.close()
    await stranger.close()


async def test_token_expiry_ends_the_sockets_subscriptions(world: Api) -> None:
    ws = await WsRpc.connect(world.client, token=world.token("@member", ttl=1.5))
    sid = await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    end = await ws.next(sid, timeout=5)
    assert end["error"]["data"]["code"] == "UNAUTHORIZED"
    assert end["error"]["data"]["reason"] == "token_expired"
    assert (await ws.call("auth.me"))["error"]["data"]["code"] == "UNAUTHORIZED"
    await ws.close()


async def test_shutdown_ends_subscriptions_and_closes_going_away(world: Api) -> None:
    ws = await _ws(world, "@member")
    sid = await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    runner = world.client.server.runner
    assert runner is not None
    await runner.shutdown()
    end = await ws.next(sid)
    assert end["error"]["data"]["code"] == "SERVICE_UNAVAILABLE"
    assert end["error"]["data"]["retryable"] is True
    async with asyncio.timeout(5):
        await ws._reader
    assert ws.ws.close_code == 1001


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_a_slow_consumer_is_cut_off_not_buffered(
    make_api: Any, db_env: dict[str, str]
) -> None:
    from tests.support.world import populate

    api = await populate(await make_api({**db_env, "LIVE_QUEUE_SIZE": "8", "RATE_LIMITS": "false"}))
    ws = await _ws(api, "@member")
    sid = await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    transport = ws.ws._response.connection.transport  # type: ignore[union-attr]
    assert transport is not None
    transport.pause_reading()  # the client stops reading its socket
    token = api.token("@member")
    call = {"jsonrpc": "2.0", "method": "intention.create", "id": 1, "params": _say("x" * 4000)}
    for _ in range(25):  # 2500 events of 4 KB: more than the socket buffers hold
        status, _body = await api.post([call] * 100, token=token)
        assert status == 200
    transport.resume_reading()
    received = 0
    while True:
        params = await ws.next(sid)
        if "error" in params:
            break
        received += 1
    assert params["error"]["data"]["code"] == "TOO_MANY_REQUESTS"
    assert params["error"]["data"]["reason"] == "slow_consumer"
    assert received < 2500
    await ws.close()


async def test_two_instances_on_one_postgresql_see_each_others_events(
    make_api: Any, db_env: dict[str, str]
) -> None:
    if "DATABASE_URL" not in db_env:
        pytest.skip("several instances share PostgreSQL only")
    from server.bus import PostgresBus
    from server.http.app import DEPS
    from tests.support.world import populate

    first = await populate(await make_api(db_env))
    second = await make_api(db_env)
    ws = await _ws(first, "@member")
    sid = await ws.subscribe("intention.watch", {"spaceId": "@room"})
    said = await second.ok("intention.create", _say("from B", "@room"), as_="@mod")
    assert (await ws.next(sid))["data"] == said
    bus = first.app[DEPS].opened_bus
    assert isinstance(bus, PostgresBus)
    bus.drop_listener()  # the listener's connection breaks; writes go on
    missed = await second.ok("intention.create", _say("meanwhile", "@room"), as_="@mod")
    assert (await ws.next(sid))["data"] == missed  # caught up from the rows after reconnecting
    later = await second.ok("intention.create", _say("after", "@room"), as_="@mod")
    assert (await ws.next(sid))["data"] == later
    await asyncio.sleep(0.2)
    assert ws.pending(sid) == 0  # nothing twice
    await ws.close()


async def test_a_rolled_back_write_publishes_nothing(world: Api) -> None:
    from server.bus import Message
    from server.http.app import DEPS

    bus = world.app[DEPS].bus
    listening = bus.subscribe("space:@hall", limit=8)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with world.storage.write() as conn:
            await bus.publish(conn, Message("space:@hall", "intention", 10**9))
            raise Abort
    async with world.storage.write() as conn:
        await bus.publish(conn, Message("space:@hall", "intention", 10**9 + 1))
    async with asyncio.timeout(5):
        assert (await listening.get()).id == 10**9 + 1  # only the committed one
    listening.close()


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_sse_sends_ping_comments(make_api: Any, db_env: dict[str, str]) -> None:
    from tests.support.world import populate

    api = await populate(await make_api({**db_env, "LIVE_PING_SECONDS": "0.1"}))
    body = {"jsonrpc": "2.0", "method": "space.watch", "params": {"spaceId": "@hall"}, "id": 1}
    headers = {"Accept": "text/event-stream", "Content-Type": "application/json"}
    response = await api.client.post("/rpc", data=json.dumps(body), headers=headers)
    async with asyncio.timeout(5):
        # First the subscribe answer, named, with where the stream starts; then the pings.
        assert await response.content.readline() == b"event: subscribed\n"
        assert await response.content.readline() == b"id: 0\n"
        answer = json.loads((await response.content.readline()).removeprefix(b"data: "))
        assert answer["id"] == 1 and answer["result"]["lastEventId"] == "0"
        assert answer["result"]["subscription"].startswith("sse")
        assert await response.content.readline() == b"\n"
        assert await response.content.readline() == b": ping\n"
    response.close()


async def test_a_deleted_member_stops_hearing_its_private_spaces(world: Api) -> None:
    ws = await _ws(world, "@stranger")
    await world.ok("space.addMember", {"spaceId": "@room", "beingId": "@stranger"}, as_="@owner")
    sid = await ws.subscribe("intention.watch", {"spaceId": "@room"})
    watcher = await _ws(world, "@member")
    changes = await watcher.subscribe("space.watch", {"spaceId": "@room"})
    await world.ok("being.delete", {"id": "@stranger"}, admin=True, as_="@ops")
    assert (await ws.next(sid))["error"]["data"]["code"] == "NOT_FOUND"
    removed = (await watcher.next(changes))["data"]
    assert (removed["type"], removed["beingId"]) == ("memberRemoved", "@stranger")
    await ws.close()
    await watcher.close()


async def test_a_refused_bearer_on_the_upgrade_is_401(world: Api) -> None:
    import aiohttp

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await world.client.ws_connect("/rpc", headers={"Authorization": "Bearer nope"})
    assert refused.value.status == 401
    response = await world.client.get("/rpc")  # not an upgrade: POST is the way
    assert response.status == 405


async def test_a_space_made_private_ends_a_strangers_subscription(world: Api) -> None:
    ws = await _ws(world)  # anonymous: reads @hall while it is public
    sid = await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    member = await _ws(world, "@member")
    kept = await member.subscribe("intention.watch", {"spaceId": "@hall"})
    await world.ok("being.update", {"id": "@hall", "visibility": "private"}, as_="@owner")
    assert (await ws.next(sid))["error"]["data"]["code"] == "NOT_FOUND"
    said = await world.ok("intention.create", _say("members only"), as_="@member")
    assert (await member.next(kept))["data"] == said
    await asyncio.sleep(0.1)
    assert ws.pending(sid) == 0
    await ws.close()
    await member.close()


async def test_a_fresh_token_keeps_subscriptions_another_being_ends_them(world: Api) -> None:
    ws = await WsRpc.connect(world.client, token=world.token("@member", ttl=1.5))
    sid = await ws.subscribe("intention.watch", {"spaceId": "@hall"})
    assert "result" in await ws.call("rpc.authenticate", {"token": world.token("@member")})
    await asyncio.sleep(2)  # past the first token's expiry
    said = await world.ok("intention.create", _say("still here"), as_="@mod")
    assert (await ws.next(sid))["data"] == said
    assert "result" in await ws.call("rpc.authenticate", {"token": world.token("@mod")})
    assert (await ws.next(sid))["error"]["data"]["reason"] == "rebound"
    await ws.close()


class _SlowInput(Base):
    seconds: float = 0.3


_slow = query("test.slow", _SlowInput, str, "Answers after a while")


async def test_shutdown_lets_the_call_in_flight_finish(aiohttp_client: Any, tmp_path: Any) -> None:
    import schema
    from server.http.app import create_app
    from server.procedures import ROUTERS
    from server.rpc import Context, Router
    from tests.support.app import make_settings

    router = Router()

    @router.procedure(_slow)
    async def slow(ctx: Context[Any], params: _SlowInput) -> str:
        await asyncio.sleep(params.seconds)
        return "done"

    app = create_app(
        make_settings(DATA_DIR=str(tmp_path)),
        contract=(*schema.CONTRACT, _slow),
        routers=(*ROUTERS, router),
    )
    client = await aiohttp_client(app)
    ws = await WsRpc.connect(client)
    await ws.send({"jsonrpc": "2.0", "method": "test.slow", "id": "slow"})
    await asyncio.sleep(0.05)  # the call is in flight
    runner = client.server.runner
    assert runner is not None
    await runner.shutdown()
    assert (await ws.answer("slow"))["result"] == "done"
    async with asyncio.timeout(5):
        await ws._reader
    assert ws.ws.close_code == 1001


@pytest.mark.parametrize("db_env", ["sqlite", "postgresql"], indirect=True)
async def test_old_space_events_are_pruned_and_resuming_past_them_says_reload(
    make_api: Any, db_env: dict[str, str]
) -> None:
    from server.http.app import prune_history
    from tests.support.world import populate

    api = await populate(await make_api({**db_env, "LIVE_HISTORY_SECONDS": "0.5"}))
    ws = await _ws(api, "@member")
    hall = await ws.subscribe("space.watch", {"spaceId": "@hall"})
    room = await ws.subscribe("space.watch", {"spaceId": "@room"})
    await api.ok("being.update", {"id": "@hall", "name": "Hall 1"}, as_="@owner")
    await api.ok("being.update", {"id": "@hall", "name": "Hall 2"}, as_="@owner")
    await api.ok("being.update", {"id": "@room", "name": "Quiet"}, as_="@owner")
    old = [(await ws.next(hall))["id"] for _ in range(2)]
    quiet = (await ws.next(room))["id"]
    await asyncio.sleep(0.6)
    await api.ok("being.update", {"id": "@hall", "name": "Hall 3"}, as_="@owner")
    newest = (await ws.next(hall))["id"]
    assert await prune_history(api.app) == 2  # @room's only event is its newest: kept
    gone = await ws.call("space.watch", {"spaceId": "@hall", "lastEventId": old[0]})
    data = gone["error"]["data"]
    assert (data["code"], data["reason"]) == ("PRECONDITION_FAILED", "history_gone")
    await ws.subscribe("space.watch", {"spaceId": "@hall", "lastEventId": newest})
    resumed = await ws.subscribe("space.watch", {"spaceId": "@room", "lastEventId": quiet})
    await api.ok("being.update", {"id": "@room", "name": "Loud"}, as_="@owner")
    assert (await ws.next(resumed))["data"]["type"] == "updated"  # resumed: nothing was lost
    assert (await ws.call("system.health"))["result"]["status"] == "ok"
    await ws.close()


async def _gauges(api: Api) -> tuple[float, float]:
    response = await api.client.get("/metrics")
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(await response.text())
        for sample in family.samples
    }
    return values["roomrpc_ws_connections"], values["roomrpc_subscriptions"]


async def test_metrics_count_open_sockets_and_subscriptions(world: Api) -> None:
    assert await _gauges(world) == (0, 0)
    first, second = await _ws(world, "@member"), await _ws(world)
    sid = await first.subscribe("intention.watch", {"spaceId": "@room"})
    await first.subscribe("space.watch", {"spaceId": "@hall"})
    await second.subscribe("intention.watch", {"spaceId": "@hall"})
    assert await _gauges(world) == (2, 3)
    await first.call("rpc.unsubscribe", {"subscription": sid})
    assert await _gauges(world) == (2, 2)
    await first.close()
    await asyncio.sleep(0.2)
    assert await _gauges(world) == (1, 1)
    await second.close()
    await asyncio.sleep(0.2)
    assert await _gauges(world) == (0, 0)
