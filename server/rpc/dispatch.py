"""JSON-RPC 2.0 over bytes: decode the envelope, run the call, encode the answer.

Knows nothing of HTTP. The envelope is decoded into a Struct whose ``params``
stay raw bytes for the procedure's own typed decoder; the id stays raw JSON too,
checked to be what the spec allows (a string, a number, or null) by its first
byte, and echoed byte for byte (``-0``, ``1e2`` and ``1.0`` come back as sent).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Generic, Literal, TypeVar, cast

import msgspec

from schema import LimitClass
from schema.errors import ErrorName, ErrorObject, Issue
from server.rpc._eager import Resume
from server.rpc._turns import Turns
from server.rpc.connection import Connection
from server.rpc.context import Context, Principal
from server.rpc.errors import RpcError, error_object
from server.rpc.params import NotStructured, issue_of
from server.rpc.policies import Idempotency, Limited, RateLimiter, Stored
from server.rpc.router import Compiled

__all__ = ["CallObserver", "CallRecord", "Dispatcher", "Reply", "Resolver", "error_reply"]

D = TypeVar("D")
Resolver = Callable[[str], Awaitable[Principal | None]]
# Told of each finished call: method ("unknown" for a name no procedure has), code
# ("OK" or the error's name) and seconds. Metrics hang here; it must be cheap.
CallObserver = Callable[[str, str, float], None]
# What a transport asks to hear of each call of one request, for its access log and
# traces: (method, code, started, ended), times from ``time.perf_counter``.
CallRecord = tuple[str, str, float, float]
_UNKNOWN = "unknown"
log = logging.getLogger("roomrpc.rpc")
_INTERNAL = RpcError("INTERNAL_SERVER_ERROR")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces
_REPLAYED = {"Idempotent-Replayed": "true"}
_UNANSWERABLE = RpcError("BAD_REQUEST", "A subscription needs an id: its answer names it")


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


class _Scope(msgspec.Struct):
    """One request's settings and caller, handed down instead of a row of arguments."""

    request_id: str
    client: str  # an anonymous caller's address: what its calls are counted by
    timeout: float  # each call's time limit, seconds
    connection: Connection | None  # the socket a request came over
    calls: list[CallRecord] | None  # told of each call, when asked
    principal: Principal | None = None
    denied: RpcError | None = None  # credentials given but refused: every call says so

    @property
    def who(self) -> str:
        """Whom a call is counted against: the being, or an anonymous caller's address."""
        principal = self.principal
        return self.client if principal is None else principal.being_id


@dataclass(slots=True)
class _Suspended:
    """A call whose coroutine is waiting on I/O: it finishes under the call timeout."""

    coro: Coroutine[Any, Any, Any]
    yielded: Any
    id: Id | msgspec.UnsetType
    method: str
    start: float
    calls: list[CallRecord] | None


_Response = _Success | _Failure

_decode_request = msgspec.json.Decoder(_Request).decode
_decode_batch = msgspec.json.Decoder(list[_Request]).decode  # every entry valid: one pass
_decode_entries = msgspec.json.Decoder(list[msgspec.Raw]).decode  # else entry by entry
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_encode_into = _encoder.encode_into
_BATCH = re.compile(rb"[ \t\r\n]*\[")
_BOM = b"\xef\xbb\xbf"  # RFC 8259 section 8.1: a parser MAY ignore one
_NOT_AN_ID = frozenset(b"{[tf")  # an object, an array, true, false: first bytes of raw JSON
_STRUCTURED = frozenset(b"{[")
_BAD_ID = Issue(path="$.id", message="Expected a string, a number or null")
# A batch runs its calls freely for this long; after that it is heavy, and each of its
# calls waits for a turn (server/rpc/_turns.py): one heavy call per round of the loop.
_FREE = 0.002
# Answers are encoded this many at a time (a heavy batch's, one at a time), each chunk
# with one call of the encoder and counted against max_response_bytes; only a chunk that
# would not fit is encoded again, one answer at a time, to find the results left out.
_CHUNK = 64
_LOOK = 4  # a light batch looks at the clock every this many calls


