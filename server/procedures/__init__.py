"""Every namespace's handlers; the app mounts ``ROUTERS``."""

from server.procedures import auth, being, intention, media, space, system
from server.rpc import Router

__all__ = ["ROUTERS"]

ROUTERS: tuple[Router, ...] = (
    system.router,
    media.router,  # LiveKit (issue 4)
    # --- issue 3 ---
    auth.router,
    being.router,
    space.router,
    intention.router,
)
