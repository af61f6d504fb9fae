"""Every integer of the contract is bounded to what storage holds (a signed 64-bit integer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec.inspect as mi
import pytest

import schema
from schema import errors, jsonrpc_examples

INT64 = (-(2**63), 2**63 - 1)


def _ints(t: mi.Type, path: str, seen: set[type]) -> Iterator[tuple[str, mi.IntType]]:
    """Every integer type reachable from ``t``, with where it is."""
    if isinstance(t, mi.IntType):
        yield path, t
    elif isinstance(t, mi.StructType):
        if t.cls in seen:
            return
        seen.add(t.cls)
        for field in t.fields:
            yield from _ints(field.type, f"{t.cls.__name__}.{field.encode_name}", seen)
    elif isinstance(t, mi.UnionType):
        for member in t.types:
            yield from _ints(member, path, seen)
    elif isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        yield from _ints(t.item_type, f"{path}[]", seen)
    elif isinstance(t, mi.TupleType):
        for item in t.item_types:
            yield from _ints(item, f"{path}[]", seen)
    elif isinstance(t, mi.DictType):
        yield from _ints(t.key_type, f"{path}{{key}}", seen)
        yield from _ints(t.value_type, f"{path}{{}}", seen)


def _contract_ints() -> list[tuple[str, mi.IntType]]:
    """Every integer a caller sends, and every integer the server stores and answers."""
    found: list[tuple[str, mi.IntType]] = []
    seen: set[type] = set()
    types: list[tuple[str, Any]] = [("ErrorObject", errors.ErrorObject)]
    for proc in (*schema.CONTRACT, *jsonrpc_examples.CONTRACT):
        types += [(f"{proc.name} input", proc.input), (f"{proc.name} output", proc.output)]
    for where, t in types:
        for path, int_type in _ints(mi.type_info(t), where, seen):
            found.append((path, int_type))
    return found


def _low(t: mi.IntType) -> int | None:
    return t.ge if t.ge is not None else (None if t.gt is None else t.gt + 1)


def _high(t: mi.IntType) -> int | None:
    return t.le if t.le is not None else (None if t.lt is None else t.lt - 1)


def test_the_walk_finds_integers() -> None:
    paths = {path for path, _ in _contract_ints()}
    assert "ListIntentionsInput.before" in paths
    assert "Intention.id" in paths


@pytest.mark.parametrize(("path", "int_type"), _contract_ints(), ids=lambda v: str(v))
def test_every_integer_is_bounded(path: str, int_type: mi.IntType) -> None:
    low, high = _low(int_type), _high(int_type)
    assert low is not None and high is not None, f"{path} is unbounded"
    assert INT64[0] <= low <= high <= INT64[1], f"{path}: {low}..{high} exceeds 64 bits"
