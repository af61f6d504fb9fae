"""The LiveKit test server, driven only through the real livekit-api client (and raw Twirp)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from livekit import api
from livekit.protocol.models import DataPacket, ParticipantPermission, TrackType

from tests.livekit_server import CONTENT_TYPE, LiveKitServer, RoomFullError
from tests.support.app import LIVEKIT_KEY, LIVEKIT_SECRET
from tests.support.livekit_node import verify_with_node

Received = list[tuple[dict[str, str], bytes]]


@pytest.fixture
async def lkapi(livekit_server: LiveKitServer) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(livekit_server.url, LIVEKIT_KEY, LIVEKIT_SECRET)
    yield client
    await client.aclose()


def with_token(server: LiveKitServer, grants: api.VideoGrants) -> api.LiveKitAPI:
    """A client that sends a pre-signed token carrying exactly ``grants``."""
    token = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_identity("svc").with_grants(grants)
    return api.LiveKitAPI.with_token(token.to_jwt(), server.url)


async def refused(call: Awaitable[Any]) -> api.ServerError:
    with pytest.raises(api.ServerError) as caught:
        await call
    return caught.value


async def no_server(call: Awaitable[Any], server: LiveKitServer) -> api.ServerError:
    """A call no node hosts: refused only once psrpc's affinity timeout has passed."""
    server.service.affinity_timeout = 0.2
    loop = asyncio.get_running_loop()
    started = loop.time()
    error = await refused(call)
    assert loop.time() - started >= 0.2
    return error


# RoomService, method by method ------------------------------------------------------------


async def test_create_room_returns_room_state(lkapi: api.LiveKitAPI) -> None:
    room = await lkapi.room.create_room(
        api.CreateRoomRequest(name="r1", max_participants=5, metadata="m", empty_timeout=60)
    )
    assert room.sid.startswith("RM_") and room.name == "r1"
    assert (room.max_participants, room.metadata, room.empty_timeout) == (5, "m", 60)
    assert room.departure_timeout == 20  # livekit-server's default
    assert room.creation_time > 0 and room.num_participants == 0


async def test_create_room_is_idempotent(lkapi: api.LiveKitAPI) -> None:
    first = await lkapi.room.create_room(api.CreateRoomRequest(name="same"))
    again = await lkapi.room.create_room(api.CreateRoomRequest(name="same", metadata="later"))
    assert again.sid == first.sid and again.creation_time == first.creation_time
    assert again.metadata == "later"  # non-zero settings of a repeated create are applied
    together = await asyncio.gather(
        *(lkapi.room.create_room(api.CreateRoomRequest(name="race")) for _ in range(5))
    )
    assert len({r.sid for r in together}) == 1


async def test_list_rooms_all_and_by_name(lkapi: api.LiveKitAPI) -> None:
    for name in ("a", "b"):
        await lkapi.room.create_room(api.CreateRoomRequest(name=name))
    everything = await lkapi.room.list_rooms(api.ListRoomsRequest())
    assert sorted(r.name for r in everything.rooms) == ["a", "b"]
    only = await lkapi.room.list_rooms(api.ListRoomsRequest(names=["b", "nope"]))
    assert [r.name for r in only.rooms] == ["b"]


