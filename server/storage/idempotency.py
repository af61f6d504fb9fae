"""Idempotency keys in the database: one request runs per caller and key, repeats replay it.

The reservation is an ``INSERT ... ON CONFLICT DO NOTHING`` of the key's row:
the database's primary key lets exactly one request win, on SQLite and on
PostgreSQL alike, however many instances race. The winner runs and stores its
answer; a repeat with the same body replays it; another body is CONFLICT
(``idempotency_key_reused``); a repeat while the winner still runs polls for a
bounded time, then is CONFLICT (``in_progress``, retryable). A row left running
past twice the call timeout (its instance died) or past its expiry is taken
over by the next request, by an ``UPDATE`` only one of them can make.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from server.rpc import RpcError, Stored
from server.settings import Settings
from server.storage.store import Storage
from server.storage.tables import idempotency_keys as keys
from server.storage.tables import upsert_of

__all__ = ["IdempotencyStore"]

log = logging.getLogger("roomrpc.storage")
_POLL_FIRST, _POLL_MAX = 0.02, 0.25  # seconds between looks at a running twin


class IdempotencyStore:
    """The ``Idempotency`` the dispatcher uses, over ``Storage``."""

    def __init__(self, storage: Callable[[], Storage], settings: Settings) -> None:
        self._storage = storage
        self._ttl = timedelta(seconds=settings.idempotency_ttl_seconds)
        self._max_bytes = settings.idempotency_max_bytes
        self._wait = settings.idempotency_wait_seconds
        self._stale = timedelta(seconds=2 * settings.rpc_call_timeout)

    async def begin(self, scope: str, key: str, digest: bytes) -> Stored | None:
        """Reserve the key (None), or the kept answer of the same body; see the module."""
        give_up = time.monotonic() + self._wait
        pause = _POLL_FIRST
        while True:
            now = datetime.now(UTC)
            row = await self._reserve(scope, key, digest, now)
            if row is None:
                return None
            if row.digest != digest:
                message = "This Idempotency-Key was used with another request body"
                raise RpcError("CONFLICT", message, reason="idempotency_key_reused")
            if row.status is not None:
                if not row.kept:
                    message = "This request ran, but its answer was too large to keep"
                    raise RpcError("CONFLICT", message, reason="answer_not_kept")
                return Stored(row.body, row.status)
            if time.monotonic() >= give_up:
                message = "A request with this Idempotency-Key is still running"
                raise RpcError(
                    "CONFLICT", message, reason="in_progress", retryable=True, retry_after=1.0
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, _POLL_MAX)

    async def _reserve(self, scope: str, key: str, digest: bytes, now: datetime) -> Any:
        """None when this request now holds the key; else the key's row as it stands."""
        storage = self._storage()
        values = {
            "scope": scope,
            "key": key,
            "digest": digest,
            "status": None,
            "body": None,
            "kept": True,
            "started_at": now,
            "expires_at": now + self._ttl,
        }
        insert = upsert_of(storage.dialect)
        async with storage.write() as conn:
            added = await conn.execute(
                insert(keys).values(values).on_conflict_do_nothing(index_elements=["scope", "key"])
            )
            if added.rowcount == 1:
                return None
            taken = await conn.execute(  # expired, or abandoned by an instance that died
                keys.update()
                .where(keys.c.scope == scope, keys.c.key == key)
                .where(
                    (keys.c.expires_at <= now)
                    | (keys.c.status.is_(None) & (keys.c.started_at < now - self._stale))
                )
                .values(values)
            )
            if taken.rowcount == 1:
                return None
            where = (keys.c.scope == scope, keys.c.key == key)
            row = (await conn.execute(sa.select(keys).where(*where))).first()
        if row is None:  # freed between the two statements: try again at once
            return await self._reserve(scope, key, digest, now)
        return row

    async def finish(self, scope: str, key: str, answer: Stored) -> None:
        """Keep the answer (bodies over ``IDEMPOTENCY_MAX_BYTES`` are not kept)."""
        kept = answer.body is None or len(answer.body) <= self._max_bytes
        values = {"status": answer.status, "body": answer.body if kept else None, "kept": kept}
        async with self._storage().write() as conn:
            await conn.execute(
                keys.update().where(keys.c.scope == scope, keys.c.key == key).values(values)
            )

    async def abandon(self, scope: str, key: str) -> None:
        """Free a key whose request did not happen, so that a retry runs it."""
        where = (keys.c.scope == scope, keys.c.key == key, keys.c.status.is_(None))
        async with self._storage().write() as conn:
            await conn.execute(keys.delete().where(*where))

    async def purge(self) -> int:
        """Delete expired answers; returns how many."""
        async with self._storage().write() as conn:
            gone = await conn.execute(keys.delete().where(keys.c.expires_at <= datetime.now(UTC)))
        return int(gone.rowcount)
