"""Server-Sent Events: ``POST /rpc`` with ``Accept: text/event-stream`` and one subscription call.

Answers ``200 text/event-stream``: each event is ``id: <event id>`` and
``data: <the same notification a WebSocket gets>``; the end is the end
notification, then the stream closes; ``: ping`` every ``LIVE_PING_SECONDS``.
``Last-Event-ID`` fills the call's ``lastEventId``. The stream opens with the subscribe
answer as an event named ``subscribed`` (``event: subscribed``, so an EventSource's
``onmessage`` does not see it; every block carries JSON data, for parsers that expect
it), with ``id: <lastEventId>`` when the subscription has a position: that moves the
client's Last-Event-ID, so a stream dropped before its first event resumes there.
Anything the subscribe call
answers instead (an error, a non-subscription call) comes back as JSON, as for
a plain POST.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from aiohttp import web

from schema import Subscribed
from server.http.forwarded import client_address
from server.http.socket import Live, Socket, refusal
from server.rpc import Dispatcher, Reply, Resolver, RpcError

__all__ = ["serve_sse", "wants_sse", "with_last_event_id"]

_decode = msgspec.json.decode
_encode = msgspec.json.encode
_BUFFER = 16


def wants_sse(request: web.Request) -> bool:
    """True when the client asks for an event stream."""
    return "text/event-stream" in request.headers.get("Accept", "")


def with_last_event_id(body: bytes, last_event_id: str) -> bytes:
    """The request with ``params.lastEventId`` set from the header, unless given already."""
    try:
        request = _decode(body)
    except msgspec.DecodeError:
        return body  # the dispatcher answers the parse error
    if not isinstance(request, dict):
        return body
    params = request.get("params", {})
    if isinstance(params, dict) and "lastEventId" not in params:
        request["params"] = {**params, "lastEventId": last_event_id}
        return _encode(request)
    return body


async def serve_sse(
    request: web.Request,
    body: bytes,
    request_id: str,
    dispatcher: Dispatcher[object],
    resolve: Resolver,
    live: Live,
) -> web.StreamResponse | Reply:
    """Subscribe, then stream; a call that does not subscribe answers its Reply."""
    last_event_id = request.headers.get("Last-Event-ID")
    if last_event_id:
        body = with_last_event_id(body, last_event_id)
    authorization = request.headers.get("Authorization")
    # Bounded: a client that does not read holds the pump back, and its bus queue cuts it off.
    queue: asyncio.Queue[tuple[bytes, str | None] | None] = asyncio.Queue(_BUFFER)

    async def send(frame: bytes, event_id: str | None) -> None:
        await queue.put((frame, event_id))
        if event_id is None:  # the end
            await queue.put(None)

    client = client_address(request)
    principal: Any = None
    if authorization is not None:
        with contextlib.suppress(RpcError):  # the dispatcher answers the refusal itself
            principal = await resolve(authorization)
    try:  # an SSE stream counts as a socket opened (its subscription, as any, when it starts)
        await live.admit("socket", client if principal is None else principal.being_id)
    except RpcError as error:
        return refusal(error, request_id)
    stream = Socket(live, "sse", send, client)
    try:
        if principal is not None:
            stream.authenticate(principal)
        reply = await dispatcher.handle(
            body,
            request_id=request_id,
            authorization=authorization,
            client=client,
            connection=stream,
        )
    except RpcError as error:
        await stream.closed_by_transport()
        return refusal(error, request_id)
    if not stream.has_pending():
        await stream.closed_by_transport()
        return reply
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "X-Request-Id": request_id,
        }
    )

    async def close() -> None:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(None)

    stream.close_transport = close
    try:
        await response.prepare(request)
        await response.write(_subscribed(reply.body))
        stream.launch(request_id)
        await _stream(response, queue, live.settings.live_ping_seconds)
    finally:
        await stream.closed_by_transport()  # also when the client left before the headers
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


class _Answer(msgspec.Struct):
    result: Subscribed | None = None


_decode_answer = msgspec.json.Decoder(_Answer).decode


def _subscribed(answer: bytes | None) -> bytes:
    """The stream's first block: the subscribe answer, named, with its position."""
    answer = answer or b"null"
    try:
        result = _decode_answer(answer).result
    except msgspec.DecodeError:
        result = None
    block = b"event: subscribed\n"
    if result is not None and not isinstance(result.last_event_id, msgspec.UnsetType):
        block += b"id: " + result.last_event_id.encode() + b"\n"
    return block + b"data: " + answer + b"\n\n"  # compact JSON: one line


async def _stream(
    response: web.StreamResponse,
    queue: asyncio.Queue[tuple[bytes, str | None] | None],
    ping: float,
) -> None:
    while True:
        try:
            item = await asyncio.wait_for(queue.get(), ping)
        except TimeoutError:
            await response.write(b": ping\n\n")
            continue
        if item is None:
            return
        frame, event_id = item
        head = b"" if event_id is None else b"id: " + event_id.encode() + b"\n"
        await response.write(head + b"data: " + frame + b"\n\n")
