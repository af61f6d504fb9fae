"""A space's LiveKit room as a procedure reaches it: the caller's role checked first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from schema.being import Being
from server.domain.access import MANAGERS
from server.domain.rooms import grants_for, is_manager
from server.livekit import require_media
from server.procedures.deps import AuthedCtx
from server.procedures.space import find_space
from server.rpc import Principal, RpcError
from server.storage import memberships

if TYPE_CHECKING:
    from server.livekit import LiveKit

__all__ = ["Room", "any_room", "check_target", "managed_room", "member_room"]


@dataclass(frozen=True, slots=True)
class Room:
    """A space's room, the caller's role in the space, and LiveKit."""

    space: Being
    role: str | None
    livekit: LiveKit

    @property
    def id(self) -> str:
        return self.space.id


async def _room(ctx: AuthedCtx, space_id: str) -> Room:
    livekit = require_media(ctx.deps.livekit)
    async with ctx.deps.storage.read() as conn:
        space, role = await find_space(conn, space_id, ctx.principal)
    return Room(space, role, livekit)


async def any_room(ctx: AuthedCtx, space_id: str) -> Room:
    """The room of a space the caller may see, with the caller's role; checks are the caller's."""
    return await _room(ctx, space_id)


async def managed_room(ctx: AuthedCtx, space_id: str) -> Room:
    """The room, if the caller is one of the space's owners or moderators (or an admin)."""
    room = await _room(ctx, space_id)
    if not is_manager(ctx.principal, room.role):
        message = f"Only owners and moderators control the room of {space_id}"
        raise RpcError("FORBIDDEN", message, reason="not_manager")
    return room


async def member_room(ctx: AuthedCtx, space_id: str) -> Room:
    """The room, if the caller may publish data in it (members, managers, admins)."""
    room = await _room(ctx, space_id)
    if not grants_for(room.space, room.role, ctx.principal).can_publish_data:
        reason = "listener" if room.role == "listener" else "not_member"
        raise RpcError("FORBIDDEN", f"You may not send into {space_id}", reason=reason)
    return room


async def check_target(
    conn: AsyncConnection, room: Room, principal: Principal, being_id: str | None
) -> None:
    """Moderators act on members, listeners and visitors; owners and admins on anyone."""
    if being_id is None or principal.is_admin or room.role == "owner":
        return
    target = await memberships.role_of(conn, room.id, being_id)
    if target in MANAGERS:
        message = f"Only owners act on the owners and moderators of {room.id}"
        raise RpcError("FORBIDDEN", message, reason="not_owner")
