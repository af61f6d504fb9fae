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
    media.router,  # LiveKit (issue 4)
    # --- issue 3 ---
    auth.router,
    being.router,
    space.router,
    intention.router,
    # --- issue 4: LiveKit rooms of spaces, presence ---
    livekit.router,
    presence.router,
)
