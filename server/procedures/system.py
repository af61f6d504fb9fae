"""Handlers of the ``system`` namespace."""

from __future__ import annotations

from datetime import UTC, datetime

from schema import system
from server import __version__
from server.procedures.deps import Ctx
from server.rpc import Router

__all__ = ["router"]

router = Router()


@router.procedure(system.health)
async def health(ctx: Ctx, params: system.HealthInput) -> system.Health:
    """The server is up: its version and clock."""
    return system.Health(status="ok", version=__version__, time=datetime.now(UTC))
