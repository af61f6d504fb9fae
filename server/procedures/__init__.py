"""Every namespace's handlers; the app mounts ``ROUTERS``."""

from server.procedures import media, system
from server.rpc import Router

__all__ = ["ROUTERS"]

ROUTERS: tuple[Router, ...] = (
    system.router,
    media.router,  # LiveKit (issue 4)
)
