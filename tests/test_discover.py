"""``rpc.discover``: an OpenRPC 1.3 document built from the contract."""

from __future__ import annotations

from typing import Any

import schema
from schema.openrpc import build_openrpc
from server import __version__
from tests.support.app import Post


async def discover(post: Post) -> dict[str, Any]:
    status, body = await post({"jsonrpc": "2.0", "method": "rpc.discover", "id": 1})
    assert status == 200
    result: dict[str, Any] = body["result"]
    return result


async def test_document_header(post: Post) -> None:
    doc = await discover(post)
    assert doc["openrpc"].startswith("1.3")
    assert doc["info"] == {"title": "roomrpc", "version": __version__}
    assert doc["servers"] == [{"name": "roomrpc", "url": "/rpc"}]


async def test_every_method_with_params_result_and_errors(post: Post) -> None:
    doc = await discover(post)
    methods = {m["name"]: m for m in doc["methods"]}
    assert "probe.echo" in methods and "system.health" in methods and "rpc.discover" in methods
    echo = methods["probe.echo"]
    assert echo["paramStructure"] == "by-name"
    params = {p["name"]: p for p in echo["params"]}
    assert list(params) == ["roomBeingId", "count", "address"]
    assert params["roomBeingId"]["required"] is True
    assert params["roomBeingId"]["schema"]["pattern"] == "^@[a-z0-9._-]{1,63}$"
    assert params["count"]["required"] is False
    assert params["count"]["schema"]["minimum"] == 1
    assert echo["result"]["schema"] == {"$ref": "#/components/schemas/EchoInput"}
    assert "EchoInput" in doc["components"]["schemas"]
    whoami = methods["probe.whoami"]
    assert whoami["errors"] == [{"$ref": "#/components/errors/UNAUTHORIZED"}]
    assert doc["components"]["errors"]["UNAUTHORIZED"] == {
        "code": -32001,
        "message": "Unauthorized",
        "data": {"code": "UNAUTHORIZED", "httpStatus": 401},
    }
    assert whoami["x-protected"] is True and whoami["x-kind"] == "query"


async def test_every_ref_resolves(post: Post) -> None:
    doc = await discover(post)

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        kind, _, name = ref.removeprefix("#/components/").partition("/")
        assert name in doc["components"][kind], ref


def test_the_builder_needs_only_the_contract() -> None:
    doc = build_openrpc(schema.CONTRACT, title="roomrpc", version="1")
    assert [m["name"] for m in doc["methods"]] == sorted(p.name for p in schema.CONTRACT)
