"""How a subscription's handler chain is wrapped (see ``server.rpc.subscriptions``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from schema import Feed, FeedAfter, Subscribed
from server.rpc.context import Context
from server.rpc.errors import RpcError

__all__ = ["HOW_TO_SUBSCRIBE", "close_feed", "serving"]

Next = Callable[[Context[Any], Any], Awaitable[Any]]
HOW_TO_SUBSCRIBE = (
    "{name} is a subscription: call it over a WebSocket (GET /rpc with Upgrade: websocket) "
    "or POST /rpc with 'Accept: text/event-stream'"
)


def serving(run: Next) -> Next:
    """Wrap a subscription's chain: refuse it without a socket or past the caller's rate
    limit (before the handler subscribes to anything), start its feed on a socket."""

    async def subscribe(ctx: Context[Any], params: Any) -> Subscribed:
        connection = ctx.connection
        if connection is None:
            raise RpcError("BAD_REQUEST", HOW_TO_SUBSCRIBE.format(name=ctx.path))
        await connection.admit(ctx.path)  # the caller's rate limit of subscriptions started
        feed: Feed[Any] = await run(ctx, params)
        after = None
        if isinstance(feed, FeedAfter):  # where it starts: the answer's lastEventId
            after, feed = feed.after, feed.events
        try:
            sid = connection.start(ctx.path, feed)
        except BaseException:
            await close_feed(feed)
            raise
        return Subscribed(sid) if after is None else Subscribed(sid, after)

    return subscribe


async def close_feed(feed: Feed[Any]) -> None:
    """Close a feed (an async generator runs its ``finally`` blocks)."""
    aclose = getattr(feed, "aclose", None)
    if aclose is not None:
        await aclose()
