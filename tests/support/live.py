"""A world whose app talks to the LiveKit test server and receives its webhooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from livekit.api import TokenVerifier
from livekit.api.access_token import Claims

import schema
from tests.livekit_server import LiveKitServer
from tests.support.app import LIVEKIT_KEY, LIVEKIT_SECRET, livekit_env
from tests.support.world import Api

__all__ = ["claims_of", "declared", "error_data", "start_live", "webhook_url"]

MakeApi = Callable[[dict[str, str]], Awaitable[Api]]


def webhook_url(api: Api) -> str:
    return str(api.client.make_url("/livekit/webhook"))


async def start_live(make_api: MakeApi, env: dict[str, str], lk: LiveKitServer) -> Api:
    """The app on ``env``'s database, configured for ``lk``; ``lk`` posts webhooks to it."""
    api = await make_api({**env, **livekit_env(lk, LIVEKIT_CALL_TIMEOUT="0.5")})
    lk.webhooks.url = webhook_url(api)
    return api


def claims_of(token: str) -> Claims:
    """The token's claims, verified as LiveKit verifies them."""
    return TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(token)


def error_data(error: dict[str, Any]) -> tuple[str, str | None]:
    return error["data"]["code"], error["data"].get("reason")


async def declared(api: Api, method: str, params: Any = None, **kw: Any) -> dict[str, Any]:
    """The error object of a call that fails, checked against the errors the contract
    declares for ``method`` (INVALID_PARAMS is every procedure's)."""
    error = await api.error(method, params, **kw)
    [procedure] = [p for p in schema.CONTRACT if p.name == method]
    code = error["data"]["code"]
    assert code == "INVALID_PARAMS" or code in procedure.errors, f"{method}: undeclared {code}"
    return error
