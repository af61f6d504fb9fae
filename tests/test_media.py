"""``media.*`` over HTTP against the LiveKit test server: gate, admins, rooms, tokens, faults."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from livekit import api

from server.livekit import LiveKitConfig, api_url_for
from server.settings import SettingsError, load_settings
from tests.livekit_server import LiveKitServer
from tests.support.app import LIVEKIT_KEY, LIVEKIT_SECRET, livekit_env

ADMIN = "Bearer admin:@ops"
USER = "Bearer user:@alice"
Call = Callable[..., Awaitable[Any]]
_ids = itertools.count(1)


def rpc(client: TestClient[Any, Any]) -> Call:
    """POST one JSON-RPC call to /rpc; returns the response object."""

    async def call(method: str, params: Any = None, *, auth: str | None = ADMIN) -> Any:
        envelope: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": next(_ids)}
        if params is not None:
            envelope["params"] = params
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = auth
        response = await client.post("/rpc", data=json.dumps(envelope), headers=headers)
        assert response.status == 200
        return await response.json()

    return call


@pytest.fixture
async def call(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    livekit_server: LiveKitServer,
) -> Call:
    """Our app, configured against the LiveKit test server (calls cut off after 0.5 s)."""
    app = make_app(**livekit_env(livekit_server, LIVEKIT_CALL_TIMEOUT="0.5"))
    return rpc(await aiohttp_client(app))


@pytest.fixture
async def call_media_off(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
) -> Call:
    return rpc(await aiohttp_client(make_app()))


def error_of(response: Any) -> tuple[str, str | None, bool | None]:
    data = response["error"]["data"]
    return data["code"], data.get("reason"), data.get("retryable")


EVERY_CALL = [
    ("media.createRoom", {"roomId": "r"}),
    ("media.deleteRoom", {"roomId": "r"}),
    ("media.listRooms", None),
    ("media.generateToken", {"roomId": "r", "participant": {"identity": "@a"}}),
    ("media.mediaUrl", None),
]


# Who may call ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "params"), EVERY_CALL)
async def test_anonymous_is_unauthorized_and_users_are_forbidden(
    call: Call, method: str, params: Any
) -> None:
    anonymous = await call(method, params, auth=None)
    assert (anonymous["error"]["code"], error_of(anonymous)[0]) == (-32001, "UNAUTHORIZED")
    user = await call(method, params, auth=USER)
    assert (user["error"]["code"], error_of(user)[0]) == (-32003, "FORBIDDEN")


# The media gate ----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "params"), EVERY_CALL[:4])
async def test_media_off_is_service_unavailable(
    call_media_off: Call, method: str, params: Any
) -> None:
    response = await call_media_off(method, params)
    assert response["error"]["code"] == -32053
    assert error_of(response) == ("SERVICE_UNAVAILABLE", "media_not_configured", False)


async def test_media_url(call: Call, call_media_off: Call, livekit_server: LiveKitServer) -> None:
    assert (await call("media.mediaUrl"))["result"] == livekit_server.ws_url
    assert (await call_media_off("media.mediaUrl"))["result"] is None


async def test_system_health_keeps_working_with_media_off(call_media_off: Call) -> None:
    assert (await call_media_off("system.health"))["result"]["status"] == "ok"


# Rooms -------------------------------------------------------------------------------------


async def test_create_room_with_settings(call: Call, livekit_server: LiveKitServer) -> None:
    settings = {
        "maxParticipants": 8,
        "emptyTimeoutSecs": 120,
        "departureTimeoutSecs": 30,
        "metadata": '{"space":"@lobby"}',
    }
    room = (await call("media.createRoom", {"roomId": "@lobby", "settings": settings}))["result"]
    assert room["roomId"] == "@lobby" and room["sid"].startswith("RM_")
    assert (room["maxParticipants"], room["emptyTimeoutSecs"], room["departureTimeoutSecs"]) == (
        8,
        120,
        30,
    )
    assert room["metadata"] == '{"space":"@lobby"}' and room["numParticipants"] == 0
    created = datetime.datetime.fromisoformat(room["createdAt"])
    assert abs((datetime.datetime.now(datetime.UTC) - created).total_seconds()) < 60
    remote = livekit_server.room("@lobby")
    assert remote is not None and remote.sid == room["sid"] and remote.max_participants == 8


async def test_create_room_is_idempotent_also_concurrently(
    call: Call, livekit_server: LiveKitServer
) -> None:
    first = (await call("media.createRoom", {"roomId": "r"}))["result"]
    assert first["emptyTimeoutSecs"] == 300 and first["maxParticipants"] == 0  # LiveKit defaults
    again = (await call("media.createRoom", {"roomId": "r"}))["result"]
    assert again == first
    racing = await asyncio.gather(*(call("media.createRoom", {"roomId": "race"}) for _ in range(8)))
    assert len({r["result"]["sid"] for r in racing}) == 1
    assert sorted(r.name for r in livekit_server.store.list()) == ["r", "race"]


async def test_delete_room_is_idempotent(call: Call, livekit_server: LiveKitServer) -> None:
    await call("media.createRoom", {"roomId": "r"})
    await livekit_server.join("r", "@alice")
    first = await call("media.deleteRoom", {"roomId": "r"})
    assert first["result"] == {"roomId": "r", "deleted": True}
    assert livekit_server.room("r") is None
    assert livekit_server.event_names()[-2:] == ["participant_left", "room_finished"]
    again = await call("media.deleteRoom", {"roomId": "r"})
    assert again["result"] == {"roomId": "r", "deleted": False}


async def test_list_rooms(call: Call, livekit_server: LiveKitServer) -> None:
    assert (await call("media.listRooms"))["result"] == []
    for room in ("b", "a"):
        await call("media.createRoom", {"roomId": room})
    await livekit_server.join("a", "@alice")
    rooms = (await call("media.listRooms"))["result"]
    assert [(r["roomId"], r["numParticipants"]) for r in rooms] == [("a", 1), ("b", 0)]


# Tokens ------------------------------------------------------------------------------------


def verified(token: str) -> api.access_token.Claims:
    return api.TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(token)


async def test_generate_token_with_every_grant_explicit(
    call: Call, livekit_server: LiveKitServer
) -> None:
    params = {
        "roomId": "@lobby",
        "participant": {
            "identity": "@alice#tab-1",
            "name": "Alice",
            "metadata": '{"role":"guest"}',
            "attributes": {"beingId": "@alice"},
            "canPublish": False,
            "canSubscribe": True,
            "canPublishData": False,
        },
        "ttlSeconds": 600,
    }
    result = (await call("media.generateToken", params))["result"]
    assert result["url"] == livekit_server.ws_url
    claims = verified(result["token"])
    assert (claims.identity, claims.name, claims.metadata) == (
        "@alice#tab-1",
        "Alice",
        '{"role":"guest"}',
    )
    assert claims.attributes == {"beingId": "@alice"} and claims.kind == "standard"
    video = claims.video
    assert video is not None
    assert (video.room_join, video.room) == (True, "@lobby")
    assert (video.can_publish, video.can_subscribe, video.can_publish_data) == (False, True, False)
    assert not any(
        (video.room_admin, video.room_create, video.room_list, video.room_record, video.hidden)
    )
    assert not video.can_update_own_metadata
    raw = jwt.decode(result["token"], options={"verify_signature": False})
    # Written out, not left to defaults a reader could take as "allowed":
    assert raw["video"]["canPublish"] is False and raw["video"]["canPublishData"] is False
    assert raw["video"]["canSubscribe"] is True and raw["video"]["roomAdmin"] is False
    assert raw["exp"] - raw["nbf"] == 600 and raw["iss"] == LIVEKIT_KEY


async def test_generate_token_defaults_and_joining_with_it(
    call: Call, livekit_server: LiveKitServer
) -> None:
    params = {"roomId": "r", "participant": {"identity": "@bob"}}
    token = (await call("media.generateToken", params))["result"]["token"]
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["exp"] - raw["nbf"] == 3600
    assert {k: raw["video"][k] for k in ("canPublish", "canSubscribe", "canPublishData")} == {
        "canPublish": True,
        "canSubscribe": True,
        "canPublishData": True,
    }
    joined = await livekit_server.join_with_token(token)  # LiveKit accepts what we minted
    assert joined.identity == "@bob" and joined.permission.can_publish
    assert "canPublishSources" not in raw["video"]  # any source, as canPublish says


async def test_generate_token_limited_to_some_sources(
    call: Call, livekit_server: LiveKitServer
) -> None:
    participant = {"identity": "@radio", "canPublishSources": ["microphone", "microphone"]}
    params = {"roomId": "r", "participant": participant}
    token = (await call("media.generateToken", params))["result"]["token"]
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["video"]["canPublishSources"] == ["microphone"]
    video = verified(token).video
    assert video is not None and video.can_publish_sources == ["microphone"]
    await livekit_server.join_with_token(token)
    await livekit_server.publish("r", "@radio", api.TrackType.AUDIO)
    with pytest.raises(PermissionError, match="may not publish camera"):
        await livekit_server.publish("r", "@radio", api.TrackType.VIDEO)


@pytest.mark.parametrize(
    ("method", "params", "path"),
    [
        ("media.createRoom", {"roomId": "has space"}, "$.roomId"),
        ("media.createRoom", {"roomId": ""}, "$.roomId"),
        ("media.createRoom", {"roomId": "x" * 129}, "$.roomId"),
        (
            "media.createRoom",
            {"roomId": "r", "settings": {"maxParticipants": 0}},
            "$.settings.maxParticipants",
        ),
        (
            "media.createRoom",
            {"roomId": "r", "settings": {"emptyTimeoutSecs": -1}},
            "$.settings.emptyTimeoutSecs",
        ),
        ("media.createRoom", {"roomId": "r", "settings": {"colour": "red"}}, "$.settings.colour"),
        ("media.deleteRoom", {}, "$.roomId"),
        (
            "media.generateToken",
            {"roomId": "r", "participant": {"identity": ""}},
            "$.participant.identity",
        ),
        (
            "media.generateToken",
            {"roomId": "r", "participant": {"identity": "a/b"}},
            "$.participant.identity",
        ),
        ("media.generateToken", {"roomId": "r", "participant": {}}, "$.participant.identity"),
        (
            "media.generateToken",
            {"roomId": "r", "participant": {"identity": "a", "canPublish": "yes"}},
            "$.participant.canPublish",
        ),
        (
            "media.generateToken",
            {"roomId": "r", "participant": {"identity": "a"}, "ttlSeconds": 5},
            "$.ttlSeconds",
        ),
        (
            "media.generateToken",
            {"roomId": "r", "participant": {"identity": "a", "canPublishSources": []}},
            "$.participant.canPublishSources",
        ),
        (
            "media.generateToken",
            {"roomId": "r", "participant": {"identity": "a", "canPublishSources": ["desk"]}},
            "$.participant.canPublishSources[0]",
        ),
    ],
)
async def test_invalid_params_name_the_path(
    call: Call, method: str, params: Any, path: str
) -> None:
    response = await call(method, params)
    assert response["error"]["code"] == -32602
    assert response["error"]["data"]["issues"][0]["path"] == path


# LiveKit down, slow, or refusing our credentials -------------------------------------------


async def test_livekit_down_is_retryable_service_unavailable(
    call: Call, livekit_server: LiveKitServer
) -> None:
    await livekit_server.down()
    response = await call("media.createRoom", {"roomId": "r"})
    assert response["error"]["code"] == -32053
    assert error_of(response) == ("SERVICE_UNAVAILABLE", "media_unreachable", True)
    await livekit_server.up()
    assert "result" in await call("media.createRoom", {"roomId": "r"})


async def test_livekit_slow_is_retryable_timeout(call: Call, livekit_server: LiveKitServer) -> None:
    livekit_server.slow(5.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await call("media.listRooms")
    assert loop.time() - started < 3  # cut off at LIVEKIT_CALL_TIMEOUT, not left to hang
    assert response["error"]["code"] == -32008
    assert error_of(response) == ("TIMEOUT", "media_timeout", True)


async def test_credentials_rejected_is_not_retryable_and_leaks_nothing(
    call: Call, livekit_server: LiveKitServer
) -> None:
    livekit_server.wrong_credentials()
    response = await call("media.deleteRoom", {"roomId": "r"})
    assert error_of(response) == ("SERVICE_UNAVAILABLE", "media_credentials_rejected", False)
    text = json.dumps(response)
    assert "invalid" not in text.lower() and LIVEKIT_SECRET not in text and "Signature" not in text


async def test_readiness_reports_livekit(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    livekit_server: LiveKitServer,
) -> None:
    client = await aiohttp_client(make_app(**livekit_env(livekit_server)))
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["checks"]["livekit"] == "ok"
    await livekit_server.down()
    down = await client.get("/readyz")
    assert down.status == 503 and (await down.json())["checks"]["livekit"] == "unavailable"


# Settings ----------------------------------------------------------------------------------


def test_api_url_is_derived_from_the_browser_url() -> None:
    assert api_url_for("wss://lk.example.com") == "https://lk.example.com"
    assert api_url_for("ws://127.0.0.1:7880") == "http://127.0.0.1:7880"
    assert api_url_for("https://lk.example.com") == "https://lk.example.com"
    env = {
        "LIVEKIT_URL": "wss://lk.example.com",
        "LIVEKIT_API_KEY": "k",
        "LIVEKIT_API_SECRET": "super-secret-value",
    }
    config = LiveKitConfig.from_settings(load_settings(env, env_file=None))
    assert config is not None and config.api_url == "https://lk.example.com"
    assert "super-secret-value" not in repr(config)
    explicit = load_settings({**env, "LIVEKIT_API_URL": "http://10.0.0.5:7880"}, env_file=None)
    config = LiveKitConfig.from_settings(explicit)
    assert config is not None and config.api_url == "http://10.0.0.5:7880"
    assert LiveKitConfig.from_settings(load_settings({}, env_file=None)) is None


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"LIVEKIT_URL": "wss://lk"},
            "incomplete LiveKit settings: missing LIVEKIT_API_KEY, LIVEKIT_API_SECRET "
            "(set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET, or none for media off)",
        ),
        (
            {"LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"},
            "incomplete LiveKit settings: missing LIVEKIT_URL "
            "(set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET, or none for media off)",
        ),
    ],
)
def test_partial_livekit_settings_are_refused(env: dict[str, str], line: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, env_file=None)
    assert str(caught.value) == line


def test_bad_livekit_url_names_the_variable() -> None:
    env = {"LIVEKIT_URL": "lk.example.com", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}
    with pytest.raises(SettingsError, match=r"^invalid setting LIVEKIT_URL="):
        load_settings(env, env_file=None)


def test_livekit_gives_up_before_the_rpc_call_does() -> None:
    env = {
        "LIVEKIT_URL": "wss://lk",
        "LIVEKIT_API_KEY": "k",
        "LIVEKIT_API_SECRET": "s",
        "LIVEKIT_CALL_TIMEOUT": "10",
        "RPC_CALL_TIMEOUT": "10",
    }
    with pytest.raises(SettingsError) as caught:
        load_settings(env, env_file=None)
    assert str(caught.value) == (
        "invalid setting LIVEKIT_CALL_TIMEOUT=10.0: must be below RPC_CALL_TIMEOUT=10.0"
    )


def test_serve_stops_on_partial_livekit_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")}
    env["LIVEKIT_API_SECRET"] = "s"
    done = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "roomrpc: incomplete LiveKit settings: missing LIVEKIT_URL, LIVEKIT_API_KEY "
        "(set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET, or none for media off)"
    )
