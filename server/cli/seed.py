"""Operator writes outside any request: create or delete a being, seed the demo world."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from schema import being as being_schema
from schema.being import Being
from server.domain.access import now
from server.rpc import RpcError
from server.storage import Storage, beings, intentions, memberships, presence, revocations

__all__ = ["DEMO_SPACE", "DEMO_USER", "create_being", "delete_being", "seed_demo"]

DEMO_USER = "@alice"
DEMO_SPACE = "@demo-space"
_DEMO: tuple[dict[str, Any], ...] = (
    {"id": "@alice", "name": "Alice", "type": "user"},
    {"id": "@bob", "name": "Bob", "type": "user"},
    {"id": DEMO_SPACE, "name": "Demo space", "type": "space", "ownerId": "@alice"},
    {
        "id": "@alice-private",
        "name": "Alice's private space",
        "type": "space",
        "ownerId": "@alice",
        "visibility": "private",
    },
)


async def _insert(conn: AsyncConnection, fields: dict[str, Any]) -> Being:
    """Insert a being of any type, checked against ``being.create``'s own schema."""
    params = msgspec.convert(fields, being_schema.CreateBeingInput)
    stamp = now()
    new = Being(
        id=params.id,
        name=params.name,
        type=params.type,
        owner_id=params.owner_id,
        visibility=(params.visibility or "public") if params.type == "space" else None,
        metadata=params.metadata,
        created_at=stamp,
        updated_at=stamp,
    )
    await beings.insert(conn, new)
    if new.type == "space" and new.owner_id is not None:
        await memberships.add(conn, new.id, new.owner_id, "owner", stamp)
    return new


async def create_being(storage: Storage, fields: dict[str, Any]) -> Being:
    """Create a being as an operator (users too); CONFLICT if the id is taken.

    ``fields`` are ``being.create``'s params (camelCase); a bad one raises
    ``msgspec.ValidationError`` naming it.
    """
    async with storage.write() as conn:
        return await _insert(conn, fields)


async def seed_demo(storage: Storage) -> list[str]:
    """Two users, a public space ``@demo-space`` and a private one, in one transaction.

    Returns the ids it created; what already exists is left as it is.
    """
    created: list[str] = []
    async with storage.write() as conn:
        for fields in _DEMO:
            if not await beings.exists(conn, fields["id"]):
                created.append((await _insert(conn, fields)).id)
        if DEMO_SPACE in created:
            stamp = now()
            await memberships.add(conn, DEMO_SPACE, "@bob", "member", stamp)
            await intentions.insert(
                conn,
                space_id=DEMO_SPACE,
                author_id=DEMO_USER,
                kind="message",
                content="Welcome to roomrpc's demo space!",
                now=stamp,
            )
    return created


async def delete_being(storage: Storage, being_id: str) -> Being | None:
    """Delete a being as an operator, with ``being.delete``'s own refusals; None if absent."""
    async with storage.write() as conn:
        found = await beings.get(conn, being_id, None)
        if found is None:
            return None
        being, _ = found
        bots = await beings.count_bots(conn, being_id)
        if bots:
            message = f"{being_id} owns {bots} bots: delete them first ('roomrpc being list')"
            raise RpcError("PRECONDITION_FAILED", message)
        sole = await memberships.sole_owner_of(conn, being_id)
        if sole:
            message = (
                f"{being_id} is the last owner of {', '.join(sole)}: make another member "
                "owner first ('roomrpc space set-role SPACE BEING owner')"
            )
            raise RpcError("PRECONDITION_FAILED", message)
        await beings.delete(conn, being_id)
        if being.type == "space":
            await presence.clear_room(conn, being_id)
            await revocations.clear_room(conn, being_id)
    storage.deletions += 1
    return being
