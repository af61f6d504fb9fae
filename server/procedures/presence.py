"""Handlers of the ``presence`` namespace: who is in a space's room, from the database."""

from __future__ import annotations

from schema import presence
from server.livekit import require_media
from server.procedures._reconcile import reconcile_room
from server.procedures.deps import Ctx
from server.procedures.space import find_space
from server.rpc import Router, RpcError
from server.storage import presence as stored

__all__ = ["router"]

router = Router()


@router.procedure(presence.members)
async def members(ctx: Ctx, params: presence.PresenceMembersInput) -> list[presence.PresentMember]:
    """What the webhooks said (or, with ``reconcile``, what LiveKit says now)."""
    room_id = params.room_being_id
    storage = ctx.deps.storage
    async with storage.read() as conn:
        await find_space(conn, room_id, ctx.principal)
    if params.reconcile:
        await _reconcile(ctx, room_id)
    async with storage.read() as conn:
        found = await stored.members(conn, room_id)
    return [
        presence.PresentMember(
            being_id=s.being_id, identity=s.identity, name=s.name, joined_at=s.joined_at
        )
        for s in found
    ]


async def _reconcile(ctx: Ctx, room_id: str) -> None:
    if ctx.principal is None:
        raise RpcError("UNAUTHORIZED", "Sign in to reconcile presence", reason="anonymous")
    await reconcile_room(ctx.deps, require_media(ctx.deps.livekit), room_id)
