"""The LiveKit adapter (server.livekit) against the LiveKit test server, through livekit-api."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from livekit import api
from livekit.protocol.models import ParticipantPermission, TrackType

from server.livekit import (
    JoinGrants,
    LiveKit,
    LiveKitConfig,
    WebhookRejected,
    require_media,
    translate,
)
from server.rpc import RpcError
from tests.livekit_server import STATUS, LiveKitServer, encode_event, make_event, sign
from tests.support.app import LIVEKIT_KEY, LIVEKIT_SECRET


def config_for(server: LiveKitServer, **overrides: Any) -> LiveKitConfig:
    values: dict[str, Any] = {
        "url": server.ws_url,
        "api_url": server.url,
        "api_key": LIVEKIT_KEY,
        "api_secret": LIVEKIT_SECRET,
        "call_timeout": 0.5,
    }
    return LiveKitConfig(**{**values, **overrides})


@pytest.fixture
async def livekit(livekit_server: LiveKitServer) -> AsyncIterator[LiveKit]:
    handle = LiveKit(config_for(livekit_server))
    await handle.open()
    yield handle
    await handle.close()


async def failure(call: Any) -> RpcError:
    with pytest.raises(RpcError) as caught:
        await call
    return caught.value


# Rooms and participants --------------------------------------------------------------------


async def test_rooms_round_trip(livekit: LiveKit, livekit_server: LiveKitServer) -> None:
    room = await livekit.rooms.create_room("r", max_participants=3, metadata="m")
    assert (room.name, room.max_participants, room.metadata) == ("r", 3, "m")
    assert (await livekit.rooms.get_room("r")) == room
    assert await livekit.rooms.get_room("nope") is None
    updated = await livekit.rooms.update_room_metadata("r", "n")
    remote = livekit_server.room("r")
    assert updated.metadata == "n" and remote is not None and remote.metadata == "n"
    assert [r.name for r in await livekit.rooms.list_rooms()] == ["r"]
    assert await livekit.rooms.delete_room("r") is True
    assert await livekit.rooms.delete_room("r") is False
    error = await failure(livekit.rooms.update_room_metadata("r", "x"))
    assert (error.code, error.reason, error.retryable) == ("NOT_FOUND", "media_not_found", False)


async def test_participants(livekit: LiveKit, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("r", "@alice", publish=[TrackType.AUDIO])
    (alice,) = await livekit.rooms.list_participants("r")
    assert alice.identity == "@alice"
    assert (await livekit.rooms.get_participant("r", "@alice")).sid == alice.sid
    error = await failure(livekit.rooms.get_participant("r", "@bob"))
    assert error.code == "NOT_FOUND"
    track = await livekit.rooms.mute_track("r", "@alice", alice.tracks[0].sid, True)
    assert track.muted
    error = await failure(livekit.rooms.mute_track("r", "@alice", track.sid, False))
    assert (error.code, error.reason) == ("PRECONDITION_FAILED", "media_precondition_failed")
    # Absent participant or track: NOT_FOUND at once, where LiveKit itself would answer
    # "unavailable" after a second, or 200 without a track.
    started = asyncio.get_running_loop().time()
    for identity, sid in (("@bob", track.sid), ("@alice", "TR_unknown")):
        error = await failure(livekit.rooms.mute_track("r", identity, sid, True))
        assert (error.code, error.reason) == ("NOT_FOUND", "media_not_found"), identity
    error = await failure(livekit.rooms.update_subscriptions("r", "@bob", ["TR_x"], subscribe=True))
    assert error.code == "NOT_FOUND"
    assert asyncio.get_running_loop().time() - started < 0.5
    changed = await livekit.rooms.update_participant(
        "r",
        "@alice",
        name="Alice",
        attributes={"k": "v"},
        permission=ParticipantPermission(can_subscribe=True),
    )
    assert changed.name == "Alice" and dict(changed.attributes) == {"k": "v"}
    assert not changed.permission.can_publish
    await livekit.rooms.update_subscriptions("r", "@alice", ["TR_x"], subscribe=True)
    assert livekit_server.subscriptions("r", "@alice") == {"TR_x"}
    assert await livekit.rooms.remove_participant("r", "@alice") is True
    assert await livekit.rooms.remove_participant("r", "@alice") is False
    assert await livekit.rooms.list_participants("r") == []


async def test_send_data(livekit: LiveKit, livekit_server: LiveKitServer) -> None:
    await livekit.rooms.create_room("r")
    await livekit.rooms.send_data("r", b"hello", topic="news", destination_identities=["@bob"])
    await livekit.rooms.send_data("r", b"lossy", reliable=False)
    first, second = livekit_server.data_packets("r")
    assert (first.data, first.topic, first.destination_identities) == (b"hello", "news", ("@bob",))
    assert first.kind == api.DataPacket.Kind.RELIABLE and second.kind == api.DataPacket.Kind.LOSSY
    livekit_server.service.affinity_timeout = 0.05  # no node hosts "nowhere": psrpc gives up
    error = await failure(livekit.rooms.send_data("nowhere", b"x"))
    assert (error.code, error.reason, error.retryable) == (
        "SERVICE_UNAVAILABLE",
        "media_unavailable",
        True,
    )


# Faults ------------------------------------------------------------------------------------


async def test_down_slow_and_wrong_credentials(
    livekit: LiveKit, livekit_server: LiveKitServer
) -> None:
    await livekit_server.down()
    error = await failure(livekit.rooms.list_rooms())
    assert (error.code, error.reason, error.retryable) == (
        "SERVICE_UNAVAILABLE",
        "media_unreachable",
        True,
    )
    await livekit_server.up()
    livekit_server.slow(3)
    error = await failure(livekit.rooms.create_room("r"))
    assert (error.code, error.reason, error.retryable) == ("TIMEOUT", "media_timeout", True)
    livekit_server.slow(0)
    livekit_server.wrong_credentials()
    error = await failure(livekit.ping())
    assert (error.code, error.reason, error.retryable) == (
        "SERVICE_UNAVAILABLE",
        "media_credentials_rejected",
        False,
    )


async def test_rejected_tokens_stay_out_of_the_log(
    livekit: LiveKit, livekit_server: LiveKitServer, caplog: pytest.LogCaptureFixture
) -> None:
    livekit_server.wrong_credentials()  # LiveKit's 401 body echoes the token it rejected
    token = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).to_jwt()
    with caplog.at_level(logging.WARNING, logger="roomrpc.livekit"):
        await failure(livekit.rooms.list_rooms())
        translate("Op", api.ServerError("unauthenticated", f"invalid token: {token}", status=401))
    assert len(caplog.records) == 2
    assert all("eyJ" not in r.getMessage() for r in caplog.records)
    assert "invalid token: <jwt>" in caplog.records[1].getMessage()


@pytest.mark.parametrize("code", sorted(STATUS))
def test_every_twirp_code_maps_to_a_fixed_message(code: str) -> None:
    error = translate("Op", api.ServerError(code, "secret detail", status=STATUS[code]))
    assert error.reason is not None and error.reason.startswith("media_")
    assert error.retryable is not None and "secret detail" not in error.message


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("not_found", 404, ("NOT_FOUND", False)),
        ("invalid_argument", 400, ("BAD_REQUEST", False)),
        ("unauthenticated", 401, ("SERVICE_UNAVAILABLE", False)),
        ("permission_denied", 403, ("SERVICE_UNAVAILABLE", False)),
        ("deadline_exceeded", 408, ("TIMEOUT", True)),
        ("resource_exhausted", 429, ("TOO_MANY_REQUESTS", True)),
        ("unavailable", 503, ("SERVICE_UNAVAILABLE", True)),
        ("unknown", 401, ("SERVICE_UNAVAILABLE", False)),  # a bare 401 with plain text
        ("unknown", 502, ("SERVICE_UNAVAILABLE", True)),
        ("unknown", 504, ("TIMEOUT", True)),
    ],
)
def test_twirp_errors_map_to_our_codes(code: str, status: int, expected: tuple[str, bool]) -> None:
    error = translate("Op", api.ServerError(code, "", status=status))
    assert (error.code, error.retryable) == expected


# Tokens, the gate, the lifespan ------------------------------------------------------------


def test_mint_token_spells_out_grants(livekit: LiveKit) -> None:
    token = livekit.mint_token(
        room="r",
        identity="@a",
        grants=JoinGrants(can_publish=False, can_subscribe=True, can_publish_data=True),
        ttl=datetime.timedelta(minutes=2),
    )
    claims = api.TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(token)
    assert claims.identity == "@a" and claims.video is not None
    assert (claims.video.room, claims.video.room_join, claims.video.can_publish) == (
        "r",
        True,
        False,
    )
    assert claims.video.can_publish_data and not claims.video.room_admin


def test_require_media() -> None:
    with pytest.raises(RpcError) as caught:
        require_media(None)
    assert (caught.value.code, caught.value.reason) == (
        "SERVICE_UNAVAILABLE",
        "media_not_configured",
    )


async def test_handle_outside_its_lifespan_is_a_programming_error(
    livekit_server: LiveKitServer,
) -> None:
    handle = LiveKit(config_for(livekit_server))
    with pytest.raises(RuntimeError):
        await handle.rooms.list_rooms()


# Webhook verification ----------------------------------------------------------------------


@pytest.fixture
async def verifying_endpoint(
    livekit_server: LiveKitServer,
) -> AsyncIterator[tuple[str, list[Any]]]:
    """An endpoint that runs ``verify_webhook`` on each POST: 200 with the event, or 401."""
    handle = LiveKit(config_for(livekit_server))
    outcomes: list[Any] = []

    async def hook(request: web.Request) -> web.Response:
        try:
            event = handle.verify_webhook(
                await request.read(), request.headers.get("Authorization")
            )
        except WebhookRejected as exc:
            outcomes.append(exc)
            return web.Response(status=401)
        outcomes.append(event)
        return web.Response()

    app = web.Application()
    app.router.add_post("/livekit/webhook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/livekit/webhook")), outcomes
    await server.close()


async def test_verify_webhook_accepts_what_livekit_signs(
    verifying_endpoint: tuple[str, list[Any]],
) -> None:
    url, outcomes = verifying_endpoint
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url) as lk:
        await lk.join("r", "@alice")
        await lk.leave("r", "@alice")
    assert [e.event for e in outcomes] == ["room_started", "participant_joined", "participant_left"]
    assert [d.status for d in lk.deliveries] == [200, 200, 200]


async def test_verify_webhook_rejects_another_secret(
    verifying_endpoint: tuple[str, list[Any]],
) -> None:
    url, outcomes = verifying_endpoint
    async with LiveKitServer(
        api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET, webhook_url=url, webhook_retries=0
    ) as lk:
        lk.wrong_credentials()
        await lk.join("r", "@alice")
    assert all(isinstance(o, WebhookRejected) for o in outcomes)
    assert "token does not verify" in outcomes[0].reason
    assert {d.status for d in lk.deliveries} == {401}


def test_verify_webhook_rejections(livekit_server: LiveKitServer) -> None:
    handle = LiveKit(config_for(livekit_server))
    body = encode_event(make_event("participant_joined"))
    good = sign(body, LIVEKIT_KEY, LIVEKIT_SECRET)
    assert handle.verify_webhook(body, good).event == "participant_joined"
    assert handle.verify_webhook(body, f"Bearer {good}").event == "participant_joined"
    expired = (
        api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET)
        .with_ttl(datetime.timedelta(minutes=-10))
        .with_sha256(good)  # any value: the token is refused before the checksum
        .to_jwt()
    )
    unsigned_sha = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).to_jwt()
    cases = {
        None: "no Authorization header",
        "": "no Authorization header",
        expired: "token does not verify: ExpiredSignatureError",
        unsigned_sha: "checksum: sha256 was not found in the token",
        sign(b"other body", LIVEKIT_KEY, LIVEKIT_SECRET): "checksum: hash mismatch",
        sign(body, "other-key", LIVEKIT_SECRET): "token does not verify: InvalidIssuerError",
    }
    for authorization, reason in cases.items():
        with pytest.raises(WebhookRejected) as caught:
            handle.verify_webhook(body, authorization)
        assert caught.value.reason == reason
    with pytest.raises(WebhookRejected, match="not UTF-8"):
        handle.verify_webhook(b"\xff", good)
    not_an_event = b"[1, 2]"
    with pytest.raises(WebhookRejected, match="not a WebhookEvent"):
        handle.verify_webhook(not_an_event, sign(not_an_event, LIVEKIT_KEY, LIVEKIT_SECRET))
