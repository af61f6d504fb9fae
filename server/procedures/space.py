"""Handlers of the ``space`` namespace: membership and roles."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection

from schema import Event, Feed, FeedAfter, space
from schema.being import Being
from schema.errors import Issue
from server.bus import RESYNC, Subscription
from server.domain.access import MANAGERS, decode_cursor, encode_cursor, not_found, now
from server.procedures._access import find_visible
from server.procedures._live import (
    being_channel,
    event_after,
    next_message,
    record_space_event,
    space_channel,
)
from server.procedures.deps import AuthedCtx, Ctx, Deps
from server.rpc import Principal, Router, RpcError
from server.storage import beings, memberships, space_events

__all__ = ["find_space", "router"]

router = Router()
_JUNIOR = frozenset({"member", "listener"})  # the roles moderators hand out and take away


async def find_space(
    conn: AsyncConnection, space_id: str, principal: Principal | None
) -> tuple[Being, str | None]:
    """The space and the caller's role in it; NOT_FOUND if absent, hidden or not a space."""
    found, role = await find_visible(conn, space_id, principal)
    if found.type != "space":
        raise RpcError("NOT_FOUND", f"{space_id} is not a space", reason="not_a_space")
    return found, role


def _may_manage(principal: Principal, actor_role: str | None, *roles: str | None) -> bool:
    """Owners and admins manage every role; moderators only members and listeners."""
    if principal.is_admin or actor_role == "owner":
        return True
    return actor_role == "moderator" and all(r in _JUNIOR for r in roles)


def _forbidden(space_id: str) -> RpcError:
    return RpcError(
        "FORBIDDEN", f"Only owners and moderators manage {space_id}", reason="not_manager"
    )


async def _target(conn: AsyncConnection, space_id: str, being_id: str) -> space.Member:
    member = await memberships.get(conn, space_id, being_id)
    if member is None:
        raise RpcError("NOT_FOUND", f"{being_id} is not a member of {space_id}", reason="no_member")
    return member


async def _keep_an_owner(conn: AsyncConnection, member: space.Member) -> None:
    if member.role == "owner" and await memberships.count_owners(conn, member.space_id) <= 1:
        message = f"{member.being_id} is the last owner of {member.space_id}"
        raise RpcError("PRECONDITION_FAILED", message, reason="last_owner")


async def _lock_space(
    conn: AsyncConnection, space_id: str, principal: Principal
) -> tuple[Being, str | None]:
    """Lock the space's row, so membership changes of one space take turns."""
    if not await beings.lock(conn, space_id):
        raise not_found(space_id)
    return await find_space(conn, space_id, principal)


@router.procedure(space.members)
async def members(ctx: Ctx, params: space.SpaceMembersInput) -> space.MemberPage:
    """A page of members, by being id."""
    after = decode_cursor(params.cursor)
    async with ctx.deps.storage.read() as conn:
        await find_space(conn, params.space_id, ctx.principal)
        items = await memberships.page(conn, params.space_id, after, params.limit + 1)
    more = len(items) > params.limit
    del items[params.limit :]
    next_cursor = encode_cursor(items[-1].being_id) if more else None
    return space.MemberPage(items=items, next_cursor=next_cursor)


@router.procedure(space.add_member)
async def add_member(ctx: AuthedCtx, params: space.AddMemberInput) -> space.Member:
    """Add a being to a space."""
    if params.being_id == params.space_id:
        issue = Issue(path="$.beingId", message="A space cannot be its own member")
        raise RpcError("INVALID_PARAMS", issues=[issue])
    async with ctx.deps.storage.write() as conn:
        _, actor = await _lock_space(conn, params.space_id, ctx.principal)
        if not _may_manage(ctx.principal, actor, params.role):
            raise _forbidden(params.space_id)
        joining, _ = await find_visible(conn, params.being_id, ctx.principal)
        if joining.type == "space":
            issue = Issue(path="$.beingId", message="A space cannot be a member of a space")
            raise RpcError("INVALID_PARAMS", issues=[issue])
        added = await memberships.add(conn, params.space_id, params.being_id, params.role, now())
        await record_space_event(
            ctx.deps.bus, conn, params.space_id, "memberAdded", params.being_id, params.role
        )
    return added


@router.procedure(space.remove_member)
async def remove_member(ctx: AuthedCtx, params: space.RemoveMemberInput) -> space.Member:
    """Remove a member: managers remove others, anyone may leave."""
    async with ctx.deps.storage.write() as conn:
        _, actor = await _lock_space(conn, params.space_id, ctx.principal)
        leaving = params.being_id == ctx.principal.being_id and actor is not None
        if not leaving and actor not in MANAGERS and not ctx.principal.is_admin:
            raise _forbidden(params.space_id)
        member = await _target(conn, params.space_id, params.being_id)
        if not leaving and not _may_manage(ctx.principal, actor, member.role):
            raise _forbidden(params.space_id)
        await _keep_an_owner(conn, member)
        await memberships.remove(conn, params.space_id, params.being_id)
        await record_space_event(
            ctx.deps.bus, conn, params.space_id, "memberRemoved", params.being_id, member.role
        )
    return member


