"""JSON-RPC 2.0 over bytes: decode the envelope, run the call, encode the answer.

Knows nothing of HTTP. The envelope is decoded into a Struct whose ``params``
stay raw bytes for the procedure's own typed decoder; the id stays raw JSON too,
checked to be what the spec allows (a string, a number, or null) by its first
byte, and echoed byte for byte (``-0``, ``1e2`` and ``1.0`` come back as sent).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import msgspec

from schema.errors import ErrorName, ErrorObject, Issue
from server.rpc._eager import Resume
from server.rpc.connection import Connection
from server.rpc.context import Context, Principal
from server.rpc.errors import RpcError, error_object
from server.rpc.params import NotStructured, issue_of
from server.rpc.router import Compiled

__all__ = ["Dispatcher", "Reply", "Resolver", "error_reply"]

D = TypeVar("D")
Resolver = Callable[[str], Awaitable[Principal | None]]
log = logging.getLogger("roomrpc.rpc")
_INTERNAL = RpcError("INTERNAL_SERVER_ERROR")
_ANONYMOUS: tuple[Principal | None, RpcError | None] = (None, None)


Id = msgspec.Raw | None  # raw JSON: a string, a number or null; None: not known


class _Request(msgspec.Struct):
    jsonrpc: Literal["2.0"]
    method: str
    params: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    id: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # absent: a notification


class _Success(msgspec.Struct):
    jsonrpc: str
    result: Any
    id: Id


class _Failure(msgspec.Struct):
    jsonrpc: str
    error: ErrorObject
    id: Id


@dataclass(slots=True)
class _Suspended:
    """A call whose coroutine is waiting on I/O: it finishes under the call timeout."""

    coro: Coroutine[Any, Any, Any]
    yielded: Any
    id: Id | msgspec.UnsetType
    method: str


_Response = _Success | _Failure

_decode_request = msgspec.json.Decoder(_Request).decode
_decode_batch = msgspec.json.Decoder(list[_Request]).decode  # every entry valid: one pass
_decode_entries = msgspec.json.Decoder(list[msgspec.Raw]).decode  # else entry by entry
_encode = msgspec.json.Encoder().encode
_BATCH = re.compile(rb"[ \t\r\n]*\[")
_BOM = b"\xef\xbb\xbf"  # RFC 8259 section 8.1: a parser MAY ignore one
_NOT_AN_ID = frozenset(b"{[tf")  # an object, an array, true, false: first bytes of raw JSON
_STRUCTURED = frozenset(b"{[")
_BAD_ID = Issue(path="$.id", message="Expected a string, a number or null")


class Reply(msgspec.Struct, frozen=True):
    """What to send back: a body (None when nothing is answered) and an HTTP status.

    A Struct: made once per request, it costs a tenth of a frozen dataclass.
    """

    body: bytes | None
    status: int = 200


_NO_REPLY = Reply(None, 204)


class Dispatcher(Generic[D]):
    """Serves JSON-RPC 2.0 requests (single or batch) against compiled procedures."""

    def __init__(
        self,
        procedures: Mapping[str, Compiled],
        *,
        deps: D,
        resolve_principal: Resolver,
        call_timeout: float,
        max_batch: int,
    ) -> None:
        self._procedures = dict(procedures)
        self._deps = deps
        self._resolve = resolve_principal
        self._timeout = call_timeout
        self._max_batch = max_batch

    async def handle(
        self,
        body: bytes,
        *,
        request_id: str,
        authorization: str | None,
        connection: Connection | None = None,
    ) -> Reply:
        """Answer one request body; never raises.

        Over a socket, ``connection`` is handed to each call's context, and the
        caller is the socket's principal unless ``authorization`` is given.
        """
        if not body.isascii():
            body = body.removeprefix(_BOM)
            if not _is_utf8(body):  # msgspec checks only what it decodes
                return self._one(_protocol("PARSE_ERROR", request_id))
        if _is_batch(body):
            return await self._batch(body, request_id, authorization, connection)
        try:
            request = _decode_request(body)
        except msgspec.ValidationError as exc:
            return self._one(_invalid(exc, request_id))
        except (msgspec.DecodeError, RecursionError):  # not JSON, or nested beyond our depth
            return self._one(_protocol("PARSE_ERROR", request_id))
        principal, denied = _ANONYMOUS
        if authorization is not None:  # no credentials: nothing to await
            principal, denied = await self._principal(authorization, request_id)
        elif connection is not None:
            principal = connection.principal
        response = self._begin(request, request_id, principal, denied, connection)
        if isinstance(response, _Suspended):
            response = await self._finish(response, request_id)
        if response is None:
            return _NO_REPLY
        return Reply(self._encode(response, request.method, request_id))

    async def _batch(
        self,
        body: bytes,
        request_id: str,
        authorization: str | None,
        connection: Connection | None,
    ) -> Reply:
        entries: list[_Request] | list[msgspec.Raw]
        try:
            try:
                entries = _decode_batch(body)
            except msgspec.ValidationError:  # some entry is not a request: each on its own
                entries = _decode_entries(body)
        except (msgspec.DecodeError, RecursionError):  # not JSON, or nested beyond our depth
            return self._one(_protocol("PARSE_ERROR", request_id))
        if not entries:
            empty = Issue(path="$", message="Expected a non-empty array of requests")
            return self._one(_null_id(RpcError("INVALID_REQUEST", issues=[empty]), request_id))
        if len(entries) > self._max_batch:
            message = f"Batch of {len(entries)} calls; at most {self._max_batch} allowed"
            return Reply(_encode(_protocol("PAYLOAD_TOO_LARGE", request_id, message)), 413)
        principal, denied = _ANONYMOUS
        if authorization is not None:  # no credentials: nothing to await
            principal, denied = await self._principal(authorization, request_id)
        elif connection is not None:
            principal = connection.principal
        responses: list[_Response] = []
        methods: list[str | None] = []
        for entry in entries:
            if isinstance(entry, _Request):
                request = entry
            else:
                try:
                    request = _decode_request(entry)
                except msgspec.ValidationError as exc:
                    responses.append(_invalid(exc, request_id))
                    methods.append(None)
                    continue
            response = self._begin(request, request_id, principal, denied, connection)
            if isinstance(response, _Suspended):
                response = await self._finish(response, request_id)
            if response is not None:
                responses.append(response)
                methods.append(request.method)
        if not responses:
            return _NO_REPLY
        try:
            return Reply(_encode(responses))
        except (TypeError, ValueError, OverflowError):  # one result is not JSON: find it
            parts = [
                self._encode(r, m, request_id) for r, m in zip(responses, methods, strict=True)
            ]
            return Reply(b"[" + b",".join(parts) + b"]")

    async def _principal(
        self, authorization: str, request_id: str
    ) -> tuple[Principal | None, RpcError | None]:
        try:
            return await self._resolve(authorization), None
        except RpcError as exc:
            return None, exc
        except Exception:
            log.exception("principal resolver failed (request %s)", request_id)
            return None, _INTERNAL

    def _begin(
        self,
        request: _Request,
        request_id: str,
        principal: Principal | None,
        denied: RpcError | None,
        connection: Connection | None = None,
    ) -> _Response | _Suspended | None:
        """Run the call until it first waits: most calls finish here, with no timer or task."""
        rid, method, raw = request.id, request.method, request.params
        if rid is not msgspec.UNSET and memoryview(rid)[0] in _NOT_AN_ID:
            return _null_id(RpcError("INVALID_REQUEST", issues=[_BAD_ID]), request_id)
        try:
            proc = self._procedures.get(method)
            if proc is None or denied is not None:  # an invalid request object says so first
                if raw is not msgspec.UNSET and memoryview(raw)[0] not in _STRUCTURED:
                    raise NotStructured()
                if denied is not None:
                    raise denied
                raise RpcError("METHOD_NOT_FOUND")  # the spec's exact message; data.path names it
            params = proc.params.decode(None if raw is msgspec.UNSET else raw)
            ctx = Context(request_id, self._deps, principal, method, connection)
            coro = proc.run(ctx, params)
            try:
                yielded = coro.send(None)  # type: ignore[attr-defined]
            except StopIteration as stop:
                result = stop.value
            else:
                return _Suspended(coro, yielded, rid, method)  # type: ignore[arg-type]
        except NotStructured as exc:  # an invalid request object: answered, with a null id
            return _null_id(exc, request_id)
        except RpcError as exc:
            return self._failure(exc, rid, method, request_id)
        except Exception:
            log.exception("internal error in %s (request %s)", method, request_id)
            return self._failure(_INTERNAL, rid, method, request_id)
        if rid is msgspec.UNSET:
            return None
        return _Success("2.0", result, rid)

    async def _finish(self, call: _Suspended, request_id: str) -> _Response | None:
        """Drive a suspended call to its end, within the per-call timeout."""
        timeout = asyncio.timeout(self._timeout)
        try:
            async with timeout:
                result = await Resume(call.coro, call.yielded)
        except TimeoutError:
            if not timeout.expired():
                log.exception("internal error in %s (request %s)", call.method, request_id)
                return self._failure(_INTERNAL, call.id, call.method, request_id)
            message = f"{call.method} did not finish within {self._timeout:g} s"
            error = RpcError("TIMEOUT", message, retryable=True)
            return self._failure(error, call.id, call.method, request_id)
        except RpcError as exc:
            return self._failure(exc, call.id, call.method, request_id)
        except Exception:
            log.exception("internal error in %s (request %s)", call.method, request_id)
            return self._failure(_INTERNAL, call.id, call.method, request_id)
        if call.id is msgspec.UNSET:
            return None
        return _Success("2.0", result, call.id)

    @staticmethod
    def _failure(
        error: RpcError, rid: Id | msgspec.UnsetType, method: str, request_id: str
    ) -> _Failure | None:
        if rid is msgspec.UNSET:
            return None  # notifications are never answered, not even with an error
        return _Failure("2.0", error_object(error, path=method, request_id=request_id), rid)

    def _one(self, response: _Failure) -> Reply:
        return Reply(_encode(response))

    @staticmethod
    def _encode(response: _Response, method: str | None, request_id: str) -> bytes:
        try:
            return _encode(response)
        except (TypeError, ValueError, OverflowError):  # error objects always encode
            log.exception("result of %s cannot be encoded (request %s)", method, request_id)
            return _encode(_Failure("2.0", _internal(method, request_id), response.id))


def error_reply(code: ErrorName, request_id: str, message: str | None = None) -> Reply:
    """A protocol-level error answered before dispatch (body too large, wrong media type)."""
    failure = _protocol(code, request_id, message)
    return Reply(_encode(failure), failure.error.data.http_status)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _is_batch(body: bytes) -> bool:
    first = body[:1]
    if first == b"{":  # the usual cases, without the pattern
        return False
    return first == b"[" or _BATCH.match(body) is not None


def _null_id(error: RpcError, request_id: str) -> _Failure:
    """An answer to a request whose id could not be read (the spec says: null)."""
    return _Failure("2.0", error_object(error, path=None, request_id=request_id), None)


def _invalid(exc: msgspec.ValidationError, request_id: str) -> _Failure:
    return _null_id(RpcError("INVALID_REQUEST", issues=[issue_of(exc)]), request_id)


def _protocol(code: ErrorName, request_id: str, message: str | None = None) -> _Failure:
    return _null_id(RpcError(code, message), request_id)


def _internal(path: str | None, request_id: str) -> ErrorObject:
    return error_object(_INTERNAL, path=path, request_id=request_id)
