"""Verifying LiveKit's webhooks with livekit-api's ``WebhookReceiver``.

LiveKit signs each POST with a JWT (our API key and secret) in ``Authorization``
whose ``sha256`` claim is the base64 SHA-256 of the raw body.
"""

from __future__ import annotations

import jwt
from google.protobuf.json_format import ParseError
from livekit.api import TokenVerifier, WebhookEvent, WebhookReceiver

from server.livekit.config import LiveKitConfig

__all__ = ["WebhookRejected", "verify_webhook"]

_BEARER = "Bearer "


class WebhookRejected(Exception):
    """The POST is not a webhook LiveKit signed for us; ``reason`` says why (for the log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_webhook(config: LiveKitConfig, body: bytes, authorization: str | None) -> WebhookEvent:
    """The event in ``body`` if ``authorization`` signs exactly these bytes.

    Raises ``WebhookRejected`` otherwise: no header, a token that does not verify
    with our key and secret (or has expired), a checksum that does not match.
    """
    if not authorization:
        raise WebhookRejected("no Authorization header")
    token = authorization.removeprefix(_BEARER)  # LiveKit sends the bare JWT
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise WebhookRejected("body is not UTF-8") from None
    receiver = WebhookReceiver(TokenVerifier(config.api_key, config.api_secret))
    try:
        return receiver.receive(text, token)
    except jwt.PyJWTError as exc:
        raise WebhookRejected(f"token does not verify: {type(exc).__name__}") from None
    except ParseError:
        raise WebhookRejected("body is not a WebhookEvent") from None
    except Exception as exc:  # WebhookReceiver raises bare Exception for a bad checksum
        raise WebhookRejected(f"checksum: {exc}") from None
