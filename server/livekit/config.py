"""LiveKit's connection settings, taken from ``Settings`` once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.settings import Settings

__all__ = ["LiveKitConfig", "api_url_for"]

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
