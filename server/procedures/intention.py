"""Handlers of the ``intention`` namespace: speaking in a space, reading its history."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import msgspec

from schema import Event, Feed, FeedAfter, intention
from schema.livekit import INTENTION_TOPIC
from server.bus import RESYNC, Message, Subscription
from server.domain.access import MANAGERS, check_text, now
from server.procedures._live import event_after, next_message, space_channel
from server.procedures.deps import AuthedCtx, Ctx, Deps
from server.procedures.space import find_space
from server.rpc import Principal, Router, RpcError
from server.storage import after_commit, beings, intentions

if TYPE_CHECKING:
    from server.livekit import LiveKit

__all__ = ["router"]

router = Router()
log = logging.getLogger("roomrpc.intention")
_encode = msgspec.json.Encoder().encode


@router.procedure(intention.create)
async def create(ctx: AuthedCtx, params: intention.CreateIntentionInput) -> intention.Intention:
    """Members speak; listeners listen; ``system`` is for managers and admins."""
    principal = ctx.principal
    check_text(params.content, "$.content")
    async with ctx.deps.storage.write() as conn:
        # The space's row is locked until commit, so a space's intentions commit in id
        # order: a subscriber resuming after id N misses none committed later.
        await beings.lock(conn, params.space_id)
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
        # Once committed (not before: SQLite may give a rolled-back id again), the row is
        # known here, then announced.
        after_commit(conn, functools.partial(ctx.deps.shared.remember, said))
        channel = space_channel(params.space_id)
        await ctx.deps.bus.publish(conn, Message(channel, "intention", said.id))
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


_PAGE = 100


@router.procedure(intention.watch)
async def watch(ctx: Ctx, params: intention.WatchIntentionsInput) -> Feed[intention.Intention]:
    """Listen first, then read: what commits meanwhile is in the rows or in the queue."""
    after = event_after(params.last_event_id)
    deps = ctx.deps
    listening = deps.bus.subscribe(
        space_channel(params.space_id), limit=deps.settings.live_queue_size
    )
    try:
        async with deps.storage.read() as conn:
            await find_space(conn, params.space_id, ctx.principal)
            replay = after is not None
            if after is None:  # only what happens from now on
                after = await intentions.last_id(conn, params.space_id)
    except BaseException:
        listening.close()
        raise
    feed = _intentions(deps, ctx.principal, params.space_id, after, replay, listening)
    return FeedAfter(feed, str(after))


async def _intentions(
    deps: Deps,
    principal: Principal | None,
    space_id: str,
    after: int,
    replay: bool,
    listening: Subscription,
) -> AsyncIterator[Event[intention.Intention]]:
    try:
        if replay:
            async for said in _rows_after(deps, space_id, after):
                after = said.id
                yield Event(str(said.id), said)
        while True:
            message = await next_message(listening)
            if message.k == "intention":
                if message.id <= after:  # replayed already
                    continue
                read = await deps.shared.intention(deps.storage, message.id)
                if read is not None:
                    after = read.id
                    yield Event(str(read.id), read)
            elif message.k == RESYNC:  # the bus may have missed some: the rows have them
                async for said in _rows_after(deps, space_id, after):
                    after = said.id
                    yield Event(str(said.id), said)
            else:  # the space or its membership changed: may the caller still read it?
                async with deps.storage.read() as conn:
                    await find_space(conn, space_id, principal)
    finally:
        listening.close()


async def _rows_after(deps: Deps, space_id: str, after: int) -> AsyncIterator[intention.Intention]:
    """The space's intentions above ``after``, a page at a time (no connection held)."""
    while True:
        async with deps.storage.read() as conn:
            page = await intentions.after(conn, space_id, after, _PAGE)
        for said in page:
            yield said
        if len(page) < _PAGE:
            return
        after = page[-1].id
