"""``roomrpc space members|add-member|set-role|remove-member``: memberships as an operator."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from schema.space import Member, Role
from server.cli._common import being_id, load, run
from server.domain.access import now
from server.rpc import RpcError
from server.storage import Storage, beings, memberships

__all__ = ["space"]

ROLES = click.Choice(["owner", "moderator", "member", "listener"])


@click.group()
def space() -> None:
    """Manage the members of a space as an operator."""


async def _space(conn: AsyncConnection, space_id: str) -> None:
    found = await beings.get(conn, space_id, None)
    if found is None:
        raise RpcError("NOT_FOUND", f"no being {space_id} in this database")
    if found[0].type != "space":
        raise RpcError("BAD_REQUEST", f"{space_id} is a {found[0].type}, not a space")


async def _member(conn: AsyncConnection, space_id: str, member_id: str) -> Member:
    await _space(conn, space_id)
    member = await memberships.get(conn, space_id, member_id)
    if member is None:
        if not await beings.exists(conn, member_id):
            raise RpcError("NOT_FOUND", f"no being {member_id} in this database")
        raise RpcError("NOT_FOUND", f"{member_id} is not a member of {space_id}")
    return member


async def _keep_an_owner(conn: AsyncConnection, member: Member) -> None:
    if member.role == "owner" and await memberships.count_owners(conn, member.space_id) == 1:
        raise RpcError(
            "PRECONDITION_FAILED",
            f"{member.being_id} is the last owner of {member.space_id}: make another member "
            "owner first",
        )


@space.command("members")
@click.argument("space_id", callback=being_id)
def members(space_id: str) -> None:
    """List a space's members and their roles (creates nothing)."""

    async def work(storage: Storage) -> list[Member]:
        found: list[Member] = []
        async with storage.read() as conn:
            await _space(conn, space_id)
            while True:
                page = await memberships.page(
                    conn, space_id, found[-1].being_id if found else None, 500
                )
                found += page
                if len(page) < 500:
                    return found

    for member in run(load(), work, create=False):
        click.echo(f"{member.being_id:24} {member.role}")


@space.command("add-member")
@click.argument("space_id", callback=being_id)
@click.argument("member_id", callback=being_id)
@click.option("--role", type=ROLES, default="member", show_default=True)
def add_member(space_id: str, member_id: str, role: Role) -> None:
    """Add a being to a space."""

    async def work(storage: Storage) -> None:
        async with storage.write() as conn:
            await _space(conn, space_id)
            if not await beings.exists(conn, member_id):
                raise RpcError("NOT_FOUND", f"no being {member_id} in this database")
            await memberships.add(conn, space_id, member_id, role, now())

    run(load(), work, create=False)
    click.echo(f"{member_id} is now a {role} of {space_id}")


@space.command("set-role")
@click.argument("space_id", callback=being_id)
@click.argument("member_id", callback=being_id)
@click.argument("role", type=ROLES)
def set_role(space_id: str, member_id: str, role: Role) -> None:
    """Change a member's role (a space keeps at least one owner)."""

    async def work(storage: Storage) -> None:
        async with storage.write() as conn:
            member = await _member(conn, space_id, member_id)
            if role != "owner":
                await _keep_an_owner(conn, member)
            await memberships.set_role(conn, space_id, member_id, role)

    run(load(), work, create=False)
    click.echo(f"{member_id} is now a {role} of {space_id}")


@space.command("remove-member")
@click.argument("space_id", callback=being_id)
@click.argument("member_id", callback=being_id)
def remove_member(space_id: str, member_id: str) -> None:
    """Remove a member from a space (a space keeps at least one owner)."""

    async def work(storage: Storage) -> None:
        async with storage.write() as conn:
            member = await _member(conn, space_id, member_id)
            await _keep_an_owner(conn, member)
            await memberships.remove(conn, space_id, member_id)

    run(load(), work, create=False)
    click.echo(f"{member_id} is no longer a member of {space_id}")
