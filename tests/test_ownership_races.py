"""Nobody removes a space's last owner, and a being that owns bots is not deleted,
however the calls interleave: each race runs many trials over real HTTP, on SQLite
and PostgreSQL (where, unlike SQLite, two writes really run at once)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support.world import Api

TRIALS = 40
BUDGET = 20.0  # seconds per race at most: the count of trials is bounded, and so is time


async def _users(api: Api, *ids: str) -> None:
    for being_id in ids:
        user = {"id": being_id, "name": being_id[1:], "type": "user"}
        await api.ok("being.create", user, as_="@ops", admin=True)


async def _co_owned(api: Api, n: int) -> tuple[str, str, str]:
    a, b, space = f"@a{n}", f"@b{n}", f"@s{n}"
    await _users(api, a, b)
    await api.ok("being.create", {"id": space, "name": "S", "type": "space"}, as_=a)
    await api.ok("space.addMember", {"spaceId": space, "beingId": b, "role": "owner"}, as_=a)
    return a, b, space


_REFUSALS = {"PRECONDITION_FAILED", "NOT_FOUND", "UNAUTHORIZED", "FORBIDDEN"}


def _typed(*answers: tuple[int, Any]) -> None:
    """Each call either did its work or was refused for a reason of the rules."""
    for _, body in answers:
        assert "result" in body or body["error"]["data"]["code"] in _REFUSALS, body


async def _owners(api: Api, space: str) -> int:
    page = await api.ok("space.members", {"spaceId": space}, as_="@ops", admin=True)
    return sum(m["role"] == "owner" for m in page["items"])


async def _trials(race: Callable[[int], Awaitable[bool]]) -> tuple[int, int]:
    """(broken, run): how many trials broke the rule, out of how many ran."""
    broken, run, deadline = 0, 0, time.monotonic() + BUDGET
    while run < TRIALS and time.monotonic() < deadline:
        broken += await race(run)
        run += 1
    assert run >= 5, "too few trials ran to say anything"
    return broken, run


async def test_an_owner_deleting_itself_while_the_other_leaves(world: Api) -> None:
    api = world

    async def race(n: int) -> bool:
        a, b, space = await _co_owned(api, n)
        answers = await asyncio.gather(
            api.call("being.delete", {"id": a}, as_=a),
            api.call("space.removeMember", {"spaceId": space, "beingId": b}, as_=b),
        )
        _typed(*answers)
        return await _owners(api, space) == 0

    broken, run = await _trials(race)
    assert broken == 0, f"{broken} of {run} spaces left without an owner"


async def test_an_admin_deleting_both_owners_at_once(world: Api) -> None:
    api = world

    async def race(n: int) -> bool:
        a, b, space = await _co_owned(api, n)
        answers = await asyncio.gather(
            api.call("being.delete", {"id": a}, as_="@ops", admin=True),
            api.call("being.delete", {"id": b}, as_="@ops", admin=True),
        )
        _typed(*answers)
        return await _owners(api, space) == 0

    broken, run = await _trials(race)
    assert broken == 0, f"{broken} of {run} spaces left without an owner"


async def test_a_user_creating_a_bot_while_deleting_itself(world: Api) -> None:
    api = world

    async def race(n: int) -> bool:
        user, bot = f"@u{n}", f"@bot{n}"
        await _users(api, user)
        answers = await asyncio.gather(
            api.call("being.create", {"id": bot, "name": "Bot", "type": "bot"}, as_=user),
            api.call("being.delete", {"id": user}, as_=user),
        )
        _typed(*answers)
        _, body = await api.call("being.get", {"id": bot})
        return "result" in body and body["result"]["ownerId"] is None

    broken, run = await _trials(race)
    assert broken == 0, f"{broken} of {run} bots left without an owner"
