"""``POST /livekit/token``: LiveKit's standard token endpoint, with LiveKit's own SDKs."""

from __future__ import annotations

import gzip
import io
import json
import time
from typing import Any

import brotli
import jwt
import pytest

from server.cli.seed import create_being
from server.domain.access import now
from server.storage import memberships
from tests.livekit_server import LiveKitServer
from tests.support.app import LIVEKIT_KEY, LIVEKIT_SECRET
from tests.support.live import claims_of
from tests.support.livekit_node import token_source_fetch, verify_with_node
from tests.support.world import Api

PATH = "/livekit/token"


async def ask(
    api: Api, body: Any, *, as_: str | None = "@member", **headers: str
) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) of one POST, as ``as_`` (None: no credentials)."""
    if as_ is not None:
        headers.setdefault("Authorization", f"Bearer {api.token(as_)}")
    headers.setdefault("Content-Type", "application/json")
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    response = await api.client.post(PATH, data=data, headers=headers)
    return response.status, await response.json()


def refused(body: dict[str, Any]) -> tuple[str, str | None]:
    """A refusal carries our error object and nothing a client could read as a token."""
    assert "participant_token" not in body and "server_url" not in body, body
    assert set(body) == {"error"}, body
    return body["error"]["data"]["code"], body["error"]["data"].get("reason")


async def add_bot(api: Api, bot: str = "@helper", space: str = "@hall") -> None:
    await create_being(
        api.storage, {"id": bot, "name": "Helper", "type": "bot", "ownerId": "@owner"}
    )
    async with api.storage.write() as conn:
        await memberships.add(conn, space, bot, "member", now())


# LiveKit's JS client SDK ---------------------------------------------------------------------


async def test_livekit_client_token_source_joins_with_the_roles_grants(
    live: Api, livekit_server: LiveKitServer
) -> None:
    url = str(live.client.make_url(PATH))
    options = [
        {"roomName": "@hall"},
        {"roomName": "@hall", "participantIdentity": "@member#tab-2"},
        {"roomName": "@room", "participantName": "ignored", "participantMetadata": "hi"},
    ]
    [plain, device, private] = await token_source_fetch(
        url, f"Bearer {live.token('@member')}", options
    )
    # livekit-client 2.23's TokenSourceResponse reads server_url and participant_token only.
    assert set(plain["response"]) == {"serverUrl", "participantToken"}
    assert plain["response"]["serverUrl"] == livekit_server.ws_url
    assert plain["cached"]  # exp is far more than the 60 s the SDK keeps in hand
    tokens = [f["response"]["participantToken"] for f in (plain, device, private)]
    verdicts = verify_with_node(LIVEKIT_KEY, LIVEKIT_SECRET, tokens=tokens)
    claims = [v["claims"] for v in verdicts["tokens"]]
    assert [c["sub"] for c in claims] == ["@member", "@member#tab-2", "@member"]
    assert [c["video"]["room"] for c in claims] == ["@hall", "@hall", "@room"]
    assert claims[2]["metadata"] == "hi" and claims[2]["name"] == "Member"
    for c in claims:
        assert c["exp"] - time.time() > 3000 and c["attributes"]["beingId"] == "@member"
    # The grants are getJoinToken's, claim for claim.
    rpc = await live.ok("livekit.getJoinToken", {"roomBeingId": "@hall"}, as_="@member")
    ours = jwt.decode(tokens[0], options={"verify_signature": False})
    theirs = jwt.decode(rpc["token"], options={"verify_signature": False})
    assert ours["video"] == theirs["video"] and ours["kind"] == theirs["kind"] == "standard"
    # And LiveKit lets the participant in with them.
    joined = await livekit_server.join_with_token(tokens[1])
    assert joined.identity == "@member#tab-2"
    assert (joined.permission.can_publish, joined.permission.can_publish_data) == (False, True)


async def test_livekit_client_sees_a_refusal_as_an_error(live: Api) -> None:
    url = str(live.client.make_url(PATH))
    [stranger, nobody] = await token_source_fetch(
        url, f"Bearer {live.token('@stranger')}", [{"roomName": "@room"}, {"roomName": "@nope"}]
    )
    assert "received 404" in stranger["error"] and "received 404" in nobody["error"]
    [anonymous] = await token_source_fetch(url, None, [{"roomName": "@hall"}])
    assert "received 401" in anonymous["error"]


# The wire contract ---------------------------------------------------------------------------


async def test_answer_is_201_in_snake_case(live: Api, livekit_server: LiveKitServer) -> None:
    status, body = await ask(live, {"room_name": "@hall"})
    assert status == 201
    assert set(body) == {"server_url", "participant_token", "room_name", "participant_name"}
    assert body["server_url"] == livekit_server.ws_url
    assert (body["room_name"], body["participant_name"]) == ("@hall", "Member")
    assert claims_of(body["participant_token"]).identity == "@member"


async def test_mobile_bodies_with_room_config_and_unknown_fields(live: Api) -> None:
    android = {  # what LiveKit's Android SDK writes: room_config always, sync_streams a number
        "room_name": "@hall",
        "participant_identity": "",
        "participant_name": "",
        "participant_metadata": "",
        "participant_attributes": {},
        "room_config": {
            "name": "",
            "empty_timeout": 0,
            "departure_timeout": 0,
            "max_participants": 0,
            "metadata": "",
            "min_playout_delay": 0,
            "max_playout_delay": 0,
            "sync_streams": 0,
            "agents": [],
        },
        "a_field_from_the_future": {"x": [1, 2]},
    }
    status, body = await ask(live, android)
    assert status == 201, body
    swift = {"room_name": "@hall", "room_config": {"agents": None, "sync_streams": False}}
    assert (await ask(live, swift))[0] == 201


@pytest.mark.parametrize(
    ("body", "status", "code", "reason"),
    [
        ({}, 400, "BAD_REQUEST", "room_name_required"),
        ("not json", 400, "BAD_REQUEST", "not_json"),
        ({"room_name": 7}, 400, "BAD_REQUEST", "invalid_request"),
        ({"room_name": "@nope"}, 404, "NOT_FOUND", "no_such_being"),
        ({"room_name": "@owner"}, 400, "BAD_REQUEST", "not_a_space"),
        ({"room_name": "@hall", "participant_identity": "@owner"}, 403, "FORBIDDEN", None),
        ({"room_name": "@hall", "participant_identity": "@owner#x"}, 403, "FORBIDDEN", None),
        ({"room_name": "@hall", "participant_identity": "@member#a b"}, 403, "FORBIDDEN", None),
        ({"room_name": "@hall", "participant_identity": "@member#tab\n"}, 403, "FORBIDDEN", None),
        (
            {"room_name": "@hall", "participant_attributes": {"beingId": "@owner"}},
            403,
            "FORBIDDEN",
            "server_attribute",
        ),
    ],
)
async def test_refusals_are_4xx_without_a_token(
    live: Api, body: Any, status: int, code: str, reason: str | None
) -> None:
    got, answer = await ask(live, body)
    assert got == status
    assert refused(answer)[0] == code
    if reason is not None:
        assert refused(answer)[1] == reason
    elif code == "FORBIDDEN":
        assert refused(answer)[1] == "identity_not_yours"


async def test_the_body_s_content_codings_are_those_of_rpc(live: Api) -> None:
    body = json.dumps({"room_name": "@hall"}).encode()
    for coding, packed in (("gzip", gzip.compress(body)), ("br", brotli.compress(body))):
        status, answer = await ask(live, packed, **{"Content-Encoding": coding})
        assert status == 201 and answer["room_name"] == "@hall", answer
    for coding in ("gzip", "br", "zstd"):  # a body that does not decompress: 400, not a 500
        status, answer = await ask(live, b"x" * 100, **{"Content-Encoding": coding})
        assert (status, refused(answer)) == (400, ("BAD_REQUEST", "not_json"))
    status, answer = await ask(live, body, **{"Content-Encoding": "compress"})
    assert (status, refused(answer)[0]) == (415, "UNSUPPORTED_MEDIA_TYPE")


async def test_a_body_too_large_is_413(live: Api) -> None:
    body = {"room_name": "@hall", "padding": "x" * (live.settings.rpc_max_body_bytes + 1)}
    headers = {"Authorization": f"Bearer {live.token('@member')}"}
    data = io.BytesIO(json.dumps(body).encode())  # (aiohttp warns of large raw bytes)
    response = await live.client.post(PATH, data=data, headers=headers)
    assert (response.status, refused(await response.json())[0]) == (413, "PAYLOAD_TOO_LARGE")


async def test_credentials_are_required(live: Api) -> None:
    status, body = await ask(live, {"room_name": "@hall"}, as_=None)
    assert (status, refused(body)) == (401, ("UNAUTHORIZED", "missing_token"))
    status, body = await ask(live, {"room_name": "@hall"}, as_=None, Authorization="Bearer x")
    assert status == 401 and refused(body)[0] == "UNAUTHORIZED"


async def test_a_private_space_is_hidden_from_strangers(live: Api) -> None:
    status, body = await ask(live, {"room_name": "@room"}, as_="@stranger")
    assert (status, refused(body)[0]) == (404, "NOT_FOUND")


async def test_a_revoked_being_gets_no_token(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member")
    params = {"roomBeingId": "@hall", "identity": "@member", "revokeSeconds": 600}
    await live.ok("livekit.removeParticipant", params, as_="@owner")
    status, body = await ask(live, {"room_name": "@hall"})
    assert (status, refused(body)) == (403, ("FORBIDDEN", "revoked"))


# Agents in room_config -----------------------------------------------------------------------


async def test_owners_name_the_spaces_bots_as_agents(live: Api) -> None:
    await add_bot(live)
    agents = {"agents": [{"agent_name": "@helper", "metadata": '{"topic":"x"}'}]}
    status, body = await ask(live, {"room_name": "@hall", "room_config": agents}, as_="@owner")
    assert status == 201, body
    raw = jwt.decode(body["participant_token"], options={"verify_signature": False})
    assert raw["roomConfig"] == {"agents": [{"agentName": "@helper", "metadata": '{"topic":"x"}'}]}
    claims = claims_of(body["participant_token"])  # livekit-api reads it as RoomConfiguration
    assert claims.room_config is not None and claims.room_config.agents[0].agent_name == "@helper"


@pytest.mark.parametrize(
    ("who", "agent", "reason"),
    [
        ("@mod", "@helper", "not_owner"),
        ("@member", "@helper", "not_owner"),
        ("@owner", "@member", "not_a_bot_of_space"),  # a member, but not a bot
        ("@owner", "@stray", "not_a_bot_of_space"),  # a bot, but not of this space
    ],
)
async def test_agents_only_from_owners_and_only_the_spaces_bots(
    live: Api, who: str, agent: str, reason: str
) -> None:
    await add_bot(live)
    await add_bot(live, "@stray", "@room")
    body = {"room_name": "@hall", "room_config": {"agents": [{"agent_name": agent}]}}
    status, answer = await ask(live, body, as_=who)
    assert (status, refused(answer)) == (403, ("FORBIDDEN", reason))


async def test_a_bot_joins_as_an_agent(live: Api) -> None:
    await add_bot(live)
    status, body = await ask(live, {"room_name": "@hall"}, as_="@helper")
    assert status == 201
    raw = jwt.decode(body["participant_token"], options={"verify_signature": False})
    assert raw["kind"] == "agent" and raw["video"]["agent"] is True


# CORS ----------------------------------------------------------------------------------------


async def test_cors_as_for_rpc(
    make_api: Any, db_env: dict[str, str], livekit_server: LiveKitServer
) -> None:
    from tests.support.app import livekit_env
    from tests.support.world import populate

    env = {**db_env, **livekit_env(livekit_server), "CORS_ORIGINS": "https://app.example"}
    api = await populate(await make_api(env))
    headers = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    preflight = await api.client.options(PATH, headers=headers)
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    response = await api.client.post(
        PATH,
        data=json.dumps({"room_name": "@hall"}),
        headers={
            "Authorization": f"Bearer {api.token('@member')}",
            "Origin": "https://app.example",
        },
    )
    assert response.status == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    evil = await api.client.options(PATH, headers={**headers, "Origin": "https://evil.example"})
    assert evil.status == 403
