"""``POST /livekit/token``: LiveKit's standard token endpoint, for ``TokenSource.endpoint``.

LiveKit's client SDKs (JS, Swift, Android, Flutter) fetch connection details
from a URL with the ``TokenSourceRequest`` / ``TokenSourceResponse`` messages of
``livekit/protocol`` (``protobufs/livekit_token_source.proto``), written as
proto JSON with the proto's own field names: every request field is optional
and unknown fields are ignored (the mobile SDKs always send ``room_config``;
Android writes ``sync_streams`` as a number). The answer is 201 with
``{"server_url", "participant_token", "room_name", "participant_name"}``.

The caller is our bearer token; the token comes from ``join_token``, the same
function ``livekit.getJoinToken`` runs, so grants, revocations and identities
are the same whichever way a token is asked for. A refusal is our JSON-RPC
error object under ``"error"`` with the error table's HTTP status: it has no
``server_url`` or ``participant_token`` for a client to mistake for an answer.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
from typing import Annotated

import msgspec
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from schema.errors import ErrorObject
from schema.media import AttributeKey, Metadata
from server.domain.presence import SERVER_ATTRIBUTES
from server.http.rpc import Handler, RequestIds, refused_coding
from server.livekit import AgentDispatch
from server.procedures.deps import Deps
from server.procedures.livekit import JoinRequest, join_token
from server.rpc import AuthedContext, Principal, Resolver, RpcError, error_object

__all__ = ["PATH", "TTL", "TokenSourceRequest", "TokenSourceResponse", "token_handler"]

PATH = "/livekit/token"
# Clients fetch again 60 s before ``exp``; an hour keeps them from asking every minute.
TTL = datetime.timedelta(hours=1)
log = logging.getLogger("roomrpc.livekit_token")
_DEVICE = re.compile(r"[A-Za-z0-9._-]{1,32}")  # schema.livekit.Device, whole string
_Text = Annotated[str, msgspec.Meta(max_length=256)]


class RoomAgentDispatch(msgspec.Struct):
    """``livekit.RoomAgentDispatch``: the agent to dispatch when the participant joins."""

    agent_name: _Text = ""
    metadata: Metadata | None = None


class RoomConfiguration(msgspec.Struct):
    """``livekit.RoomConfiguration``: only ``agents`` is read, the rest is ignored."""

    agents: Annotated[list[RoomAgentDispatch], msgspec.Meta(max_length=8)] | None = None


class TokenSourceRequest(msgspec.Struct):
    """``livekit.TokenSourceRequest`` in proto JSON (every field optional, nulls allowed)."""

    room_name: _Text | None = None
    participant_name: _Text | None = None
    participant_identity: _Text | None = None
    participant_metadata: Metadata | None = None
    participant_attributes: (
        dict[AttributeKey, Annotated[str, msgspec.Meta(max_length=4096)]] | None
    ) = None
    room_config: RoomConfiguration | None = None


class TokenSourceResponse(msgspec.Struct, omit_defaults=True):
    """``livekit.TokenSourceResponse``, plus the room and name the token carries."""

    server_url: str
    participant_token: str
    room_name: str | None = None
    participant_name: str | None = None


class _Refusal(msgspec.Struct):
    error: ErrorObject


_decode = msgspec.json.Decoder(TokenSourceRequest).decode
_encode = msgspec.json.Encoder().encode


def token_handler(deps: Deps, resolve: Resolver, *, call_timeout: float) -> Handler:
    """The aiohttp handler of ``POST /livekit/token``."""
    request_ids = RequestIds()

    async def handle(request: web.Request) -> web.Response:
        request_id = request_ids(request)
        try:
            answer = await _answer(request, request_id, deps, resolve, call_timeout)
        except RpcError as error:
            response = _refuse(error, request_id)
            if request.content.exception() is not None:  # a body aiohttp could not read:
                response.force_close()  # it closes the connection; the client is told so
            elif isinstance(error, _SlowBody):  # the rest of it is not waited for
                response.force_close()
            return response
        except TimeoutError:
            late = RpcError("TIMEOUT", "The token took too long", retryable=True)
            return _refuse(late, request_id)
        except Exception:
            log.exception("internal error in %s (request %s)", PATH, request_id)
            return _refuse(RpcError("INTERNAL_SERVER_ERROR"), request_id)
        return web.Response(
            body=_encode(answer),
            status=201,
            content_type="application/json",
            headers={"X-Request-Id": request_id, "Cache-Control": "no-store"},
        )

    return handle


async def _answer(
    request: web.Request, request_id: str, deps: Deps, resolve: Resolver, call_timeout: float
) -> TokenSourceResponse:
    authorization = request.headers.get("Authorization")
    if authorization is None:
        raise RpcError("UNAUTHORIZED", "A bearer token is required", reason="missing_token")
    principal = await resolve(authorization)
    if principal is None:
        raise RpcError("UNAUTHORIZED", "A bearer token is required", reason="missing_token")
    refused = refused_coding(request)
    if refused is not None:
        raise RpcError("UNSUPPORTED_MEDIA_TYPE", refused)
    read_timeout = deps.settings.http_read_timeout
    try:
        async with asyncio.timeout(read_timeout):
            body = await request.read()
    except TimeoutError:  # a body trickling in: the connection is closed with the answer
        raise _SlowBody(read_timeout) from None
    except web.HTTPRequestEntityTooLarge:
        raise RpcError("PAYLOAD_TOO_LARGE", "The body is too large") from None
    except RequestPayloadError:  # a gzip, br or zstd body that does not decompress
        message = "The body could not be read or decoded"
        raise RpcError("BAD_REQUEST", message, reason="not_json") from None
    asked = _read(body)
    wanted = _join_request(asked, principal)
    ctx = AuthedContext(request_id, deps, principal, PATH)
    async with asyncio.timeout(call_timeout):
        token = await join_token(ctx, wanted)
    return TokenSourceResponse(
        server_url=token.ws_url,
        participant_token=token.token,
        room_name=token.room_id,
        participant_name=token.name,
    )


class _SlowBody(RpcError):
    """The body did not arrive within ``HTTP_READ_TIMEOUT``: TIMEOUT, and the connection
    is closed (as ``/rpc`` does)."""

    def __init__(self, seconds: float) -> None:
        super().__init__("TIMEOUT", f"The request body did not arrive within {seconds:g} s")


def _read(body: bytes) -> TokenSourceRequest:
    if not body.strip():
        return TokenSourceRequest()
    try:
        return _decode(body)
    except msgspec.ValidationError as exc:
        raise RpcError("BAD_REQUEST", str(exc), reason="invalid_request") from None
    except msgspec.DecodeError:
        raise RpcError("BAD_REQUEST", "The body is not JSON", reason="not_json") from None


def _join_request(asked: TokenSourceRequest, principal: Principal) -> JoinRequest:
    if not asked.room_name:
        message = "room_name is required: the id of a space (its room)"
        raise RpcError("BAD_REQUEST", message, reason="room_name_required")
    attributes = dict(asked.participant_attributes or {})
    if taken := sorted(SERVER_ATTRIBUTES.intersection(attributes)):
        message = f"The server writes the attributes {', '.join(taken)}"
        raise RpcError("FORBIDDEN", message, reason="server_attribute")
    agents = tuple(
        AgentDispatch(agent.agent_name, agent.metadata or "")
        for agent in (asked.room_config.agents or () if asked.room_config else ())
        if agent.agent_name
    )
    return JoinRequest(
        room_id=asked.room_name,
        ttl=TTL,
        device=_device(asked.participant_identity, principal.being_id),
        metadata=asked.participant_metadata or None,
        attributes=attributes,
        agents=agents,
    )


def _device(identity: str | None, being_id: str) -> str | None:
    """None for the being's own identity, the label of ``<being>#<device>``; else FORBIDDEN."""
    if not identity or identity == being_id:
        return None
    being, sep, device = identity.partition("#")
    if sep and being == being_id and _DEVICE.fullmatch(device):
        return device
    message = f"participant_identity must be {being_id} or {being_id}#<device>"
    raise RpcError("FORBIDDEN", message, reason="identity_not_yours")


def _refuse(error: RpcError, request_id: str) -> web.Response:
    shown = error_object(error, path=PATH, request_id=request_id)
    return web.Response(
        body=_encode(_Refusal(shown)),
        status=shown.data.http_status,
        content_type="application/json",
        headers={"X-Request-Id": request_id, "Cache-Control": "no-store"},
    )
