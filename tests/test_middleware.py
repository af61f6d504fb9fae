"""``protected`` and the replaceable principal resolver."""

from __future__ import annotations

from tests.support.app import Post

WHOAMI = {"jsonrpc": "2.0", "method": "probe.whoami", "id": 1}


async def test_anonymous_call_to_protected_procedure_is_unauthorized(post: Post) -> None:
    _, body = await post(WHOAMI)
    assert body["error"]["code"] == -32001
    assert body["error"]["data"]["code"] == "UNAUTHORIZED"
    assert body["error"]["data"]["httpStatus"] == 401


async def test_protected_handler_sees_the_principal(post: Post) -> None:
    _, body = await post(WHOAMI, Authorization="Bearer user:@alice")
    assert body["result"] == {"beingId": "@alice", "admin": False}
    _, body = await post(WHOAMI, Authorization="Bearer admin:@ops")
    assert body["result"] == {"beingId": "@ops", "admin": True}


async def test_rejected_credentials_fail_every_call_of_the_request(post: Post) -> None:
    _, body = await post(
        [WHOAMI, {"jsonrpc": "2.0", "method": "system.health", "id": 2}], Authorization="Basic x"
    )
    assert [r["error"]["message"] for r in body] == ["Invalid bearer token"] * 2


async def test_public_procedures_need_no_credentials(post: Post) -> None:
    _, body = await post({"jsonrpc": "2.0", "method": "system.health", "id": 1})
    assert body["result"]["status"] == "ok"
