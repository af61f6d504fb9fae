"""LiveKit's failures turned into our typed errors, at the adapter's edge.

A caller sees a named code, a fixed message, a ``reason`` and whether a retry
may help; LiveKit's own text and our exception text only reach the log.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from typing import NamedTuple, TypeVar

import aiohttp
from google.protobuf.message import DecodeError
from livekit.api import ServerError

from schema.errors import ErrorName
from server.rpc import RpcError

__all__ = ["call", "not_found", "translate"]

T = TypeVar("T")
log = logging.getLogger("roomrpc.livekit")
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")


class _Mapping(NamedTuple):
    code: ErrorName
    reason: str
    retryable: bool
    message: str


_UNAVAILABLE = _Mapping("SERVICE_UNAVAILABLE", "media_unavailable", True, "The media server failed")
_REJECTED = _Mapping(
    "SERVICE_UNAVAILABLE",
    "media_credentials_rejected",
    False,
    "The media server rejected this server's credentials",
)
_DENIED = _Mapping(
    "SERVICE_UNAVAILABLE",
    "media_permission_denied",
    False,
    "The media server denied this server's request",
)
_TIMEOUT = _Mapping("TIMEOUT", "media_timeout", True, "The media server did not answer in time")
_UNSUPPORTED = _Mapping(
    "SERVICE_UNAVAILABLE", "media_unsupported", False, "The media server does not offer this"
)
_REFUSED = _Mapping(
    "SERVICE_UNAVAILABLE", "media_refused", False, "The media server refused the request"
)
_RATE_LIMITED = _Mapping(
    "TOO_MANY_REQUESTS", "media_rate_limited", True, "The media server is rate limiting us"
)
_INVALID = _Mapping("BAD_REQUEST", "media_invalid_argument", False, "The media server refused it")

_NOT_FOUND = _Mapping("NOT_FOUND", "media_not_found", False, "Not found on the media server")
# Twirp error codes (as LiveKit sends them) to ours.
_BY_TWIRP_CODE: dict[str, _Mapping] = {
    "not_found": _NOT_FOUND,
    "invalid_argument": _INVALID,
    "malformed": _INVALID,
    "out_of_range": _INVALID,
    "already_exists": _Mapping("CONFLICT", "media_conflict", False, "It already exists"),
    "aborted": _Mapping("CONFLICT", "media_conflict", True, "A concurrent change won"),
    "failed_precondition": _Mapping(
        "PRECONDITION_FAILED", "media_precondition_failed", False, "The media server refused it"
    ),
    "resource_exhausted": _RATE_LIMITED,
    "unauthenticated": _REJECTED,
    "permission_denied": _DENIED,
    "deadline_exceeded": _TIMEOUT,
    "canceled": _TIMEOUT,
    "unimplemented": _UNSUPPORTED,
    "bad_route": _UNSUPPORTED,
    "unavailable": _UNAVAILABLE,
    "internal": _UNAVAILABLE,
    "dataloss": _UNAVAILABLE,
}
# When the body carried no Twirp code (LiveKit's auth middleware answers a bad token
# with a bare 401 and plain text; a proxy may answer anything), the HTTP status decides.
_BY_STATUS: dict[int, _Mapping] = {
    401: _REJECTED,
    403: _DENIED,
    404: _UNSUPPORTED,
    408: _TIMEOUT,
    429: _RATE_LIMITED,
    504: _TIMEOUT,
}


def not_found() -> RpcError:
    """What LiveKit's own ``not_found`` becomes, for an absence we find out ourselves."""
    return RpcError(_NOT_FOUND.code, _NOT_FOUND.message, reason=_NOT_FOUND.reason, retryable=False)


async def call(operation: str, awaitable: Awaitable[T], *, timeout: float) -> T:
    """Await one LiveKit call within ``timeout`` seconds; any failure becomes an RpcError."""
    try:
        async with asyncio.timeout(timeout):
            return await awaitable
    except (ServerError, TimeoutError, aiohttp.ClientError, DecodeError) as exc:
        raise translate(operation, exc) from exc


def translate(operation: str, exc: BaseException) -> RpcError:
    """The RpcError for a failed LiveKit call (and one log line with the cause)."""
    mapping = _mapping(exc)
    if isinstance(exc, ServerError):
        # LiveKit saying a room or participant is absent is an answer, not a fault: deleting
        # a space whose room never opened must not cost a warning line each time.
        log.log(
            logging.DEBUG if exc.code == "not_found" else logging.WARNING,
            "livekit %s failed: twirp %s (HTTP %s): %s",
            operation,
            exc.code,
            exc.status,
            _JWT.sub("<jwt>", exc.message)[:200],  # LiveKit echoes a rejected token
        )
    else:
        cause = (str(exc).splitlines() or [""])[0][:200]  # one line: no traceback for a refusal
        log.warning(
            "livekit %s failed: %s (%s: %s)", operation, mapping.reason, type(exc).__name__, cause
        )
    return RpcError(
        mapping.code, mapping.message, reason=mapping.reason, retryable=mapping.retryable
    )


def _mapping(exc: BaseException) -> _Mapping:
    if isinstance(exc, ServerError):
        known = _BY_TWIRP_CODE.get(exc.code)
        if known is not None:
            return known
        if exc.status in _BY_STATUS:
            return _BY_STATUS[exc.status]
        return _UNAVAILABLE if exc.status >= 500 else _REFUSED
    if isinstance(exc, TimeoutError):
        return _TIMEOUT
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _Mapping(
            "SERVICE_UNAVAILABLE", "media_unreachable", True, "The media server is unreachable"
        )
    if isinstance(exc, DecodeError):
        return _Mapping(
            "SERVICE_UNAVAILABLE", "media_bad_response", False, "The media server answered garbage"
        )
    return _UNAVAILABLE
