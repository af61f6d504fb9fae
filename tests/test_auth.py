"""Bearer tokens over real HTTP: who gets in, who is turned away, and why."""

from __future__ import annotations

import time
from typing import Any

import jwt

from tests.db import AUTH_SECRET
from tests.world import Api


def _forge(claims: dict[str, Any], secret: str = AUTH_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


async def test_me_names_the_caller_and_its_roles(world: Api) -> None:
    me = await world.ok("auth.me", as_="@member")
    assert me["being"]["id"] == "@member" and me["being"]["type"] == "user"
    assert me["roles"] == []
    admin = await world.ok("auth.me", as_="@ops", admin=True)
    assert admin["roles"] == ["admin"]


async def test_anonymous_calls_to_protected_procedures_are_unauthorized(world: Api) -> None:
    error = await world.error("auth.me")
    assert error["code"] == -32001 and error["data"]["code"] == "UNAUTHORIZED"


async def test_expired_token_is_unauthorized_even_for_public_reads(world: Api) -> None:
    token = _forge({"sub": "@member", "exp": int(time.time()) - 5})
    error = await world.error("being.get", {"id": "@hall"}, token=token)
    assert error["data"]["code"] == "UNAUTHORIZED"
    assert error["data"]["reason"] == "token_expired"


async def test_badly_signed_token_is_unauthorized(world: Api) -> None:
    token = _forge({"sub": "@ops", "exp": int(time.time()) + 60, "roles": ["admin"]}, "x" * 40)
    error = await world.error("auth.me", token=token)
    assert error["data"]["code"] == "UNAUTHORIZED" and error["data"]["reason"] == "bad_signature"
    assert AUTH_SECRET not in str(error)


async def test_token_without_exp_or_with_a_bad_subject_is_unauthorized(world: Api) -> None:
    for claims in ({"sub": "@member"}, {"sub": "member", "exp": int(time.time()) + 60}):
        error = await world.error("auth.me", token=_forge(claims))
        assert error["data"]["reason"] == "invalid_token", claims


async def test_garbage_and_other_schemes_are_unauthorized(world: Api) -> None:
    for header in ("Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer "):
        response = await world.client.post(
            "/rpc",
            json={"jsonrpc": "2.0", "method": "system.health", "id": 1},
            headers={"Authorization": header},
        )
        body = await response.json()
        assert body["error"]["data"]["code"] == "UNAUTHORIZED", header


async def test_token_of_a_being_that_never_existed_is_unauthorized(world: Api) -> None:
    error = await world.error("being.get", {"id": "@hall"}, as_="@ghost")
    assert error["data"]["reason"] == "unknown_being"


async def test_token_of_a_deleted_being_stops_working_at_once(world: Api) -> None:
    token = world.token("@stranger")
    assert (await world.ok("auth.me", token=token))["being"]["id"] == "@stranger"
    await world.ok("being.delete", {"id": "@stranger"}, token=token)
    error = await world.error("auth.me", token=token)
    assert error["data"]["code"] == "UNAUTHORIZED" and error["data"]["reason"] == "unknown_being"


async def test_issuer_and_audience_are_checked_when_configured(make_api: Any, db_env: Any) -> None:
    api = await make_api({**db_env, "AUTH_ISSUER": "https://id.example", "AUTH_AUDIENCE": "rr"})
    from server.seed import create_being

    await create_being(api.storage, {"id": "@alice", "name": "Alice", "type": "user"})
    assert (await api.ok("auth.me", as_="@alice"))["being"]["id"] == "@alice"
    exp = int(time.time()) + 60
    wrong = [
        {"sub": "@alice", "exp": exp},
        {"sub": "@alice", "exp": exp, "iss": "https://evil.example", "aud": "rr"},
        {"sub": "@alice", "exp": exp, "iss": "https://id.example", "aud": "other"},
    ]
    for claims in wrong:
        error = await api.error("auth.me", token=_forge(claims))
        assert error["data"]["code"] == "UNAUTHORIZED", claims


async def test_a_short_auth_secret_fails_at_start_up_without_echoing_it() -> None:
    import pytest

    from server.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as info:
        load_settings({"AUTH_SECRET": "tooshort-secret"}, env_file=None)
    assert "AUTH_SECRET" in str(info.value) and "tooshort-secret" not in str(info.value)
