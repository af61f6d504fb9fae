"""LiveKit's Egress: recordings of a room to a file, each call bounded in time.

The unified ``StartEgress`` (livekit-api 1.1 and later) is used where the
installed livekit-api has it, room-composite egress otherwise; both write one
file whose path template (``{room_name}``, ``{time}``, ...) comes from settings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar, cast

from livekit.api.egress_service import EgressService
from livekit.protocol.egress import (
    EgressInfo,
    EgressStatus,
    EncodedFileOutput,
    ListEgressRequest,
    RoomCompositeEgressRequest,
    StopEgressRequest,
)

from schema.livekit import Recording, RecordingFile, RecordingStatus
from server.livekit.errors import call

__all__ = ["UNIFIED", "Egress", "recording_of"]

T = TypeVar("T")
UNIFIED = hasattr(EgressService, "start_egress")  # StartEgress, livekit-api 1.1+


class Egress:
    """StartEgress (or StartRoomCompositeEgress), StopEgress, ListEgress with our errors.

    livekit-api signs each call with ``roomRecord``.
    """

    def __init__(self, service: Callable[[], EgressService], timeout: float) -> None:
        self._service = service
        self._timeout = timeout

    async def _call(self, operation: str, make: Callable[[EgressService], Awaitable[T]]) -> T:
        return await call(operation, make(self._service()), timeout=self._timeout)

    async def record(
        self, room: str, filepath: str, *, audio_only: bool = False, layout: str | None = None
    ) -> EgressInfo:
        """Start recording ``room`` (composited) to one file at ``filepath``."""
        if UNIFIED:
            from livekit.protocol.egress import (
                FileOutput,
                Output,
                StartEgressRequest,
                TemplateSource,
            )

            template = TemplateSource(layout=layout or "", audio_only=audio_only)
            output = Output(file=FileOutput(filepath=filepath))
            request = StartEgressRequest(room_name=room, template=template, outputs=[output])
            return await self._call("StartEgress", lambda s: s.start_egress(request))
        composite = RoomCompositeEgressRequest(
            room_name=room,
            layout=layout or "",
            audio_only=audio_only,
            file_outputs=[EncodedFileOutput(filepath=filepath)],
        )
        return await self._call(
            "StartRoomCompositeEgress", lambda s: s.start_room_composite_egress(composite)
        )

    async def stop(self, egress_id: str) -> EgressInfo:
        """Stop an egress (PRECONDITION_FAILED once it has ended, NOT_FOUND if unknown)."""
        request = StopEgressRequest(egress_id=egress_id)
        return await self._call("StopEgress", lambda s: s.stop_egress(request))

    async def list(self, room: str) -> list[EgressInfo]:
        """The room's egresses LiveKit still knows of."""
        request = ListEgressRequest(room_name=room)
        response = await self._call("ListEgress", lambda s: s.list_egress(request))
        return list(response.items)


def recording_of(info: EgressInfo, room_id: str | None = None) -> Recording:
    """Our view of an ``EgressInfo`` (the room is the space's id: LiveKit's room name)."""
    files = [
        RecordingFile(
            filename=f.filename,
            location=f.location,
            size=f.size,
            duration_ms=f.duration // 1_000_000,
        )
        for f in info.file_results
    ]
    if not files and info.HasField("file"):
        f = info.file
        files = [RecordingFile(f.filename, f.location, f.size, f.duration // 1_000_000)]
    return Recording(
        egress_id=info.egress_id,
        room_id=room_id or info.room_name,
        started_by=None,
        status=cast(RecordingStatus, EgressStatus.Name(info.status)),
        files=files,
        error=info.error or None,
        started_at=_stamp(info.started_at),
        ended_at=_stamp(info.ended_at),
    )


def _stamp(ns: int) -> datetime | None:
    return datetime.fromtimestamp(ns / 1e9, UTC) if ns else None
