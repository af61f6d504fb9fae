"""What anonymous callers can make happen often (bad requests, dropped or slow uploads,
failing readiness checks) reaches the log as one short line per kind and minute,
with the number of repeats it stands for, and never an exception's text: that text
can quote a request's headers, credentials included."""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestPayloadError

__all__ = ["NOISE", "Noise", "ServerLog"]

_INTERVAL = 60.0


class Noise:
    """At most one line per kind of event and interval; the others are counted."""

    def __init__(self, logger: logging.Logger, *, interval: float = _INTERVAL) -> None:
        self._log = logger
        self._interval = interval
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def note(self, kind: str, line: str) -> None:
        """Log ``line`` unless a line of this ``kind`` was logged within the interval."""
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            self._skipped[kind] = self._skipped.get(kind, 0) + 1
            return
        self._last[kind] = now
        skipped = self._skipped.pop(kind, 0)
        more = f" (and {skipped} more in the last {now - last:.0f} s)" if skipped and last else ""
        self._log.warning("%s%s", line, more)


NOISE = web.AppKey("noise", Noise)


class ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server logger: errors a client caused become one short rate-limited line.

    aiohttp logs a malformed request (a header over its limit, ...) and a client
    that leaves mid-request as an ERROR with a traceback whose text can quote the
    request; what is not the client's doing still goes through whole.
    """

    def __init__(self, logger: logging.Logger, noise: Noise) -> None:
        super().__init__(logger, {})
        self._noise = noise

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if level >= logging.WARNING and isinstance(exc, BaseException) and _from_client(exc):
            name = type(exc).__name__
            self._noise.note(f"client:{name}", f"bad or broken request from a client: {name}")
            return
        super().log(level, msg, *args, **kwargs)


_CLIENT_FAULTS = (
    http_exceptions.HttpProcessingError,  # malformed, or over a size limit
    RequestPayloadError,  # the body ended before its announced length
    ConnectionError,  # the client left
)


def _from_client(exc: BaseException) -> bool:
    return isinstance(exc, _CLIENT_FAULTS)
