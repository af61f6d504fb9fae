"""Every namespace's handlers; the app mounts ``ROUTERS``."""

from server.procedures import (
    auth,
    being,
    intention,
    livekit,
    media,
    presence,
    space,
    system,
)
from server.rpc import Router

__all__ = ["ROUTERS"]

ROUTERS: tuple[Router, ...] = (
    system.router,
    media.router,  # LiveKit
    # --- storage and auth: beings, spaces, intentions ---
    auth.router,
    being.router,
    space.router,
    intention.router,
    # --- LiveKit rooms of spaces, presence ---
    livekit.router,
    presence.router,
)
