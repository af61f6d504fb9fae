"""This instance's part of presence: which sockets hold which sessions, the heartbeat, the sweep.

Sessions live in the database (``server.storage.presence_sessions``); what only
this process knows is which of its open sockets hold them. The heartbeat
renews those every third of ``PRESENCE_TTL_SECONDS``; the sweep deletes expired
sessions (anyone's: a crashed instance's too) and tells their leaves. Every
change is told inside the transaction that writes it, so an event exists
exactly when its write committed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from server.bus import Bus, Message
from server.domain.access import now
from server.domain.presence import (
    EventType,
    Member,
    PresentSession,
    SessionKey,
    Status,
    change_of,
    grace_until,
    heartbeat_every,
    held_until,
    member_key,
    members_of,
    sweep_every,
)
from server.rpc import RpcError
from server.settings import Settings
from server.storage import Storage, StorageUnavailable
from server.storage import presence_sessions as stored

__all__ = ["PRESENCE", "PresenceKeeper", "presence_channel"]

log = logging.getLogger("roomrpc.presence")
_KEEP_READS = 256
_Read = tuple[datetime, "Member | None"]  # when it was read, and what
PRESENCE = "presence"  # the bus message kind: member ``b`` of the channel's room changed


def presence_channel(room_id: str) -> str:
    """The bus channel of a room's presence (apart from the space's own, which carries
    its intentions: their watchers need not hear every status change)."""
    return f"presence:{room_id}"


class PresenceKeeper:
    """The sessions this instance's sockets hold, kept alive while the instance is."""

    def __init__(self, settings: Settings) -> None:
        host = socket.gethostname()[:32]
        self.instance_id = f"{host}:{os.getpid()}:{secrets.token_hex(4)}"
        self.grace = settings.presence_grace_seconds
        self.ttl = settings.presence_ttl_seconds
        self.per_socket = settings.presence_sessions_per_socket
        self._held: dict[SessionKey, set[str]] = {}  # session -> ids of the sockets holding it
        self._of_socket: dict[str, set[SessionKey]] = {}  # socket id -> the sessions it holds
        self._opening: dict[SessionKey, int] = {}  # held, their join not yet committed
        self._reads: OrderedDict[tuple[str, str, int], asyncio.Future[_Read]]
        self._reads = OrderedDict()  # recent changes' reads, shared by watchers
        self._closers: set[str] = set()  # sockets that will call ``release`` when they close
        self._closing: set[asyncio.Task[None]] = set()
        self._storage: Storage | None = None
        self._bus: Bus | None = None
        self._beating: asyncio.Task[None] | None = None

    # --- writes, each in the caller's transaction ---

    async def told(
        self, conn: AsyncConnection, room_id: str, key: str, before: Member | None, at: datetime
    ) -> Member | None:
        """Tell what became of member ``key`` since ``before``; the member now."""
        after = await stored.member(conn, room_id, key, at)
        change = change_of(before, after)
        if change == "leave" and before is not None:
            await self._tell(conn, room_id, change, before.gone())
        elif change is not None and after is not None:
            await self._tell(conn, room_id, change, after)
        return after

    async def _tell(
        self, conn: AsyncConnection, room_id: str, change: EventType, member: Member
    ) -> None:
        """Tell the room's watchers, when ``conn`` commits, that ``member`` changed (they
        read it again: the rows, not the message, say how)."""
        if self._bus is None:
            raise RuntimeError("presence is not running: the app has not started")
        # A random id tells this change from the next: watchers share one read per change.
        change_id = secrets.randbits(62) or 1
        message = Message(presence_channel(room_id), PRESENCE, change_id, member.identity)
        await self._bus.publish(conn, message)

    async def room_told(
        self, conn: AsyncConnection, room_id: str, before: list[Member], at: datetime
    ) -> None:
        """Tell every member's change in a room since ``before`` (LiveKit's events, which
        may move many at once)."""
        was = {m.identity: m for m in before}
        now_ = {m.identity: m for m in await stored.room_members(conn, room_id, at)}
        for key in [*was, *(k for k in now_ if k not in was)]:
            earlier, later = was.get(key), now_.get(key)
            change = change_of(earlier, later)
            if change == "leave" and earlier is not None:
                await self._tell(conn, room_id, change, earlier.gone())
            elif change is not None and later is not None:
                await self._tell(conn, room_id, change, later)

    async def open(
        self,
        conn: AsyncConnection,
        key: SessionKey,
        *,
        status: Status | None,
        custom_status: str | None,
    ) -> tuple[Member, bool]:
        """Hold ``key`` here (resuming it within its grace period); the member and ``resumed``."""
        at = now()
        before = await stored.member(conn, key.room_id, key.being_id, at)
        opened = await stored.open_session(
            conn,
            key,
            status=status,
            custom_status=custom_status,
            instance_id=self.instance_id,
            at=at,
            expires_at=held_until(at, self.ttl),
        )
        after = await self.told(conn, key.room_id, key.being_id, before, at)
        assert after is not None  # just written, in this transaction
        return after, opened.resumed

    async def change(
        self, conn: AsyncConnection, key: SessionKey, **values: str | None
    ) -> Member | None:
        """Change a live session's status; None when there is no such session."""
        at = now()
        before = await stored.member(conn, key.room_id, key.being_id, at)
        if not values:
            return before if await stored.get(conn, key, at) is not None else None
        if not await stored.update(conn, key, at, **values):
            return None
        return await self.told(conn, key.room_id, key.being_id, before, at)

    async def end(self, conn: AsyncConnection, key: SessionKey) -> bool:
        """End a session at once (wherever it is held); False when there was none."""
        at = now()
        before = await stored.member(conn, key.room_id, key.being_id, at)
        if not await stored.end(conn, key):
            return False
        await self.told(conn, key.room_id, key.being_id, before, at)
        return True

    async def member_now(
        self, room_id: str, key: str, change_id: int, not_before: datetime
    ) -> _Read:
        """Member ``key`` as it is now, read once for all this process's watchers of the
        change ``change_id`` (recent changes only), with when it was read; never a read
        older than ``not_before`` (the watcher's latest: it would take it back in time)."""
        storage = self._storage
        if storage is None:
            raise RuntimeError("presence is not running: the app has not started")
        shared = (room_id, key, change_id)
        pending = self._reads.get(shared)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._reads[shared] = pending
            if len(self._reads) > _KEEP_READS:
                self._reads.popitem(last=False)
            try:
                pending.set_result(await self._read_member(storage, room_id, key))
            except BaseException as exc:
                self._reads.pop(shared, None)
                if isinstance(exc, Exception):
                    pending.set_exception(exc)
                    pending.exception()  # retrieved here: the others re-raise it
                else:
                    pending.cancel()
                raise
        read = await pending
        return read if read[0] >= not_before else await self._read_member(storage, room_id, key)

    async def _read_member(
        self, storage: Storage, room_id: str, key: str
    ) -> tuple[datetime, Member | None]:
        at = now()
        async with storage.read() as conn:
            return at, await stored.member(conn, room_id, key, at)

    # --- the sockets that hold sessions ---

    def hold(self, key: SessionKey, connection_id: str) -> bool:
        """Count ``connection_id`` among the holders of ``key``; True the first time that
        socket holds anything (the caller then arranges for ``release`` when it closes).

        TOO_MANY_REQUESTS past ``PRESENCE_SESSIONS_PER_SOCKET`` sessions on one socket.
        """
        keys = self._of_socket.setdefault(connection_id, set())
        if key not in keys and len(keys) >= self.per_socket:
            raise RpcError(
                "TOO_MANY_REQUESTS",
                f"At most {self.per_socket} presence sessions per socket: leave one first",
                reason="too_many_sessions",
            )
        first = connection_id not in self._closers
        self._closers.add(connection_id)
        keys.add(key)
        self._held.setdefault(key, set()).add(connection_id)
        self._opening[key] = self._opening.get(key, 0) + 1
        return first

    def opened(self, key: SessionKey) -> None:
        """The join that held ``key`` committed or failed: the heartbeat may judge it now."""
        left = self._opening.get(key, 0) - 1
        if left > 0:
            self._opening[key] = left
        else:
            self._opening.pop(key, None)

    def let_go(self, key: SessionKey, connection_id: str) -> bool:
        """``connection_id`` holds ``key`` no more; True when no socket here does."""
        keys = self._of_socket.get(connection_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._of_socket[connection_id]
        ids = self._held.get(key)
        if ids is None:
            return False
        ids.discard(connection_id)
        if ids:
            return False
        del self._held[key]
        return True

    def forget(self, key: SessionKey) -> None:
        """``key`` ended: no socket here holds it any more."""
        for connection_id in self._held.pop(key, set()):
            keys = self._of_socket.get(connection_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._of_socket[connection_id]

    async def release(self, connection_id: str) -> None:
        """A socket closed: each session only it held here enters its grace period."""
        self._closers.discard(connection_id)
        for key in list(self._of_socket.get(connection_id, ())):
            if self.let_go(key, connection_id):
                # Its own task: the socket's handler may be cancelled (the client left)
                # while this awaits, and the write must finish all the same.
                task = asyncio.get_running_loop().create_task(self._close(key))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
                await asyncio.shield(task)

    async def _close(self, key: SessionKey) -> None:
        storage = self._storage
        if storage is None:
            return  # shutting down: the sessions expire by themselves
        try:
            async with storage.write() as conn:
                await stored.lock(conn, key)  # a join here waits, or is seen below
                if key in self._held:
                    return  # a socket of this instance took it up again meanwhile
                if self.grace > 0:
                    await stored.close(conn, key, self.instance_id, grace_until(now(), self.grace))
                else:
                    await self.end(conn, key)
        except Exception:
            log.exception("presence: closing a session failed; it expires by its TTL")

    # --- the heartbeat and the sweep ---

    @asynccontextmanager
    async def running(self, storage: Storage, bus: Bus) -> AsyncIterator[None]:
        """Heartbeat and sweep while the app runs; both stop (bounded) at shutdown."""
        self._storage, self._bus = storage, bus
        self._beating = asyncio.create_task(self._every(heartbeat_every(self.ttl), self.beat))
        sweeping = asyncio.create_task(self._every(sweep_every(self.grace, self.ttl), self.sweep))
        try:
            yield
        finally:
            if self._closing:  # sockets closed at shutdown: their grace begins
                await asyncio.wait(self._closing, timeout=5.0)
            self.stop_heartbeat()
            sweeping.cancel()
            with suppress(asyncio.CancelledError):
                await sweeping
            self._storage = None

    def stop_heartbeat(self) -> None:
        """Stop renewing: to the other instances this one is now as good as crashed."""
        if self._beating is not None:
            self._beating.cancel()
            self._beating = None

    async def _every(self, seconds: float, step: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                async with asyncio.timeout(max(seconds, 1.0)):
                    await step()
            except asyncio.CancelledError:
                raise
            except (StorageUnavailable, TimeoutError):  # the database is down or slow: one line
                log.warning("presence: %s skipped, the database is unavailable", step.__name__)
            except Exception:
                log.exception("presence: periodic %s failed; next try in %.2fs", step, seconds)

    async def beat(self) -> None:
        """Renew the sessions held here; forget those swept meanwhile (this instance was
        silent for longer than the TTL, or someone left them from elsewhere)."""
        storage = self._storage
        held = {key for key in self._held if key not in self._opening}  # rows not yet written
        if storage is None or not held:
            return
        at = now()
        async with storage.write() as conn:
            renewed = await stored.renew(conn, self.instance_id, held, held_until(at, self.ttl))
        for key in held - renewed:
            log.info("presence: %s in %s is no longer held here", key.being_id, key.room_id)
            self.forget(key)

    async def sweep(self) -> int:
        """Delete expired sessions (anyone's) and tell what became of their beings; how many."""
        storage = self._storage
        if storage is None:
            return 0
        at = now()
        async with storage.read() as conn:
            if not await stored.any_expired(conn, at):
                return 0
        async with storage.write() as conn:
            gone = await stored.sweep(conn, at)
            by_member: dict[tuple[str, str], list[PresentSession]] = {}
            for room_id, session in gone:
                by_member.setdefault((room_id, member_key(session)), []).append(session)
            for (room_id, key), sessions in by_member.items():
                after = await stored.member(conn, room_id, key, at)
                kept = () if after is None else after.sessions
                [before] = members_of([*kept, *sessions])
                await self.told(conn, room_id, key, before, at)
        return len(gone)