async def test_delete_room_and_unknown_room(lkapi: api.LiveKitAPI) -> None:
    await lkapi.room.create_room(api.CreateRoomRequest(name="gone"))
    await lkapi.room.delete_room(api.DeleteRoomRequest(room="gone"))
    assert (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms == []
    error = await refused(lkapi.room.delete_room(api.DeleteRoomRequest(room="gone")))
    assert (error.code, error.status, error.message) == (
        "not_found",
        404,
        "requested room does not exist",
    )


async def test_participants_list_get_and_state(
    lkapi: api.LiveKitAPI, livekit_server: LiveKitServer
) -> None:
    empty = await lkapi.room.list_participants(api.ListParticipantsRequest(room="nobody-here"))
    assert list(empty.participants) == []
    await livekit_server.join(
        "room",
        "@alice",
        name="Alice",
        metadata="{}",
        attributes={"k": "v"},
        publish=[TrackType.AUDIO],
    )
    listed = await lkapi.room.list_participants(api.ListParticipantsRequest(room="room"))
    (alice,) = listed.participants
    assert (alice.identity, alice.name, alice.metadata) == ("@alice", "Alice", "{}")
    assert dict(alice.attributes) == {"k": "v"} and alice.sid.startswith("PA_")
    assert alice.permission.can_publish and alice.is_publisher
    assert alice.tracks[0].sid.startswith("TR_") and alice.tracks[0].type == TrackType.AUDIO
    got = await lkapi.room.get_participant(
        api.RoomParticipantIdentity(room="room", identity="@alice")
    )
    assert got.sid == alice.sid
    error = await refused(
        lkapi.room.get_participant(api.RoomParticipantIdentity(room="room", identity="@bob"))
    )
    assert (error.code, error.status) == ("not_found", 404)
    room = (await lkapi.room.list_rooms(api.ListRoomsRequest(names=["room"]))).rooms[0]
    assert (room.num_participants, room.num_publishers) == (1, 1)


async def test_remove_participant(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("room", "@alice")
    await lkapi.room.remove_participant(api.RoomParticipantIdentity(room="room", identity="@alice"))
    assert livekit_server.participants("room") == []
    assert livekit_server.event_names()[-1] == "participant_left"
    error = await refused(
        lkapi.room.remove_participant(api.RoomParticipantIdentity(room="room", identity="@alice"))
    )
    assert (error.code, error.status) == ("not_found", 404)


async def test_mute_published_track(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("room", "@alice")
    track = await livekit_server.publish("room", "@alice", TrackType.VIDEO)
    request = api.MuteRoomTrackRequest(room="room", identity="@alice", track_sid=track.sid)
    request.muted = True
    muted = await lkapi.room.mute_published_track(request)
    assert muted.track.sid == track.sid and muted.track.muted
    request.muted = False  # remote unmute is off by default in livekit-server
    error = await refused(lkapi.room.mute_published_track(request))
    assert (error.code, error.status) == ("failed_precondition", 412)
    request.muted = True
    request.track_sid = "TR_unknown"  # livekit-server answers without a track
    assert not (await lkapi.room.mute_published_track(request)).HasField("track")
    request.identity = "@nobody"
    error = await no_server(lkapi.room.mute_published_track(request), livekit_server)
    assert (error.code, error.status, error.message) == (
        "unavailable",
        503,
        "no response from servers",
    )


async def test_update_participant(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    joined = await livekit_server.join("room", "@alice", attributes={"keep": "1", "drop": "2"})
    updated = await lkapi.room.update_participant(
        api.UpdateParticipantRequest(
            room="room",
            identity="@alice",
            name="Alice B",
            metadata="new",
            attributes={"drop": "", "add": "3"},
            permission=ParticipantPermission(can_subscribe=True, can_publish_data=False),
        )
    )
    assert (updated.name, updated.metadata) == ("Alice B", "new")
    assert dict(updated.attributes) == {"keep": "1", "add": "3"}
    assert not updated.permission.can_publish and not updated.permission.can_publish_data
    assert updated.version > joined.version
    error = await refused(
        lkapi.room.update_participant(api.UpdateParticipantRequest(room="room", identity="@x"))
    )
    assert error.code == "not_found"
    error = await refused(
        lkapi.room.update_participant(
            api.UpdateParticipantRequest(room="room", identity="@alice", name="n" * 300)
        )
    )
    assert (error.code, error.status) == ("invalid_argument", 400)


async def test_update_subscriptions(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("room", "@alice")
    await lkapi.room.update_subscriptions(
        api.UpdateSubscriptionsRequest(
            room="room", identity="@alice", track_sids=["TR_a", "TR_b"], subscribe=True
        )
    )
    assert livekit_server.subscriptions("room", "@alice") == {"TR_a", "TR_b"}
    error = await no_server(
        lkapi.room.update_subscriptions(api.UpdateSubscriptionsRequest(room="room", identity="@x")),
        livekit_server,
    )
    assert (error.code, error.status) == ("unavailable", 503)


async def test_send_data(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    await lkapi.room.create_room(api.CreateRoomRequest(name="quiet"))
    await lkapi.room.send_data(  # an empty room is fine
        api.SendDataRequest(
            room="quiet",
            data=b'{"hi":1}',
            kind=DataPacket.Kind.RELIABLE,
            topic="chat",
            destination_identities=["@bob"],
        )
    )
    (packet,) = livekit_server.data_packets("quiet")
    assert (packet.data, packet.topic, packet.destination_identities) == (
        b'{"hi":1}',
        "chat",
        ("@bob",),
    )
    assert packet.kind == DataPacket.Kind.RELIABLE
    error = await no_server(
        lkapi.room.send_data(api.SendDataRequest(room="nowhere", data=b"x")), livekit_server
    )
    assert (error.code, error.status, error.message) == (
        "unavailable",
        503,
        "no response from servers",
    )
    assert len(packet.nonce) == 16  # livekit-api sets one per call, so LiveKit can dedupe


async def test_send_data_nonce_must_be_16_bytes(livekit_server: LiveKitServer) -> None:
    await livekit_server.join("r", "@a")
    body = json.dumps({"room": "r", "data": "eA==", "nonce": "c2hvcnQ="})  # nonce b"short"
    grants = api.VideoGrants(room_admin=True, room="r")
    status, _, error = await twirp(livekit_server, "SendData", body, grants=grants)
    assert (status, error["code"]) == (400, "invalid_argument")


async def test_update_room_metadata(lkapi: api.LiveKitAPI) -> None:
    await lkapi.room.create_room(api.CreateRoomRequest(name="room"))
    room = await lkapi.room.update_room_metadata(
        api.UpdateRoomMetadataRequest(room="room", metadata="topic: tests")
    )
    assert room.metadata == "topic: tests"
    error = await refused(
        lkapi.room.update_room_metadata(api.UpdateRoomMetadataRequest(room="none", metadata="x"))
    )
    assert (error.code, error.status) == ("not_found", 404)


# Grants and credentials -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grants", "call"),
    [
        (
            api.VideoGrants(room_list=True),
            lambda c: c.room.create_room(api.CreateRoomRequest(name="x")),
        ),
        (api.VideoGrants(room_create=True), lambda c: c.room.list_rooms(api.ListRoomsRequest())),
        (
            api.VideoGrants(room_list=True),
            lambda c: c.room.delete_room(api.DeleteRoomRequest(room="x")),
        ),
        (
            api.VideoGrants(room_admin=True, room="other"),
            lambda c: c.room.list_participants(api.ListParticipantsRequest(room="x")),
        ),
        (
            api.VideoGrants(room_join=True, room="x"),
            lambda c: c.room.send_data(api.SendDataRequest(room="x", data=b"d")),
        ),
        (
            api.VideoGrants(room_create=True),
            lambda c: c.room.update_room_metadata(api.UpdateRoomMetadataRequest(room="x")),
        ),
    ],
)
async def test_missing_grant_is_refused_as_livekit_refuses_it(
    livekit_server: LiveKitServer,
    grants: api.VideoGrants,
    call: Callable[[api.LiveKitAPI], Awaitable[Any]],
) -> None:
    client = with_token(livekit_server, grants)
    try:
        error = await refused(call(client))
    finally:
        await client.aclose()
    assert (error.code, error.status, error.message) == (
        "unauthenticated",
        401,
        "permissions denied",
    )


async def test_room_admin_grant_is_enough_for_its_room(livekit_server: LiveKitServer) -> None:
    await livekit_server.join("x", "@alice")
    client = with_token(livekit_server, api.VideoGrants(room_admin=True, room="x"))
    try:
        listed = await client.room.list_participants(api.ListParticipantsRequest(room="x"))
    finally:
        await client.aclose()
    assert [p.identity for p in listed.participants] == ["@alice"]


async def test_token_with_another_secret_is_rejected(livekit_server: LiveKitServer) -> None:
    client = api.LiveKitAPI(
        livekit_server.url, LIVEKIT_KEY, "not-the-secret-but-long-enough-for-hs256"
    )
    try:
        error = await refused(client.room.list_rooms(api.ListRoomsRequest()))
    finally:
        await client.aclose()
    assert error.status == 401  # LiveKit's auth middleware: a bare 401, plain text


async def test_wrong_credentials_switch(
    lkapi: api.LiveKitAPI, livekit_server: LiveKitServer
) -> None:
    livekit_server.wrong_credentials()
    assert (await refused(lkapi.room.list_rooms(api.ListRoomsRequest()))).status == 401
    livekit_server.wrong_credentials(False)
    assert (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms == []


# Raw Twirp: JSON bodies, routes, error shape ----------------------------------------------


async def twirp(
    server: LiveKitServer,
    method: str,
    body: bytes | str,
    *,
    grants: api.VideoGrants,
    **headers: str,
) -> tuple[int, str, Any]:
    token = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_grants(grants).to_jwt()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{server.url}/twirp/livekit.RoomService/{method}", data=body, headers=headers
        ) as r,
    ):
        text = await r.text()
        return r.status, r.headers.get("Content-Type", ""), json.loads(text) if text else None


async def test_json_bodies_in_either_case(livekit_server: LiveKitServer) -> None:
    grants = api.VideoGrants(room_create=True)
    body = json.dumps({"name": "j", "maxParticipants": 3, "empty_timeout": 9})
    status, content_type, room = await twirp(livekit_server, "CreateRoom", body, grants=grants)
    assert status == 200 and content_type.startswith("application/json")
    assert room["name"] == "j" and room["max_participants"] == 3 and room["empty_timeout"] == 9
    assert room["sid"].startswith("RM_")


async def test_twirp_errors_are_json_with_code_and_msg(livekit_server: LiveKitServer) -> None:
    grants = api.VideoGrants(room_create=True)
    status, content_type, error = await twirp(
        livekit_server, "DeleteRoom", '{"room":"no"}', grants=grants
    )
    assert (status, error) == (404, {"code": "not_found", "msg": "requested room does not exist"})
    assert content_type.startswith("application/json")
    status, _, error = await twirp(livekit_server, "NoSuchMethod", "{}", grants=grants)
    assert (status, error["code"]) == (404, "bad_route")
    status, _, error = await twirp(livekit_server, "CreateRoom", "{nope", grants=grants)
    assert (status, error["code"]) == (400, "malformed")
    status, _, error = await twirp(
        livekit_server, "CreateRoom", "{}", grants=grants, **{"Content-Type": "text/plain"}
    )
    assert (status, error["code"]) == (404, "bad_route")
    status, _, error = await twirp(livekit_server, "CreateRoom", "{}", grants=grants)
    assert (status, error) == (400, {"code": "invalid_argument", "msg": "no room name"})


async def test_token_in_the_access_token_query_parameter(livekit_server: LiveKitServer) -> None:
    token = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_grants(
        api.VideoGrants(room_list=True)
    )
    url = f"{livekit_server.url}/twirp/livekit.RoomService/ListRooms"
    async with aiohttp.ClientSession() as session:
        for query, status in ((token.to_jwt(), 200), ("not-a-jwt", 401)):
            params = {"access_token": query}
            headers = {"Content-Type": "application/json"}
            async with session.post(url, params=params, data="{}", headers=headers) as r:
                assert r.status == status, query


async def test_unimplemented_cloud_only_method(livekit_server: LiveKitServer) -> None:
    grants = api.VideoGrants(room_admin=True, room="x", destination_room="y")
    body = '{"room":"x","identity":"a","destination_room":"y"}'
    status, _, error = await twirp(livekit_server, "MoveParticipant", body, grants=grants)
    assert (status, error["code"]) == (501, "unimplemented")


# Faults ------------------------------------------------------------------------------------


async def test_slow_server_outlasts_a_deadline(
    lkapi: api.LiveKitAPI, livekit_server: LiveKitServer
) -> None:
    # livekit-api passes timeout=None per request, which switches aiohttp's session timeout
    # off: only a deadline around the call bounds it (what our adapter does).
    livekit_server.slow(2.0)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await lkapi.room.list_rooms(api.ListRoomsRequest())
    livekit_server.slow(0)
    assert (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms == []


async def test_down_refuses_then_up_serves_on_the_same_port(
    lkapi: api.LiveKitAPI, livekit_server: LiveKitServer
) -> None:
    await lkapi.room.list_rooms(api.ListRoomsRequest())  # a keep-alive connection exists
    port = livekit_server.port
    await livekit_server.down()
    with pytest.raises(aiohttp.ClientConnectionError):
        await lkapi.room.list_rooms(api.ListRoomsRequest())
    await livekit_server.up()
    assert livekit_server.port == port
    assert (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms == []


# Participants and test controls ------------------------------------------------------------


async def test_join_with_a_minted_token(livekit_server: LiveKitServer) -> None:
    grants = api.VideoGrants(
        room_join=True, room="r", can_publish=False, can_subscribe=True, can_publish_data=True
    )
    token = (
        api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET)
        .with_identity("@alice#tab1")
        .with_name("Alice")
        .with_attributes({"beingId": "@alice"})
        .with_grants(grants)
        .to_jwt()
    )
    joined = await livekit_server.join_with_token(token)
    assert (joined.identity, joined.name, dict(joined.attributes)) == (
        "@alice#tab1",
        "Alice",
        {"beingId": "@alice"},
    )
    assert not joined.permission.can_publish and joined.permission.can_publish_data
    with pytest.raises(PermissionError):
        await livekit_server.publish("r", "@alice#tab1")
    forged = (
        api.AccessToken(LIVEKIT_KEY, "another-secret-long-enough-for-hs256!")
        .with_identity("x")
        .with_grants(grants)
    )
    with pytest.raises(PermissionError):
        await livekit_server.join_with_token(forged.to_jwt())


async def test_same_identity_boots_the_first_connection(livekit_server: LiveKitServer) -> None:
    first = await livekit_server.join("r", "@alice")
    second = await livekit_server.join("r", "@alice")
    assert first.sid != second.sid and len(livekit_server.participants("r")) == 1
    assert livekit_server.event_names()[-2:] == ["participant_left", "participant_joined"]


async def test_max_participants(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    await lkapi.room.create_room(api.CreateRoomRequest(name="small", max_participants=1))
    await livekit_server.join("small", "@a")
    with pytest.raises(RoomFullError):
        await livekit_server.join("small", "@b")


# Webhooks ----------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, Received]]:
    """An HTTP endpoint that records every webhook POST (headers, raw body)."""
    received: Received = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/hook")), received
    await server.close()


def verify(headers: dict[str, str], body: bytes, secret: str = LIVEKIT_SECRET) -> api.WebhookEvent:
    receiver = api.WebhookReceiver(api.TokenVerifier(LIVEKIT_KEY, secret))
    return receiver.receive(body.decode(), headers["Authorization"])


async def test_webhooks_are_signed_as_livekit_signs_them(receiver: tuple[str, Received]) -> None:
    url, received = receiver
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url) as lk:
        await lk.join("r", "@alice", name="Alice")
        await lk.publish("r", "@alice")
        await lk.leave("r", "@alice")
        await lk.finish_room("r")
    events = [verify(headers, body) for headers, body in received]
    assert [e.event for e in events] == [
        "room_started",
        "participant_joined",
        "track_published",
        "participant_left",
        "room_finished",
    ]
    assert all(h["Content-Type"] == CONTENT_TYPE for h, _ in received)
    assert all(not h["Authorization"].startswith("Bearer") for h, _ in received)
    assert len({e.id for e in events}) == len(events) and all(
        e.id.startswith("EV_") for e in events
    )
    assert all(e.created_at > 0 for e in events)
    joined = events[1]
    assert (joined.room.name, joined.participant.identity, joined.participant.name) == (
        "r",
        "@alice",
        "Alice",
    )
    body = json.loads(received[1][1])  # protobuf JSON: camelCase, as LiveKit posts it
    assert "createdAt" in body and "joinedAt" in body["participant"]
    claims = jwt.decode(received[0][0]["Authorization"], options={"verify_signature": False})
    assert set(claims) == {"iss", "nbf", "exp", "sha256"}  # livekit-server's, no empty "sub"
    assert claims["exp"] - claims["nbf"] == 300


async def test_livekit_server_sdk_receives_our_webhooks(receiver: tuple[str, Received]) -> None:
    """livekit-server-sdk's ``WebhookReceiver`` (Node) takes what the test server posts, and
    refuses a changed body or another secret."""
    url, received = receiver
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url) as lk:
        await lk.join("r", "@alice")
    posts = [(body, headers["Authorization"]) for headers, body in received]
    [started, joined] = verify_with_node(LIVEKIT_KEY, LIVEKIT_SECRET, webhooks=posts)["webhooks"]
    assert (started["event"]["event"], joined["event"]["event"]) == (
        "room_started",
        "participant_joined",
    )
    assert joined["event"]["participant"]["identity"] == "@alice"
    body, authorization = posts[-1]
    [changed] = verify_with_node(
        LIVEKIT_KEY, LIVEKIT_SECRET, webhooks=[(body.replace(b"@alice", b"@eve"), authorization)]
    )["webhooks"]
    [other] = verify_with_node(LIVEKIT_KEY, "y" * 40, webhooks=posts[-1:])["webhooks"]
    assert "sha256" in changed["error"] and set(other) == {"error"}


async def test_webhook_body_tampering_is_detected(receiver: tuple[str, Received]) -> None:
    url, received = receiver
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url) as lk:
        await lk.join("r", "@alice")
    headers, body = received[-1]
    with pytest.raises(Exception, match="hash mismatch"):
        verify(headers, body.replace(b"@alice", b"@mallory"))


async def test_wrong_credentials_sign_webhooks_with_another_secret(
    receiver: tuple[str, Received],
) -> None:
    url, received = receiver
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url) as lk:
        lk.wrong_credentials()
        await lk.join("r", "@alice")
    headers, body = received[-1]
    with pytest.raises(Exception, match="Signature"):
        verify(headers, body)
    assert verify(headers, body, secret=lk.secret).event == "participant_joined"


async def test_replay_and_out_of_order_delivery(receiver: tuple[str, Received]) -> None:
    url, received = receiver
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url) as lk:
        await lk.join("r", "@alice")
        joined = lk.events[-1]
        await lk.leave("r", "@alice")
        delivery = await lk.deliver(joined)  # the joined event again, after the left one
    assert delivery.status == 200
    replayed = verify(*received[-1])
    assert replayed.id == joined.id and replayed.event == "participant_joined"


async def test_rooms_close_after_their_timeouts(
    lkapi: api.LiveKitAPI, livekit_server: LiveKitServer
) -> None:
    await lkapi.room.create_room(api.CreateRoomRequest(name="idle", empty_timeout=1))
    await lkapi.room.create_room(api.CreateRoomRequest(name="left", departure_timeout=1))
    await livekit_server.join("left", "@a")
    await livekit_server.leave("left", "@a")
    await asyncio.sleep(1.3)
    assert (await lkapi.room.list_rooms(api.ListRoomsRequest())).rooms == []
    assert livekit_server.event_names().count("room_finished") == 2


# Manual use: python -m tests.livekit_server ------------------------------------------------


async def test_runs_as_a_module_with_http_controls() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.livekit_server",
        "--port",
        "0",
        "--api-key",
        LIVEKIT_KEY,
        "--api-secret",
        LIVEKIT_SECRET,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        ws_url = line.split("LIVEKIT_URL=")[1].split()[0]
        http_url = ws_url.replace("ws://", "http://")
        async with aiohttp.ClientSession() as session:
            join = {"room": "manual", "identity": "@alice", "name": "Alice"}
            async with session.post(f"{http_url}/_test/join", json=join) as response:
                assert response.status == 200
        client = api.LiveKitAPI(ws_url, LIVEKIT_KEY, LIVEKIT_SECRET)  # ws URL, as in LIVEKIT_URL
        try:
            listed = await client.room.list_participants(api.ListParticipantsRequest(room="manual"))
        finally:
            await client.aclose()
        assert [(p.identity, p.name) for p in listed.participants] == [("@alice", "Alice")]
    finally:
        process.terminate()
        await process.wait()


# Behaviours followed from livekit-server -----------------------------------------------------


async def test_a_permission_replaces_the_whole_set_and_unpublishes(
    lkapi: api.LiveKitAPI, livekit_server: LiveKitServer
) -> None:
    kept = ParticipantPermission(
        can_publish=True, can_subscribe=True, can_publish_data=True, hidden=True
    )
    await livekit_server.join("room", "@alice", permission=kept, publish=[TrackType.AUDIO])
    updated = await lkapi.room.update_participant(
        api.UpdateParticipantRequest(
            room="room", identity="@alice", permission=ParticipantPermission(can_subscribe=True)
        )
    )
    assert not updated.permission.hidden and not updated.permission.can_publish_data
    assert list(updated.tracks) == []  # publish revoked: the track is unpublished
    await livekit_server.flush_webhooks()
    assert livekit_server.event_names()[-1] == "track_unpublished"


async def test_revoke_token_ts_refuses_older_tokens(
    lkapi: api.LiveKitAPI, livekit_server: LiveKitServer
) -> None:
    def minted(nbf_offset: int) -> str:
        grants = api.VideoGrants(room_join=True, room="room")
        token = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_identity("@a").with_grants(grants)
        claims = jwt.decode(token.to_jwt(), options={"verify_signature": False})
        claims["nbf"] += nbf_offset
        return jwt.encode(claims, LIVEKIT_SECRET, algorithm="HS256")

    await livekit_server.join_with_token(minted(-10))
    request = api.RoomParticipantIdentity(room="room", identity="@a")
    request.revoke_token_ts = int(jwt.decode(minted(0), options={"verify_signature": False})["nbf"])
    await lkapi.room.remove_participant(request)
    with pytest.raises(PermissionError, match="revoked"):
        await livekit_server.join_with_token(minted(-10))
    assert (await livekit_server.join_with_token(minted(0))).identity == "@a"


async def test_webhooks_older_than_the_max_age_are_dropped(receiver: tuple[str, Received]) -> None:
    url, received = receiver
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url) as lk:
        lk.webhooks.max_age = 0.5  # LiveKit's 30 s, shortened
        lk.webhooks.hold()  # the endpoint is unreachable for a while
        lk.store.join("room", "@a")
        await asyncio.sleep(0.7)
        lk.store.join("room", "@b")  # young enough when the queue moves again
        lk.webhooks.release()
        await lk.flush_webhooks()
        assert [e.event for e in lk.webhooks.dropped] == ["room_started", "participant_joined"]
    assert [verify(h, b).participant.identity for h, b in received] == ["@b"]


