"""Bearer tokens over real HTTP: who gets in, who is turned away, and why."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pytest

from server.cli.seed import create_being
from tests.support.db import AUTH_SECRET
from tests.support.world import Api


def _forge(claims: dict[str, Any], secret: str = AUTH_SECRET) -> str:
    return jwt.encode({"iat": int(time.time()), **claims}, secret, algorithm="HS256")


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
    token = _forge({"sub": "@member", "exp": int(time.time()) - 120})  # past the leeway
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


async def test_refusals_say_why_in_our_words_not_the_jwt_library_s(world: Api) -> None:
    soon = int(time.time()) + 60
    cases = [
        ("not.a.jwt", "The token is not a well-formed JWT"),
        (_forge({"sub": "@member"}), "The token has no 'exp' claim"),
        (_forge({"sub": "@member", "exp": soon, "nbf": soon}), "The token is not valid yet"),
    ]
    for token, message in cases:
        error = await world.error("auth.me", token=token)
        assert (error["message"], error["data"]["reason"]) == (message, "invalid_token")


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
    from server.cli.seed import create_being

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


def _pem(private: Any) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization

    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key.decode(), public.decode()


async def test_an_identity_providers_rs256_and_es256_tokens(
    make_api: Any, db_env: Any, tmp_path: Any
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    rsa_key, rsa_public = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    ec_key, ec_public = _pem(ec.generate_private_key(ec.SECP256R1()))
    (tmp_path / "idp.pem").write_text(rsa_public)
    api = await make_api({**db_env, "AUTH_PUBLIC_KEY": str(tmp_path / "idp.pem")})
    from server.cli.seed import create_being

    await create_being(api.storage, {"id": "@alice", "name": "Alice", "type": "user"})
    claims = {"sub": "@alice", "exp": int(time.time()) + 60, "iat": int(time.time())}
    rs256 = jwt.encode(claims, rsa_key, algorithm="RS256")
    assert (await api.ok("auth.me", token=rs256))["being"]["id"] == "@alice"
    assert (await api.ok("auth.me", as_="@alice"))["being"]["id"] == "@alice"  # HS256 too
    es256 = jwt.encode(claims, ec_key, algorithm="ES256")  # not the configured key
    assert (await api.error("auth.me", token=es256))["data"]["reason"] == "invalid_token"
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    assert (await api.error("auth.me", token=unsigned))["data"]["reason"] == "bad_algorithm"
    # The public key is never accepted as an HMAC secret (algorithm confusion).
    forged = _hs256_by_hand(claims, rsa_public)  # PyJWT itself refuses to sign this
    assert (await api.error("auth.me", token=forged))["data"]["code"] == "UNAUTHORIZED"
    ec_api = await make_api({**db_env, "AUTH_PUBLIC_KEY": ec_public})
    await create_being(ec_api.storage, {"id": "@bob", "name": "Bob", "type": "user"})
    bob = {**claims, "sub": "@bob", "iat": int(time.time())}  # issued after @bob exists
    es256 = jwt.encode(bob, ec_key, algorithm="ES256")
    assert (await ec_api.ok("auth.me", token=es256))["being"]["id"] == "@bob"


def _hs256_by_hand(claims: dict[str, Any], key: str) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(signature)}"


async def test_another_beings_token_acts_only_as_that_being(world: Api) -> None:
    await world.ok("being.create", {"id": "@bot", "name": "Bot", "type": "bot"}, as_="@member")
    mine = world.token("@stranger")
    assert (await world.ok("auth.me", token=mine))["being"]["id"] == "@stranger"
    for method, params in (
        ("being.update", {"id": "@member", "name": "Hijacked"}),
        ("being.update", {"id": "@bot", "name": "Hijacked"}),
        ("being.delete", {"id": "@bot"}),
        ("being.delete", {"id": "@member"}),
    ):
        error = await world.error(method, params, token=mine)
        assert error["data"]["code"] == "FORBIDDEN", (method, params)
    assert (await world.ok("being.get", {"id": "@bot"}))["name"] == "Bot"


async def test_a_small_clock_drift_is_tolerated_on_iat_nbf_and_exp(world: Api) -> None:
    now = int(time.time())  # AUTH_LEEWAY_SECONDS: 30 by default
    for claims in (
        {"sub": "@member", "iat": now + 10, "exp": now + 600},
        {"sub": "@member", "iat": now, "nbf": now + 10, "exp": now + 600},
        {"sub": "@member", "iat": now, "exp": now - 10},
    ):
        me = await world.ok("auth.me", token=_forge(claims))
        assert me["being"]["id"] == "@member", claims
    late = _forge({"sub": "@member", "iat": now + 120, "exp": now + 600})
    assert (await world.error("auth.me", token=late))["data"]["reason"] == "invalid_token"


async def test_claims_that_cannot_be_read_are_a_refused_token_never_an_internal_error(
    world: Api,
) -> None:
    now = int(time.time())
    soon = now + 60
    for claims in (
        {"sub": "@member", "iat": now, "exp": 10**400},
        {"sub": "@member", "iat": now, "exp": float("inf")},
        {"sub": "@member", "exp": soon, "iat": 10**400},
        {"sub": "@member", "iat": now, "exp": soon, "nbf": float("-inf")},
        {"sub": "@member", "exp": soon, "iat": "yesterday"},
        {"sub": "@member", "iat": now, "exp": soon, "roles": "admin"},
        {"sub": ["@member"], "iat": now, "exp": soon},
        {"sub": "@member\n", "iat": now, "exp": soon},
    ):
        _status, body = await world.call("auth.me", token=_forge(claims))
        assert body["error"]["data"]["code"] == "UNAUTHORIZED", (claims, body)
        assert body["error"]["data"]["reason"] == "invalid_token", claims


async def test_a_token_naming_a_space_is_refused_and_a_bot_s_works(world: Api) -> None:
    await create_being(
        world.storage, {"id": "@helper", "name": "Helper", "type": "bot", "ownerId": "@owner"}
    )
    assert (await world.ok("auth.me", as_="@helper"))["being"]["type"] == "bot"
    _status, body = await world.call("auth.me", as_="@hall")
    assert body["error"]["data"]["code"] == "UNAUTHORIZED", body
    assert body["error"]["message"] == "A space cannot sign in"


async def test_a_token_dies_with_its_being_even_if_the_id_comes_back(world: Api) -> None:
    user = {"id": "@v2", "name": "V2", "type": "user"}
    await world.ok("being.create", user, as_="@ops", admin=True)
    old = world.token("@v2")
    assert (await world.ok("auth.me", token=old))["being"]["id"] == "@v2"  # now cached
    await world.ok("being.delete", {"id": "@v2"}, token=old)
    await world.ok("being.create", {**user, "type": "bot"}, as_="@member")  # another's bot
    error = await world.error("auth.me", token=old)
    assert error["data"]["reason"] == "token_predates_being", error
    assert (await world.ok("auth.me", as_="@v2"))["being"]["ownerId"] == "@member"
    await world.ok("being.delete", {"id": "@v2"}, as_="@member")
    await world.ok("being.create", user, as_="@ops", admin=True)  # an admin re-creates it
    assert (await world.error("auth.me", token=old))["data"]["reason"] == "token_predates_being"


async def test_whole_second_issue_times_are_compared_to_the_second(world: Api) -> None:
    created = (await world.ok("being.get", {"id": "@member"}))["createdAt"]
    second = int(datetime.fromisoformat(created).timestamp())
    exp = second + 3600
    same = _forge({"sub": "@member", "exp": exp, "iat": second})
    assert (await world.ok("auth.me", token=same))["being"]["id"] == "@member"
    before = _forge({"sub": "@member", "exp": exp, "iat": second - 1})
    assert (await world.error("auth.me", token=before))["data"]["reason"] == "token_predates_being"
    just_before = _forge({"sub": "@member", "exp": exp, "iat": second - 0.000001})
    assert (await world.error("auth.me", token=just_before))["data"]["code"] == "UNAUTHORIZED"
    no_iat = jwt.encode({"sub": "@member", "exp": exp}, AUTH_SECRET, algorithm="HS256")
    error = await world.error("auth.me", token=no_iat)
    assert error["data"]["reason"] == "invalid_token" and "'iat'" in error["message"]


def _secret_at(data_dir: str, start: float) -> str:
    """In a process of its own: wait for ``start``, then read or make the secret."""
    from server.auth import load_secret
    from server.settings import load_settings

    settings = load_settings({"DATA_DIR": data_dir}, env_file=None)
    while time.time() < start:
        pass
    return load_secret(settings)


def test_processes_starting_together_make_one_whole_secret(tmp_path: Path) -> None:
    """The workers of serve --workers N may all find no secret: one makes it, all read it."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(6, mp_context=context) as pool:
        for attempt in range(20):
            folder = str(tmp_path / str(attempt))
            start = time.time() + 0.2
            found = list(pool.map(_secret_at, [folder] * 6, [start] * 6))
            assert len(set(found)) == 1 and len(found[0]) >= 32, found
            assert os.listdir(folder) == ["auth_secret"]  # no draft left behind


def test_a_secret_is_made_where_files_cannot_be_hard_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.auth import load_secret
    from server.settings import load_settings

    def no_links(source: object, target: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    settings = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    made = load_secret(settings)
    assert len(made) >= 32 and load_secret(settings) == made
    assert os.listdir(tmp_path) == ["auth_secret"]
