"""A running roomrpc (real app, real tokens, real database) and a small world in it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.auth import Tokens
from server.cli.seed import create_being
from server.domain.access import now
from server.http.app import DEPS, create_app
from server.settings import Settings, load_settings
from server.storage import Storage, memberships

__all__ = ["Api", "api", "make_api", "populate", "world"]

AppClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

# The world: @hall is public, @room private; roles as their names say.
USERS = ("@owner", "@mod", "@member", "@listener", "@stranger", "@ops")
ROLES = {"@mod": "moderator", "@member": "member", "@listener": "listener"}


class Api:
    """Calls ``/rpc`` over real HTTP with real bearer tokens."""

    def __init__(self, client: TestClient[Any, Any], settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.tokens = Tokens(
            settings.auth_secret or "",
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )

    @property
    def app(self) -> web.Application:
        return self.client.app  # type: ignore[no-any-return]

    @property
    def storage(self) -> Storage:
        return self.app[DEPS].storage

    def token(self, being_id: str, *, admin: bool = False, ttl: float = 3600) -> str:
        roles = ("admin",) if admin else ()
        return self.tokens.mint(being_id, ttl=timedelta(seconds=ttl), roles=roles)

    async def post(self, body: Any, *, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post("/rpc", data=json.dumps(body), headers=headers)
        text = await response.text()
        return response.status, (json.loads(text) if text else None)

    async def call(
        self,
        method: str,
        params: Any = None,
        *,
        as_: str | None = None,
        admin: bool = False,
        token: str | None = None,
    ) -> tuple[int, Any]:
        """(HTTP status, JSON-RPC response) of one call, as ``as_`` when given."""
        if as_ is not None:
            token = self.token(as_, admin=admin)
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": 1}
        if params is not None:
            body["params"] = params
        return await self.post(body, token=token)

    async def ok(self, method: str, params: Any = None, **kw: Any) -> Any:
        status, body = await self.call(method, params, **kw)
        assert status == 200 and "result" in body, body
        return body["result"]

    async def error(self, method: str, params: Any = None, **kw: Any) -> dict[str, Any]:
        """The error object."""
        _status, body = await self.call(method, params, **kw)
        assert "error" in body, body
        return body["error"]  # type: ignore[no-any-return]

    async def code(self, method: str, params: Any = None, **kw: Any) -> str:
        """The error's name (``NOT_FOUND``...), or ``ok``."""
        _status, body = await self.call(method, params, **kw)
        return "ok" if "result" in body else str(body["error"]["data"]["code"])


def settings_of(env: dict[str, str]) -> Settings:
    return load_settings(env, env_file=None)


@pytest.fixture
def make_api(aiohttp_client: AppClient) -> Callable[[dict[str, str]], Awaitable[Api]]:
    """Start a real app on ``env``'s database and return a client for it."""

    async def start(env: dict[str, str]) -> Api:
        settings = settings_of(env)
        client = await aiohttp_client(create_app(settings))
        return Api(client, settings)

    return start


@pytest.fixture
async def api(make_api: Callable[[dict[str, str]], Awaitable[Api]], db_env: dict[str, str]) -> Api:
    """The app on a fresh database (SQLite, and PostgreSQL when reachable)."""
    return await make_api(db_env)


@pytest.fixture
async def world(api: Api) -> Api:
    """``api`` with users, the public space @hall and the private space @room."""
    return await populate(api)


async def populate(api: Api) -> Api:
    """Users, the public space @hall and the private space @room, with their roles."""
    for user in USERS:
        await create_being(api.storage, {"id": user, "name": user[1:].title(), "type": "user"})
    for space, visibility in (("@hall", "public"), ("@room", "private")):
        fields = {"id": space, "name": space[1:], "type": "space", "ownerId": "@owner"}
        await create_being(api.storage, {**fields, "visibility": visibility})
    async with api.storage.write() as conn:
        for space in ("@hall", "@room"):
            for being_id, role in ROLES.items():
                await memberships.add(conn, space, being_id, role, now())  # type: ignore[arg-type]
    return api
