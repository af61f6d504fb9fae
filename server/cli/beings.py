"""``roomrpc token``, ``roomrpc being create|list|delete``, ``seed``, ``migrate``, ``revision``."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import click
import msgspec

from schema.being import Being, BeingType
from server.auth import SecretMissing, Tokens
from server.cli._common import being_id, device_label, fail, load, run
from server.cli.seed import create_being, delete_being, seed_demo
from server.rpc import RpcError
from server.storage import Storage, beings

__all__ = ["being", "migrate", "parse_duration", "revision", "seed", "token"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[smhd]?)$")


def parse_duration(
    ctx: click.Context | None, param: click.Parameter | None, value: str
) -> timedelta:
    """``90``, ``90s``, ``15m``, ``1h``, ``7d`` as a timedelta (a click callback)."""
    match = _DURATION.match(value.strip())
    if match is None or int(match["n"]) == 0:
        raise click.BadParameter(f"{value!r} is not a duration like 90s, 15m, 1h or 7d")
    return timedelta(seconds=int(match["n"]) * _UNITS[match["unit"] or "s"])


def _no_being(being: str, role: str = "") -> RpcError:
    return RpcError("NOT_FOUND", f"no being {being}{role} in this database")


@click.command()
@click.argument("being_id", callback=being_id)
@click.option("--ttl", default="1h", show_default=True, callback=parse_duration, help="Lifetime.")
@click.option("--admin", is_flag=True, help="Grant the admin role (trusted services).")
@click.option(
    "--device",
    callback=device_label,
    help="Label of the tab or device the token is for: its LiveKit identity becomes "
    "@being#device (default: none, the identity is the being id).",
)
def token(being_id: str, ttl: timedelta, admin: bool, device: str | None) -> None:
    """Print a bearer token for an existing being (creates nothing)."""
    settings = load()

    async def check(storage: Storage) -> None:
        async with storage.read() as conn:
            if not await beings.exists(conn, being_id):
                raise RpcError(
                    "NOT_FOUND",
                    f"no being {being_id} in this database (create it with "
                    f"'roomrpc being create {being_id} --type user --name NAME')",
                )

    run(settings, check, create=False)
    try:
        tokens = Tokens.from_settings(settings, create_secret=False)
    except SecretMissing as exc:
        fail(
            f"AUTH_SECRET is not set and there is no generated secret at {exc}: set "
            "AUTH_SECRET to the server's, or DATA_DIR to the server's data folder "
            "('roomrpc serve' generates one on its first start)",
            1,
        )
    roles = ("admin",) if admin else ()
    click.echo(tokens.mint(being_id, ttl=ttl, roles=roles, device=device))


@click.group()
def being() -> None:
    """Manage beings as an operator."""


@being.command("create")
@click.argument("being_id", callback=being_id)
@click.option("--type", "type_", type=click.Choice(["user", "space", "bot"]), required=True)
@click.option("--name", required=True, help="Display name.")
@click.option("--owner", callback=being_id, help="Owner being id (spaces and bots only).")
@click.option(
    "--visibility",
    type=click.Choice(["public", "private"]),
    help="Spaces only.  [default: public]",
)
@click.option("--metadata", default="{}", show_default=True, help="A JSON object.")
def create(
    being_id: str, name: str, type_: str, owner: str | None, visibility: str | None, metadata: str
) -> None:
    """Create a being (any type, users included) and print it as JSON."""
    if visibility is not None and type_ != "space":
        fail(f"--visibility applies to spaces only, and {being_id} is a {type_}", 2)
    if owner is not None and type_ == "user":
        fail(f"--owner applies to spaces and bots only, and {being_id} is a user", 2)
    try:
        meta = json.loads(metadata)
    except json.JSONDecodeError:
        fail("--metadata must be a JSON object", 2)
    if not isinstance(meta, dict):
        fail("--metadata must be a JSON object", 2)
    fields = {"id": being_id, "name": name, "type": type_, "metadata": meta}
    if owner is not None:
        fields["ownerId"] = owner
    if visibility is not None:
        fields["visibility"] = visibility

    async def work(storage: Storage) -> bytes:
        if owner is not None:
            async with storage.read() as conn:
                if not await beings.exists(conn, owner):
                    raise _no_being(owner, " (the --owner)")
        try:
            return msgspec.json.encode(await create_being(storage, fields))
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid being: {exc}") from None

    click.echo(run(load(), work, create=True).decode())


@being.command("list")
@click.option("--type", "type_", type=click.Choice(["user", "space", "bot"]), help="Only these.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def list_(type_: BeingType | None, as_json: bool) -> None:
    """List every being, private spaces included (creates nothing)."""

    async def work(storage: Storage) -> list[Being]:
        found: list[Being] = []
        async with storage.read() as conn:
            while True:
                after = found[-1].id if found else None
                page = await beings.list_visible(
                    conn, None, admin=True, type=type_, after=after, limit=500
                )
                found += page
                if len(page) < 500:
                    return found

    found = run(load(), work, create=False)
    for item in found:
        if as_json:
            click.echo(msgspec.json.encode(item).decode())
        else:
            extra = " ".join(
                part
                for part in (
                    f"owner={item.owner_id}" if item.owner_id else "",
                    f"visibility={item.visibility}" if item.visibility else "",
                )
                if part
            )
            click.echo(f"{item.id:24} {item.type:6} {item.name}  {extra}".rstrip())
    if not found and not as_json:
        click.echo("roomrpc: no beings yet ('roomrpc seed' makes the demo world)", err=True)


@being.command("delete")
@click.argument("being_id", callback=being_id)
def delete(being_id: str) -> None:
    """Delete a being; refused while it owns bots or is a space's last owner."""

    async def work(storage: Storage) -> Being:
        gone = await delete_being(storage, being_id)
        if gone is None:
            raise _no_being(being_id)
        return gone

    gone = run(load(), work, create=False)
    click.echo(f"deleted {gone.type} {gone.id}")


@click.command()
def seed() -> None:
    """Create the demo world (two users, a public and a private space) if missing."""
    created = run(load(), seed_demo, create=True)
    click.echo(f"created {', '.join(created)}" if created else "the demo world is already there")


@click.command()
@click.argument("message")
@click.option("--empty", is_flag=True, help="Do not compare tables.py with the database.")
def revision(message: str, empty: bool) -> None:
    """Write a new migration (autogenerated from server/storage/tables.py)."""
    from server.storage.migrate import new_revision

    async def work(storage: Storage) -> str:
        async with storage.write() as conn:
            return await new_revision(conn, message, autogenerate=not empty)

    click.echo(f"wrote {run(load(), work, create=True)}: review it before you commit it")


@click.command()
def migrate() -> None:
    """Create the database, or bring it to the newest schema (serve also does this)."""

    async def work(storage: Storage) -> None:
        return None

    run(load(), work, create=True)
    click.echo("the database is up to date")
