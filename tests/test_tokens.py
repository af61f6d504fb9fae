"""Our join tokens carry exactly the claims livekit-api's ``AccessToken`` writes."""

from __future__ import annotations

import datetime
from typing import Any

import jwt
import pytest
from livekit.api import AccessToken, TokenVerifier, VideoGrants

from server.livekit import JoinGrants, LiveKitConfig, mint_join_token

CONFIG = LiveKitConfig(url="ws://lk", api_url="http://lk", api_key="key", api_secret="s" * 40)

CASES: list[dict[str, Any]] = [
    {"grants": JoinGrants(can_publish=False, can_subscribe=True, can_publish_data=True)},
    {
        "grants": JoinGrants(can_publish=True, can_subscribe=False, can_publish_data=False),
        "name": "Alice",
        "metadata": '{"a":1}',
        "attributes": {"beingId": "@alice"},
    },
    {
        "grants": JoinGrants(
            can_publish=False,
            can_subscribe=True,
            can_publish_data=False,
            can_update_own_metadata=True,
            hidden=True,
        ),
        "name": "",
        "attributes": {},
    },
]


def reference(grants: JoinGrants, ttl: datetime.timedelta, **given: Any) -> str:
    """The same token, minted by livekit-api alone."""
    video = VideoGrants(
        room_join=True,
        room="@hall",
        can_publish=grants.can_publish,
        can_subscribe=grants.can_subscribe,
        can_publish_data=grants.can_publish_data,
        can_update_own_metadata=grants.can_update_own_metadata,
        hidden=grants.hidden,
        room_create=False,
        room_list=False,
        room_record=False,
        room_admin=False,
        ingress_admin=False,
        agent=False,
    )
    token = (
        AccessToken(CONFIG.api_key, CONFIG.api_secret)
        .with_identity("@alice#tab")
        .with_kind("standard")
        .with_grants(video)
        .with_ttl(ttl)
    )
    if given.get("name"):
        token.with_name(given["name"])
    if given.get("metadata"):
        token.with_metadata(given["metadata"])
    if given.get("attributes"):
        token.with_attributes(given["attributes"])
    return token.to_jwt()


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


@pytest.mark.parametrize("case", CASES)
def test_the_claims_are_livekit_apis(case: dict[str, Any]) -> None:
    ttl = datetime.timedelta(seconds=90)
    ours = mint_join_token(CONFIG, room="@hall", identity="@alice#tab", ttl=ttl, **case)
    theirs = reference(ttl=ttl, **case)
    mine, reference_claims = claims(ours), claims(theirs)
    assert abs(mine.pop("nbf") - reference_claims.pop("nbf")) <= 1
    assert abs(mine.pop("exp") - reference_claims.pop("exp")) <= 1
    assert mine == reference_claims
    verified = TokenVerifier(CONFIG.api_key, CONFIG.api_secret).verify(ours)
    assert verified.identity == "@alice#tab" and verified.video is not None
    assert verified.video.can_publish is case["grants"].can_publish


def test_a_token_needs_a_room_and_an_identity() -> None:
    grants = JoinGrants(can_publish=False, can_subscribe=True, can_publish_data=True)
    with pytest.raises(ValueError, match="identity and room"):
        mint_join_token(
            CONFIG, room="", identity="@a", grants=grants, ttl=datetime.timedelta(minutes=1)
        )
