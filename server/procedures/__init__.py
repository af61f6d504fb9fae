"""Every namespace's handlers; the app mounts ``ROUTERS``."""

from server.procedures import auth, being, intention, space, system  # issue 3
from server.rpc import Router

__all__ = ["ROUTERS"]

ROUTERS: tuple[Router, ...] = (
    system.router,
    # --- issue 3 ---
    auth.router,
    being.router,
    space.router,
    intention.router,
)
