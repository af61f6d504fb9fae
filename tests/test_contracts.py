"""Stale clients: calls from other contract versions are counted and logged once each."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from server.http.app import CLIENT_CONTRACTS

AppClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
HEALTH = json.dumps({"jsonrpc": "2.0", "method": "system.health", "id": 1})


async def test_calls_from_other_contract_versions_are_counted_and_logged_once(
    aiohttp_client: AppClient,
    make_app: Callable[..., web.Application],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await aiohttp_client(make_app())
    contracts = client.app[CLIENT_CONTRACTS]
    assert len(contracts.current) == 16
    caplog.set_level(logging.WARNING, "roomrpc.http")
    for sent in (contracts.current, "0123456789abcdef", "0123456789abcdef", "not-a-hash"):
        response = await client.post("/rpc", data=HEALTH, headers={"X-Contract-Hash": sent})
        assert response.status == 200
    assert contracts.calls == {"0123456789abcdef": 2, "other": 1}
    lines = [r.getMessage() for r in caplog.records if "regenerate" in r.getMessage()]
    assert len(lines) == 2 and "0123456789abcdef" in lines[0]


def test_the_checked_in_client_carries_the_hash_of_the_checked_in_contract() -> None:
    from pathlib import Path

    from schema.openrpc import contract_hash

    root = Path(__file__).resolve().parents[1]
    document = json.loads((root / "clients/openrpc.json").read_text())
    generated = (root / "clients/typescript/src/contract.gen.ts").read_text()
    assert f'export const CONTRACT_HASH = "{contract_hash(document)}";' in generated
