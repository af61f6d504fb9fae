"""Every ``pattern`` of the contract and the settings matches whole strings only.

Python's ``$`` also matches just before a final newline, so ``^@[a-z]+$`` takes
``"@alice\\n"``: each pattern must refuse its own examples with a newline added,
under msgspec (``re.search``) as under a JavaScript engine's reading of it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
import pytest

from schema import CONTRACT
from server.settings import Settings
from tests.support.world import Api

# Strings some pattern of ours accepts; every pattern must accept one of them.
_CANDIDATES = (
    "@alice",
    "@demo-space",
    "@a",
    "phone",
    "roomrpc.system",
    "wss://lk.example",
    "https://idp.example/a",
    "room_1",
    "@alice#phone",
    "600/minute",
    "10 per second",
    "redis://127.0.0.1:6379",
    "memory://",
)


_COLLECTIONS = (
    msgspec.inspect.ListType,
    msgspec.inspect.SetType,
    msgspec.inspect.FrozenSetType,
    msgspec.inspect.VarTupleType,
)


def _patterns(info: msgspec.inspect.Type, seen: set[Any], found: set[str]) -> None:
    """Every pattern reachable from ``info`` (one flat ladder over msgspec's types)."""
    if isinstance(info, msgspec.inspect.Metadata):
        _patterns(info.type, seen, found)
    elif isinstance(info, msgspec.inspect.StrType):
        if info.pattern is not None:
            found.add(info.pattern)
    elif isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return
        seen.add(info.cls)
        for field in info.fields:
            _patterns(field.type, seen, found)
    elif isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            _patterns(member, seen, found)
    elif isinstance(info, msgspec.inspect.DictType):
        _patterns(info.key_type, seen, found)
        _patterns(info.value_type, seen, found)
    elif isinstance(info, _COLLECTIONS):
        _patterns(info.item_type, seen, found)
    elif isinstance(info, msgspec.inspect.TupleType):
        for item in info.item_types:
            _patterns(item, seen, found)


def _all_patterns() -> list[str]:
    types = [p.input for p in CONTRACT] + [p.output for p in CONTRACT] + [Settings]
    seen: set[Any] = set()
    found: set[str] = set()
    for info in msgspec.inspect.multi_type_info(types):
        _patterns(info, seen, found)
    return sorted(found)


def test_the_walk_finds_the_patterns() -> None:
    patterns = _all_patterns()
    assert len(patterns) >= 5, patterns  # ids, device, topic, room names, settings


@pytest.mark.parametrize("pattern", _all_patterns())
def test_pattern_refuses_a_trailing_newline(pattern: str) -> None:
    examples = [c for c in _CANDIDATES if re.search(pattern, c)]
    assert examples, f"add a string {pattern!r} accepts to _CANDIDATES"
    for example in examples:
        for tail in ("\n", "\r\n", "\n\n"):
            assert re.search(pattern, example + tail) is None, (pattern, example)
            text = msgspec.json.encode(example + tail)
            with pytest.raises(msgspec.ValidationError):
                msgspec.json.decode(text, type=Annotated[str, msgspec.Meta(pattern=pattern)])


async def test_being_create_refuses_a_trailing_newline(world: Api) -> None:
    user = {"id": "@owner\n", "name": "Look-alike", "type": "user"}
    error = await world.error("being.create", user, as_="@ops", admin=True)
    assert error["data"]["code"] == "INVALID_PARAMS"
    assert error["data"]["issues"][0]["path"] == "$.id"
    space = {"id": "@hall\n", "name": "Look-alike", "type": "space"}
    assert await world.code("being.create", space, as_="@owner") == "INVALID_PARAMS"
    assert await world.code("being.get", {"id": "@hall\n"}) == "INVALID_PARAMS"
