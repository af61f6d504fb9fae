"""Fixtures: the real app served over loopback HTTP, reached through aiohttp's client."""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import schema
from server.app import create_app
from server.procedures import ROUTERS
from server.rpc import Principal, Router, RpcError
from server.settings import Settings, load_settings
from tests import probe
from tests.livekit_server import LiveKitServer

Post = Callable[..., Awaitable[tuple[int, Any]]]

# Storage and auth: databases of each kind, a world of beings and real tokens.
pytest_plugins = ("tests.db", "tests.world")


async def token_resolver(authorization: str) -> Principal | None:
    """Test resolver: ``Bearer user:@alice`` or ``Bearer admin:@ops``; anything else is refused."""
    scheme, _, token = authorization.partition(" ")
    kind, _, being = token.partition(":")
    if scheme != "Bearer" or kind not in ("user", "admin") or not being:
        raise RpcError("UNAUTHORIZED", "Invalid bearer token")
    return Principal(being, frozenset({"admin"}) if kind == "admin" else frozenset())


# Storage: apps built by tests keep their SQLite file and generated secret
# in a temporary folder, never in the project's data/ folder.
_TEST_DATA = tempfile.mkdtemp(prefix="roomrpc-test-")


def make_settings(**overrides: str) -> Settings:
    overrides.setdefault("DATA_DIR", _TEST_DATA)
    return load_settings(overrides, env_file=None)


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


def without_data(response: Any) -> Any:
    """A response with every ``error.data`` removed: what the spec's examples show."""
    if isinstance(response, list):
        return [without_data(r) for r in response]
    if isinstance(response, dict) and "error" in response:
        error = {k: v for k, v in response["error"].items() if k != "data"}
        return {**response, "error": error}
    return response


# --- LiveKit: the wire-level LiveKit test server ------------------------------------------
LIVEKIT_KEY = "lk-test-key"
LIVEKIT_SECRET = "lk-test-secret-that-is-long-enough"


@pytest.fixture
async def livekit_server() -> AsyncIterator[LiveKitServer]:
    """A LiveKit-compatible server on 127.0.0.1 and an ephemeral port (no webhook URL)."""
    async with LiveKitServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET) as server:
        yield server


def livekit_env(server: LiveKitServer, **extra: str) -> dict[str, str]:
    """Settings that point our app at ``server``."""
    return {
        "LIVEKIT_URL": server.ws_url,
        "LIVEKIT_API_KEY": server.api_key,
        "LIVEKIT_API_SECRET": server.api_secret,
        **extra,
    }


# --- the TypeScript client, generated for the test contract and built once ---


@pytest.fixture(scope="session")
def ts_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client generated for ``tests.typescript.TEST_CONTRACT``, compiled with its tests."""
    from tests import typescript

    return typescript.build_for(typescript.TEST_CONTRACT, tmp_path_factory.mktemp("ts-client"))


# --- the world's app configured for the LiveKit test server, receiving its webhooks ---
@pytest.fixture
async def live(
    make_api: Callable[[dict[str, str]], Awaitable[Any]],
    db_env: dict[str, str],
    livekit_server: LiveKitServer,
) -> Any:
    """``tests.world``'s world (SQLite and PostgreSQL) with media on (calls cut at 0.5 s)."""
    from tests.live import start_live
    from tests.world import populate

    return await populate(await start_live(make_api, db_env, livekit_server))
