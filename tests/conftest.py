"""Fixtures: the real app served over loopback HTTP, reached through aiohttp's client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import schema
from server.http.app import create_app
from server.procedures import ROUTERS
from server.rpc import Router
from server.settings import Settings
from tests.livekit_server import LiveKitServer
from tests.support import probe
from tests.support.app import LIVEKIT_KEY, LIVEKIT_SECRET, Post, make_settings, token_resolver

# Databases of each kind, and a world of beings with real tokens.
pytest_plugins = ("tests.support.db", "tests.support.world")


@pytest.fixture
def make_app(request: pytest.FixtureRequest) -> Callable[..., web.Application]:
    """Build the test app; a test marked ``spec_examples`` gets RPC_SPEC_EXAMPLES=true."""
    spec_examples = request.node.get_closest_marker("spec_examples") is not None

    def build(
        *,
        settings: Settings | None = None,
        contract: Sequence[Any] = (),
        routers: Sequence[Router] = (),
        **env: str,
    ) -> web.Application:
        if spec_examples:
            env.setdefault("RPC_SPEC_EXAMPLES", "true")
        return create_app(
            settings or make_settings(**env),
            contract=(*schema.CONTRACT, *probe.CONTRACT, *contract),
            routers=(*ROUTERS, probe.router, *routers),
            resolve_principal=token_resolver,
        )

    return build


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
) -> TestClient[Any, Any]:
    return await aiohttp_client(make_app())


@pytest.fixture
def post(client: TestClient[Any, Any]) -> Post:
    """POST a raw body (str or JSON-able) to /rpc; returns (status, parsed JSON or None)."""

    async def send(body: Any, **headers: str) -> tuple[int, Any]:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
        response = await client.post("/rpc", data=data, headers=headers)
        text = await response.text()
        return response.status, (json.loads(text) if text else None)

    return send


# --- the wire-level LiveKit test server ---


@pytest.fixture
async def livekit_server() -> AsyncIterator[LiveKitServer]:
    """A LiveKit-compatible server on 127.0.0.1 and an ephemeral port (no webhook URL)."""
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET) as server:
        yield server


# --- the TypeScript client, generated for the test contract and built once ---


@pytest.fixture(scope="session")
def ts_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client generated for the test contract, compiled with its tests."""
    from tests.support import typescript

    return typescript.build_for(typescript.TEST_CONTRACT, tmp_path_factory.mktemp("ts-client"))


# --- the world's app configured for the LiveKit test server, receiving its webhooks ---


@pytest.fixture
async def live(
    make_api: Callable[[dict[str, str]], Awaitable[Any]],
    db_env: dict[str, str],
    livekit_server: LiveKitServer,
) -> Any:
    """The test world (SQLite and PostgreSQL) with media on (calls cut at 0.5 s)."""
    from tests.support.live import start_live
    from tests.support.world import populate

    return await populate(await start_live(make_api, db_env, livekit_server))
