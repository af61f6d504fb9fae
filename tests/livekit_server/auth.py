"""Bearer tokens and grants, checked the way LiveKit's server checks them.

The token comes from ``Authorization: Bearer <jwt>`` or, without that header, from
the ``access_token`` query parameter (livekit-server's APIKeyAuthMiddleware).

LiveKit's HTTP middleware verifies the token before Twirp runs and answers a bad
one with a bare 401 and plain text; a verified token that lacks the grant a
method needs is refused by the method itself with Twirp ``unauthenticated``
"permissions denied" (``twirpAuthError`` in livekit-server's pkg/service/auth.go).
"""

from __future__ import annotations

from collections.abc import Callable

import jwt
from aiohttp import web
from livekit.api import TokenVerifier
from livekit.api.access_token import Claims

from tests.livekit_server.twirp import PlainHttpError, TwirpError

__all__ = ["Authenticator", "require_admin", "require_create", "require_list"]

_BEARER = "Bearer "


class Authenticator:
    """Reads ``Authorization: Bearer <jwt>`` and verifies it with livekit-api's TokenVerifier."""

    def __init__(self, secret_for: Callable[[str], str | None]) -> None:
        self._secret_for = secret_for

    def __call__(self, request: web.Request) -> Claims | None:
        header = request.headers.get("Authorization", "")
        if header and not header.startswith(_BEARER):
            raise PlainHttpError(401, "invalid authorization header. Must start with Bearer ")
        token = header[len(_BEARER) :] if header else request.query.get("access_token", "")
        if not token:
            return None  # no grants: every method then refuses with "permissions denied"
        return self.verify(token)

    def verify(self, token: str) -> Claims:
        """The token's claims, or a 401 as LiveKit answers it."""
        try:
            api_key = jwt.decode(token, options={"verify_signature": False}).get("iss", "")
        except jwt.PyJWTError:
            raise PlainHttpError(401, "invalid authorization token") from None
        secret = self._secret_for(str(api_key))
        if not secret:
            raise PlainHttpError(401, f"invalid API key: {api_key}")
        try:
            return TokenVerifier(str(api_key), secret).verify(token)
        except jwt.PyJWTError as exc:  # livekit-server echoes the token back, and so do we
            raise PlainHttpError(401, f"invalid token: {token}, error: {exc}") from None


def _denied() -> TwirpError:
    return TwirpError("unauthenticated", "permissions denied")


def require_create(claims: Claims | None) -> None:
    """``roomCreate``: CreateRoom and DeleteRoom."""
    if claims is None or claims.video is None or not claims.video.room_create:
        raise _denied()


def require_list(claims: Claims | None) -> None:
    """``roomList``: ListRooms."""
    if claims is None or claims.video is None or not claims.video.room_list:
        raise _denied()


def require_admin(claims: Claims | None, room: str) -> None:
    """``roomAdmin`` on exactly ``room``: every participant and room-scoped method."""
    video = None if claims is None else claims.video
    if video is None or not video.room_admin or video.room != room:
        raise _denied()
