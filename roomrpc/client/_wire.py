"""The JSON-RPC answers and notifications the client reads, and the errors they become."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import msgspec

from roomrpc.client._errors import RpcError, code_name
from roomrpc.client._generated import ERROR_CLASSES

__all__ = ["Answer", "EventParams", "RetryPolicy", "WireError", "answers", "to_error"]


class WireError(msgspec.Struct):
    """A JSON-RPC error object, read leniently (a proxy's or an older server's too)."""

    code: int
    message: str
    data: dict[str, Any] | None = None


class Answer(msgspec.Struct):
    """One answer or one notification on the wire; ``result`` stays raw until its type is known."""

    id: int | str | None = None
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: WireError | None = None
    method: str | None = None
    params: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class EventParams(msgspec.Struct):
    """A subscription's notification: an event (``id`` and ``data``) or its end (``error``)."""

    subscription: str
    id: str | None = None
    data: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: WireError | None = None


_ANSWERS = msgspec.json.Decoder(list[Answer] | Answer)


def answers(body: bytes) -> list[Answer]:
    """A POST's or a frame's answers, one or a batch."""
    decoded = _ANSWERS.decode(body)
    return decoded if isinstance(decoded, list) else [decoded]


def to_error(
    error: WireError, *, method: str | None = None, id: int | str | None = None
) -> RpcError:
    """The :class:`RpcError` subclass of an error object's named code."""
    cls = ERROR_CLASSES[code_name(error.code, error.data)]
    return cls(error.code, error.message, error.data, method=method, id=id)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff with full jitter: try ``attempts`` times in all, waiting up to
    ``base * 2**n`` seconds (at most ``cap``) between tries, and at least what the
    server asks for (``retryAfter``)."""

    attempts: int = 5
    base: float = 0.1
    cap: float = 10.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0 for the first)."""
        jitter = random.uniform(0, min(self.cap, self.base * 2**attempt))
        return max(jitter, retry_after or 0.0)
