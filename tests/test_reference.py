"""jsonrpcserver as an independent reference: on valid requests, our answers match its own.

jsonrpcserver 5.0.9 is the JSON-RPC library the product card names. Our hot path
does not use it (see README: it costs ~25x our dispatch per call, and it answers
some of the spec's invalid batches wrongly), but on valid calls it is a second,
independent reading of the spec: same request string in, same answer out.
"""

from __future__ import annotations

import json
import random
import warnings
from typing import Any

import pytest

from tests.support.app import Post, without_data

with warnings.catch_warnings():  # it warns on import under Python 3.11+
    warnings.simplefilter("ignore", DeprecationWarning)
    from jsonrpcserver import Result, Success, dispatch

pytestmark = pytest.mark.spec_examples  # both sides serve the spec's example methods


def _subtract(minuend: int, subtrahend: int) -> Result:
    return Success(minuend - subtrahend)


def _sum(a: int = 0, b: int = 0, c: int = 0) -> Result:
    return Success(a + b + c)


def _get_data() -> Result:
    return Success(["hello", 5])


REFERENCE = {"subtract": _subtract, "sum": _sum, "get_data": _get_data}


def random_call(rng: random.Random, *, notification: bool = False) -> dict[str, Any]:
    method = rng.choice(["subtract", "sum", "get_data", "no_such_method"])
    call: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if method == "subtract":
        a, b = rng.randint(-(10**9), 10**9), rng.randint(-(10**9), 10**9)
        call["params"] = rng.choice([[a, b], {"minuend": a, "subtrahend": b}])
    elif method == "sum":
        call["params"] = [rng.randint(-100, 100) for _ in range(rng.randint(0, 3))]
    if not notification:
        call["id"] = rng.choice(
            [rng.randint(-(2**40), 2**40), f"id-{rng.random()}", None, rng.randint(0, 9)]
        )
    return call


def cases() -> list[str]:
    rng = random.Random(20261122)
    out = []
    for _ in range(150):
        if rng.random() < 0.6:
            out.append(json.dumps(random_call(rng)))
        else:
            batch = [random_call(rng) for _ in range(rng.randint(1, 6))]
            batch += [random_call(rng, notification=True) for _ in range(rng.randint(0, 2))]
            rng.shuffle(batch)
            out.append(json.dumps(batch))
    return out


@pytest.mark.parametrize("request_body", cases())
async def test_same_answer_as_jsonrpcserver(post: Post, request_body: str) -> None:
    expected_text = str(dispatch(request_body, methods=REFERENCE))
    expected = json.loads(expected_text) if expected_text else None
    status, body = await post(request_body)
    assert status == (200 if expected is not None else 204)
    # jsonrpcserver puts its own free text into error.data; compare code, message, id.
    assert without_data(body) == without_data(expected)
