"""Our join tokens carry exactly the claims livekit-api's ``AccessToken`` writes, and LiveKit's
own SDKs (Python ``TokenVerifier``, Node ``livekit-server-sdk``) accept every one we mint."""

from __future__ import annotations

import datetime
from typing import Any

import jwt
import pytest
from livekit.api import TokenVerifier

from server.livekit import JoinGrants, LiveKitConfig, mint_join_token
from tests.support.app import LIVEKIT_KEY, LIVEKIT_SECRET
from tests.support.livekit_node import verify_with_node
from tests.support.livekit_reference import mint_with_livekit_api
from tests.support.world import Api

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
    {
        "grants": JoinGrants(
            can_publish=True,
            can_subscribe=True,
            can_publish_data=True,
            can_publish_sources=("microphone", "screen_share_audio"),
        ),
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


def test_an_empty_list_of_sources_is_refused() -> None:
    """LiveKit reads an empty canPublishSources as "any source": never write one."""
    grants = JoinGrants(
        can_publish=True, can_subscribe=True, can_publish_data=True, can_publish_sources=()
    )
    with pytest.raises(ValueError, match="at least one source"):
        mint_join_token(
            CONFIG, room="r", identity="@a", grants=grants, ttl=datetime.timedelta(minutes=1)
        )


def test_a_token_needs_a_room_and_an_identity() -> None:
    grants = JoinGrants(can_publish=False, can_subscribe=True, can_publish_data=True)
    with pytest.raises(ValueError, match="identity and room"):
        mint_join_token(
            CONFIG, room="", identity="@a", grants=grants, ttl=datetime.timedelta(minutes=1)
        )


# Minted over HTTP, checked by LiveKit's SDKs ------------------------------------------------

# Every flag a JWT reader could take as "allowed" when missing is written out (LiveKit's
# Go VideoGrant keeps canPublish, canSubscribe, canPublishData as *bool for that reason).
VIDEO_TYPES = {
    "roomCreate": bool,
    "roomList": bool,
    "roomRecord": bool,
    "roomAdmin": bool,
    "roomJoin": bool,
    "room": str,
    "canPublish": bool,
    "canSubscribe": bool,
    "canPublishData": bool,
    "canUpdateOwnMetadata": bool,
    "ingressAdmin": bool,
    "hidden": bool,
    "agent": bool,
}


# The JSON names LiveKit's Go server reads a token with (livekit/protocol auth/grants.go:
# ClaimGrants, VideoGrant; go-jose's registered claims): a key outside them is ignored there.
GO_CLAIMS = {
    *("iss", "sub", "nbf", "exp", "iat", "jti", "aud"),
    *("name", "kind", "video", "sip", "agent", "roomConfig", "roomPreset", "sha256"),
    *("metadata", "attributes"),
}
GO_VIDEO = {
    *("roomCreate", "roomList", "roomRecord", "roomAdmin", "roomJoin", "room"),
    *("canPublish", "canSubscribe", "canPublishData", "canPublishSources"),
    *("canUpdateOwnMetadata", "ingressAdmin", "hidden", "recorder", "agent"),
    *("canSubscribeMetrics", "destinationRoom"),
}
GO_SOURCES = {"camera", "microphone", "screen_share", "screen_share_audio"}


async def minted_over_http(live: Api) -> dict[str, str]:
    """One token per kind of caller: every role, a visitor, a device, ``media.generateToken``."""
    await live.ok("being.update", {"id": "@hall", "metadata": {"allowMedia": True}}, as_="@owner")
    tokens: dict[str, str] = {}
    for who in ("@owner", "@mod", "@member", "@listener", "@stranger"):
        result = await live.ok("livekit.getJoinToken", {"roomBeingId": "@hall"}, as_=who)
        tokens[who] = result["token"]
    device = {"roomBeingId": "@room", "device": "tab-1", "ttlSeconds": 60}
    tokens["device"] = (await live.ok("livekit.getJoinToken", device, as_="@member"))["token"]
    everything = {
        "roomId": "@lobby",
        "ttlSeconds": 600,
        "participant": {
            "identity": "svc#1",
            "name": "Service Ünïcode",
            "metadata": '{"role":"bot"}',
            "attributes": {"beingId": "@svc", "lang": "fr"},
            "canPublish": False,
            "canSubscribe": True,
            "canPublishData": False,
        },
    }
    sources = {
        "roomId": "@stage",
        "participant": {"identity": "@speaker", "canPublishSources": ["microphone", "camera"]},
    }
    least = {"roomId": "r", "participant": {"identity": "@bob"}}
    for name, params in (("media", everything), ("sources", sources), ("media-defaults", least)):
        result = await live.ok("media.generateToken", params, as_="@owner", admin=True)
        tokens[name] = result["token"]
    return tokens


def raw_claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def reference_for(raw: dict[str, Any]) -> dict[str, Any]:
    """What livekit-api's ``AccessToken`` writes for the same participant and grants."""
    video = raw["video"]
    grants = JoinGrants(
        can_publish=video["canPublish"],
        can_subscribe=video["canSubscribe"],
        can_publish_data=video["canPublishData"],
        can_update_own_metadata=video["canUpdateOwnMetadata"],
        hidden=video["hidden"],
        can_publish_sources=(
            None if "canPublishSources" not in video else tuple(video["canPublishSources"])
        ),
    )
    token = mint_with_livekit_api(
        LIVEKIT_KEY,
        LIVEKIT_SECRET,
        room=video["room"],
        identity=raw["sub"],
        grants=grants,
        ttl=datetime.timedelta(seconds=raw["exp"] - raw["nbf"]),
        name=raw.get("name"),
        metadata=raw.get("metadata"),
        attributes=raw.get("attributes"),
    )
    return raw_claims(token)


async def test_livekit_sdks_verify_every_token_we_mint(live: Api) -> None:
    tokens = await minted_over_http(live)
    verdicts = verify_with_node(LIVEKIT_KEY, LIVEKIT_SECRET, tokens=list(tokens.values()))
    for (kind, token), verdict in zip(tokens.items(), verdicts["tokens"], strict=True):
        raw = raw_claims(token)
        assert verdict == {"claims": raw}, kind  # livekit-server-sdk's TokenVerifier.verify
        python = TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(token)
        assert python.identity == raw["sub"] and python.video is not None, kind
        assert python.video.room_join and python.kind == "standard", kind
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}, kind
        reference = reference_for(raw)
        assert abs(raw.pop("nbf") - reference.pop("nbf")) <= 1, kind
        assert abs(raw.pop("exp") - reference.pop("exp")) <= 1, kind
        assert raw == reference, kind  # AccessToken's claims, key by key, value by value
        assert set(raw) <= GO_CLAIMS and set(raw["video"]) <= GO_VIDEO, kind
        assert set(raw["video"].get("canPublishSources", ())) <= GO_SOURCES, kind
        sources = raw["video"].pop("canPublishSources", [])
        assert {k: type(v) for k, v in raw["video"].items()} == VIDEO_TYPES, kind
        assert all(isinstance(s, str) for s in sources) and len(sources) == (
            2 if kind == "sources" else 0
        ), kind
        assert set(raw) <= {"name", "kind", "metadata", "video", "attributes", "sub", "iss"}
        assert all(isinstance(v, str) for v in raw.get("attributes", {}).values()), kind


async def test_livekit_server_sdk_refuses_what_it_should(live: Api) -> None:
    """The Node check can fail: another secret, another key, an expired token."""
    token = (await live.ok("livekit.getJoinToken", {"roomBeingId": "@hall"}, as_="@member"))[
        "token"
    ]
    expired = jwt.encode(
        {**raw_claims(token), "exp": raw_claims(token)["nbf"] - 120}, LIVEKIT_SECRET, "HS256"
    )
    wrong_secret = verify_with_node(LIVEKIT_KEY, "x" * 40, tokens=[token])
    wrong_key = verify_with_node("another-key", LIVEKIT_SECRET, tokens=[token])
    late = verify_with_node(LIVEKIT_KEY, LIVEKIT_SECRET, tokens=[expired])
    for verdicts in (wrong_secret, wrong_key, late):
        [verdict] = verdicts["tokens"]
        assert set(verdict) == {"error"}
