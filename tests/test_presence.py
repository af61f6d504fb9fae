"""``POST /livekit/webhook`` and ``presence.members``: signatures, replays, order, instances."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from livekit.protocol.webhook import WebhookEvent

from tests.livekit_server import CONTENT_TYPE, LiveKitServer, encode_event, make_event
from tests.support.live import declared, error_data, start_live, webhook_url
from tests.support.sockets import WsRpc
from tests.support.world import Api

MakeApi = Callable[[dict[str, str]], Awaitable[Api]]
HALL = {"roomBeingId": "@hall"}


async def present(api: Api, room: str = "@hall", **kw: Any) -> list[str]:
    members = await api.ok("presence.members", {"roomBeingId": room, **kw}, as_="@member")
    return [m["identity"] for m in members]


def last(lk: LiveKitServer, name: str, identity: str | None = None) -> WebhookEvent:
    return next(
        e
        for e in reversed(lk.events)
        if e.event == name and (identity is None or e.participant.identity == identity)
    )


def again(event: WebhookEvent) -> WebhookEvent:
    """The same event under a new id (as LiveKit would send a late one)."""
    copy = make_event(event.event, event.room, event.participant)
    copy.created_at = event.created_at
    return copy


async def test_presence_follows_joins_and_leaves(live: Api, livekit_server: LiveKitServer) -> None:
    token = await live.ok("livekit.getJoinToken", {**HALL, "device": "t1"}, as_="@member")
    await livekit_server.join_with_token(token["token"])
    await livekit_server.join("@hall", "@owner", name="Owner")
    members = await live.ok("presence.members", HALL)  # public space: anyone sees
    # Each being once, its LiveKit participants as sessions of source "livekit".
    assert [(m["beingId"], m["identity"], m["name"]) for m in members] == [
        ("@member", "@member", "Member"),
        ("@owner", "@owner", "Owner"),
    ]
    [tab] = members[0]["sessions"]
    assert (tab["identity"], tab["device"], tab["source"]) == ("@member#t1", "t1", "livekit")
    assert (tab["status"], tab["customStatus"], tab["since"]) == (
        "online",
        None,
        members[0]["since"],
    )
    assert members[0]["since"].endswith("Z") or "+00:00" in members[0]["since"]
    await livekit_server.leave("@hall", "@member#t1")
    assert await present(live) == ["@owner"]
    await livekit_server.abort("@hall", "@owner")
    assert await present(live) == []
    assert all(d.status == 200 for d in livekit_server.deliveries)


async def test_room_finished_empties_presence(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member")
    await livekit_server.finish_room("@hall")
    assert await present(live) == []
    await livekit_server.join("@hall", "@owner")  # a new room session
    assert await present(live) == ["@owner"]


async def test_a_new_room_session_clears_one_whose_finish_was_lost(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    livekit_server.webhooks.url = None  # room_finished is lost
    await livekit_server.finish_room("@hall")
    livekit_server.webhooks.url = webhook_url(live)
    await asyncio.sleep(0.002)
    await livekit_server.join("@hall", "@owner")  # room_started of a later room
    assert await present(live) == ["@owner"]


async def test_private_presence_is_for_members(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@room", "@member")
    assert await present(live, "@room") == ["@member"]
    for who in ("@stranger", None):
        error = await declared(live, "presence.members", {"roomBeingId": "@room"}, as_=who)
        assert error_data(error) == ("NOT_FOUND", "no_such_being")


# Signatures -------------------------------------------------------------------------------


async def test_bad_signatures_are_401_and_logged(
    live: Api, livekit_server: LiveKitServer, caplog: pytest.LogCaptureFixture
) -> None:
    livekit_server.wrong_credentials()
    await livekit_server.join("@hall", "@member")
    assert {d.status for d in livekit_server.deliveries} == {401}
    livekit_server.wrong_credentials(False)
    assert await present(live) == []
    body = encode_event(make_event("participant_joined", livekit_server.room("@hall")))
    good = livekit_server.sign_webhook(body)
    cases = {
        "no Authorization header": {},
        "token does not verify": {"Authorization": "not-a-jwt"},
        "checksum": {"Authorization": livekit_server.sign_webhook(body + b" ")},
    }
    for reason, headers in cases.items():
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="roomrpc.webhook"):
            response = await live.client.post(
                "/livekit/webhook", data=body, headers={"Content-Type": CONTENT_TYPE, **headers}
            )
        assert response.status == 401, reason
        assert reason in caplog.text and "401" in caplog.text
    tampered = body.replace(b"participant_joined", b"participant_left")
    response = await live.client.post(
        "/livekit/webhook", data=tampered, headers={"Authorization": good}
    )
    assert response.status == 401


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
async def test_a_body_that_does_not_decompress_is_400_not_a_500(
    live: Api, livekit_server: LiveKitServer, coding: str
) -> None:
    body = encode_event(make_event("participant_joined", livekit_server.room("@hall")))
    headers = {
        "Content-Type": CONTENT_TYPE,
        "Content-Encoding": coding,
        "Authorization": livekit_server.sign_webhook(body),
    }
    response = await live.client.post("/livekit/webhook", data=b"x" * 100, headers=headers)
    assert response.status == 400
    assert await present(live) == []


# Replays and order ------------------------------------------------------------------------


async def test_a_replayed_event_is_ignored(
    live: Api, livekit_server: LiveKitServer, caplog: pytest.LogCaptureFixture
) -> None:
    await livekit_server.join("@hall", "@member")
    joined = last(livekit_server, "participant_joined")
    await livekit_server.leave("@hall", "@member")
    await livekit_server.join("@hall", "@member")  # a new session
    await livekit_server.leave("@hall", "@member")
    left = last(livekit_server, "participant_left")
    await livekit_server.join("@hall", "@member")
    # The second session's participant_left, replayed (same id), must not remove the third.
    with caplog.at_level(logging.INFO, logger="roomrpc.webhook"):
        delivery = await livekit_server.deliver(left)
    assert delivery.status == 200 and "a replay, ignored" in caplog.text
    replay = await livekit_server.deliver(joined)
    assert replay.status == 200
    assert await present(live) == ["@member"]
    current = livekit_server.participant("@hall", "@member")
    assert current is not None
    [member] = await live.ok("presence.members", HALL)
    joined_at = datetime.datetime.fromisoformat(member["since"].replace("Z", "+00:00"))
    assert int(joined_at.timestamp() * 1000) == current.joined_at_ms  # the third session


async def test_out_of_order_events_about_older_sessions_change_nothing(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    first_joined = last(livekit_server, "participant_joined")
    await asyncio.sleep(0.002)
    await livekit_server.leave("@hall", "@member")
    first_left = last(livekit_server, "participant_left")
    await asyncio.sleep(0.002)
    await livekit_server.join("@hall", "@member")
    # The first session's leaving and joining arrive late, under new ids.
    assert (await livekit_server.deliver(again(first_left))).status == 200
    assert await present(live) == ["@member"]
    await livekit_server.leave("@hall", "@member")
    assert (await livekit_server.deliver(again(first_joined))).status == 200
    assert await present(live) == []


async def test_a_leave_that_overtakes_its_join(live: Api, livekit_server: LiveKitServer) -> None:
    livekit_server.webhooks.url = None
    await livekit_server.join("@hall", "@member")
    await livekit_server.leave("@hall", "@member")
    livekit_server.webhooks.url = webhook_url(live)
    joined = last(livekit_server, "participant_joined")
    left = last(livekit_server, "participant_left")
    assert (await livekit_server.deliver(left)).status == 200
    assert (await livekit_server.deliver(joined)).status == 200
    assert await present(live) == []


# Instances and reconciliation ------------------------------------------------------------


async def test_a_second_instance_sees_presence_and_replays(
    live: Api, livekit_server: LiveKitServer, make_api: MakeApi
) -> None:
    second = await start_live(make_api, _env_of(live), livekit_server)
    livekit_server.webhooks.url = webhook_url(live)  # LiveKit posts to the first one
    await livekit_server.join("@hall", "@member")
    assert await present(second) == ["@member"]
    joined = last(livekit_server, "participant_joined")
    livekit_server.webhooks.url = webhook_url(second)  # a replay reaches the other instance
    await livekit_server.leave("@hall", "@member")
    assert await present(live) == []
    assert (await livekit_server.deliver(joined)).status == 200
    assert await present(live) == [] and await present(second) == []


def _env_of(api: Api) -> dict[str, str]:
    """The database settings of ``api`` (the same SQLite file or PostgreSQL schema)."""
    settings = api.settings
    env = {"DATA_DIR": str(settings.data_dir), "AUTH_SECRET": settings.auth_secret or ""}
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["DATABASE_SCHEMA"] = settings.database_schema
    return env


async def test_reconcile_against_list_participants(
    live: Api, livekit_server: LiveKitServer
) -> None:
    livekit_server.webhooks.url = None  # every webhook is lost
    await livekit_server.join("@hall", "@member")
    await livekit_server.join("@hall", "@owner")
    assert await present(live) == []
    assert await present(live, reconcile=True) == ["@member", "@owner"]
    await livekit_server.leave("@hall", "@member")
    assert await present(live) == ["@member", "@owner"]
    assert await present(live, reconcile=True) == ["@owner"]
    await livekit_server.finish_room("@hall")
    assert await present(live, reconcile=True) == []
    anonymous = await declared(live, "presence.members", {**HALL, "reconcile": True})
    assert error_data(anonymous) == ("UNAUTHORIZED", "anonymous")
    await livekit_server.down()
    down = await declared(live, "presence.members", {**HALL, "reconcile": True}, as_="@member")
    assert down["data"]["code"] == "SERVICE_UNAVAILABLE" and down["data"]["retryable"]
    assert await present(live) == []  # without reconcile, no call to LiveKit


async def test_a_deleted_space_leaves_no_presence_behind(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    livekit_server.webhooks.url = None  # whatever LiveKit says about the deletion is lost
    await live.ok("being.delete", {"id": "@hall"}, as_="@owner")
    fields = {"id": "@hall", "name": "hall again", "type": "space"}
    await live.ok("being.create", fields, as_="@owner")
    assert await present(live) == []


async def test_livekit_participants_are_watched_as_sessions(
    live: Api, livekit_server: LiveKitServer
) -> None:
    ws = await WsRpc.connect(live.client, token=live.token("@owner"))
    sid = await ws.subscribe("presence.watch", HALL)
    assert (await ws.next(sid))["data"] == {"type": "snapshot", "members": []}
    await livekit_server.join("@hall", "@member#t1", name="Member")
    joined = (await ws.next(sid))["data"]
    assert (joined["type"], joined["member"]["identity"]) == ("join", "@member")
    [tab] = joined["member"]["sessions"]
    assert (tab["source"], tab["device"], tab["identity"]) == ("livekit", "t1", "@member#t1")
    await livekit_server.leave("@hall", "@member#t1")
    left = (await ws.next(sid))["data"]
    assert (left["type"], left["member"]["sessions"]) == ("leave", [])
    await ws.close()
