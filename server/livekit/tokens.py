"""Join tokens, minted with livekit-api's AccessToken and every grant spelt out.

livekit-api's ``VideoGrants`` defaults ``can_publish``, ``can_subscribe`` and
``can_publish_data`` to True, and LiveKit reads a missing flag as allowed; so
every flag that matters is written into the token explicitly.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from livekit.api import AccessToken, VideoGrants

from server.livekit.config import LiveKitConfig

__all__ = ["JoinGrants", "mint_join_token"]


@dataclass(frozen=True, slots=True)
class JoinGrants:
    """What a participant may do once in the room."""

    can_publish: bool
    can_subscribe: bool
    can_publish_data: bool
    can_update_own_metadata: bool = False
    hidden: bool = False


def mint_join_token(
    config: LiveKitConfig,
    *,
    room: str,
    identity: str,
    grants: JoinGrants,
    ttl: datetime.timedelta,
    name: str | None = None,
    metadata: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """A signed JWT that lets ``identity`` join ``room`` with exactly ``grants``."""
    video = VideoGrants(
        room_join=True,
        room=room,
        can_publish=grants.can_publish,
        can_subscribe=grants.can_subscribe,
        can_publish_data=grants.can_publish_data,
        can_update_own_metadata=grants.can_update_own_metadata,
        hidden=grants.hidden,
        # No room-management powers ride along with a join token.
        room_create=False,
        room_list=False,
        room_record=False,
        room_admin=False,
        ingress_admin=False,
        agent=False,
    )
    token = (
        AccessToken(config.api_key, config.api_secret)
        .with_identity(identity)
        .with_kind("standard")
        .with_grants(video)
        .with_ttl(ttl)
    )
    if name:
        token.with_name(name)
    if metadata:
        token.with_metadata(metadata)
    if attributes:
        token.with_attributes(dict(attributes))
    return token.to_jwt()
