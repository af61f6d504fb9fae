"""LiveKit's AgentDispatchService: bots sent into rooms as agents, each call bounded in time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from livekit.api.agent_dispatch_service import AgentDispatchService
from livekit.protocol.agent_dispatch import AgentDispatch, CreateAgentDispatchRequest

from server.livekit.errors import call

__all__ = ["Agents"]

T = TypeVar("T")


class Agents:
    """CreateDispatch, ListDispatch and DeleteDispatch with our errors (NOT_FOUND, TIMEOUT...).

    livekit-api signs each call with ``roomAdmin`` on the dispatch's room.
    """

    def __init__(self, service: Callable[[], AgentDispatchService], timeout: float) -> None:
        self._service = service
        self._timeout = timeout

    async def _call(
        self, operation: str, make: Callable[[AgentDispatchService], Awaitable[T]]
    ) -> T:
        return await call(operation, make(self._service()), timeout=self._timeout)

    async def dispatch(self, room: str, agent_name: str, metadata: str = "") -> AgentDispatch:
        """Send ``agent_name`` into ``room`` (LiveKit creates the room if it is not open)."""
        request = CreateAgentDispatchRequest(room=room, agent_name=agent_name, metadata=metadata)
        return await self._call("CreateDispatch", lambda s: s.create_dispatch(request))

    async def list(self, room: str) -> list[AgentDispatch]:
        """The room's dispatches (none for a room that is not open)."""
        return await self._call("ListDispatch", lambda s: s.list_dispatch(room))

    async def remove(self, room: str, dispatch_id: str) -> AgentDispatch:
        """Withdraw a dispatch (NOT_FOUND when the room has no such dispatch)."""
        return await self._call("DeleteDispatch", lambda s: s.delete_dispatch(dispatch_id, room))
