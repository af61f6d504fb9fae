"""``rpc.discover``: the OpenRPC document, built once from the contract."""

from __future__ import annotations

from typing import Any

import msgspec

from schema import rpc as rpc_schema
from server.rpc.context import Context
from server.rpc.router import Router

__all__ = ["discover_router"]


def discover_router(document: dict[str, Any]) -> Router:
    """A router serving ``rpc.discover``: the OpenRPC ``document`` (``build_openrpc``'s),
    kept as its encoded bytes."""
    encoded = msgspec.Raw(msgspec.json.encode(document))
    router = Router()

    @router.procedure(rpc_schema.discover)
    async def discover(ctx: Context[Any], params: rpc_schema.DiscoverInput) -> Any:
        return encoded

    return router
