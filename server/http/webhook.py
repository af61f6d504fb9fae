"""``POST /livekit/webhook``: LiveKit's events, verified, once each, kept as presence.

LiveKit signs each POST (a JWT in ``Authorization`` over the body's SHA-256);
anything else is 401 and one log line saying why. An event id already seen
(stored, so every instance agrees) is answered 200 and ignored. Presence rows
are ordered by the participant's ``joinedAt``, so late or reordered events
about an older session change nothing (``server.storage.presence``). A
revoked being that joins anyway, or one whose join token was minted for a being
since deleted (``beingCreatedAt``), is removed again through RoomService.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from livekit.api import WebhookEvent
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.domain.access import now
from server.domain.presence import CREATED_ATTRIBUTE, being_of, outlived, subject_of
from server.http.noise import NOISE
from server.livekit import LiveKit, WebhookRejected, recording_of
from server.livekit.participants import session
from server.procedures._presence import PresenceKeeper
from server.procedures.deps import Deps
from server.rpc import RpcError
from server.storage import Storage, beings, presence, presence_sessions, recordings, revocations
from server.storage.errors import is_unique_violation

__all__ = ["PATH", "add_webhook", "apply_event"]

PATH = "/livekit/webhook"
log = logging.getLogger("roomrpc.webhook")
_LEAVING = frozenset({"participant_left", "participant_connection_aborted"})
_EGRESS = frozenset({"egress_started", "egress_updated", "egress_ended"})


def add_webhook(app: web.Application, deps: Deps, livekit: LiveKit) -> None:
    """Mount ``POST /livekit/webhook`` (only when media is on)."""

    read_timeout = deps.settings.http_read_timeout

    async def handle(request: web.Request) -> web.Response:
        noise = request.app[NOISE]
        try:
            async with asyncio.timeout(read_timeout):
                body = await request.read()
        except TimeoutError:  # a body trickling in: 408, and the connection is closed
            noise.note("slow-body", f"request bodies not received within {read_timeout:g} s")
            response = web.Response(status=408, text="the body did not arrive in time\n")
            response.force_close()
            return response
        except RequestPayloadError:  # a gzip, br or zstd body that does not decompress
            response = web.Response(status=400, text="the body could not be read or decoded\n")
            response.force_close()  # as aiohttp does after a body it could not read
            return response
        try:
            event = livekit.verify_webhook(body, request.headers.get("Authorization"))
        except WebhookRejected as rejected:  # anyone can send these: one line a minute
            noise.note(f"webhook:{rejected.reason}", f"webhook rejected (401): {rejected.reason}")
            return web.Response(status=401, text="webhook signature rejected\n")
        if not event.id:
            log.warning("webhook %s without an id: ignored", event.event)
            return web.Response(status=400, text="webhook event has no id\n")
        try:
            kick = await apply_event(deps.storage, event, deps.presence)
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            log.info("webhook %s %s: another instance took it", event.event, event.id)
            return web.Response(text="replay\n")
        if kick is not None:
            await _remove_again(livekit, event.room.name, kick)
        return web.Response(text="ok\n")

    app.router.add_post(PATH, handle)


async def apply_event(storage: Storage, event: WebhookEvent, keeper: PresenceKeeper) -> str | None:
    """Record ``event`` once, telling presence watchers what changed; the identity to
    remove again when a revoked being joined."""
    room, at = event.room, now()
    async with storage.write() as conn:
        if not await presence.first_sighting(conn, event.id, event.event, at):
            log.info("webhook %s %s: a replay, ignored", event.event, event.id)
            return None
        before = await presence_sessions.room_members(conn, room.name, at)
        kick = await _apply(conn, event, at)
        await keeper.room_told(conn, room.name, before, at)
    return kick


async def _apply(conn: AsyncConnection, event: WebhookEvent, at: datetime) -> str | None:
    room, name = event.room, event.event
    if name.startswith("participant_") and not event.participant.identity:
        log.warning("webhook %s %s without a participant: ignored", name, event.id)
    elif name == "participant_joined":
        person = event.participant
        subject = subject_of(person.identity, person.attributes)
        if await revocations.active_until(conn, room.name, subject, at) is not None:
            return person.identity
        if await _outlived(conn, person.identity, person.attributes):
            return person.identity
        await presence.joined(conn, session(room.name, room.sid, person))
    elif name in _LEAVING:
        await presence.left(conn, session(room.name, room.sid, event.participant))
    elif name == "room_started":
        created_ms = room.creation_time_ms or room.creation_time * 1000
        await presence.room_started(conn, room.name, room.sid, created_ms)
    elif name == "room_finished":
        await presence.room_finished(conn, room.name, room.sid)
    elif name in _EGRESS and event.HasField("egress_info"):
        info = event.egress_info  # the newest report of the egress wins, whatever the order
        await recordings.record(conn, recording_of(info), info.updated_at)
    return None


async def _outlived(conn: AsyncConnection, identity: str, attributes: Mapping[str, str]) -> bool:
    """True when the join token was minted for a being since deleted (or re-created)."""
    if CREATED_ATTRIBUTE not in attributes:
        return False
    being_id = being_of(identity, attributes)
    created = None if being_id is None else await beings.created_at(conn, being_id)
    return outlived(attributes, created)


async def _remove_again(livekit: LiveKit, room: str, identity: str) -> None:
    log.info("revoked %s joined %s: removing it again", identity, room)
    try:
        await livekit.rooms.remove_participant(room, identity)
    except RpcError as error:  # LiveKit will tell us again if it rejoins
        log.warning("revoked %s not removed from %s: %s", identity, room, error.reason)
