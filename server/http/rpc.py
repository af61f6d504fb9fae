"""``POST /rpc``: the HTTP transport of the RPC core."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web
from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD
from aiohttp.web_protocol import RequestPayloadError

from schema.errors import Issue
from server.http import forwarded
from server.http.contracts import ClientContracts
from server.http.noise import Noise
from server.http.observe import CALLS, REQUEST_ID
from server.http.socket import Live, socket_handler
from server.http.sse import serve_sse, wants_sse
from server.rpc import Dispatcher, Reply, Resolver, RpcError, error_object, error_reply
from server.settings import Settings

__all__ = ["RequestIds", "client_address", "refused_coding", "rpc_handler", "upgrade_handler"]

# JSON's own types, and what clients send for a body when told nothing else: no type
# (requests, httpx), text/plain (fetch and aiohttp with a string), octet-stream (aiohttp
# with bytes), form-urlencoded (curl -d, urllib). Such bodies are read as JSON; other
# declared types (multipart, XML, ...) are 415.
_MEDIA_TYPES = frozenset(
    {
        "",
        "application/json",
        "application/json-rpc",
        "application/jsonrequest",
        "text/json",
        "text/plain",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
    }
)
# Content codings aiohttp decodes for us; any other is 415 (RFC 9110 15.5.16), not a
# body read as if it were plain. br and zstd only while aiohttp has their packages (the
# project's Brotli and backports.zstd; zstd is the standard library's from Python 3.14):
# without them aiohttp would answer its own plain-text 400. aiohttp bounds the output of
# each decompression step, so a decompression bomb is refused (413) once RPC_MAX_BODY_BYTES
# of it are read, not decompressed whole.
_EXTRA = ("br",) * HAS_BROTLI + ("zstd",) * HAS_ZSTD
_CODINGS = frozenset({"", "identity", "gzip", "x-gzip", "deflate", *_EXTRA})
_CODINGS_NAMED = ", ".join(("gzip", "deflate", *_EXTRA)) + " or none"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_MS = re.compile(r"^[0-9]{1,9}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RequestIds:
    """Request ids: the caller's ``X-Request-Id`` when sane, else a fresh one (cheap)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)

    def __call__(self, request: web.Request) -> str:
        given = request.headers.get("X-Request-Id")
        if given is not None and _REQUEST_ID.match(given):
            return given
        return f"{self._prefix}-{next(self._counter):x}"


def client_address(request: web.Request) -> str:
    """Who an anonymous caller is, for rate limits and idempotency keys: its address.

    The peer's address; behind a trusted proxy (``FORWARDED_ALLOW_IPS``), the
    address the proxy forwarded.
    """
    return forwarded.client_address(request)


def upgrade_handler(dispatcher: Dispatcher[object], resolve: Resolver, live: Live) -> Handler:
    """``GET /rpc``: the WebSocket transport (an upgrade request), else 405 as before."""
    serve = socket_handler(dispatcher, resolve, live)
    request_ids = RequestIds()

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            raise web.HTTPMethodNotAllowed("GET", ["POST"])
        return await serve(request, request_ids(request))

    return handle


