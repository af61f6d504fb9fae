"""The app as tests build it: settings in a temporary folder, a fake-token resolver, helpers."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from server.rpc import Principal, RpcError
from server.settings import Settings, load_settings

if TYPE_CHECKING:
    from tests.livekit_server import LiveKitServer

__all__ = [
    "LIVEKIT_KEY",
    "LIVEKIT_SECRET",
    "Post",
    "livekit_env",
    "make_settings",
    "token_resolver",
    "without_data",
]

Post = Callable[..., Awaitable[tuple[int, Any]]]
LIVEKIT_KEY = "lk-test-key"
LIVEKIT_SECRET = "lk-test-secret-that-is-long-enough"

# Apps built by tests keep their SQLite file and generated secret in a temporary
# folder, never in the project's data/ folder.
_TEST_DATA = tempfile.mkdtemp(prefix="roomrpc-test-")


async def token_resolver(authorization: str) -> Principal | None:
    """Test resolver: ``Bearer user:@alice`` or ``Bearer admin:@ops``; anything else is refused."""
    scheme, _, token = authorization.partition(" ")
    kind, _, being = token.partition(":")
    if scheme != "Bearer" or kind not in ("user", "admin") or not being:
        raise RpcError("UNAUTHORIZED", "Invalid bearer token")
    return Principal(being, frozenset({"admin"}) if kind == "admin" else frozenset())


def make_settings(**overrides: str) -> Settings:
    """Settings from ``overrides`` only (no environment file), data in a temporary folder."""
    overrides.setdefault("DATA_DIR", _TEST_DATA)
    return load_settings(overrides, env_file=None)


def without_data(response: Any) -> Any:
    """A response with every ``error.data`` removed: what the spec's examples show."""
    if isinstance(response, list):
        return [without_data(r) for r in response]
    if isinstance(response, dict) and "error" in response:
        error = {k: v for k, v in response["error"].items() if k != "data"}
        return {**response, "error": error}
    return response


def livekit_env(server: LiveKitServer, **extra: str) -> dict[str, str]:
    """Settings that point our app at ``server``."""
    return {
        "LIVEKIT_URL": server.ws_url,
        "LIVEKIT_API_KEY": server.api_key,
        "LIVEKIT_API_SECRET": server.api_secret,
        **extra,
    }
