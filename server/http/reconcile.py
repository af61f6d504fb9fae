"""The periodic presence reconcile: a task for the app's life, every LIVEKIT_RECONCILE_SECONDS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from server.procedures._reconcile import reconcile_due
from server.procedures.deps import Deps

if TYPE_CHECKING:
    from server.livekit import LiveKit

__all__ = ["reconcile_ctx"]

log = logging.getLogger("roomrpc.reconcile")


def reconcile_ctx(
    deps: Deps, livekit: LiveKit, every: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An ``app.cleanup_ctx`` entry running ``reconcile_due`` every ``every`` seconds; each
    instance names itself with a random holder id for the per-room leases."""
    holder = secrets.token_hex(8)

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await reconcile_due(deps, livekit, holder, every)
            except Exception:  # the database away: log, and try again next round
                log.exception("periodic reconcile failed")

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(loop(), name="presence-reconcile")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan
