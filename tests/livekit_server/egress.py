"""Twirp ``livekit.Egress``: StartEgress, StartRoomCompositeEgress, ListEgress, StopEgress.

As livekit-server's pkg/service/egress.go: every method needs ``roomRecord``
(``EnsureRecordPermission``); StopEgress of an egress that is no longer starting
or active is ``failed_precondition`` ("egress with status ... cannot be
stopped"), of an unknown id ``not_found``. The egress itself is played by this
server: it starts (``egress_started``, EGRESS_STARTING), goes active
(``egress_updated``), and on stop ends (``egress_updated`` EGRESS_ENDING, then
``egress_ended`` EGRESS_COMPLETE with its file), as livekit/egress reports
through livekit-server's ioservice.go and telemetry (pkg/telemetry/events.go).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from livekit.api.access_token import Claims
from livekit.protocol.egress import (
    EgressInfo,
    EgressStatus,
    FileInfo,
    ListEgressRequest,
    ListEgressResponse,
    RoomCompositeEgressRequest,
    StartEgressRequest,
    StopEgressRequest,
)

from tests.livekit_server.state import RoomStore, new_id
from tests.livekit_server.twirp import Method, TwirpError

__all__ = ["SERVICE", "EgressService"]

SERVICE = "livekit.Egress"
_LIVE = (EgressStatus.EGRESS_STARTING, EgressStatus.EGRESS_ACTIVE)
EmitEgress = Callable[[str, EgressInfo], None]


def require_record(claims: Claims | None) -> None:
    """``roomRecord``: every Egress method."""
    if claims is None or claims.video is None or not claims.video.room_record:
        raise TwirpError("unauthenticated", "permissions denied")


class EgressService:
    """Egresses by id; ``emit`` sends the egress webhooks."""

    def __init__(self, store: RoomStore, emit: EmitEgress) -> None:
        self.store = store
        self.emit = emit
        self.egresses: dict[str, EgressInfo] = {}
        self.requests: list[StartEgressRequest | RoomCompositeEgressRequest] = []

    def methods(self) -> dict[str, Method]:
        return {
            "StartEgress": Method(StartEgressRequest, self.start_egress),
            "StartRoomCompositeEgress": Method(RoomCompositeEgressRequest, self.start_composite),
            "ListEgress": Method(ListEgressRequest, self.list_egress),
            "StopEgress": Method(StopEgressRequest, self.stop_egress),
        }

    async def start_egress(self, claims: Claims | None, req: StartEgressRequest) -> EgressInfo:
        require_record(claims)
        files = [o.file.filepath for o in req.outputs if o.HasField("file")]
        return self._start(req, req.room_name, files)

    async def start_composite(
        self, claims: Claims | None, req: RoomCompositeEgressRequest
    ) -> EgressInfo:
        require_record(claims)
        files = [o.filepath for o in req.file_outputs] or (
            [req.file.filepath] if req.HasField("file") else []
        )
        return self._start(req, req.room_name, files)

    async def list_egress(
        self, claims: Claims | None, req: ListEgressRequest
    ) -> ListEgressResponse:
        require_record(claims)
        found = [
            _copy(e)
            for e in self.egresses.values()
            if (not req.room_name or e.room_name == req.room_name)
            and (not req.egress_id or e.egress_id == req.egress_id)
            and (not req.active or e.status in _LIVE)
        ]
        return ListEgressResponse(items=found)

    async def stop_egress(self, claims: Claims | None, req: StopEgressRequest) -> EgressInfo:
        require_record(claims)
        info = self.egresses.get(req.egress_id)
        if info is None:
            raise TwirpError("not_found", "egress not found")
        if info.status not in _LIVE:
            status = EgressStatus.Name(info.status)
            raise TwirpError(
                "failed_precondition", f"egress with status {status} cannot be stopped"
            )
        self._set(info, EgressStatus.EGRESS_ENDING, "egress_updated")
        answer = _copy(info)
        self.finish(info.egress_id)
        return answer

    # Controls (what the egress worker would report) ----------------------------------------

    def activate(self, egress_id: str) -> None:
        """The recorder joined the room: EGRESS_ACTIVE (``egress_updated``)."""
        self._set(self.egresses[egress_id], EgressStatus.EGRESS_ACTIVE, "egress_updated")

    def finish(self, egress_id: str, *, failed: str = "") -> None:
        """The file is written (``egress_ended`` EGRESS_COMPLETE), or the egress failed."""
        info = self.egresses[egress_id]
        now = time.time_ns()
        info.ended_at = now
        for result in info.file_results:
            result.ended_at = now
            result.duration = now - result.started_at
            result.size = 1024
        if failed:
            info.error = failed
        status = EgressStatus.EGRESS_FAILED if failed else EgressStatus.EGRESS_COMPLETE
        self._set(info, status, "egress_ended")

    def _start(
        self, req: StartEgressRequest | RoomCompositeEgressRequest, room: str, files: list[str]
    ) -> EgressInfo:
        state = self.store.room(room)
        if not room:
            raise TwirpError("invalid_argument", "room name is required")
        if not files:
            raise TwirpError("invalid_argument", "no outputs given")
        now = time.time_ns()
        info = EgressInfo(
            egress_id=new_id("EG_"),
            room_id="" if state is None else state.info.sid,
            room_name=room,
            status=EgressStatus.EGRESS_STARTING,
            started_at=now,
            updated_at=now,
        )
        for path in files:
            name = path.replace("{room_name}", room).replace("{time}", str(now // 10**9))
            info.file_results.append(FileInfo(filename=name, started_at=now, location=name))
        self.requests.append(req)
        self.egresses[info.egress_id] = info
        self.emit("egress_started", _copy(info))
        self.activate(info.egress_id)
        return _copy(self.egresses[info.egress_id])

    def _set(self, info: EgressInfo, status: EgressStatus, event: str) -> None:
        info.status = status
        info.updated_at = time.time_ns()
        self.emit(event, _copy(info))


def _copy(info: EgressInfo) -> EgressInfo:
    clone = EgressInfo()
    clone.CopyFrom(info)
    return clone
