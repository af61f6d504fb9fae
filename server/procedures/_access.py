"""Reads every namespace shares: a being as the caller may see it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from schema.being import Being
from server.domain.access import can_see, not_found
from server.rpc import Principal
from server.storage import Storage, beings

__all__ = ["find_visible", "find_visible_cached"]


async def find_visible(
    conn: AsyncConnection, being_id: str, principal: Principal | None
) -> tuple[Being, str | None]:
    """The being and the caller's role in it; NOT_FOUND if absent or hidden from the caller."""
    found = await beings.get(conn, being_id, None if principal is None else principal.being_id)
    if found is None or not can_see(found[0], found[1], principal):
        raise not_found(being_id)
    return found


async def find_visible_cached(
    storage: Storage, being_id: str, principal: Principal | None
) -> tuple[Being, str | None]:
    """``find_visible`` from the row cache the bus keeps right (for answers, never for the
    checks a write makes: those read in its transaction)."""
    found = await beings.get_cached(
        storage, being_id, None if principal is None else principal.being_id
    )
    if found is None or not can_see(found[0], found[1], principal):
        raise not_found(being_id)
    return found
