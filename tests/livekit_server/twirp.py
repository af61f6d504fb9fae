"""Twirp over HTTP, as LiveKit serves it: routes, content types, error JSON and statuses."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

__all__ = ["STATUS", "Method", "PlainHttpError", "TwirpError", "twirp_handler"]

# Twirp v5+ error codes and the HTTP status each one travels with (the Twirp spec's table).
STATUS: dict[str, int] = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}

JSON = "application/json"
PROTOBUF = "application/protobuf"


class TwirpError(Exception):
    """A Twirp error: answered as ``{"code", "msg"[, "meta"]}`` with the code's HTTP status."""

    def __init__(self, code: str, msg: str, meta: Mapping[str, str] | None = None) -> None:
        assert code in STATUS, code
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.meta = code, msg, dict(meta or {})

    def response(self) -> web.Response:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.meta:
            body["meta"] = self.meta
        return web.json_response(body, status=STATUS[self.code])


class PlainHttpError(Exception):
    """What LiveKit's auth middleware answers before Twirp runs: a status and plain text."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


Handler = Callable[[Any, Any], Awaitable[Message]]


@dataclass(frozen=True, slots=True)
class Method:
    """One Twirp method: the request message class and its handler ``(claims, request)``."""

    request: type[Message]
    handler: Handler


Authenticate = Callable[[web.Request], Any]
BeforeCall = Callable[[], Awaitable[None]]


def twirp_handler(
    service: str,
    methods: Mapping[str, Method],
    authenticate: Authenticate,
    before_call: BeforeCall,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler for ``/twirp/{service}/{method}``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        await before_call()
        try:
            claims = authenticate(request)  # LiveKit authenticates before routing
            method = _route(request, service, methods)
            content_type = _content_type(request)
            message = _decode(method.request, await request.read(), content_type)
            return _encode(await method.handler(claims, message), content_type)
        except PlainHttpError as exc:
            return web.Response(status=exc.status, text=exc.text)
        except TwirpError as exc:
            return exc.response()

    return handle


def _route(request: web.Request, service: str, methods: Mapping[str, Method]) -> Method:
    path = request.path
    if request.method != "POST":
        raise TwirpError("bad_route", f"unsupported method {request.method} (only POST is allowed)")
    name = path.rpartition("/")[2]
    if request.match_info.get("service") != service or name not in methods:
        raise TwirpError("bad_route", f"no handler for path {path!r}")
    return methods[name]


def _content_type(request: web.Request) -> str:
    value = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if value not in (JSON, PROTOBUF):
        raise TwirpError("bad_route", f"unexpected Content-Type: {value!r}")
    return value


def _decode(cls: type[Message], body: bytes, content_type: str) -> Message:
    message = cls()
    try:
        if content_type == PROTOBUF:
            message.ParseFromString(body)
        else:
            json_format.Parse(body or b"{}", message, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, json.JSONDecodeError, UnicodeDecodeError):
        kind = "protobuf" if content_type == PROTOBUF else "json"
        raise TwirpError("malformed", f"the {kind} request could not be decoded") from None
    return message


def _encode(message: Message, content_type: str) -> web.Response:
    if content_type == PROTOBUF:
        return web.Response(body=message.SerializeToString(), content_type=PROTOBUF)
    text = json_format.MessageToJson(
        message,
        preserving_proto_field_name=True,  # Twirp's JSON default: proto names, all fields
        always_print_fields_with_no_presence=True,
        indent=None,
    )
    return web.Response(text=text, content_type=JSON)
