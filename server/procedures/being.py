"""Handlers of the ``being`` namespace."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from schema import being
from schema.errors import Issue
from server.domain.access import check_text, decode_cursor, encode_cursor, now, owns
from server.procedures._access import find_visible, find_visible_cached
from server.procedures._live import record_space_event
from server.procedures.deps import AuthedCtx, Ctx
from server.rpc import Router, RpcError
from server.storage import beings, memberships, presence, revocations

if TYPE_CHECKING:
    from server.livekit import LiveKit

__all__ = ["router"]

router = Router()
log = logging.getLogger("roomrpc.being")


def _invalid(path: str, message: str) -> RpcError:
    return RpcError("INVALID_PARAMS", issues=[Issue(path=path, message=message)])


def _check_metadata(metadata: dict[str, object]) -> None:
    # Depth first: a value nested hundreds deep would exhaust the stack when encoded.
    if _depth(metadata) > being.MAX_METADATA_DEPTH:
        message = f"Metadata is nested more than {being.MAX_METADATA_DEPTH} levels deep"
        raise _invalid("$.metadata", message)
    size = len(msgspec.json.encode(metadata))
    if size > being.MAX_METADATA_BYTES:
        message = f"Metadata is {size} bytes as JSON; at most {being.MAX_METADATA_BYTES} allowed"
        raise _invalid("$.metadata", message)
    check_text(metadata, "$.metadata")


def _depth(value: object) -> int:
    """How deeply ``value`` nests objects and arrays (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend(
                (child, level + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


@router.procedure(being.get)
async def get(ctx: Ctx, params: being.GetBeingInput) -> being.Being:
    """A being the caller may see."""
    found, _ = await find_visible_cached(ctx.deps.storage, params.id, ctx.principal)
    return found


@router.procedure(being.list_)
async def list_(ctx: Ctx, params: being.ListBeingsInput) -> being.BeingPage:
    """A page of what the caller may see."""
    after = decode_cursor(params.cursor)
    principal = ctx.principal
    async with ctx.deps.storage.read() as conn:
        items = await beings.list_visible(
            conn,
            None if principal is None else principal.being_id,
            admin=principal is not None and principal.is_admin,
            type=params.type,
            after=after,
            limit=params.limit + 1,
        )
    more = len(items) > params.limit
    del items[params.limit :]
    return being.BeingPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


def _check_create(ctx: AuthedCtx, params: being.CreateBeingInput) -> str | None:
    """The owner the new being gets; refuses what the caller may not create."""
    principal = ctx.principal
    check_text(params.name, "$.name")
    _check_metadata(params.metadata)
    if params.type != "space" and params.visibility is not None:
        raise _invalid("$.visibility", "Only spaces have a visibility")
    if params.type == "user":
        if params.owner_id is not None:
            raise _invalid("$.ownerId", "Users have no owner")
        if not principal.is_admin:
            raise RpcError("FORBIDDEN", "Only admins create users", reason="admin_only")
        return None
    owner = params.owner_id or principal.being_id
    if owner != principal.being_id and not principal.is_admin:
        raise RpcError("FORBIDDEN", "Only admins create beings for others", reason="admin_only")
    return owner


async def _check_owner(conn: AsyncConnection, owner: str, kind: being.BeingType) -> None:
    """The owner exists; a space's owner becomes its member, so it is not a space."""
    found = await beings.type_of(conn, owner)
    if found is None:
        raise RpcError("NOT_FOUND", f"No being {owner}", reason="no_such_owner")
    if found == "space" and kind == "space":
        raise _invalid("$.ownerId", "A space cannot own a space (it would be its member)")


@router.procedure(being.create)
async def create(ctx: AuthedCtx, params: being.CreateBeingInput) -> being.Being:
    """A new being; the owner of a space becomes its first member, as ``owner``."""
    owner = _check_create(ctx, params)
    stamp = now()
    new = being.Being(
        id=params.id,
        name=params.name,
        type=params.type,
        owner_id=owner,
        visibility=(params.visibility or "public") if params.type == "space" else None,
        metadata=params.metadata,
        created_at=stamp,
        updated_at=stamp,
    )
    async with ctx.deps.storage.write() as conn:
        if owner is not None and (owner != ctx.principal.being_id or new.type == "space"):
            await _check_owner(conn, owner, new.type)
        await beings.insert(conn, new)
        if owner is not None and new.type == "space":
            await memberships.add(conn, new.id, owner, "owner", stamp)
    return new


@router.procedure(being.update)
async def update(ctx: AuthedCtx, params: being.UpdateBeingInput) -> being.Being:
    """Change what was given; owners only."""
    if params.name is not msgspec.UNSET:
        check_text(params.name, "$.name")
    if params.metadata is not msgspec.UNSET:
        _check_metadata(params.metadata)
    async with ctx.deps.storage.write() as conn:
        found, role = await find_visible(conn, params.id, ctx.principal)
        if not owns(found, role, ctx.principal):
            raise RpcError("FORBIDDEN", f"Only the owner changes {params.id}", reason="not_owner")
        if params.visibility is not msgspec.UNSET and found.type != "space":
            raise _invalid("$.visibility", "Only spaces have a visibility")
        await beings.update(
            conn,
            params.id,
            now=now(),
            name=None if params.name is msgspec.UNSET else params.name,
            visibility=None if params.visibility is msgspec.UNSET else params.visibility,
            metadata=None if params.metadata is msgspec.UNSET else params.metadata,
        )
        changed, _ = await find_visible(conn, params.id, ctx.principal)
        if found.type == "space":
            await record_space_event(ctx.deps.bus, conn, params.id, "updated")
    return changed


@router.procedure(being.delete)
async def delete(ctx: AuthedCtx, params: being.DeleteBeingInput) -> being.Being:
    """Delete a being its owner no longer wants; returns it as it was."""
    storage = ctx.deps.storage
    async with storage.write() as conn:
        await beings.lock_for_delete(conn, params.id)  # the checks below read locked rows
        found, role = await find_visible(conn, params.id, ctx.principal)
        if not owns(found, role, ctx.principal):
            raise RpcError("FORBIDDEN", f"Only the owner deletes {params.id}", reason="not_owner")
        bots = await beings.count_bots(conn, params.id)
        if bots:
            message = f"{params.id} owns {bots} bots: delete them first"
            raise RpcError("PRECONDITION_FAILED", message, reason="owns_bots")
        sole = await memberships.sole_owner_of(conn, params.id)
        if sole:
            message = f"{params.id} is the last owner of {', '.join(sole)}: name another first"
            raise RpcError("PRECONDITION_FAILED", message, reason="last_owner")
        gone = await memberships.of_being(conn, params.id)  # they leave their spaces too
        members = await memberships.of_space(conn, params.id) if found.type == "space" else []
        await beings.delete(conn, params.id)
        for left in gone:
            await record_space_event(
                ctx.deps.bus, conn, left.space_id, "memberRemoved", params.id, left.role
            )
        if found.type == "space":
            await record_space_event(ctx.deps.bus, conn, params.id, "deleted")
            for member in members:  # after "deleted": for space.watchMine, not space.watch
                await record_space_event(
                    ctx.deps.bus,
                    conn,
                    params.id,
                    "memberRemoved",
                    member.being_id,
                    member.role,
                    tell_space=False,
                )
            await presence.clear_room(conn, params.id)
            await revocations.clear_room(conn, params.id)
    storage.deletions += 1  # after the commit: tokens of this being stop working now
    if found.type == "space" and ctx.deps.livekit is not None:
        await _delete_room(ctx.deps.livekit, params.id)
    return found


async def _delete_room(livekit: LiveKit, room_id: str) -> None:
    """A deleted space's room goes too, disconnecting everyone (no room: nothing to do).

    The space is already gone, so a LiveKit failure is logged, not returned: the
    room then closes by itself once empty, and nobody can get a token for it.
    """
    try:
        await livekit.rooms.delete_room(room_id)
    except RpcError as error:
        log.warning("room of deleted space %s not deleted: %s", room_id, error.reason)
