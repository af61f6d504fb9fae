"""What procedures get through their context: settings now, storage and LiveKit later."""

from __future__ import annotations

from dataclasses import dataclass

from server.livekit import LiveKit
from server.rpc import AuthedContext, Context
from server.settings import Settings

__all__ = ["AuthedCtx", "Ctx", "Deps"]


@dataclass(slots=True)
class Deps:
    """The application's handles, built once at start-up and shared by every call."""

    settings: Settings
    # LiveKit (issue 4): None when media is off (see server.livekit.require_media).
    livekit: LiveKit | None = None


Ctx = Context[Deps]
AuthedCtx = AuthedContext[Deps]
