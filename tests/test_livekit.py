"""``livekit.*`` over HTTP with real tokens, against the LiveKit test server."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime
from typing import Any

import jwt
import pytest
from livekit.protocol.models import DataPacket, TrackType

from tests.livekit_server import LiveKitServer
from tests.support.live import claims_of, declared, error_data
from tests.support.world import Api

# (role in @hall, canPublish, canSubscribe, canPublishData) on a space without allowMedia.
GRANTS = [
    ("@owner", False, True, True),
    ("@mod", False, True, True),
    ("@member", False, True, True),
    ("@listener", False, True, False),
    ("@stranger", False, True, False),  # a visitor of a public space listens
]


async def token_of(api: Api, who: str, room: str = "@hall", **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = await api.ok(
        "livekit.getJoinToken", {"roomBeingId": room, **params}, as_=who
    )
    return result


async def allow_media(api: Api, space: str = "@hall") -> None:
    await api.ok("being.update", {"id": space, "metadata": {"allowMedia": True}}, as_="@owner")


def _iso(created_at: str) -> str:
    return datetime.fromisoformat(created_at).isoformat(timespec="microseconds")


# getJoinToken ------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "publish", "subscribe", "data"), GRANTS)
async def test_grants_come_from_the_role(
    live: Api, livekit_server: LiveKitServer, who: str, publish: bool, subscribe: bool, data: bool
) -> None:
    result = await token_of(live, who)
    assert result["wsUrl"] == livekit_server.ws_url
    assert (result["roomId"], result["identity"]) == ("@hall", who)
    claims = claims_of(result["token"])
    assert claims.identity == who and claims.video is not None
    video = claims.video
    assert (video.can_publish, video.can_subscribe, video.can_publish_data) == (
        publish,
        subscribe,
        data,
    )
    assert video.room_join and video.room == "@hall"
    assert not (video.room_admin or video.room_create or video.room_list)
    created = (await live.ok("being.get", {"id": who}))["createdAt"]
    assert claims.attributes == {"beingId": who, "beingCreatedAt": _iso(created)}


async def test_every_grant_is_written_into_the_token(live: Api) -> None:
    raw = jwt.decode(
        (await token_of(live, "@member"))["token"], options={"verify_signature": False}
    )
    video = raw["video"]
    assert (video["canPublish"], video["canSubscribe"], video["canPublishData"]) == (
        False,
        True,
        True,
    )


async def test_managers_publish_media_where_the_space_allows_it(live: Api) -> None:
    await allow_media(live)
    for who, publish in (
        ("@owner", True),
        ("@mod", True),
        ("@member", False),
        ("@listener", False),
    ):
        video = claims_of((await token_of(live, who))["token"]).video
        assert video is not None and video.can_publish is publish, who


async def test_the_test_server_admits_the_token_with_its_grants(
    live: Api, livekit_server: LiveKitServer
) -> None:
    joined = await livekit_server.join_with_token((await token_of(live, "@listener"))["token"])
    assert joined.identity == "@listener" and joined.name == "Listener"
    assert not joined.permission.can_publish_data and joined.permission.can_subscribe


async def test_ttl_defaults_to_an_hour_and_is_bounded(live: Api) -> None:
    raw = jwt.decode(
        (await token_of(live, "@member"))["token"], options={"verify_signature": False}
    )
    assert raw["exp"] - raw["nbf"] == 3600
    short = await token_of(live, "@member", ttlSeconds=60)
    raw = jwt.decode(short["token"], options={"verify_signature": False})
    assert raw["exp"] - raw["nbf"] == 60
    for ttl in (59, 86401):
        error = await declared(
            live, "livekit.getJoinToken", {"roomBeingId": "@hall", "ttlSeconds": ttl}, as_="@member"
        )
        assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == "$.ttlSeconds"


async def test_a_device_gets_its_own_identity_so_two_tabs_coexist(
    live: Api, livekit_server: LiveKitServer
) -> None:
    one = await token_of(live, "@member", device="tab-1")
    two = await token_of(live, "@member", device="tab-2")
    assert (one["identity"], two["identity"]) == ("@member#tab-1", "@member#tab-2")
    assert (claims_of(one["token"]).attributes or {}).get("beingId") == "@member"
    await livekit_server.join_with_token(one["token"])
    await livekit_server.join_with_token(two["token"])
    assert {p.identity for p in livekit_server.participants("@hall")} == {
        "@member#tab-1",
        "@member#tab-2",
    }


async def test_the_cookbook_checks(live: Api) -> None:
    async def check(who: str, room: str) -> tuple[str, str | None]:
        return error_data(
            await declared(live, "livekit.getJoinToken", {"roomBeingId": room}, as_=who)
        )

    assert await check("@member", "@nowhere") == ("NOT_FOUND", "no_such_being")
    assert await check("@stranger", "@room") == ("NOT_FOUND", "no_such_being")  # private
    assert await check("@member", "@owner") == ("BAD_REQUEST", "not_a_space")
    assert (await check("@ghost", "@hall"))[0] == "UNAUTHORIZED"
    anonymous = await declared(live, "livekit.getJoinToken", {"roomBeingId": "@hall"})
    assert anonymous["data"]["code"] == "UNAUTHORIZED"
    assert (await token_of(live, "@member", room="@room"))["roomId"] == "@room"


# Data messages -----------------------------------------------------------------------------


def packets(lk: LiveKitServer, topic: str) -> list[Any]:
    return [p for p in lk.data_packets("@hall") if p.topic == topic]


async def test_system_messages_are_for_managers(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member")
    params = {"roomBeingId": "@hall", "message": "Doors close at ten"}
    for who in ("@member", "@listener", "@stranger"):
        error = await declared(live, "livekit.sendSystemMessage", params, as_=who)
        assert error_data(error) == ("FORBIDDEN", "not_manager"), who
    sent = await live.ok("livekit.sendSystemMessage", params, as_="@mod")
    assert sent == {
        "roomId": "@hall",
        "topic": "system",
        "sent": True,
        "destinationIdentities": None,
    }
    [packet] = packets(livekit_server, "system")
    assert packet.kind == DataPacket.Kind.RELIABLE and packet.destination_identities == ()
    body = json.loads(packet.data)
    assert body["type"] == "system_message" and body["message"] == "Doors close at ten"
    assert body["fromBeingId"] == "@mod" and isinstance(body["timestamp"], int)


async def test_messages_into_a_room_nobody_is_in_are_not_sent(
    live: Api, livekit_server: LiveKitServer
) -> None:
    """No open room (LiveKit would keep SendData waiting, then answer "unavailable"), or an
    open one with nobody in it: nothing is sent, at once."""
    params = {"roomBeingId": "@hall", "message": "anyone?"}
    started = asyncio.get_running_loop().time()
    for room_is_open in (False, True):
        if room_is_open:
            await livekit_server.join("@hall", "@member")
            await livekit_server.leave("@hall", "@member")
        assert (livekit_server.room("@hall") is not None) is room_is_open
        sent = await live.ok("livekit.sendSystemMessage", params, as_="@owner")
        assert (sent["sent"], sent["destinationIdentities"]) == (False, None)
        test = await live.ok("livekit.sendTestMessage", params, as_="@member")
        assert test["sent"] is False
        said = await live.ok(
            "intention.create", {"spaceId": "@hall", "content": "hm"}, as_="@member"
        )
        assert said["content"] == "hm"
    assert asyncio.get_running_loop().time() - started < 1.0  # never psrpc's one second
    assert livekit_server.data_packets() == []


async def test_system_messages_to_some_beings_reach_all_their_tabs(
    live: Api, livekit_server: LiveKitServer
) -> None:
    for device in ("a", "b"):
        await livekit_server.join_with_token(
            (await token_of(live, "@member", device=device))["token"]
        )
    await livekit_server.join("@hall", "@listener")
    params = {"roomBeingId": "@hall", "message": "psst", "topic": "whisper"}
    sent = await live.ok(
        "livekit.sendSystemMessage", {**params, "targetBeingIds": ["@member"]}, as_="@owner"
    )
    assert sorted(sent["destinationIdentities"]) == ["@member#a", "@member#b"]
    [packet] = packets(livekit_server, "whisper")
    assert sorted(packet.destination_identities) == ["@member#a", "@member#b"]
    absent = await live.ok(
        "livekit.sendSystemMessage", {**params, "targetBeingIds": ["@stranger"]}, as_="@owner"
    )
    assert (absent["sent"], absent["destinationIdentities"]) == (False, [])
    assert len(packets(livekit_server, "whisper")) == 1  # never everyone instead of nobody


async def test_test_messages_are_for_members(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@owner")
    params = {"roomBeingId": "@hall", "message": "hello"}
    assert error_data(await declared(live, "livekit.sendTestMessage", params, as_="@listener")) == (
        "FORBIDDEN",
        "listener",
    )
    assert error_data(await declared(live, "livekit.sendTestMessage", params, as_="@stranger")) == (
        "FORBIDDEN",
        "not_member",
    )
    sent = await live.ok("livekit.sendTestMessage", params, as_="@member")
    assert (sent["topic"], sent["sent"]) == ("demo", True)
    [packet] = packets(livekit_server, "demo")
    body = json.loads(packet.data)
    assert set(body) == {"type", "fromBeingId", "message", "timestamp"}
    assert (body["type"], body["fromBeingId"], body["message"]) == (
        "test_message",
        "@member",
        "hello",
    )


# Room control ------------------------------------------------------------------------------


async def test_room_control_is_for_managers(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@listener")
    calls = [
        ("livekit.listParticipants", {"roomBeingId": "@hall"}),
        ("livekit.removeParticipant", {"roomBeingId": "@hall", "identity": "@listener"}),
        (
            "livekit.muteTrack",
            {"roomBeingId": "@hall", "identity": "@listener", "trackSid": "TR_x"},
        ),
        ("livekit.updateParticipant", {"roomBeingId": "@hall", "identity": "@listener"}),
        ("livekit.updateRoomMetadata", {"roomBeingId": "@hall", "metadata": "{}"}),
    ]
    for method, params in calls:
        assert error_data(await declared(live, method, params, as_="@member")) == (
            "FORBIDDEN",
            "not_manager",
        ), method
        assert (await declared(live, method, {**params, "roomBeingId": "@room"}, as_="@stranger"))[
            "data"
        ]["code"] == "NOT_FOUND", method
    assert livekit_server.participant("@hall", "@listener") is not None


async def test_list_participants(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join_with_token((await token_of(live, "@member", device="t"))["token"])
    await livekit_server.join("@hall", "bot-recorder", name="Recorder")
    found = await live.ok("livekit.listParticipants", {"roomBeingId": "@hall"}, as_="@mod")
    assert [(p["identity"], p["beingId"]) for p in found] == [
        ("@member#t", "@member"),
        ("bot-recorder", None),
    ]
    assert found[0]["permissions"] == {
        "canPublish": False,
        "canSubscribe": True,
        "canPublishData": True,
    }
    assert found[0]["name"] == "Member" and found[0]["tracks"] == []


async def test_remove_participant_revokes_the_being(
    live: Api, livekit_server: LiveKitServer
) -> None:
    earlier = (await token_of(live, "@member", device="x"))["token"]
    other_tab = (await token_of(live, "@member", device="y"))["token"]
    await livekit_server.join_with_token(earlier)
    removed = await live.ok(
        "livekit.removeParticipant",
        {"roomBeingId": "@hall", "identity": "@member#x"},
        as_="@mod",
    )
    assert (removed["removed"], removed["beingId"]) == (True, "@member")
    assert removed["revokedUntil"] is not None
    assert livekit_server.participant("@hall", "@member#x") is None
    refused = await declared(live, "livekit.getJoinToken", {"roomBeingId": "@hall"}, as_="@member")
    assert error_data(refused) == ("FORBIDDEN", "revoked") and refused["data"]["retryable"]
    # LiveKit refuses the removed identity's earlier tokens (revoke_token_ts) ...
    with pytest.raises(PermissionError, match="revoked"):
        await livekit_server.join_with_token(earlier)
    # ... and another identity of the same being, with a token minted before the removal,
    # is removed again at once when its participant_joined webhook arrives.
    await livekit_server.join_with_token(other_tab)
    assert livekit_server.participant("@hall", "@member#y") is None
    assert (await live.ok("presence.members", {"roomBeingId": "@hall"}, as_="@member")) == []
    # The revocation is per room: @room still admits @member.
    assert (await token_of(live, "@member", room="@room"))["identity"] == "@member"


async def test_a_join_token_dies_with_its_being(live: Api, livekit_server: LiveKitServer) -> None:
    user = {"id": "@v2", "name": "V2", "type": "user"}
    await live.ok("being.create", user, as_="@ops", admin=True)
    old = (await token_of(live, "@v2", device="a"))["token"]
    await live.ok("being.delete", {"id": "@v2"}, as_="@v2")
    await live.ok("being.create", user, as_="@ops", admin=True)  # the same id, another being
    await livekit_server.join_with_token(old)  # LiveKit still admits it: we remove it
    assert livekit_server.participant("@hall", "@v2#a") is None
    assert (await live.ok("presence.members", {"roomBeingId": "@hall"}, as_="@owner")) == []
    fresh = (await token_of(live, "@v2", device="b"))["token"]
    await livekit_server.join_with_token(fresh)
    assert livekit_server.participant("@hall", "@v2#b") is not None


async def test_remove_without_revocation_and_of_someone_absent(
    live: Api, livekit_server: LiveKitServer
) -> None:
    params = {"roomBeingId": "@hall", "identity": "@listener", "revokeSeconds": 0}
    await livekit_server.join("@hall", "@owner")
    removed = await live.ok("livekit.removeParticipant", params, as_="@owner")
    assert (removed["removed"], removed["revokedUntil"]) == (False, None)
    assert (await token_of(live, "@listener"))["identity"] == "@listener"


def _until(removed: dict[str, Any]) -> float:
    return datetime.fromisoformat(removed["revokedUntil"]).timestamp()


async def test_revocations_are_shortened_and_lifted_by_their_rank_only(
    live: Api, livekit_server: LiveKitServer
) -> None:
    remove = {"roomBeingId": "@hall", "identity": "@member#x"}
    lift = {"roomBeingId": "@hall", "beingId": "@member"}
    day = time.time() + 86400
    by_owner = await live.ok(
        "livekit.removeParticipant", {**remove, "revokeSeconds": 86400}, as_="@owner"
    )
    assert _until(by_owner) >= day - 60
    for seconds in (60, 0):  # a moderator neither shortens nor, with 0, drops it
        by_mod = await live.ok(
            "livekit.removeParticipant", {**remove, "revokeSeconds": seconds}, as_="@mod"
        )
        assert by_mod["revokedUntil"] == by_owner["revokedUntil"], seconds
    refused = await declared(live, "livekit.getJoinToken", {"roomBeingId": "@hall"}, as_="@member")
    assert error_data(refused) == ("FORBIDDEN", "revoked")
    longer = await live.ok(
        "livekit.removeParticipant", {**remove, "revokeSeconds": 86400}, as_="@mod"
    )
    assert _until(longer) >= _until(by_owner)  # lengthening is allowed
    assert error_data(await declared(live, "livekit.liftRevocation", lift, as_="@mod")) == (
        "FORBIDDEN",
        "not_owner",
    )
    by_admin = await live.ok(
        "livekit.removeParticipant", {**remove, "revokeSeconds": 600}, as_="@ops", admin=True
    )
    assert _until(by_admin) < time.time() + 700  # an admin outranks the owner: shortened
    outranked = await declared(live, "livekit.liftRevocation", lift, as_="@owner")
    assert error_data(outranked) == ("FORBIDDEN", "outranked")
    lifted = await live.ok("livekit.liftRevocation", lift, as_="@ops", admin=True)
    assert lifted == {"roomId": "@hall", "beingId": "@member", "lifted": True}
    assert (await token_of(live, "@member"))["identity"] == "@member"
    again = await live.ok("livekit.liftRevocation", lift, as_="@owner")
    assert again["lifted"] is False


async def test_an_owner_lifts_what_an_owner_or_moderator_set(live: Api) -> None:
    remove = {"roomBeingId": "@hall", "identity": "@listener", "revokeSeconds": 3600}
    await live.ok("livekit.removeParticipant", remove, as_="@mod")
    lift = {"roomBeingId": "@hall", "beingId": "@listener"}
    assert (await live.ok("livekit.liftRevocation", lift, as_="@owner"))["lifted"] is True
    assert (await token_of(live, "@listener"))["identity"] == "@listener"
    shorter = await live.ok(
        "livekit.removeParticipant", {**remove, "revokeSeconds": 60}, as_="@mod"
    )
    assert _until(shorter) < time.time() + 120  # a moderator's own: same rank, replaced


async def test_revocations_name_beings_only(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "bot-recorder", name="Recorder")
    params = {"roomBeingId": "@hall", "identity": "bot-recorder"}
    error = await declared(live, "livekit.removeParticipant", params, as_="@mod")
    assert error["data"]["code"] == "INVALID_PARAMS"
    assert error["data"]["issues"][0]["path"] == "$.identity"
    assert livekit_server.participant("@hall", "bot-recorder") is not None
    removed = await live.ok("livekit.removeParticipant", {**params, "revokeSeconds": 0}, as_="@mod")
    assert (removed["removed"], removed["revokedUntil"]) == (True, None)
    ghost = {"roomBeingId": "@hall", "identity": "@ghost#1"}
    assert (await declared(live, "livekit.removeParticipant", ghost, as_="@mod"))["data"][
        "code"
    ] == "NOT_FOUND"


async def test_moderators_do_not_act_on_owners(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@owner")
    params = {"roomBeingId": "@hall", "identity": "@owner"}
    error = await declared(live, "livekit.removeParticipant", params, as_="@mod")
    assert error_data(error) == ("FORBIDDEN", "not_owner")
    assert livekit_server.participant("@hall", "@owner") is not None


async def test_mute_track(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member", publish=[TrackType.AUDIO])
    info = livekit_server.participant("@hall", "@member")
    assert info is not None
    sid = info.tracks[0].sid
    params = {"roomBeingId": "@hall", "identity": "@member", "trackSid": sid}
    track = await live.ok("livekit.muteTrack", params, as_="@mod")
    assert (track["sid"], track["kind"], track["source"], track["muted"]) == (
        sid,
        "audio",
        "microphone",
        True,
    )
    unknown = await declared(
        live, "livekit.muteTrack", {**params, "trackSid": "TR_nope"}, as_="@mod"
    )
    assert unknown["data"]["code"] == "NOT_FOUND"
    absent = await declared(
        live, "livekit.muteTrack", {**params, "identity": "@listener"}, as_="@mod"
    )
    assert error_data(absent) == ("NOT_FOUND", "media_not_found")  # not connected
    unmute = await declared(live, "livekit.muteTrack", {**params, "muted": False}, as_="@mod")
    assert unmute["data"]["code"] == "PRECONDITION_FAILED"  # LiveKit's remote unmute is off


async def test_update_participant(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member")
    params = {"roomBeingId": "@hall", "identity": "@member"}
    permissions = {"canPublish": False, "canSubscribe": True, "canPublishData": False}
    updated = await live.ok(
        "livekit.updateParticipant",
        {**params, "name": "M", "metadata": '{"hand":true}', "permissions": permissions},
        as_="@mod",
    )
    assert (updated["name"], updated["metadata"], updated["permissions"]) == (
        "M",
        '{"hand":true}',
        permissions,
    )
    info = livekit_server.participant("@hall", "@member")
    assert info is not None and not info.permission.can_publish_data
    publish = {**permissions, "canPublish": True}
    refused = await declared(
        live, "livekit.updateParticipant", {**params, "permissions": publish}, as_="@owner"
    )
    assert error_data(refused) == ("FORBIDDEN", "media_not_allowed")
    await allow_media(live)
    allowed = await live.ok(
        "livekit.updateParticipant", {**params, "permissions": publish}, as_="@owner"
    )
    assert allowed["permissions"]["canPublish"] is True
    for key in ("beingId", "beingCreatedAt"):  # the server's own attributes
        forged = {**params, "attributes": {key: "@owner", "hand": "up"}}
        error = await declared(live, "livekit.updateParticipant", forged, as_="@owner")
        assert error["data"]["issues"][0]["path"] == f"$.attributes.{key}", error
    info = livekit_server.participant("@hall", "@member")
    assert info is not None and "hand" not in info.attributes
    raised = {**params, "attributes": {"hand": "up"}}
    assert (await live.ok("livekit.updateParticipant", raised, as_="@mod"))["attributes"][
        "hand"
    ] == "up"
    gone = await declared(
        live, "livekit.updateParticipant", {**params, "identity": "@nobody"}, as_="@owner"
    )
    assert gone["data"]["code"] == "NOT_FOUND"


async def test_update_room_metadata(live: Api, livekit_server: LiveKitServer) -> None:
    params = {"roomBeingId": "@hall", "metadata": '{"topic":"jazz"}'}
    inactive = await declared(live, "livekit.updateRoomMetadata", params, as_="@mod")
    assert inactive["data"]["code"] == "NOT_FOUND"
    await livekit_server.join("@hall", "@member")
    room = await live.ok("livekit.updateRoomMetadata", params, as_="@mod")
    assert (room["roomId"], room["metadata"]) == ("@hall", '{"topic":"jazz"}')
    found = livekit_server.room("@hall")
    assert found is not None and found.metadata == '{"topic":"jazz"}'


# Intentions and deleted spaces -------------------------------------------------------------


async def test_an_intention_is_broadcast_into_the_room(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@owner")
    said = await live.ok(
        "intention.create", {"spaceId": "@hall", "content": "hi all"}, as_="@member"
    )
    [packet] = packets(livekit_server, "intention")
    assert json.loads(packet.data) == said
    assert packet.kind == DataPacket.Kind.RELIABLE


async def test_an_intention_survives_livekit_down_slow_or_roomless(
    live: Api, livekit_server: LiveKitServer
) -> None:
    said = [
        await live.ok("intention.create", {"spaceId": "@hall", "content": "no room"}, as_="@member")
    ]
    await livekit_server.join("@hall", "@owner")
    livekit_server.slow(2)
    said.append(
        await live.ok("intention.create", {"spaceId": "@hall", "content": "slow"}, as_="@member")
    )
    livekit_server.slow(0)
    await livekit_server.down()
    said.append(
        await live.ok("intention.create", {"spaceId": "@hall", "content": "down"}, as_="@member")
    )
    await livekit_server.up()
    history = await live.ok("intention.list", {"spaceId": "@hall"}, as_="@member")
    assert history["items"] == said[::-1]
    assert packets(livekit_server, "intention") == []


async def test_deleting_a_space_deletes_its_room(live: Api, livekit_server: LiveKitServer) -> None:
    await livekit_server.join("@hall", "@member")
    await live.ok("being.delete", {"id": "@hall"}, as_="@owner")
    assert livekit_server.room("@hall") is None
    assert livekit_server.participants("@hall") == []
    await livekit_server.down()  # no room, or no LiveKit: the space is deleted all the same
    await live.ok("being.delete", {"id": "@room"}, as_="@owner")
    await livekit_server.up()


async def test_deleting_a_space_without_a_room_logs_nothing(
    live: Api, livekit_server: LiveKitServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await live.ok("being.delete", {"id": "@hall"}, as_="@owner")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# Faults and the media gate -----------------------------------------------------------------


async def test_livekit_down_and_slow_give_typed_errors(
    live: Api, livekit_server: LiveKitServer
) -> None:
    params = {"roomBeingId": "@hall"}
    await livekit_server.down()
    down = await declared(live, "livekit.listParticipants", params, as_="@mod")
    assert (down["data"]["code"], down["data"]["retryable"]) == ("SERVICE_UNAVAILABLE", True)
    assert (await token_of(live, "@member"))["identity"] == "@member"  # minting needs no call
    await livekit_server.up()
    livekit_server.slow(2)
    slow = await declared(
        live, "livekit.sendTestMessage", {**params, "message": "x"}, as_="@member"
    )
    assert (slow["code"], slow["data"]["reason"], slow["data"]["retryable"]) == (
        -32008,
        "media_timeout",
        True,
    )
    livekit_server.slow(0)
    livekit_server.wrong_credentials()
    rejected = await declared(live, "livekit.listParticipants", params, as_="@mod")
    assert error_data(rejected) == ("SERVICE_UNAVAILABLE", "media_credentials_rejected")
    assert "lk-test-secret" not in json.dumps(rejected)


LIVEKIT_CALLS = [
    ("livekit.getJoinToken", {"roomBeingId": "@hall"}),
    ("livekit.sendSystemMessage", {"roomBeingId": "@hall", "message": "m"}),
    ("livekit.sendTestMessage", {"roomBeingId": "@hall", "message": "m"}),
    ("livekit.listParticipants", {"roomBeingId": "@hall"}),
    ("livekit.removeParticipant", {"roomBeingId": "@hall", "identity": "@member"}),
    ("livekit.muteTrack", {"roomBeingId": "@hall", "identity": "@member", "trackSid": "T"}),
    ("livekit.updateParticipant", {"roomBeingId": "@hall", "identity": "@member"}),
    ("livekit.updateRoomMetadata", {"roomBeingId": "@hall", "metadata": ""}),
]


async def test_media_off(world: Api) -> None:
    for method, params in LIVEKIT_CALLS:
        error = await declared(world, method, params, as_="@owner")
        assert error_data(error) == ("SERVICE_UNAVAILABLE", "media_not_configured"), method
    said = await world.ok("intention.create", {"spaceId": "@hall", "content": "x"}, as_="@member")
    assert said["content"] == "x"
    assert await world.ok("presence.members", {"roomBeingId": "@hall"}) == []
    reconcile = {"roomBeingId": "@hall", "reconcile": True}
    error = await declared(world, "presence.members", reconcile, as_="@member")
    assert error_data(error) == ("SERVICE_UNAVAILABLE", "media_not_configured")
    await world.ok("being.delete", {"id": "@hall"}, as_="@owner")
    status, _ = await world.call("system.health")
    assert status == 200
    response = await world.client.post("/livekit/webhook", data=b"{}")
    assert response.status == 404  # media off: no webhook endpoint
