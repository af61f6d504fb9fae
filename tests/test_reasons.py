"""Every ``reason`` the server raises is declared by the contract, procedure by procedure."""

from __future__ import annotations

import importlib
from typing import Any

import msgspec

import schema
from schema import Procedure
from schema.errors import ANY_CALL
from tests.support.reasons import handler_reasons, raised_anywhere

ALL: tuple[Procedure[Any, Any], ...] = tuple(schema.CONTRACT)


def declared_anywhere() -> set[tuple[str, str]]:
    return {(code, r) for p in ALL for code in (*p.errors, *ANY_CALL) for r in p.reasons_for(code)}


def test_every_reason_written_in_the_server_is_declared() -> None:
    found = raised_anywhere()
    assert len(found) > 30  # the scan sees the server's errors
    assert found - declared_anywhere() == set()


def test_each_handler_declares_what_it_and_its_helpers_raise() -> None:
    checked = 0
    for (module, attribute), found in handler_reasons().items():
        if module not in {n.__name__.rpartition(".")[2] for n in schema.NAMESPACES}:
            continue  # rpc.discover, the spec's examples: no reasons
        spec = getattr(importlib.import_module(f"schema.{module}"), attribute)
        for code, reason in found:
            assert code in (*spec.errors, *ANY_CALL), f"{spec.name} raises undeclared {code}"
            assert reason in spec.reasons_for(code), f"{spec.name}: {code} {reason!r} undeclared"
            checked += 1
    assert checked > 50


def test_error_data_types_narrow_reason_and_carry_retry_after() -> None:
    [create] = [p for p in ALL if p.name == "being.create"]
    data = create.error_data("CONFLICT")
    ok = msgspec.json.decode(
        b'{"code":"CONFLICT","httpStatus":409,"reason":"in_progress","retryable":true,'
        b'"retryAfter":1.0}',
        type=data,
    )
    assert ok.reason == "in_progress"  # type: ignore[attr-defined]
    try:
        msgspec.json.decode(b'{"code":"CONFLICT","httpStatus":409,"reason":"nope"}', type=data)
    except msgspec.ValidationError as exc:
        assert "$.reason" in str(exc)
    else:
        raise AssertionError("an undeclared reason was accepted")


def test_discover_carries_each_declared_errors_data_schema() -> None:
    from schema.openrpc import build_openrpc

    document = build_openrpc(ALL, title="roomrpc", version="0")
    for method in document["methods"]:
        [spec] = [p for p in ALL if p.name == method["name"]]
        assert set(method["x-error-data"]) == set(spec.errors)
        for code, data in method["x-error-data"].items():
            reasons = data["properties"].get("reason", {}).get("enum", [])
            assert reasons == list(spec.reasons_for(code))