class Reply(msgspec.Struct, frozen=True):
    """What to send back: a body (None when nothing is answered), an HTTP status, headers.

    A Struct: made once per request, it costs a tenth of a frozen dataclass.
    """

    body: bytes | None
    status: int = 200
    headers: dict[str, str] | None = None  # transport headers (rate limits, replays)


class _Method(msgspec.Struct):
    method: str = ""


class _Identified(msgspec.Struct):
    id: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class _AnswerData(msgspec.Struct, rename="camel"):
    code: str = ""
    retryable: bool = False


class _AnswerError(msgspec.Struct):
    data: _AnswerData | None = None


class _Answer(msgspec.Struct):
    error: _AnswerError | None = None


_decode_methods = msgspec.json.Decoder(_Method | list[_Method]).decode
_decode_identified = msgspec.json.Decoder(_Identified | list[msgspec.Raw]).decode
_decode_answers = msgspec.json.Decoder(_Answer | list[_Answer]).decode
# Answers that say the call did not happen and may be tried again: the key is freed.
_RETRY_CODES = frozenset({"TIMEOUT", "SERVICE_UNAVAILABLE", "TOO_MANY_REQUESTS"})


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
        limiter: RateLimiter | None = None,
        idempotency: Idempotency | None = None,
        observe: CallObserver | None = None,
        max_response_bytes: int = 8 * 1024 * 1024,
        request_timeout: float = 60.0,
    ) -> None:
        self._procedures = dict(procedures)
        self._observe = observe
        self._max_response = max_response_bytes
        self._request_timeout = request_timeout
        self._turns = Turns()
        self._deps = deps
        self._resolve = resolve_principal
        self._timeout = call_timeout
        self._max_batch = max_batch
        self._limiter = limiter
        # Each procedure's rate limit class, looked up once per call (unknown: not counted).
        self._classes = {name: proc.spec.counts_as for name, proc in self._procedures.items()}
        self._idempotency = idempotency

    async def handle(
        self,
        body: bytes,
        *,
        request_id: str,
        authorization: str | None,
        client: str = "",
        idempotency_key: str | None = None,
        timeout: float | None = None,
        connection: Connection | None = None,
        calls: list[CallRecord] | None = None,
    ) -> Reply:
        """Answer one request body; never raises.

        ``client`` names an anonymous caller for rate limits (its address);
        ``timeout`` (seconds) shortens the per-call time limit for this request;
        ``idempotency_key`` makes a request with mutations run at most once.
        Over a socket, ``connection`` is handed to each call's context, and the
        caller is the socket's principal unless ``authorization`` is given.
        ``calls``, when given, gets a record of each call (the access log's and the tracer's).
        """
        if not body.isascii():
            body = body.removeprefix(_BOM)
            if not _is_utf8(body):  # msgspec checks only what it decodes
                return self._one(_protocol("PARSE_ERROR", request_id))
        limit = self._timeout if timeout is None else min(timeout, self._timeout)
        scope = _Scope(request_id, client, limit, connection, calls)
        if authorization is not None:  # else anonymous, or the socket's: nothing to await
            scope.principal, scope.denied = await self._principal(authorization, request_id)
        elif connection is not None:
            scope.principal = connection.principal
        if idempotency_key is not None and self._idempotency is not None:
            return await self._once(body, idempotency_key, scope)
        return await self._serve(body, scope)

    async def _serve(self, body: bytes, scope: _Scope) -> Reply:
        request_id = scope.request_id
        if _is_batch(body):
            return await self._batch(body, scope)
        try:
            request = _decode_request(body)
        except msgspec.ValidationError as exc:
            return self._one(_invalid(exc, request_id))
        except (msgspec.DecodeError, RecursionError):  # not JSON, or nested beyond our depth
            return self._one(_protocol("PARSE_ERROR", request_id))
        limited = None
        limiter = self._limiter
        if limiter is not None and (kind := self._classes.get(request.method)) is not None:
            if limiter.synchronous:  # an unknown method is not counted: nothing runs
                limited = limiter.hit(kind, scope.who)
            else:
                limited = await limiter.ahit(kind, scope.who)
        response = self._begin(request, scope, limited)
        if isinstance(response, _Suspended):  # a single call: the request is this call
            response = await self._finish(
                response, request_id, scope.timeout, self._request_timeout
            )
        if response is None:
            return _NO_REPLY
        body = self._encode(response, request.method, request_id)
        if limited is not None and isinstance(response, _Failure):
            return Reply(body, 429, _limit_headers(limited))
        if len(body) > self._max_response:  # an error always fits: only a result is this big
            error = error_object(self._full(), path=request.method, request_id=request_id)
            body = _encode(_Failure("2.0", error, response.id))
        return Reply(body)

    async def _once(self, body: bytes, key: str, scope: _Scope) -> Reply:
        """Run a request carrying an idempotency key at most once; a repeat replays it."""
        store = self._idempotency
        assert store is not None
        request_id = scope.request_id
        if not _IDEMPOTENCY_KEY.match(key):
            issue = Issue(path="Idempotency-Key", message="Expected 1-255 printable characters")
            failure = _null_id(RpcError("BAD_REQUEST", issues=[issue]), request_id)
            return Reply(_encode(failure), 400)
        if scope.denied is not None or not self._mutates(body):  # queries ignore the key
            return await self._serve(body, scope)
        owner = f"ip:{scope.client}" if scope.principal is None else scope.principal.being_id
        try:
            stored = await store.begin(owner, key, hashlib.sha256(body).digest())
        except RpcError as exc:  # a single call's answer carries its id (a socket matches by it)
            failure = _Failure("2.0", error_object(exc, path=None, request_id=request_id), None)
            failure.id = _id_of(body)
            return Reply(_encode(failure), failure.error.data.http_status)
        if stored is not None:
            return Reply(stored.body, stored.status, _REPLAYED)
        try:
            reply = await self._serve(body, scope)
        except BaseException:  # cancelled: the request may run again when retried
            await asyncio.shield(store.abandon(owner, key))
            raise
        if _may_retry(reply):
            await store.abandon(owner, key)
        else:
            await store.finish(owner, key, Stored(reply.body, reply.status))
        return reply

    def _mutates(self, body: bytes) -> bool:
        """Whether the request calls a mutation (only those are made idempotent)."""
        try:
            decoded = _decode_methods(body)
        except (msgspec.DecodeError, RecursionError):
            return False
        for call in decoded if isinstance(decoded, list) else (decoded,):
            proc = self._procedures.get(call.method)
            if proc is not None and proc.spec.kind == "mutation":
                return True
        return False

    async def _batch(self, body: bytes, scope: _Scope) -> Reply:
        request_id = scope.request_id
        entries: list[_Request] | list[msgspec.Raw]
        fast = True  # every entry decoded as a request, in one pass
        try:
            try:
                entries = _decode_batch(body)
            except msgspec.ValidationError:  # some entry is not a request: each on its own
                entries = _decode_entries(body)
                fast = False
        except (msgspec.DecodeError, RecursionError):  # not JSON, or nested beyond our depth
            return self._one(_protocol("PARSE_ERROR", request_id))
        if not entries:
            empty = Issue(path="$", message="Expected a non-empty array of requests")
            return self._one(_null_id(RpcError("INVALID_REQUEST", issues=[empty]), request_id))
        if len(entries) > self._max_batch:
            message = f"Batch of {len(entries)} calls; at most {self._max_batch} allowed"
            return Reply(_encode(_protocol("PAYLOAD_TOO_LARGE", request_id, message)), 413)
        requests: list[_Request] | list[_Request | _Failure]
        if fast:
            requests = cast(list[_Request], entries)
        else:
            requests = [_entry(entry, request_id) for entry in cast(list[msgspec.Raw], entries)]
        within: dict[LimitClass, int] = {}
        over: dict[LimitClass, Limited | None] = {}
        if self._limiter is not None:  # a batch counts its calls: once per class, not each
            within, over = await self._count(self._limiter, requests, scope.who)
        clock = time.monotonic  # asyncio's own clock, without its method call on every call
        started = clock()
        deadline = started + self._request_timeout
        free_until = min(started + _FREE, deadline)
        out = bytearray(b"[")
        pending: list[_Response] = []
        methods: list[str | None] = []
        full = False  # a result was left out: the batch's further reads are not run
        heavy = False  # the batch has used its free time: one call per turn from now on
        tick = 1  # calls until the next look at the clock
        classes = self._classes
        limited: Limited | None = None
        refused: list[Limited] = []  # every call limited: the whole request is 429
        for request in requests:
            if not isinstance(request, _Request):  # an entry that is not a request
                pending.append(request)
                methods.append(None)
                continue
            if within:
                limited = None
                kind = classes.get(request.method)
                if kind is not None:
                    if within[kind]:
                        within[kind] -= 1
                    else:  # this class's calls within the limit have run: the rest are not
                        limited = over[kind]
                        if limited is not None:
                            refused.append(limited)
            response: _Response | _Suspended | None
            if full and self._is_query(request.method):
                response = self._failure(self._full(), request.id, request.method, request_id)
            elif heavy:
                response = await self._turn(request, scope, limited, deadline)
            elif (tick := tick - 1) > 0:  # the usual case: a light batch
                response = self._begin(request, scope, limited)
            elif (now := clock()) < free_until:
                tick = _LOOK
                response = self._begin(request, scope, limited)
            elif now >= deadline:
                response = self._late(request.id, request.method, request_id)
            else:  # the batch has had its free time: one call per turn from now on
                heavy = True
                response = await self._turn(request, scope, limited, deadline)
            if isinstance(response, _Suspended):
                response = await self._finish(
                    response, request_id, scope.timeout, deadline - clock()
                )
                tick = 1  # time has passed: look at the clock before the next call
            if response is not None:
                pending.append(response)
                methods.append(request.method)
                if heavy or len(pending) == _CHUNK:
                    full = self._flush(out, pending, methods, request_id) or full
        if pending:
            self._flush(out, pending, methods, request_id)
        if len(out) == 1:
            return _NO_REPLY
        out[-1:] = b"]"
        if len(refused) == len(entries):
            worst = max(refused, key=lambda lim: lim.retry_after)
            return Reply(bytes(out), 429, _limit_headers(worst))
        return Reply(bytes(out))

    async def _count(
        self, limiter: RateLimiter, requests: list[_Request] | list[_Request | _Failure], who: str
    ) -> tuple[dict[LimitClass, int], dict[LimitClass, Limited | None]]:
        """Count a batch's calls against their classes' limits, each class at once: how
        many calls of each class are within its limit (the first ones), and the limit
        the others hit. Calls of unknown methods are not counted: nothing runs."""
        classes = self._classes
        calls: dict[LimitClass, int] = {}
        for request in requests:
            if isinstance(request, _Request):
                kind = classes.get(request.method)
                if kind is not None:
                    calls[kind] = calls.get(kind, 0) + 1
        within: dict[LimitClass, int] = {}
        over: dict[LimitClass, Limited | None] = {}
        for kind, count in calls.items():
            if limiter.synchronous:
                within[kind], over[kind] = limiter.hit_many(kind, who, count)
            else:
                within[kind], over[kind] = await limiter.ahit_many(kind, who, count)
        return within, over

    async def _turn(
        self, request: _Request, scope: _Scope, limited: Limited | None, deadline: float
    ) -> _Response | _Suspended | None:
        """Begin a heavy batch's call when it has the turn (the oldest batch's first)."""
        await self._turns.take(deadline)  # the same timeout for all: the earliest deadline
        try:
            if time.monotonic() < deadline:
                return self._begin(request, scope, limited)
            return self._late(request.id, request.method, scope.request_id)  # passed meanwhile
        finally:
            self._turns.give()

    def _flush(
        self,
        out: bytearray,
        pending: list[_Response],
        methods: list[str | None],
        request_id: str,
    ) -> bool:
        """Add ``pending`` to the batch's answer and empty it; True if a result was left out."""
        try:
            chunk = _encode(pending)
        except (TypeError, ValueError, OverflowError):  # some result is not JSON
            chunk = None
        left_out = False
        if chunk is not None and len(out) + len(chunk) - 1 <= self._max_response:
            out += memoryview(chunk)[1:]  # without its "[", and its "]" becomes a comma
            out[-1] = 44
        else:  # one at a time, to find what is left out
            for response, method in zip(pending, methods, strict=True):
                left_out = self._append(out, response, method, request_id) or left_out
        pending.clear()
        methods.clear()
        return left_out

    def _append(
        self, out: bytearray, response: _Response, method: str | None, request_id: str
    ) -> bool:
        """Encode ``response`` at the end of the batch's answer, then a comma.

        The bytes are counted as they are written: a result that would take the
        answer past ``max_response_bytes`` is cut off and replaced by an error
        (and True is returned).
        """
        left_out = False
        start = len(out)
        try:
            _encode_into(response, out, -1)
        except (TypeError, ValueError, OverflowError):  # error objects always encode
            del out[start:]
            log.exception("result of %s cannot be encoded (request %s)", method, request_id)
            _encode_into(_Failure("2.0", _internal(method, request_id), response.id), out, -1)
        if len(out) > self._max_response and isinstance(response, _Success):
            del out[start:]
            error = error_object(self._full(), path=method, request_id=request_id)
            _encode_into(_Failure("2.0", error, response.id), out, -1)
            left_out = True
        out += b","
        return left_out

    def _is_query(self, method: str) -> bool:
        proc = self._procedures.get(method)
        return proc is not None and proc.spec.kind == "query"

    def _full(self) -> RpcError:
        message = f"The answer would exceed {self._max_response} bytes: this result is left out"
        return RpcError("PAYLOAD_TOO_LARGE", message, reason="response_too_large")

    def _late(self, rid: Id | msgspec.UnsetType, method: str, request_id: str) -> _Failure | None:
        return self._failure(self._late_error(), rid, method, request_id)

    def _late_error(self) -> RpcError:
        message = f"The request did not finish within {self._request_timeout:g} s"
        return RpcError("TIMEOUT", message, retryable=True)

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
        self, request: _Request, scope: _Scope, limited: Limited | None
    ) -> _Response | _Suspended | None:
        """Run the call until it first waits: most calls finish here, with no timer or task."""
        start = perf_counter()
        request_id, denied, calls = scope.request_id, scope.denied, scope.calls
        rid, method, raw = request.id, request.method, request.params
        if rid is not msgspec.UNSET and memoryview(rid)[0] in _NOT_AN_ID:
            self._done(method, "INVALID_REQUEST", start, calls)
            return _null_id(RpcError("INVALID_REQUEST", issues=[_BAD_ID]), request_id)
        try:
            proc = self._procedures.get(method)
            if proc is None or denied is not None:  # an invalid request object says so first
                if raw is not msgspec.UNSET and memoryview(raw)[0] not in _STRUCTURED:
                    raise NotStructured()
                if denied is not None:
                    raise denied
                raise RpcError("METHOD_NOT_FOUND")  # the spec's exact message; data.path names it
            if limited is not None:
                raise _too_many(limited)
            if rid is msgspec.UNSET and proc.spec.kind == "subscription":
                raise _UNANSWERABLE  # nobody could hear its events: nothing starts
            params = proc.params.decode(None if raw is msgspec.UNSET else raw)
            ctx = Context(request_id, self._deps, scope.principal, method, scope.connection)
            coro = proc.run(ctx, params)
            try:
                yielded = coro.send(None)  # type: ignore[attr-defined]
            except StopIteration as stop:
                result = stop.value
            else:
                return _Suspended(coro, yielded, rid, method, start, calls)  # type: ignore[arg-type]
        except NotStructured as exc:  # an invalid request object: answered, with a null id
            self._done(method, exc.code, start, calls)
            return _null_id(exc, request_id)
        except RpcError as exc:
            self._done(method, exc.code, start, calls)
            return self._failure(exc, rid, method, request_id)
        except Exception:
            log.exception("internal error in %s (request %s)", method, request_id)
            self._done(method, _INTERNAL.code, start, calls)
            return self._failure(_INTERNAL, rid, method, request_id)
        self._done(method, "OK", start, calls)
        if rid is msgspec.UNSET:
            return None
        return _Success("2.0", result, rid)

    async def _finish(
        self, call: _Suspended, request_id: str, limit: float, remaining: float
    ) -> _Response | None:
        """Drive a suspended call to its end within ``limit`` seconds and the ``remaining``
        seconds of the request; past either, what the call awaits (a query, a LiveKit
        request) is cancelled."""
        timeout = asyncio.timeout(min(limit, remaining))
        try:
            async with timeout:
                result = await Resume(call.coro, call.yielded)
        except TimeoutError:
            if not timeout.expired():
                log.exception("internal error in %s (request %s)", call.method, request_id)
                return self._failed(_INTERNAL, call, request_id)
            if remaining < limit:
                return self._failed(self._late_error(), call, request_id)
            message = f"{call.method} did not finish within {limit:g} s"
            error = RpcError("TIMEOUT", message, retryable=True)
            return self._failed(error, call, request_id)
        except RpcError as exc:
            return self._failed(exc, call, request_id)
        except Exception:
            log.exception("internal error in %s (request %s)", call.method, request_id)
            return self._failed(_INTERNAL, call, request_id)
        self._done(call.method, "OK", call.start, call.calls)
        if call.id is msgspec.UNSET:
            return None
        return _Success("2.0", result, call.id)

    def _done(self, method: str, code: str, start: float, calls: list[CallRecord] | None) -> None:
        """Tell the observer (metrics) and the request's record of one finished call."""
        observe = self._observe
        if observe is None and calls is None:
            return
        end = perf_counter()
        if method not in self._procedures:  # a caller's typo must not become a new series
            method = _UNKNOWN
        if observe is not None:
            observe(method, code, end - start)
        if calls is not None:
            calls.append((method, code, start, end))

    def _failed(self, error: RpcError, call: _Suspended, request_id: str) -> _Failure | None:
        self._done(call.method, error.code, call.start, call.calls)
        return self._failure(error, call.id, call.method, request_id)

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


