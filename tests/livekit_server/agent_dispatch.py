"""Twirp ``livekit.AgentDispatchService``: CreateDispatch, DeleteDispatch, ListDispatch.

As livekit-server's pkg/service/agent_dispatch_service.go: every method needs
``roomAdmin`` on the request's room; CreateDispatch checks the metadata size and
creates the room (auto-create) before the dispatch is made; the dispatch lives
with the room (pkg/rtc/room.go keeps them per room), so a room that closes
takes its dispatches with it. A delete of an unknown id is ``not_found``.
"""

from __future__ import annotations

import time

from livekit.api.access_token import Claims
from livekit.protocol.agent_dispatch import (
    AgentDispatch,
    AgentDispatchState,
    CreateAgentDispatchRequest,
    DeleteAgentDispatchRequest,
    ListAgentDispatchRequest,
    ListAgentDispatchResponse,
)
from livekit.protocol.room import CreateRoomRequest

from tests.livekit_server.auth import require_admin
from tests.livekit_server.state import Limits, RoomStore, new_id
from tests.livekit_server.twirp import Method, TwirpError

__all__ = ["SERVICE", "AgentDispatchService"]

SERVICE = "livekit.AgentDispatchService"


class AgentDispatchService:
    """Dispatches by room; ``made`` keeps every dispatch ever created, for tests."""

    def __init__(self, store: RoomStore, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        self.made: list[AgentDispatch] = []
        self._room_sid: dict[str, str] = {}  # dispatch id -> the sid of the room it was made in

    def methods(self) -> dict[str, Method]:
        return {
            "CreateDispatch": Method(CreateAgentDispatchRequest, self.create_dispatch),
            "DeleteDispatch": Method(DeleteAgentDispatchRequest, self.delete_dispatch),
            "ListDispatch": Method(ListAgentDispatchRequest, self.list_dispatch),
        }

    def dispatches(self, room: str) -> list[AgentDispatch]:
        """The room's dispatches (none once the room has closed)."""
        state = self.store.room(room)
        if state is None:
            return []
        sid = state.info.sid
        return [
            d
            for d in self.made
            if d.room == room and d.state.deleted_at == 0 and self._room_sid[d.id] == sid
        ]

    def create_for_token(self, room: str, agent_name: str, metadata: str = "") -> AgentDispatch:
        """A dispatch from a join token's ``roomConfig.agents`` (the room was just created)."""
        return self._create(room, agent_name, metadata)

    async def create_dispatch(
        self, claims: Claims | None, req: CreateAgentDispatchRequest
    ) -> AgentDispatch:
        require_admin(claims, req.room)
        if len(req.metadata.encode()) > self.limits.max_metadata_size:
            raise TwirpError("invalid_argument", "metadata size exceeds limits")
        if self.store.room(req.room) is None:
            self.store.create(CreateRoomRequest(name=req.room))
        return self._create(req.room, req.agent_name, req.metadata)

    async def delete_dispatch(
        self, claims: Claims | None, req: DeleteAgentDispatchRequest
    ) -> AgentDispatch:
        require_admin(claims, req.room)
        found = next((d for d in self.dispatches(req.room) if d.id == req.dispatch_id), None)
        if found is None:
            raise TwirpError("not_found", "dispatch ID not found")
        found.state.deleted_at = time.time_ns()
        return _copy(found)

    async def list_dispatch(
        self, claims: Claims | None, req: ListAgentDispatchRequest
    ) -> ListAgentDispatchResponse:
        require_admin(claims, req.room)
        found = [
            _copy(d)
            for d in self.dispatches(req.room)
            if not req.dispatch_id or d.id == req.dispatch_id
        ]
        return ListAgentDispatchResponse(agent_dispatches=found)

    def _create(self, room: str, agent_name: str, metadata: str) -> AgentDispatch:
        state = self.store.room(room)
        assert state is not None
        dispatch = AgentDispatch(
            id=new_id("AD_"),
            agent_name=agent_name,
            room=room,
            metadata=metadata,
            state=AgentDispatchState(created_at=time.time_ns()),
        )
        self._room_sid[dispatch.id] = state.info.sid
        self.made.append(dispatch)
        return _copy(dispatch)


def _copy(dispatch: AgentDispatch) -> AgentDispatch:
    clone = AgentDispatch()
    clone.CopyFrom(dispatch)
    return clone
