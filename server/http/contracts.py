"""Which contract versions callers were built against: stale clients show up here.

The TypeScript client sends ``X-Contract-Hash``, the hash of the OpenRPC
document it was generated from (``schema.openrpc.contract_hash``). A call from
another version is counted, and logged once per version, so an operator sees
clients that still run an older (or newer) contract.
"""

from __future__ import annotations

import logging
import re

__all__ = ["ClientContracts"]

log = logging.getLogger("roomrpc.http")
_HASH = re.compile(r"^[0-9a-f]{16}$")
_MOST = 64  # distinct versions counted by name; the rest under "other"


class ClientContracts:
    """Counts requests by the contract hash their client sent, when it is not ours."""

    def __init__(self, current: str) -> None:
        self.current = current
        self.calls: dict[str, int] = {}  # hash (or "other") -> requests from it

    def seen(self, sent: str) -> None:
        """Count one request of a client that sent ``sent`` (called when it differs)."""
        if sent == self.current:
            return
        name = sent if _HASH.match(sent) else "other"
        count = self.calls.get(name)
        if count is None:
            if len(self.calls) >= _MOST:
                name = "other"
                count = self.calls.get(name, 0)
            else:
                count = 0
                log.warning(
                    "a client of contract %s calls this server (contract %s): regenerate it",
                    name,
                    self.current,
                )
        self.calls[name] = count + 1
