"""Join tokens: livekit-api's claims, every grant spelt out, signed HS256.

livekit-api's ``VideoGrants`` defaults ``can_publish``, ``can_subscribe`` and
``can_publish_data`` to True, and LiveKit reads a missing flag as allowed; so
every flag that matters is written into the token explicitly.

PyJWT writes the JWS, as ``jwt.encode(claims, secret, algorithm="HS256")`` does, with
the secret prepared once rather than for every token, and the claims encoded by msgspec
(the same bytes as ``jwt.encode``'s for ASCII text; other text as UTF-8, not escaped).
"""

from __future__ import annotations

import datetime
import functools
import time
import warnings
from collections.abc import Mapping, Sequence

import msgspec
from jwt.algorithms import HMACAlgorithm
from jwt.api_jws import PyJWS
from jwt.warnings import InsecureKeyLengthWarning

from server.domain.rooms import JoinGrants
from server.livekit.config import AgentDispatch, LiveKitConfig

__all__ = ["AgentDispatch", "JoinGrants", "mint_join_token"]


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
    agent: bool = False,
    agents: Sequence[AgentDispatch] = (),
) -> str:
    """A signed JWT that lets ``identity`` join ``room`` with exactly ``grants``.

    The claims are those livekit-api's ``AccessToken(...).to_jwt()`` writes for the
    same call (tests/test_tokens.py compares them, and
    verifies ours with livekit-api's ``TokenVerifier``), built as a dict directly:
    ``AccessToken`` spends most of its time in ``dataclasses.asdict``.
    """
    if not identity or not room:
        raise ValueError("identity and room must be set when joining a room")
    claims: dict[str, object] = {}
    if name:
        claims["name"] = name
    # An agent (a bot) does not count toward maxParticipants nor keep an empty room open.
    claims["kind"] = "agent" if agent else "standard"
    if metadata:
        claims["metadata"] = metadata
    video: dict[str, object] = {
        # No room-management powers ride along with a join token.
        "roomCreate": False,
        "roomList": False,
        "roomRecord": False,
        "roomAdmin": False,
        "roomJoin": True,
        "room": room,
        "canPublish": grants.can_publish,
        "canSubscribe": grants.can_subscribe,
        "canPublishData": grants.can_publish_data,
        "canUpdateOwnMetadata": grants.can_update_own_metadata,
        "ingressAdmin": False,
        "hidden": grants.hidden,
        "agent": agent,
    }
    if grants.can_publish_sources is not None:
        if not grants.can_publish_sources:  # LiveKit reads an empty list as "any source"
            raise ValueError("can_publish_sources must name at least one source")
        video["canPublishSources"] = list(grants.can_publish_sources)
    claims["video"] = video
    if attributes:
        claims["attributes"] = dict(attributes)
    if agents:  # MessageToDict(RoomConfiguration(agents=[...])), as livekit-api writes it
        claims["roomConfig"] = {"agents": [_dispatch(a) for a in agents]}
    issued = int(time.time())
    claims.update(
        sub=identity, iss=config.api_key, nbf=issued, exp=issued + int(ttl.total_seconds())
    )
    return _signer(config.api_secret).sign(claims)


_ALGORITHM = "HS256"
_encode_claims = msgspec.json.Encoder().encode


class _PreparedHS256(HMACAlgorithm):
    """PyJWT's HS256 for one secret, prepared (and its length checked) once: ``jwt.encode``
    prepares the secret again for every token, trying it as a JWK and as a PEM key."""

    def __init__(self, secret: str) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self.key = super().prepare_key(secret)  # refuses a PEM or JWK, as jwt.encode does
        short = super().check_key_length(self.key)
        if short:  # jwt.encode warns on every token; once per secret says the same
            warnings.warn(short, InsecureKeyLengthWarning, stacklevel=4)

    def prepare_key(self, key: str | bytes) -> bytes:
        return key if key is self.key else super().prepare_key(key)

    def check_key_length(self, key: bytes) -> str | None:
        return None if key is self.key else super().check_key_length(key)


class _Signer:
    """PyJWT's JWS (header ``{"alg":"HS256","typ":"JWT"}``) with one prepared secret."""

    __slots__ = ("_algorithm", "_jws")

    def __init__(self, secret: str) -> None:
        self._algorithm = _PreparedHS256(secret)
        self._jws = PyJWS(algorithms=[])
        self._jws.register_algorithm(_ALGORITHM, self._algorithm)

    def sign(self, claims: Mapping[str, object]) -> str:
        return self._jws.encode(_encode_claims(claims), self._algorithm.key, _ALGORITHM)


@functools.lru_cache(maxsize=8)
def _signer(secret: str) -> _Signer:
    return _Signer(secret)


def _dispatch(agent: AgentDispatch) -> dict[str, str]:
    found = {"agentName": agent.agent_name}
    if agent.metadata:
        found["metadata"] = agent.metadata
    return found
