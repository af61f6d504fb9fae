"""``rpc.discover``: the OpenRPC document, built once from the contract."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from schema import Procedure
from schema import rpc as rpc_schema
from schema.openrpc import build_openrpc
from server.rpc.context import Context
from server.rpc.router import Router

__all__ = ["discover_router"]


def discover_router(contract: Iterable[Procedure[Any, Any]], *, title: str, version: str) -> Router:
    """A router serving ``rpc.discover`` with the document pre-encoded."""
    document = msgspec.Raw(
        msgspec.json.encode(build_openrpc(contract, title=title, version=version))
    )
    router = Router()

    @router.procedure(rpc_schema.discover)
    async def discover(ctx: Context[Any], params: rpc_schema.DiscoverInput) -> Any:
        return document

    return router
