"""What anonymous callers can make happen often (bad requests, dropped or slow uploads,
failing readiness checks) reaches the log as one short line per kind and minute,
with the number of repeats it stands for, and never an exception's text: that text
can quote a request's headers, credentials included."""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestPayloadError

__all__ = ["NOISE", "Noise", "ServerLog", "quiet_accept_errors"]

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


# accept() failing for want of file descriptors or memory: asyncio logs a traceback
# for each attempt, so connections held open by a client could fill the disk.
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]
_ACCEPT_RETRY = "._start_serving("  # asyncio's callback that listens again after one


async def quiet_accept_errors(app: web.Application) -> AsyncIterator[None]:
    """While the app runs, the loop reports a failing ``accept()`` as one line a minute."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    noise = app[NOISE]

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _OUT_OF_RESOURCES:
            reason = os.strerror(exc.errno)
            noise.note("accept", f"cannot accept connections: {reason}; retrying each second")
        else:
            _unless_late_retry(previous, loop, context)

    loop.set_exception_handler(handle)
    try:
        yield
    finally:  # the retry may still be due after the app stopped: it stays quiet too
        loop.set_exception_handler(functools.partial(_unless_late_retry, previous))


def _unless_late_retry(
    previous: _ExceptionHandler | None, loop: asyncio.AbstractEventLoop, context: dict[str, Any]
) -> None:
    """Pass ``context`` on, unless it is asyncio's accept retry (due a second after a
    failed ``accept()``) come after shutdown closed the listening socket: then nothing
    is left to listen on, and asyncio's traceback says nothing useful."""
    exc = context.get("exception")
    if isinstance(exc, ValueError) and _ACCEPT_RETRY in context.get("message", ""):
        logging.getLogger("roomrpc.http").debug("accept retry after the socket closed: %s", exc)
    elif previous is not None:
        previous(loop, context)
    else:
        loop.default_exception_handler(context)