def rpc_handler(
    dispatcher: Dispatcher[object],
    settings: Settings,
    contracts: ClientContracts | None = None,
    *,
    resolve: Resolver | None = None,
    live: Live | None = None,
    record: bool = False,
    noise: Noise | None = None,
) -> Handler:
    """The aiohttp handler: media type and size checks, then the dispatcher (or SSE).

    With ``record`` (the access log or tracing is on), the request id and a record
    of each call are kept on the request for them (a tracer's middleware may have
    set ``CALLS`` already). Without it nothing is looked up on the request.
    """
    max_body = settings.rpc_max_body_bytes
    read_timeout = settings.http_read_timeout
    quiet = noise or Noise(logging.getLogger("roomrpc.http"))
    request_ids = RequestIds()

    async def handle(request: web.Request) -> web.StreamResponse:
        request_id = request_ids(request)
        calls = None
        if record:
            request[REQUEST_ID] = request_id
            calls = request.get(CALLS)
            if calls is None:
                calls = request[CALLS] = []
        content_type = request.headers.get("Content-Type", "")
        if content_type != "application/json" and not _is_json(content_type):
            message = "Content-Type must be application/json"
            return _respond(error_reply("UNSUPPORTED_MEDIA_TYPE", request_id, message), request_id)
        refused = refused_coding(request)
        if refused is not None:
            return _respond(error_reply("UNSUPPORTED_MEDIA_TYPE", request_id, refused), request_id)
        content = request.content
        if content.is_eof():  # the whole body has arrived (the usual case): nothing to await
            try:
                body = content.read_nowait()
            except RequestPayloadError:  # e.g. a gzip or br body that does not decompress
                return _undecodable(request_id)
            if len(body) > max_body:  # a compressed body is checked as decompressed
                return _respond(_too_large(max_body, request_id), request_id)
        else:
            length = request.content_length
            if length is not None and length > max_body:  # refused before it is read
                return _respond(_too_large(max_body, request_id), request_id)
            try:
                async with asyncio.timeout(read_timeout):
                    body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                return _respond(_too_large(max_body, request_id), request_id)
            except RequestPayloadError:  # a body that does not decode, or that broke off
                return _undecodable(request_id)
            except TimeoutError:  # a body trickling in: 408, and the connection is closed
                quiet.note("slow-body", f"request bodies not received within {read_timeout:g} s")
                message = f"The request body did not arrive within {read_timeout:g} s"
                response = _respond(error_reply("TIMEOUT", request_id, message), request_id)
                response.force_close()
                return response
        headers = request.headers
        timeout = None
        deadline = headers.get("X-Timeout-Ms")
        if deadline is not None:
            if not _MS.match(deadline) or deadline.strip("0") == "":
                return _respond(_bad_deadline(request_id), request_id)
            timeout = int(deadline) / 1000
        if contracts is not None:
            sent = headers.get("X-Contract-Hash")
            if sent is not None and sent != contracts.current:
                contracts.seen(sent)
        if live is not None and resolve is not None and wants_sse(request):
            streamed = await serve_sse(request, body, request_id, dispatcher, resolve, live)
            if isinstance(streamed, web.StreamResponse):
                return streamed
            return _respond(streamed, request_id)
        reply = await dispatcher.handle(
            body,
            request_id=request_id,
            authorization=headers.get("Authorization"),
            client=client_address(request),
            idempotency_key=headers.get("Idempotency-Key"),
            timeout=timeout,
            calls=calls,
        )
        return _respond(reply, request_id)

    return handle


def refused_coding(request: web.Request) -> str | None:
    """Why the body's Content-Encoding is refused (415): one aiohttp does not decode; or None."""
    coding = request.headers.get("Content-Encoding")
    if coding is None or coding.strip().lower() in _CODINGS:
        return None
    return f"Content-Encoding must be {_CODINGS_NAMED}"


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type in _MEDIA_TYPES or media_type.endswith("+json")


def _too_large(max_body: int, request_id: str) -> Reply:
    return error_reply("PAYLOAD_TOO_LARGE", request_id, f"Body exceeds {max_body} bytes")


def _undecodable(request_id: str) -> web.Response:
    """400; and the connection is closed, as aiohttp does after a body it could not read
    (``Connection: close`` tells the client not to send its next request on it)."""
    message = "The body could not be read or decoded"
    response = _respond(error_reply("PARSE_ERROR", request_id, message), request_id)
    response.force_close()
    return response


def _bad_deadline(request_id: str) -> Reply:
    issue = Issue(path="X-Timeout-Ms", message="Expected milliseconds, 1 to 999999999")
    error = error_object(RpcError("BAD_REQUEST", issues=[issue]), path=None, request_id=request_id)
    body = b'{"jsonrpc":"2.0","error":' + msgspec.json.encode(error) + b',"id":null}'
    return Reply(body, 400)


def _respond(reply: Reply, request_id: str) -> web.Response:
    headers = {"X-Request-Id": request_id}
    if reply.headers is not None:
        headers.update(reply.headers)
    if reply.body is None:
        return web.Response(status=204, headers=headers)
    headers["Content-Type"] = "application/json"
    return web.Response(body=reply.body, status=reply.status, headers=headers)
