"""The typed Python client of the roomrpc contract.

``Client(url, token=...)`` is async; ``SyncClient`` blocks, for scripts. Both take
their namespaces and procedures from the contract (``client.being.get(id=...)``),
generated into ``_generated.py`` by ``roomrpc codegen``. Needs aiohttp, msgspec and
the contract package ``schema`` only.
"""

from __future__ import annotations

from roomrpc.client import _generated
from roomrpc.client._client import Client, SyncClient
from roomrpc.client._errors import RpcError
from roomrpc.client._generated import *  # noqa: F403  (the error classes, one per named code)
from roomrpc.client._subscription import Subscription, SyncSubscription
from roomrpc.client._wire import RetryPolicy

__all__ = [
    "Client",
    "RetryPolicy",
    "RpcError",
    "Subscription",
    "SyncClient",
    "SyncSubscription",
]
__all__ += _generated.__all__
