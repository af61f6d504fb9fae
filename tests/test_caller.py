"""The server-side caller: same validation and middleware, no HTTP."""

from __future__ import annotations

import pytest

from schema import system
from server.http.app import CALLER
from server.rpc import Principal, RpcError
from tests.support import probe, spec_examples


@pytest.mark.spec_examples
async def test_calls_with_a_struct_or_a_mapping(make_app: object) -> None:
    caller = make_app()[CALLER]  # type: ignore[operator]
    health = await caller(system.health)
    assert health.status == "ok"
    assert await caller(spec_examples.subtract, {"minuend": 5, "subtrahend": 2}) == 3
    params = spec_examples.SubtractInput(minuend=1, subtrahend=2)
    assert await caller(spec_examples.subtract, params) == -1


async def test_validates_exactly_like_the_wire(make_app: object) -> None:
    caller = make_app()[CALLER]  # type: ignore[operator]
    with pytest.raises(RpcError) as caught:
        await caller(probe.echo, probe.EchoInput(room_being_id="not-an-id"))
    assert caught.value.code == "INVALID_PARAMS"
    assert caught.value.issues is not None
    assert caught.value.issues[0].path == "$.roomBeingId"


async def test_runs_middleware(make_app: object) -> None:
    caller = make_app()[CALLER]  # type: ignore[operator]
    with pytest.raises(RpcError) as caught:
        await caller(probe.whoami)
    assert caught.value.code == "UNAUTHORIZED"
    me = await caller.as_principal(Principal("@bot", frozenset({"admin"})))(probe.whoami)
    assert (me.being_id, me.admin) == ("@bot", True)
