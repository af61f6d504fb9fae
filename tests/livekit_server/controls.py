"""Test controls over HTTP, for manual use (``python -m tests.livekit_server``).

``POST /_test/join {"room", "identity", "name"?, "metadata"?}``, ``/_test/leave``,
``/_test/publish {"room", "identity", "kind"?: "audio"|"video"}``, ``/_test/finish
{"room"}``, and ``GET /_test/data`` (what SendData delivered). In tests, call the
``LiveKitServer`` methods directly instead.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from aiohttp import web
from google.protobuf import json_format
from livekit.protocol.models import TrackType

if TYPE_CHECKING:
    from tests.livekit_server.server import LiveKitServer

__all__ = ["add_control_routes"]


def add_control_routes(app: web.Application, server: LiveKitServer) -> None:
    """Mount the ``/_test/*`` routes on ``app``."""

    async def join(request: web.Request) -> web.Response:
        body = await request.json()
        info = await server.join(
            body["room"],
            body["identity"],
            name=body.get("name", ""),
            metadata=body.get("metadata", ""),
        )
        return _json(json_format.MessageToDict(info))

    async def leave(request: web.Request) -> web.Response:
        body = await request.json()
        await server.leave(body["room"], body["identity"])
        return _json({})

    async def publish(request: web.Request) -> web.Response:
        body = await request.json()
        kind = TrackType.VIDEO if body.get("kind") == "video" else TrackType.AUDIO
        track = await server.publish(body["room"], body["identity"], kind)
        return _json(json_format.MessageToDict(track))

    async def finish(request: web.Request) -> web.Response:
        await server.finish_room((await request.json())["room"])
        return _json({})

    async def data(request: web.Request) -> web.Response:
        packets = [
            {
                "room": d.room,
                "topic": d.topic,
                "data": base64.b64encode(d.data).decode(),
                "destinationIdentities": list(d.destination_identities),
            }
            for d in server.data_packets()
        ]
        return _json({"packets": packets})

    app.router.add_post("/_test/join", join)
    app.router.add_post("/_test/leave", leave)
    app.router.add_post("/_test/publish", publish)
    app.router.add_post("/_test/finish", finish)
    app.router.add_get("/_test/data", data)


def _json(body: Any) -> web.Response:
    return web.json_response(body)
