"""LiveKit participants as our contract and our presence rows see them."""

from __future__ import annotations

import datetime

from livekit.api import ParticipantInfo, TrackInfo
from livekit.protocol.models import TrackSource, TrackType

from schema import livekit
from server.domain.presence import Session, being_of

__all__ = ["participant", "session", "track"]


def _joined_ms(info: ParticipantInfo) -> int:
    return info.joined_at_ms or info.joined_at * 1000


def session(room_id: str, room_sid: str, info: ParticipantInfo) -> Session:
    """The presence row for ``info``."""
    return Session(
        room_id=room_id,
        room_sid=room_sid,
        identity=info.identity,
        being_id=being_of(info.identity, info.attributes),
        name=info.name,
        participant_sid=info.sid,
        joined_at_ms=_joined_ms(info),
    )


_KINDS: dict[int, livekit.TrackKind] = {
    TrackType.AUDIO: "audio",
    TrackType.VIDEO: "video",
    TrackType.DATA: "data",
}
_SOURCES: dict[int, livekit.TrackSource] = {
    TrackSource.CAMERA: "camera",
    TrackSource.MICROPHONE: "microphone",
    TrackSource.SCREEN_SHARE: "screen_share",
    TrackSource.SCREEN_SHARE_AUDIO: "screen_share_audio",
}


def track(info: TrackInfo) -> livekit.Track:
    """A published track."""
    return livekit.Track(
        sid=info.sid,
        kind=_KINDS[info.type],
        source=_SOURCES.get(info.source, "unknown"),
        name=info.name,
        muted=info.muted,
    )


def participant(info: ParticipantInfo) -> livekit.Participant:
    """A connected participant."""
    permission = info.permission
    return livekit.Participant(
        identity=info.identity,
        being_id=being_of(info.identity, info.attributes),
        name=info.name,
        sid=info.sid,
        joined_at=datetime.datetime.fromtimestamp(_joined_ms(info) / 1000, datetime.UTC),
        metadata=info.metadata,
        attributes=dict(info.attributes),
        permissions=livekit.ParticipantPermissions(
            can_publish=permission.can_publish,
            can_subscribe=permission.can_subscribe,
            can_publish_data=permission.can_publish_data,
        ),
        tracks=[track(t) for t in info.tracks],
    )
