"""LiveKit's connection settings, taken from ``Settings`` once at start-up, and what
needs no LiveKit client: ``require_media``, ``AgentDispatch``.

Nothing here imports livekit-api: with media off (no ``LIVEKIT_URL``) a server never
loads it or its protobuf modules (~6 MiB resident).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from server.rpc import RpcError
from server.settings import Settings

__all__ = ["AgentDispatch", "LiveKitConfig", "api_url_for", "media_not_configured", "require_media"]

Handle = TypeVar("Handle")  # the LiveKit handle (server.livekit.client imports this module)

_SCHEMES = {"ws://": "http://", "wss://": "https://"}


@dataclass(frozen=True, slots=True)
class LiveKitConfig:
    """Where LiveKit is and how we sign for it."""

    url: str  # what browsers connect to (LIVEKIT_URL)
    api_url: str  # what this server calls (LIVEKIT_API_URL, or derived from url)
    api_key: str
    api_secret: str = field(repr=False)
    call_timeout: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveKitConfig | None:
        """The configuration, or None when media is off (settings validated it is whole)."""
        url, key, secret = (
            settings.livekit_url,
            settings.livekit_api_key,
            settings.livekit_api_secret,
        )
        if url is None or key is None or secret is None:
            return None
        return cls(
            url=url,
            api_url=settings.livekit_api_url or api_url_for(url),
            api_key=key,
            api_secret=secret,
            call_timeout=settings.livekit_call_timeout,
        )


def api_url_for(url: str) -> str:
    """The http(s) URL for a ws(s) one: ``wss://lk.example`` → ``https://lk.example``."""
    for ws, http in _SCHEMES.items():
        if url.startswith(ws):
            return http + url[len(ws) :]
    return url


@dataclass(frozen=True, slots=True)
class AgentDispatch:
    """An agent LiveKit dispatches into the room when the token's holder joins it
    (the token's ``roomConfig.agents``, LiveKit's ``RoomAgentDispatch``)."""

    agent_name: str
    metadata: str = ""


def media_not_configured() -> RpcError:
    """What anything needing LiveKit raises when media is off."""
    return RpcError(
        "SERVICE_UNAVAILABLE",
        "Media is not configured on this server",
        reason="media_not_configured",
        retryable=False,
    )


def require_media(handle: Handle | None) -> Handle:
    """``handle``, or SERVICE_UNAVAILABLE with reason ``media_not_configured`` when media is off."""
    if handle is None:
        raise media_not_configured()
    return handle
