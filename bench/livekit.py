"""Bench of ``livekit.getJoinToken`` against minting the same token with livekit-api alone.

``make bench`` (bench/__main__.py) runs both in the same server process and run:
``/rpc livekit.getJoinToken`` with a real bearer token and database (the space,
the caller's being, membership and revocation are read; the grants come from
the role), and ``/plain-mint``, a plain aiohttp handler that parses the same
JSON and mints the same token (identity, name, attributes, explicit grants,
one hour) with ``livekit.api.AccessToken``. Minting needs no call to LiveKit,
so nothing listens at the configured URL.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import secrets
import tempfile
from typing import Any

from aiohttp import web

__all__ = ["RATIOS", "add_routes", "scenarios"]

_KEY, _SECRET = "bench-key", "bench-secret-" + "x" * 32
_URL = "ws://127.0.0.1:9"  # never called: tokens are minted locally
_KEEP: list[Any] = []
GET_JOIN_TOKEN = "/rpc livekit.getJoinToken, token"
PLAIN_MINT = "plain aiohttp + livekit-api mint"
# (scenario, its baseline): bench/__main__.py prints these ratios after its table.
RATIOS = [(GET_JOIN_TOKEN, PLAIN_MINT)]


def scenarios() -> list[Any]:
    """For bench/__main__.py: the procedure and its plain livekit-api baseline (same database
    as bench/beings.py when it ran first)."""
    from bench.__main__ import Scenario
    from bench.beings import _seed

    if "DATA_DIR" not in os.environ:
        folder = tempfile.TemporaryDirectory(prefix="roomrpc-bench-")
        _KEEP.append(folder)
        os.environ.update({"DATA_DIR": folder.name, "AUTH_SECRET": secrets.token_urlsafe(48)})
    env = {"DATA_DIR": os.environ["DATA_DIR"], "AUTH_SECRET": os.environ["AUTH_SECRET"]}
    os.environ.update(LIVEKIT_URL=_URL, LIVEKIT_API_KEY=_KEY, LIVEKIT_API_SECRET=_SECRET)
    token = asyncio.run(_seed(env))  # @alice, the owner of @demo-space
    params = {"roomBeingId": "@demo-space"}
    call = {"jsonrpc": "2.0", "method": "livekit.getJoinToken", "params": params, "id": 1}
    auth = (("Authorization", f"Bearer {token}"),)
    return [
        Scenario(GET_JOIN_TOKEN, "/rpc", json.dumps(call).encode(), 1, auth),
        Scenario(PLAIN_MINT, "/plain-mint", json.dumps(params).encode()),
    ]


def add_routes(app: web.Application) -> None:
    """``POST /plain-mint``: the baseline, livekit-api's AccessToken and nothing else."""
    from server.livekit import JoinGrants
    from tests.support.livekit_reference import mint_with_livekit_api

    # What getJoinToken gives @demo-space's owner (the space does not allow media).
    grants = JoinGrants(can_publish=False, can_subscribe=True, can_publish_data=True)

    async def plain_mint(request: web.Request) -> web.Response:
        room = (await request.json())["roomBeingId"]
        token = mint_with_livekit_api(
            _KEY,
            _SECRET,
            room=room,
            identity="@alice",
            grants=grants,
            ttl=datetime.timedelta(hours=1),
            name="Alice",
            attributes={"beingId": "@alice"},
        )
        body = {"token": token, "wsUrl": _URL, "roomId": room, "identity": "@alice"}
        return web.json_response({"result": body})

    app.router.add_post("/plain-mint", plain_mint)
