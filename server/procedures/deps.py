"""What procedures get through their context: settings, storage, and LiveKit later."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.bus import Bus
from server.procedures._live import SharedReads
from server.procedures._presence import PresenceKeeper
from server.rpc import AuthedContext, Context
from server.settings import Settings
from server.storage import Storage

if TYPE_CHECKING:
    from server.livekit import LiveKit

__all__ = ["AuthedCtx", "Ctx", "Deps"]


@dataclass(slots=True)
class Deps:
    """The application's handles, built once at start-up and shared by every call."""

    settings: Settings
    # LiveKit: None when media is off (see server.livekit.require_media).
    livekit: LiveKit | None = None
    # --- storage: opened and closed by the app's cleanup_ctx ---
    opened_storage: Storage | None = None
    # --- live: the event bus, opened with storage ---
    opened_bus: Bus | None = None
    shared: SharedReads = field(default_factory=SharedReads)

    # --- presence: this instance's sockets' sessions, built from the settings ---
    presence: PresenceKeeper = field(init=False)

    def __post_init__(self) -> None:
        self.presence = PresenceKeeper(self.settings)

    @property
    def storage(self) -> Storage:
        """The open database (raises before start-up and after shutdown)."""
        storage = self.opened_storage
        if storage is None:
            raise RuntimeError("storage is not open: the app has not started")
        return storage

    @property
    def bus(self) -> Bus:
        """The open event bus (raises before start-up and after shutdown)."""
        bus = self.opened_bus
        if bus is None:
            raise RuntimeError("the bus is not open: the app has not started")
        return bus


Ctx = Context[Deps]
AuthedCtx = AuthedContext[Deps]
