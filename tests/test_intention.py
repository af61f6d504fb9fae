"""``intention.*`` over real HTTP: who may speak, and history newest first."""

from __future__ import annotations

import pytest

from tests.support.world import Api


def _say(content: str, space: str = "@room", kind: str = "message") -> dict[str, str]:
    return {"spaceId": space, "content": content, "kind": kind}


@pytest.mark.parametrize(
    ("caller", "admin", "expected"),
    [
        (None, False, "UNAUTHORIZED"),
        ("@stranger", False, "NOT_FOUND"),
        ("@listener", False, "FORBIDDEN"),
        ("@member", False, "ok"),
        ("@mod", False, "ok"),
        ("@owner", False, "ok"),
        ("@ops", True, "ok"),
    ],
)
async def test_who_may_speak_in_a_private_space(
    world: Api, caller: str | None, admin: bool, expected: str
) -> None:
    assert await world.code("intention.create", _say("hello"), as_=caller, admin=admin) == expected


async def test_non_members_may_not_speak_in_a_public_space(world: Api) -> None:
    error = await world.error("intention.create", _say("hi", "@hall"), as_="@stranger")
    assert error["data"]["code"] == "FORBIDDEN" and error["data"]["reason"] == "not_member"


async def test_system_intentions_are_for_managers(world: Api) -> None:
    assert await world.code("intention.create", _say("x", kind="system"), as_="@member") == (
        "FORBIDDEN"
    )
    said = await world.ok("intention.create", _say("Topic: x", kind="system"), as_="@mod")
    assert said["kind"] == "system" and said["authorId"] == "@mod"


async def test_history_is_newest_first_with_a_cursor(world: Api) -> None:
    for n in range(7):
        await world.ok("intention.create", _say(f"m{n}"), as_="@member")
    contents: list[str] = []
    before = None
    while True:
        params = {"spaceId": "@room", "limit": 3} | ({"before": before} if before else {})
        page = await world.ok("intention.list", params, as_="@listener")
        contents += [i["content"] for i in page["items"]]
        before = page["nextBefore"]
        if before is None:
            break
    assert contents == [f"m{n}" for n in reversed(range(7))]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [(None, "NOT_FOUND"), ("@stranger", "NOT_FOUND"), ("@listener", "ok")],
)
async def test_private_history_is_for_members(
    world: Api, caller: str | None, expected: str
) -> None:
    assert await world.code("intention.list", {"spaceId": "@room"}, as_=caller) == expected


async def test_public_history_is_readable_by_anyone(world: Api) -> None:
    await world.ok("intention.create", _say("hi all", "@hall"), as_="@member")
    page = await world.ok("intention.list", {"spaceId": "@hall"})
    assert [i["content"] for i in page["items"]] == ["hi all"]


async def test_bad_input_names_the_field(world: Api) -> None:
    cases = [
        ("intention.create", _say(""), "$.content"),
        ("intention.create", _say("x" * 4001), "$.content"),
        ("intention.create", _say("x", kind="shout"), "$.kind"),
        ("intention.list", {"spaceId": "@room", "limit": 500}, "$.limit"),
        ("intention.list", {"spaceId": "@room", "before": 0}, "$.before"),
        ("intention.list", {"spaceId": "room"}, "$.spaceId"),
    ]
    for method, params, path in cases:
        error = await world.error(method, params, as_="@member")
        assert error["code"] == -32602 and error["data"]["issues"][0]["path"] == path, params


async def test_a_cursor_past_what_storage_holds_is_invalid_params_with_its_path(
    world: Api,
) -> None:
    params = {"spaceId": "@hall", "before": 2**63}
    error = await world.error("intention.list", params, as_="@member")
    assert error["data"]["code"] == "INVALID_PARAMS", error
    assert error["data"]["issues"][0]["path"] == "$.before"
    largest = await world.ok("intention.list", {**params, "before": 2**63 - 1}, as_="@member")
    assert isinstance(largest["items"], list)
