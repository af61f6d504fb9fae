"""Handlers of the ``intention`` namespace: speaking in a space, reading its history."""

from __future__ import annotations

import logging

import msgspec

from schema import intention
from schema.livekit import INTENTION_TOPIC
from server.domain.access import MANAGERS, now
from server.livekit import LiveKit
from server.procedures.deps import AuthedCtx, Ctx
from server.procedures.space import find_space
from server.rpc import Router, RpcError
from server.storage import intentions

__all__ = ["router"]

router = Router()
log = logging.getLogger("roomrpc.intention")
_encode = msgspec.json.Encoder().encode


@router.procedure(intention.create)
async def create(ctx: AuthedCtx, params: intention.CreateIntentionInput) -> intention.Intention:
    """Members speak; listeners listen; ``system`` is for managers and admins."""
    principal = ctx.principal
    async with ctx.deps.storage.write() as conn:
        _, role = await find_space(conn, params.space_id, principal)
        if not principal.is_admin:
            if role is None or role == "listener":
                reason = "listener" if role else "not_member"
                raise RpcError(
                    "FORBIDDEN", f"You may not speak in {params.space_id}", reason=reason
                )
            if params.kind == "system" and role not in MANAGERS:
                message = "Only owners, moderators and admins post system intentions"
                raise RpcError("FORBIDDEN", message, reason="not_manager")
        said = await intentions.insert(
            conn,
            space_id=params.space_id,
            author_id=principal.being_id,
            kind=params.kind,
            content=params.content,
            now=now(),
        )
    if ctx.deps.livekit is not None:
        await _broadcast(ctx.deps.livekit, said)
    return said


async def _broadcast(livekit: LiveKit, said: intention.Intention) -> None:
    """Send the stored intention into the space's room, live, if anyone is connected (LiveKit
    keeps SendData to a room that is not open waiting a second); a failure loses nothing
    (the intention is committed and ``intention.list`` has it), so it is only logged."""
    try:
        if not await livekit.rooms.list_participants(said.space_id):
            return
        await livekit.rooms.send_data(said.space_id, _encode(said), topic=INTENTION_TOPIC)
    except RpcError as error:
        if error.code == "NOT_FOUND":  # closed meanwhile (older LiveKits say not_found)
            return
        log.warning("intention %s not broadcast to %s: %s", said.id, said.space_id, error.reason)


@router.procedure(intention.list_)
async def list_(ctx: Ctx, params: intention.ListIntentionsInput) -> intention.IntentionPage:
    """Newest first; ``nextBefore`` continues with older ones."""
    async with ctx.deps.storage.read() as conn:
        await find_space(conn, params.space_id, ctx.principal)
        items = await intentions.page(conn, params.space_id, params.before, params.limit + 1)
    more = len(items) > params.limit
    del items[params.limit :]
    return intention.IntentionPage(items=items, next_before=items[-1].id if more else None)
