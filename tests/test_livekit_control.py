"""``livekit.*`` control against LiveKit's own behaviours: permission sets, removal that
holds, bots dispatched as agents, recordings through Egress (the test server follows
livekit-server; see README "LiveKit (media)")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit.protocol.models import ParticipantInfo, ParticipantPermission, TrackSource, TrackType

from server.cli.seed import create_being
from server.domain.access import now
from server.storage import memberships
from tests.livekit_server import LiveKitServer
from tests.support.live import declared, error_data, start_live
from tests.support.world import Api, populate

HALL = {"roomBeingId": "@hall"}


async def add_bot(api: Api, bot: str = "@helper", space: str = "@hall") -> None:
    fields = {"id": bot, "name": bot[1:].title(), "type": "bot", "ownerId": "@owner"}
    await create_being(api.storage, fields)
    async with api.storage.write() as conn:
        await memberships.add(conn, space, bot, "member", now())


async def token(api: Api, who: str, room: str = "@hall") -> str:
    result = await api.ok("livekit.getJoinToken", {"roomBeingId": room}, as_=who)
    return str(result["token"])


# UpdateParticipant: the permission set is replaced whole -------------------------------------


async def test_update_keeps_what_it_does_not_change(
    live: Api, livekit_server: LiveKitServer
) -> None:
    """LiveKit sets every permission field from the request; ours are read back first, so
    canPublishSources and hidden survive a change of the three flags."""
    await live.ok("being.update", {"id": "@hall", "metadata": {"allowMedia": True}}, as_="@owner")
    kept = ParticipantPermission(
        can_publish=True,
        can_subscribe=True,
        can_publish_data=True,
        can_publish_sources=[TrackSource.MICROPHONE],
        hidden=True,
        can_update_metadata=True,
    )
    await livekit_server.join("@hall", "@member", permission=kept)
    flags = {"canPublish": True, "canSubscribe": True, "canPublishData": False}
    params = {**HALL, "identity": "@member", "permissions": flags}
    await live.ok("livekit.updateParticipant", params, as_="@owner")
    info = livekit_server.participant("@hall", "@member")
    assert info is not None
    assert list(info.permission.can_publish_sources) == [TrackSource.MICROPHONE]
    assert info.permission.hidden and info.permission.can_update_metadata
    assert not info.permission.can_publish_data


async def test_revoking_publish_unpublishes_the_tracks(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@mod", publish=[TrackType.AUDIO, TrackType.VIDEO])
    flags = {"canPublish": False, "canSubscribe": True, "canPublishData": True}
    params = {**HALL, "identity": "@mod", "permissions": flags}
    updated = await live.ok("livekit.updateParticipant", params, as_="@owner")
    assert updated["tracks"] == []
    await livekit_server.flush_webhooks()
    assert livekit_server.event_names().count("track_unpublished") == 2
    listed = await live.ok("livekit.listParticipants", HALL, as_="@owner")
    assert [p["tracks"] for p in listed] == [[]]


# Removal that holds ----------------------------------------------------------------------------


async def test_a_removed_participant_cannot_come_back_with_its_old_token(
    live: Api, livekit_server: LiveKitServer
) -> None:
    kept = await token(live, "@member")
    await livekit_server.join_with_token(kept)
    await asyncio.sleep(1.1)  # a token of an earlier second than the removal
    params = {**HALL, "identity": "@member", "revokeSeconds": 600}
    await live.ok("livekit.removeParticipant", params, as_="@owner")
    assert livekit_server.service.revoked_before[("@hall", "@member")] > 0  # revoke_token_ts
    with pytest.raises(PermissionError, match="revoked"):
        await livekit_server.join_with_token(kept)


@pytest.mark.parametrize("endpoint", ["getJoinToken", "media.generateToken", "/livekit/token"])
async def test_lock_keeps_the_being_out_of_every_endpoint_until_lifted(
    live: Api, livekit_server: LiveKitServer, endpoint: str
) -> None:
    await livekit_server.join("@hall", "@member")
    params = {**HALL, "identity": "@member", "revokeSeconds": 0, "lock": True}
    removed = await live.ok("livekit.removeParticipant", params, as_="@mod")
    assert removed["locked"] is True and removed["revokedUntil"].startswith("9999-12-31")
    assert await _refused(live, endpoint) == ("FORBIDDEN", "revoked")
    shorter = {**params, "lock": False, "revokeSeconds": 60}  # a moderator cannot shorten it
    assert (await live.ok("livekit.removeParticipant", shorter, as_="@mod"))["locked"] is True
    refused = await declared(
        live, "livekit.liftRevocation", {**HALL, "beingId": "@member"}, as_="@mod"
    )
    assert error_data(refused) == ("FORBIDDEN", "not_owner")
    lifted = await live.ok("livekit.liftRevocation", {**HALL, "beingId": "@member"}, as_="@owner")
    assert lifted["lifted"] is True
    assert await _refused(live, endpoint) is None


async def _refused(api: Api, endpoint: str) -> tuple[str, str | None] | None:
    if endpoint == "/livekit/token":
        headers = {"Authorization": f"Bearer {api.token('@member')}"}
        response = await api.client.post(endpoint, json={"room_name": "@hall"}, headers=headers)
        body = await response.json()
        if response.status == 201:
            return None
        return body["error"]["data"]["code"], body["error"]["data"].get("reason")
    if endpoint == "getJoinToken":
        _, body = await api.call("livekit.getJoinToken", HALL, as_="@member")
    else:  # a trusted service asks for the being's (device) identity
        params = {"roomId": "@hall", "participant": {"identity": "@member#tab-9"}}
        _, body = await api.call(endpoint, params, as_="@ops", admin=True)
    if "result" in body:
        return None
    return body["error"]["data"]["code"], body["error"]["data"].get("reason")


# Bots as agents ------------------------------------------------------------------------------


async def test_bots_are_dispatched_listed_and_withdrawn(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await add_bot(live)
    params = {**HALL, "botId": "@helper", "metadata": '{"task":"notes"}'}
    made = await live.ok("livekit.dispatchBot", params, as_="@mod")
    assert (made["roomId"], made["botId"], made["metadata"]) == (
        "@hall",
        "@helper",
        params["metadata"],
    )
    assert [d.agent_name for d in livekit_server.dispatch.dispatches("@hall")] == ["@helper"]
    listed = await live.ok("livekit.listDispatches", HALL, as_="@owner")
    assert [d["dispatchId"] for d in listed] == [made["dispatchId"]]
    gone = {**HALL, "dispatchId": made["dispatchId"]}
    assert (await live.ok("livekit.removeDispatch", gone, as_="@owner"))["dispatchId"] == made[
        "dispatchId"
    ]
    assert await live.ok("livekit.listDispatches", HALL, as_="@owner") == []
    again = await declared(live, "livekit.removeDispatch", gone, as_="@owner")
    assert again["data"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("who", "bot", "reason"),
    [
        ("@member", "@helper", "not_manager"),
        ("@listener", "@helper", "not_manager"),
        ("@owner", "@member", "not_a_bot_of_space"),
        ("@owner", "@stray", "not_a_bot_of_space"),
    ],
)
async def test_only_managers_dispatch_only_the_spaces_bots(
    live: Api, who: str, bot: str, reason: str
) -> None:
    await add_bot(live)
    await add_bot(live, "@stray", "@room")
    error = await declared(live, "livekit.dispatchBot", {**HALL, "botId": bot}, as_=who)
    assert error_data(error) == ("FORBIDDEN", reason)


async def test_a_bot_joins_as_an_agent(live: Api, livekit_server: LiveKitServer) -> None:
    await add_bot(live)
    joined = await livekit_server.join_with_token(await token(live, "@helper"))
    assert joined.kind == ParticipantInfo.Kind.AGENT


async def test_agents_named_in_a_token_are_dispatched_with_the_room(
    live: Api, livekit_server: LiveKitServer
) -> None:
    await add_bot(live)
    body = {"room_name": "@hall", "room_config": {"agents": [{"agent_name": "@helper"}]}}
    headers = {"Authorization": f"Bearer {live.token('@owner')}"}
    response = await live.client.post("/livekit/token", json=body, headers=headers)
    assert response.status == 201
    await livekit_server.join_with_token((await response.json())["participant_token"])
    listed = await live.ok("livekit.listDispatches", HALL, as_="@owner")
    assert [d["botId"] for d in listed] == ["@helper"]


# Recordings ----------------------------------------------------------------------------------


@pytest.fixture
async def recorded(make_api: Any, db_env: dict[str, str], livekit_server: LiveKitServer) -> Api:
    env = {**db_env, "LIVEKIT_RECORDING_FILEPATH": "recordings/{room_name}-{time}.mp4"}
    return await populate(await start_live(make_api, env, livekit_server))


async def test_a_recording_is_started_listed_and_stopped(
    recorded: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    started = await recorded.ok("livekit.startRecording", HALL, as_="@owner")
    assert started["status"] in ("EGRESS_STARTING", "EGRESS_ACTIVE")
    assert started["startedBy"] == "@owner"
    assert started["files"][0]["filename"].startswith("recordings/@hall-")
    [request] = livekit_server.egress.requests
    assert request.DESCRIPTOR.name == "StartEgressRequest"  # the unified StartEgress
    await livekit_server.flush_webhooks()
    [active] = await recorded.ok("livekit.listRecordings", HALL, as_="@owner")
    assert active["status"] == "EGRESS_ACTIVE"  # from egress_updated
    stop = {**HALL, "egressId": started["egressId"]}
    await recorded.ok("livekit.stopRecording", stop, as_="@owner")
    await livekit_server.flush_webhooks()
    [done] = await recorded.ok("livekit.listRecordings", HALL, as_="@owner")
    assert done["status"] == "EGRESS_COMPLETE" and done["endedAt"] is not None  # egress_ended
    assert done["files"][0]["size"] > 0 and done["startedBy"] == "@owner"
    again = await declared(recorded, "livekit.stopRecording", stop, as_="@owner")
    assert again["data"]["code"] == "PRECONDITION_FAILED"  # LiveKit: cannot be stopped
    names = livekit_server.event_names()
    assert names.count("egress_started") == 1 and names.count("egress_ended") == 1


async def test_egress_reports_out_of_order_keep_the_newest(
    recorded: Api, livekit_server: LiveKitServer
) -> None:
    await livekit_server.join("@hall", "@member")
    started = await recorded.ok("livekit.startRecording", HALL, as_="@owner")
    await recorded.ok(
        "livekit.stopRecording", {**HALL, "egressId": started["egressId"]}, as_="@owner"
    )
    await livekit_server.flush_webhooks()
    started_event = next(e for e in livekit_server.events if e.event == "egress_started")
    await livekit_server.deliver(started_event)  # a late copy, freshly signed: a new POST
    [done] = await recorded.ok("livekit.listRecordings", HALL, as_="@owner")
    assert done["status"] == "EGRESS_COMPLETE"


@pytest.mark.parametrize(("who", "code"), [("@mod", "FORBIDDEN"), ("@member", "FORBIDDEN")])
async def test_recordings_are_for_owners_and_admins(recorded: Api, who: str, code: str) -> None:
    for method, params in (
        ("livekit.startRecording", HALL),
        ("livekit.listRecordings", HALL),
        ("livekit.stopRecording", {**HALL, "egressId": "EG_x"}),
    ):
        error = await declared(recorded, method, params, as_=who)
        assert error_data(error) == (code, "not_owner")
    assert await recorded.ok("livekit.listRecordings", HALL, as_="@ops", admin=True) == []


async def test_recordings_unconfigured_are_unavailable(live: Api) -> None:
    error = await declared(live, "livekit.startRecording", HALL, as_="@owner")
    assert error_data(error) == ("SERVICE_UNAVAILABLE", "recordings_not_configured")