def _too_many(limited: Limited) -> RpcError:
    message = f"Over the limit of {limited.limit} calls per {limited.window} s"
    retry_after = round(limited.retry_after, 3)
    return RpcError(
        "TOO_MANY_REQUESTS", message, reason="rate_limited", retryable=True, retry_after=retry_after
    )


def _limit_headers(limited: Limited) -> dict[str, str]:
    """``Retry-After`` (RFC 9110) and the IETF draft's ``RateLimit-*`` fields."""
    seconds = str(max(1, math.ceil(limited.retry_after)))
    return {
        "Retry-After": seconds,
        "RateLimit-Limit": str(limited.limit),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": seconds,
        "RateLimit-Policy": f"{limited.limit};w={limited.window}",
    }


def _may_retry(reply: Reply) -> bool:
    """True when every answer says its call did not happen and may be tried again."""
    if reply.body is None:
        return False
    try:
        decoded = _decode_answers(reply.body)
    except (msgspec.DecodeError, RecursionError):
        return False
    answers = decoded if isinstance(decoded, list) else (decoded,)
    for answer in answers:
        data = None if answer.error is None else answer.error.data
        if data is None or not (data.retryable or data.code in _RETRY_CODES):
            return False
    return True


def _id_of(body: bytes) -> Id:
    """A single request's id when it is one the spec allows, else None (a batch: null)."""
    try:
        decoded = _decode_identified(body)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(decoded, list) or decoded.id is msgspec.UNSET:
        return None
    return None if memoryview(decoded.id)[0] in _NOT_AN_ID else decoded.id


def _entry(entry: msgspec.Raw, request_id: str) -> _Request | _Failure:
    """One entry of a batch that did not decode as a whole: a request, or its answer."""
    try:
        return _decode_request(entry)
    except msgspec.ValidationError as exc:
        return _invalid(exc, request_id)


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
