"""Bad input anywhere in the envelope: always a well-formed JSON-RPC answer, never a 500."""

from __future__ import annotations

import json
import random

import pytest

from tests.support.app import Post

pytestmark = pytest.mark.spec_examples  # the seed bodies are the spec's example calls

SEED_BODIES = [
    b'{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}',
    b'{"jsonrpc":"2.0","method":"probe.echo","params":{"roomBeingId":"@a","count":2},"id":"x"}',
    b'[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"},{"foo":"boo"}]',
    b'{"jsonrpc":"2.0","method":"update","params":[1,2,3,4,5]}',
]
JUNK = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"null", b"1e999", b"\\u0000", b"\xff", b"-"]


def mutate(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(data) + 1)
        action = rng.random()
        if action < 0.4 and data:
            del data[pos : pos + rng.randint(1, 5)]
        elif action < 0.8:
            data[pos:pos] = rng.choice(JUNK)
        else:
            data[pos:pos] = bytes([rng.randrange(256)])
    return bytes(data)


async def test_mutated_envelopes_get_valid_answers(post: Post) -> None:
    rng = random.Random(7)
    for _ in range(1500):
        body = mutate(rng, rng.choice(SEED_BODIES))
        status, answer = await post(body)
        assert status in (200, 204), (body, status, answer)
        if status == 204:
            continue
        for response in answer if isinstance(answer, list) else [answer]:
            assert response["jsonrpc"] == "2.0"
            assert ("result" in response) != ("error" in response), body
            assert "id" in response
            if "error" in response:
                assert isinstance(response["error"]["code"], int)
                assert response["error"]["code"] != -32603, (body, response)
    _, answer = await post(json.dumps({"jsonrpc": "2.0", "method": "get_data", "id": 1}))
    assert answer["result"] == ["hello", 5]  # still serving
