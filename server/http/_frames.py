"""What a WebSocket frame carries beside ``jsonrpc`` in place of HTTP headers.

``"idempotencyKey"`` (``Idempotency-Key``) and ``"timeoutMs"`` (``X-Timeout-Ms``)
apply to the frame's whole message. They are taken out before the dispatcher
sees the message, so a spec-strict request still validates, and a retry with
another deadline is the same request to the idempotency store. In a batch any
entry may carry them; entries that do must agree. Values other members keep
(ids, params) are moved as raw JSON, byte for byte.
"""

from __future__ import annotations

import itertools
import logging
from typing import Annotated, Any, NamedTuple, Protocol

import msgspec
from aiohttp import web

from schema.errors import Issue
from server.http.observe import CALL_SPANS, SOCKET_CALLS, CallTally
from server.rpc import Connection, Dispatcher, RpcError, error_object, error_reply
from server.rpc.dispatch import CallRecord

__all__ = ["FrameOptions", "Frames", "frame_options"]

log = logging.getLogger("roomrpc.live")
_KEY, _TIMEOUT = "idempotencyKey", "timeoutMs"
_MARKS = (b'"idempotencyKey"', b'"timeoutMs"')
_NOT_AN_ID = frozenset(b"{[tf")
_MESSAGES = {
    _KEY: "Expected 1-255 printable characters",
    _TIMEOUT: "Expected milliseconds, 1 to 999999999",
}
_decode_key = msgspec.json.Decoder(Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7e]{1,255}$")])
_decode_ms = msgspec.json.Decoder(Annotated[int, msgspec.Meta(ge=1, le=999_999_999)])
_decode_object = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_decode_list = msgspec.json.Decoder(list[msgspec.Raw]).decode
_encode = msgspec.json.encode


class FrameOptions(NamedTuple):
    """The message without the members, and their values (None: not given)."""

    body: bytes
    idempotency_key: str | None
    timeout: float | None  # seconds


class _Bad(Exception):
    def __init__(self, path: str, message: str) -> None:
        self.issue = Issue(path=path, message=message)


def frame_options(body: bytes, request_id: str) -> FrameOptions | bytes | None:
    """None when the frame names neither member (the usual case: two substring searches);
    else the options, or the BAD_REQUEST answer (bytes) when a value is malformed."""
    if _MARKS[0] not in body and _MARKS[1] not in body:
        return None
    found: dict[str, Any] = {}
    rid: msgspec.Raw | None = None
    try:
        try:
            if body.lstrip()[:1] == b"[":
                entries: list[Any] = _decode_list(body)
                for index, entry in enumerate(entries):
                    if bytes(entry).lstrip()[:1] == b"{":
                        entries[index] = _take(_decode_object(entry), found, f"$[{index}].")
                stripped = _encode(entries)
            else:
                message = _decode_object(body)
                rid = message.get("id")
                stripped = _encode(_take(message, found, "$."))
        except (msgspec.DecodeError, RecursionError):
            return None  # not JSON, or not a request: the dispatcher says what is wrong
    except _Bad as bad:
        return _bad_request(bad.issue, rid, request_id)
    timeout = found.get(_TIMEOUT)
    return FrameOptions(stripped, found.get(_KEY), None if timeout is None else timeout / 1000)


class Frames:
    """One socket's frames: each a request (or batch) for the dispatcher, with its own id.

    Calls are recorded only when someone reads them: the access log (tallied, one line
    when the socket closes, ``ACCESS_LOG=true``) and the tracer (a span per call, as it ends).
    """

    def __init__(
        self,
        dispatcher: Dispatcher[object],
        socket: Socket,
        request: web.Request,
        request_id: str,
        *,
        access_log: bool,
    ) -> None:
        self._dispatcher = dispatcher
        self._socket = socket
        self._base = request_id
        self._count = itertools.count(1)
        self.request_id = request_id
        self._tally: CallTally | None = None
        if access_log:
            self._tally = request[SOCKET_CALLS] = CallTally()
        self._spans = request.get(CALL_SPANS)

    def _next(self) -> str:
        self.request_id = f"{self._base}.{next(self._count)}"
        return self.request_id

    def refuse(self, message: str) -> bytes | None:
        """A frame that is not read (binary): BAD_REQUEST."""
        return error_reply("BAD_REQUEST", self._next(), message).body

    async def serve(self, body: bytes) -> bytes | None:
        """The answer to one text frame (None: nothing to answer)."""
        rid = self._next()
        tally, spans = self._tally, self._spans
        calls: list[CallRecord] | None = None if tally is None and spans is None else []
        options = frame_options(body, rid)
        if isinstance(options, bytes):  # a malformed idempotencyKey or timeoutMs
            if tally is not None:
                tally.add([])
            return options
        key: str | None = None
        timeout: float | None = None
        if options is not None:
            body, key, timeout = options
        socket = self._socket
        reply = await self._dispatcher.handle(
            body,
            request_id=rid,
            authorization=None,
            client=socket.client,
            idempotency_key=key,
            timeout=timeout,
            connection=socket,
            calls=calls,
        )
        if calls is not None:
            if tally is not None:
                tally.add(calls)
            if spans is not None:
                spans(calls)
            if log.isEnabledFor(logging.DEBUG):
                summary = ",".join(f"{m}:{c}" for m, c, _, _ in calls) or "-"
                log.debug("socket %s frame %s %s", socket.id, rid, summary)
        return reply.body


class Socket(Connection, Protocol):
    """A socket as frames need it: a Connection that knows its peer's address."""

    @property
    def client(self) -> str:
        """The peer's address (behind a trusted proxy, the one it forwarded)."""
        ...


def _take(message: dict[str, msgspec.Raw], found: dict[str, Any], at: str) -> Any:
    """``message`` without the members; their checked values go to ``found``."""
    for name, decode in ((_KEY, _decode_key.decode), (_TIMEOUT, _decode_ms.decode)):
        raw = message.pop(name, None)
        if raw is None:
            continue
        try:
            value = decode(raw)
        except msgspec.ValidationError:
            raise _Bad(at + name, _MESSAGES[name]) from None
        if found.setdefault(name, value) != value:
            raise _Bad(at + name, "Differs from another entry's: one value applies to the batch")
    return message


def _bad_request(issue: Issue, rid: msgspec.Raw | None, request_id: str) -> bytes:
    error = error_object(RpcError("BAD_REQUEST", issues=[issue]), path=None, request_id=request_id)
    if rid is None or not bytes(rid) or bytes(rid)[0] in _NOT_AN_ID:
        rid = msgspec.Raw(b"null")
    return b'{"jsonrpc":"2.0","error":' + _encode(error) + b',"id":' + bytes(rid) + b"}"