@router.procedure(space.set_role)
async def set_role(ctx: AuthedCtx, params: space.SetRoleInput) -> space.Member:
    """Give a member another role."""
    async with ctx.deps.storage.write() as conn:
        _, actor = await _lock_space(conn, params.space_id, ctx.principal)
        if actor not in MANAGERS and not ctx.principal.is_admin:
            raise _forbidden(params.space_id)
        member = await _target(conn, params.space_id, params.being_id)
        if not _may_manage(ctx.principal, actor, member.role, params.role):
            raise _forbidden(params.space_id)
        if params.role != "owner":
            await _keep_an_owner(conn, member)
        await memberships.set_role(conn, params.space_id, params.being_id, params.role)
        await record_space_event(
            ctx.deps.bus, conn, params.space_id, "roleChanged", params.being_id, params.role
        )
    return space.Member(
        space_id=member.space_id,
        being_id=member.being_id,
        role=params.role,
        created_at=member.created_at,
    )


_PAGE = 100
_HISTORY_GONE = RpcError(
    "PRECONDITION_FAILED",
    "The events after lastEventId are no longer kept: read the space again, "
    "then subscribe without lastEventId",
    reason="history_gone",
)
_RECHECK = frozenset({"updated", "memberRemoved", "roleChanged"})  # may change who reads


@router.procedure(space.watch)
async def watch(ctx: Ctx, params: space.WatchSpaceInput) -> Feed[space.SpaceEvent]:
    """Listen first, then read: what commits meanwhile is in the rows or in the queue."""
    after = event_after(params.last_event_id)
    deps = ctx.deps
    listening = deps.bus.subscribe(
        space_channel(params.space_id), limit=deps.settings.live_queue_size
    )
    try:
        async with deps.storage.read() as conn:
            await find_space(conn, params.space_id, ctx.principal)
            if after is None:  # only what happens from now on
                after = await space_events.last_id(conn, params.space_id)
            elif after and not await space_events.kept(conn, params.space_id, after):
                raise _HISTORY_GONE
    except BaseException:
        listening.close()
        raise
    return FeedAfter(
        _space_events(deps, ctx.principal, params.space_id, after, listening), str(after)
    )


async def _space_events(
    deps: Deps,
    principal: Principal | None,
    space_id: str,
    after: int,
    listening: Subscription,
) -> AsyncIterator[Event[space.SpaceEvent]]:
    try:
        pending = True  # replay what came after the resume point first
        while True:
            if pending:
                async with deps.storage.read() as conn:
                    page = await space_events.after(conn, space_id, after, _PAGE)
                for event_id, change in page:
                    after = event_id
                    if change.type in _RECHECK:
                        async with deps.storage.read() as conn:
                            await find_space(conn, space_id, principal)
                    yield Event(str(event_id), change)
                    if change.type == "deleted":
                        raise RpcError("NOT_FOUND", f"{space_id} was deleted", reason="deleted")
                if len(page) == _PAGE:
                    continue
            message = await next_message(listening)
            pending = message.k == RESYNC or (message.k != "intention" and message.id > after)
    finally:
        listening.close()


@router.procedure(space.watch_mine)
async def watch_mine(ctx: AuthedCtx, params: space.WatchMineInput) -> Feed[space.SpaceEvent]:
    """The caller's memberships: listen first, then read, as ``space.watch`` does."""
    after = event_after(params.last_event_id)
    deps, me = ctx.deps, ctx.principal.being_id
    listening = deps.bus.subscribe(being_channel(me), limit=deps.settings.live_queue_size)
    try:
        async with deps.storage.read() as conn:
            if after is None:  # only what happens from now on
                after = await space_events.last_mine(conn, me)
            elif after and not await space_events.kept_mine(conn, me, after):
                raise _HISTORY_GONE
    except BaseException:
        listening.close()
        raise
    return FeedAfter(_my_events(deps, me, after, listening), str(after))


async def _my_events(
    deps: Deps, being_id: str, after: int, listening: Subscription
) -> AsyncIterator[Event[space.SpaceEvent]]:
    try:
        pending = True  # replay what came after the resume point first
        while True:
            if pending:
                async with deps.storage.read() as conn:
                    page = await space_events.mine(conn, being_id, after, _PAGE)
                for event_id, change in page:
                    after = event_id
                    yield Event(str(event_id), change)
                if len(page) == _PAGE:
                    continue
            message = await next_message(listening)
            pending = message.k == RESYNC or message.id > after
    finally:
        listening.close()
