"""``being.*`` over real HTTP with real tokens: visibility, ownership, paging, validation."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from tests.support.world import Api

SPACE = {"id": "@new-space", "name": "New", "type": "space"}


async def test_get_public_beings_as_anyone(world: Api) -> None:
    hall = await world.ok("being.get", {"id": "@hall"})
    assert hall["type"] == "space" and hall["visibility"] == "public"
    assert hall["ownerId"] == "@owner" and hall["createdAt"].endswith("Z")
    assert (await world.ok("being.get", {"id": "@member"}, as_="@stranger"))["type"] == "user"


@pytest.mark.parametrize(
    ("caller", "admin", "expected"),
    [
        (None, False, "NOT_FOUND"),
        ("@stranger", False, "NOT_FOUND"),
        ("@listener", False, "ok"),
        ("@member", False, "ok"),
        ("@mod", False, "ok"),
        ("@owner", False, "ok"),
        ("@ops", True, "ok"),
    ],
)
async def test_private_space_is_seen_by_members_only(
    world: Api, caller: str | None, admin: bool, expected: str
) -> None:
    assert await world.code("being.get", {"id": "@room"}, as_=caller, admin=admin) == expected


async def test_hidden_and_absent_look_the_same(world: Api) -> None:
    hidden = await world.error("being.get", {"id": "@room"}, as_="@stranger")
    absent = await world.error("being.get", {"id": "@nowhere"}, as_="@stranger")
    assert hidden["message"].replace("@room", "@x") == absent["message"].replace("@nowhere", "@x")
    assert hidden["data"]["reason"] == absent["data"]["reason"] == "no_such_being"


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"id": "alice"}, "$.id"),
        ({"id": "@Alice"}, "$.id"),
        ({"id": "@" + "a" * 64}, "$.id"),
        ({}, "$.id"),
        ({"id": "@a", "extra": 1}, "$.extra"),
    ],
)
async def test_bad_ids_are_invalid_params_naming_the_field(
    world: Api, params: dict[str, Any], path: str
) -> None:
    error = await world.error("being.get", params, as_="@member")
    assert error["code"] == -32602
    assert error["data"]["issues"][0]["path"] == path


async def test_list_pages_through_what_the_caller_may_see(world: Api) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await world.ok("being.list", params, as_="@stranger")
        seen += [b["id"] for b in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 3
    assert seen == sorted(seen) and "@hall" in seen and "@room" not in seen
    assert "@room" in [b["id"] for b in (await world.ok("being.list", as_="@listener"))["items"]]
    admin = await world.ok("being.list", {"type": "space"}, as_="@ops", admin=True)
    assert [b["id"] for b in admin["items"]] == ["@hall", "@room"]
    anonymous = await world.ok("being.list", {"type": "space"})
    assert [b["id"] for b in anonymous["items"]] == ["@hall"]


async def test_list_limit_and_cursor_are_checked(world: Api) -> None:
    for params, path in (
        ({"limit": 101}, "$.limit"),
        ({"limit": 0}, "$.limit"),
        ({"cursor": "not-ours"}, "$.cursor"),
        ({"cursor": "é😀"}, "$.cursor"),  # not ASCII: not base64 at all
        ({"type": "robot"}, "$.type"),
    ):
        error = await world.error("being.list", params, as_="@member")
        assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == path, params


async def test_create_space_makes_the_caller_its_owner(world: Api) -> None:
    created = await world.ok("being.create", SPACE, as_="@member")
    assert created["ownerId"] == "@member" and created["visibility"] == "public"
    members = await world.ok("space.members", {"spaceId": "@new-space"})
    assert [(m["beingId"], m["role"]) for m in members["items"]] == [("@member", "owner")]
    assert await world.ok("being.get", {"id": "@new-space"}) == created


async def test_create_rules(world: Api) -> None:
    user = {"id": "@newbie", "name": "Newbie", "type": "user"}
    assert await world.code("being.create", SPACE) == "UNAUTHORIZED"
    assert await world.code("being.create", user, as_="@member") == "FORBIDDEN"
    assert (await world.ok("being.create", user, as_="@ops", admin=True))["ownerId"] is None
    bot = {"id": "@bot", "name": "Bot", "type": "bot", "ownerId": "@owner"}
    assert await world.code("being.create", bot, as_="@member") == "FORBIDDEN"
    assert (await world.ok("being.create", bot, as_="@ops", admin=True))["ownerId"] == "@owner"
    assert await world.code("being.create", SPACE | {"id": "@hall"}, as_="@member") == "CONFLICT"


def _nested(levels: int) -> list[object]:
    value: list[object] = []
    for _ in range(levels - 1):
        value = [value]
    return value


async def test_metadata_may_nest_sixteen_levels(world: Api) -> None:
    space = await world.ok(
        "being.create", SPACE | {"metadata": {"deep": _nested(15)}}, as_="@member"
    )
    assert space["metadata"] == {"deep": _nested(15)}


async def test_create_rejects_bad_input_before_the_database(world: Api) -> None:
    cases = [
        (SPACE | {"name": ""}, "$.name"),
        (SPACE | {"type": "planet"}, "$.type"),
        (SPACE | {"visibility": "secret"}, "$.visibility"),
        (SPACE | {"metadata": [1]}, "$.metadata"),
        (SPACE | {"metadata": {"blob": "x" * 5000}}, "$.metadata"),
        (SPACE | {"metadata": {"deep": _nested(16)}}, "$.metadata"),
        (SPACE | {"metadata": {"deep": _nested(900)}}, "$.metadata"),
        ({"id": "@b", "name": "B", "type": "bot", "visibility": "public"}, "$.visibility"),
    ]
    for params, path in cases:
        error = await world.error("being.create", params, as_="@member")
        assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == path, params
    assert await world.code("being.get", {"id": "@new-space"}) == "NOT_FOUND"


async def test_concurrent_creates_of_one_id_have_one_winner(world: Api) -> None:
    calls = [world.call("being.create", SPACE, as_=who) for who in ("@member", "@mod") * 3]
    answers = [body for _, body in await asyncio.gather(*calls)]
    winners = [a for a in answers if "result" in a]
    losers = [a["error"]["data"]["code"] for a in answers if "error" in a]
    assert len(winners) == 1 and losers == ["CONFLICT"] * 5
    members = await world.ok("space.members", {"spaceId": "@new-space"})
    assert [m["beingId"] for m in members["items"]] == [winners[0]["result"]["ownerId"]]


@pytest.mark.parametrize(
    ("caller", "admin", "expected"),
    [
        (None, False, "UNAUTHORIZED"),
        ("@stranger", False, "NOT_FOUND"),
        ("@listener", False, "FORBIDDEN"),
        ("@member", False, "FORBIDDEN"),
        ("@mod", False, "FORBIDDEN"),
        ("@owner", False, "ok"),
        ("@ops", True, "ok"),
    ],
)
async def test_update_private_space_matrix(
    world: Api, caller: str | None, admin: bool, expected: str
) -> None:
    params = {"id": "@room", "name": "Renamed", "metadata": {"topic": "x"}}
    assert await world.code("being.update", params, as_=caller, admin=admin) == expected
    room = await world.ok("being.get", {"id": "@room"}, as_="@owner")
    assert (room["name"] == "Renamed") == (expected == "ok")


async def test_update_changes_only_what_is_given(world: Api) -> None:
    before = await world.ok("being.get", {"id": "@hall"})
    after = await world.ok("being.update", {"id": "@hall", "visibility": "private"}, as_="@owner")
    assert after["name"] == before["name"] and after["visibility"] == "private"
    assert after["updatedAt"] > before["updatedAt"] and after["createdAt"] == before["createdAt"]
    assert await world.code("being.get", {"id": "@hall"}, as_="@stranger") == "NOT_FOUND"
    user = await world.ok("being.update", {"id": "@member", "name": "M"}, as_="@member")
    assert user["name"] == "M"
    assert await world.code("being.update", {"id": "@member", "name": "X"}, as_="@mod") == (
        "FORBIDDEN"
    )
    error = await world.error(
        "being.update", {"id": "@member", "visibility": "public"}, as_="@member"
    )
    assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == "$.visibility"


@pytest.mark.parametrize(
    ("caller", "admin", "expected"),
    [
        ("@stranger", False, "NOT_FOUND"),
        ("@member", False, "FORBIDDEN"),
        ("@mod", False, "FORBIDDEN"),
        ("@owner", False, "ok"),
        ("@ops", True, "ok"),
    ],
)
async def test_delete_private_space_matrix(
    world: Api, caller: str, admin: bool, expected: str
) -> None:
    await world.ok("intention.create", {"spaceId": "@room", "content": "hi"}, as_="@member")
    assert await world.code("being.delete", {"id": "@room"}, as_=caller, admin=admin) == expected
    gone = await world.code("being.get", {"id": "@room"}, as_="@ops", admin=True)
    assert gone == ("NOT_FOUND" if expected == "ok" else "ok")


async def test_delete_takes_memberships_and_history_along(world: Api) -> None:
    await world.ok("intention.create", {"spaceId": "@hall", "content": "hi"}, as_="@member")
    await world.ok("being.delete", {"id": "@hall"}, as_="@owner")
    await world.ok("being.create", {"id": "@hall", "name": "Hall", "type": "space"}, as_="@mod")
    history = await world.ok("intention.list", {"spaceId": "@hall"}, as_="@mod")
    members = await world.ok("space.members", {"spaceId": "@hall"}, as_="@mod")
    assert history["items"] == [] and [m["beingId"] for m in members["items"]] == ["@mod"]


async def test_a_last_owner_or_a_bot_owner_cannot_be_deleted(world: Api) -> None:
    error = await world.error("being.delete", {"id": "@owner"}, as_="@owner")
    assert error["data"]["reason"] == "last_owner" and "@hall, @room" in error["message"]
    for space in ("@hall", "@room"):
        await world.ok(
            "space.setRole", {"spaceId": space, "beingId": "@mod", "role": "owner"}, as_="@owner"
        )
    await world.ok("being.create", {"id": "@bot", "name": "Bot", "type": "bot"}, as_="@owner")
    error = await world.error("being.delete", {"id": "@owner"}, as_="@owner")
    assert error["data"]["reason"] == "owns_bots"
    assert (await world.ok("auth.me", as_="@owner"))["being"]["id"] == "@owner"
    await world.ok("being.delete", {"id": "@bot"}, as_="@owner")
    await world.ok("being.delete", {"id": "@owner"}, as_="@owner")
    hall = await world.ok("being.get", {"id": "@hall"})
    assert hall["ownerId"] is None  # its creator is gone; its owners are its owner members
    members = (await world.ok("space.members", {"spaceId": "@hall"}))["items"]
    assert {m["beingId"]: m["role"] for m in members}["@mod"] == "owner"
    assert "@owner" not in [m["beingId"] for m in members]


# PostgreSQL's text and jsonb cannot hold U+0000: refused as INVALID_PARAMS naming the
# field, on every database alike, never an internal error.
NUL_CALLS = [
    ("being.create", SPACE | {"name": "a\x00b"}, "$.name"),
    ("being.create", SPACE | {"metadata": {"k": ["ok", "a\x00"]}}, "$.metadata"),
    ("being.create", SPACE | {"metadata": {"k\x00": 1}}, "$.metadata"),
    ("being.update", {"id": "@hall", "name": "\x00"}, "$.name"),
    ("being.update", {"id": "@hall", "metadata": {"x": {"y": "\x00"}}}, "$.metadata"),
    ("intention.create", {"spaceId": "@hall", "content": "hi\x00"}, "$.content"),
    ("being.list", {"cursor": base64.urlsafe_b64encode(b"@a\x00").decode()}, "$.cursor"),
]


@pytest.mark.parametrize(("method", "params", "path"), NUL_CALLS)
async def test_text_with_nul_is_invalid_params(
    world: Api, method: str, params: dict[str, Any], path: str
) -> None:
    error = await world.error(method, params, as_="@owner")
    assert error["code"] == -32602, error
    assert error["data"]["issues"][0]["path"] == path
    assert (await world.ok("being.get", {"id": "@hall"}))["name"] != "\x00"
