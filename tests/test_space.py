"""``space.*`` over real HTTP: who sees the members, who manages them, the last owner."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.world import Api


def _add(being: str, role: str = "member", space: str = "@room") -> dict[str, str]:
    return {"spaceId": space, "beingId": being, "role": role}


async def _roles(api: Api, space: str = "@room") -> dict[str, str]:
    page = await api.ok("space.members", {"spaceId": space}, as_="@ops", admin=True)
    return {m["beingId"]: m["role"] for m in page["items"]}


@pytest.mark.parametrize(
    ("caller", "expected"),
    [(None, "NOT_FOUND"), ("@stranger", "NOT_FOUND"), ("@listener", "ok"), ("@owner", "ok")],
)
async def test_members_of_a_private_space(world: Api, caller: str | None, expected: str) -> None:
    assert await world.code("space.members", {"spaceId": "@room"}, as_=caller) == expected


async def test_members_of_a_public_space_are_public_and_paged(world: Api) -> None:
    first = await world.ok("space.members", {"spaceId": "@hall", "limit": 2})
    rest = await world.ok("space.members", {"spaceId": "@hall", "cursor": first["nextCursor"]})
    ids = [m["beingId"] for m in first["items"] + rest["items"]]
    assert ids == ["@listener", "@member", "@mod", "@owner"] and rest["nextCursor"] is None
    assert await world.code("space.members", {"spaceId": "@member"}) == "NOT_FOUND"


@pytest.mark.parametrize("cursor", ["not-ours", "é😀"])
async def test_members_cursor_not_ours_is_invalid_params(world: Api, cursor: str) -> None:
    error = await world.error("space.members", {"spaceId": "@hall", "cursor": cursor})
    assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == "$.cursor"


@pytest.mark.parametrize(
    ("caller", "admin", "role", "expected"),
    [
        (None, False, "member", "UNAUTHORIZED"),
        ("@stranger", False, "member", "NOT_FOUND"),
        ("@listener", False, "member", "FORBIDDEN"),
        ("@member", False, "member", "FORBIDDEN"),
        ("@mod", False, "member", "ok"),
        ("@mod", False, "listener", "ok"),
        ("@mod", False, "moderator", "FORBIDDEN"),
        ("@mod", False, "owner", "FORBIDDEN"),
        ("@owner", False, "owner", "ok"),
        ("@ops", True, "moderator", "ok"),
    ],
)
async def test_add_member_matrix(
    world: Api, caller: str | None, admin: bool, role: str, expected: str
) -> None:
    assert await world.code(
        "space.addMember", _add("@stranger", role), as_=caller, admin=admin
    ) == (expected)
    roles = await _roles(world)
    assert roles.get("@stranger") == (role if expected == "ok" else None)


async def test_add_member_checks(world: Api) -> None:
    assert await world.code("space.addMember", _add("@member"), as_="@owner") == "CONFLICT"
    assert await world.code("space.addMember", _add("@ghost"), as_="@owner") == "NOT_FOUND"
    error = await world.error("space.addMember", _add("@room"), as_="@owner")
    assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == "$.beingId"
    error = await world.error("space.addMember", _add("@x", "boss"), as_="@owner")
    assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == "$.role"


@pytest.mark.parametrize(
    ("caller", "admin", "target", "expected"),
    [
        ("@stranger", False, "@member", "NOT_FOUND"),
        ("@listener", False, "@member", "FORBIDDEN"),
        ("@member", False, "@listener", "FORBIDDEN"),
        ("@member", False, "@member", "ok"),  # leaving
        ("@mod", False, "@member", "ok"),
        ("@mod", False, "@owner", "FORBIDDEN"),
        ("@owner", False, "@mod", "ok"),
        ("@ops", True, "@mod", "ok"),
    ],
)
async def test_remove_member_matrix(
    world: Api, caller: str, admin: bool, target: str, expected: str
) -> None:
    params = {"spaceId": "@room", "beingId": target}
    assert await world.code("space.removeMember", params, as_=caller, admin=admin) == expected
    assert (target in await _roles(world)) == (expected != "ok")


async def test_nobody_removes_or_demotes_the_last_owner(world: Api) -> None:
    last = {"spaceId": "@room", "beingId": "@owner"}
    for method, params in (
        ("space.removeMember", last),
        ("space.setRole", last | {"role": "member"}),
    ):
        for caller, admin in (("@owner", False), ("@ops", True)):
            error = await world.error(method, params, as_=caller, admin=admin)
            assert error["data"]["code"] == "PRECONDITION_FAILED", (method, caller)
    await world.ok("space.setRole", {**last, "beingId": "@mod", "role": "owner"}, as_="@owner")
    await world.ok("space.removeMember", last, as_="@owner")  # another owner remains
    assert (await _roles(world))["@mod"] == "owner" and "@owner" not in await _roles(world)


async def test_two_owners_demoting_each_other_at_once_leave_one(world: Api) -> None:
    await world.ok("space.setRole", _add("@mod", "owner"), as_="@owner")
    results = await asyncio.gather(
        world.code("space.setRole", _add("@mod", "member"), as_="@owner"),
        world.code("space.setRole", _add("@owner", "member"), as_="@mod"),
    )
    assert sorted(results) in (["FORBIDDEN", "ok"], ["PRECONDITION_FAILED", "ok"])
    assert list((await _roles(world)).values()).count("owner") == 1


@pytest.mark.parametrize(
    ("caller", "target", "role", "expected"),
    [
        ("@member", "@listener", "member", "FORBIDDEN"),
        ("@mod", "@listener", "member", "ok"),
        ("@mod", "@member", "listener", "ok"),
        ("@mod", "@member", "moderator", "FORBIDDEN"),
        ("@owner", "@member", "moderator", "ok"),
        ("@owner", "@stranger", "member", "NOT_FOUND"),
    ],
)
async def test_set_role_matrix(
    world: Api, caller: str, target: str, role: str, expected: str
) -> None:
    assert await world.code("space.setRole", _add(target, role), as_=caller) == expected
    if expected == "ok":
        assert (await _roles(world))[target] == role


async def test_a_space_is_never_a_member_of_a_space(world: Api) -> None:
    for caller, admin in (("@owner", False), ("@ops", True)):
        error = await world.error("space.addMember", _add("@hall"), as_=caller, admin=admin)
        assert error["data"]["code"] == "INVALID_PARAMS", error
        assert error["data"]["issues"][0]["path"] == "$.beingId"
    nested = {"id": "@nested", "name": "Nested", "type": "space", "ownerId": "@hall"}
    error = await world.error("being.create", nested, as_="@ops", admin=True)
    assert error["data"]["issues"][0]["path"] == "$.ownerId"
    assert await world.code("being.get", {"id": "@nested"}, as_="@ops", admin=True) == "NOT_FOUND"
    assert "@hall" not in await _roles(world)
