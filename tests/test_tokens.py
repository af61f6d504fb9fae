"""Our join tokens carry exactly the claims livekit-api's ``AccessToken`` writes."""

from __future__ import annotations

import datetime
from typing import Any

import jwt
import pytest
from livekit.api import TokenVerifier

from server.livekit import JoinGrants, LiveKitConfig, mint_join_token
from tests.livekit_reference import mint_with_livekit_api

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
    return mint_with_livekit_api(
        CONFIG.api_key,
        CONFIG.api_secret,
        room="@hall",
        identity="@alice#tab",
        grants=grants,
        ttl=ttl,
        **given,
    )


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
