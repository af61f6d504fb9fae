"""Every namespace's handlers; the app mounts ``ROUTERS``."""

from server.procedures import system
from server.rpc import Router

__all__ = ["ROUTERS"]

ROUTERS: tuple[Router, ...] = (system.router,)