async def test_agent_dispatch_service(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    made = await lkapi.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name="@bot", room="room", metadata="m")
    )
    assert (made.agent_name, made.room, made.metadata) == ("@bot", "room", "m")
    assert livekit_server.room("room") is not None  # created with the dispatch
    listed = await lkapi.agent_dispatch.list_dispatch("room")
    assert [d.id for d in listed] == [made.id]
    await lkapi.agent_dispatch.delete_dispatch(made.id, "room")
    assert await lkapi.agent_dispatch.list_dispatch("room") == []
    error = await refused(lkapi.agent_dispatch.delete_dispatch(made.id, "room"))
    assert error.code == "not_found"
    other = with_token(livekit_server, api.VideoGrants(room_admin=True, room="elsewhere"))
    error = await refused(other.agent_dispatch.list_dispatch("room"))
    assert error.code == "unauthenticated"
    await other.aclose()


async def test_egress_service(lkapi: api.LiveKitAPI, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("room", "@a")
    output = api.Output(file=api.FileOutput(filepath="rec/{room_name}.mp4"))
    started = await lkapi.egress.start_egress(
        api.StartEgressRequest(room_name="room", template=api.TemplateSource(), outputs=[output])
    )
    assert started.status == api.EgressStatus.EGRESS_ACTIVE
    assert started.file_results[0].filename == "rec/room.mp4"
    listed = await lkapi.egress.list_egress(api.ListEgressRequest(room_name="room", active=True))
    assert [e.egress_id for e in listed.items] == [started.egress_id]
    stopping = await lkapi.egress.stop_egress(api.StopEgressRequest(egress_id=started.egress_id))
    assert stopping.status == api.EgressStatus.EGRESS_ENDING
    error = await refused(
        lkapi.egress.stop_egress(api.StopEgressRequest(egress_id=started.egress_id))
    )
    assert (error.code, "cannot be stopped" in error.message) == ("failed_precondition", True)
    await livekit_server.flush_webhooks()
    names = [n for n in livekit_server.event_names() if n.startswith("egress_")]
    assert names == ["egress_started", "egress_updated", "egress_updated", "egress_ended"]
    no_record = with_token(livekit_server, api.VideoGrants(room_admin=True, room="room"))
    error = await refused(no_record.egress.list_egress(api.ListEgressRequest()))
    assert error.code == "unauthenticated"
    await no_record.aclose()
