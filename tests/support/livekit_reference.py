"""A join token minted with livekit-api's ``AccessToken`` alone: what ours must equal
(tests/test_tokens.py) and the baseline ``make bench`` measures us against."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from livekit.api import AccessToken, VideoGrants

from server.livekit import JoinGrants

__all__ = ["mint_with_livekit_api"]


def mint_with_livekit_api(
    api_key: str,
    api_secret: str,
    *,
    room: str,
    identity: str,
    grants: JoinGrants,
    ttl: datetime.timedelta,
    name: str | None = None,
    metadata: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """Every grant spelt out, as ``server.livekit.mint_join_token`` does."""
    video = VideoGrants(
        room_join=True,
        room=room,
        can_publish=grants.can_publish,
        can_subscribe=grants.can_subscribe,
        can_publish_data=grants.can_publish_data,
        can_update_own_metadata=grants.can_update_own_metadata,
        hidden=grants.hidden,
        can_publish_sources=(
            None if grants.can_publish_sources is None else list(grants.can_publish_sources)
        ),
        room_create=False,
        room_list=False,
        room_record=False,
        room_admin=False,
        ingress_admin=False,
        agent=False,
    )
    token = (
        AccessToken(api_key, api_secret)
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
