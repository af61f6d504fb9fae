"""``roomrpc token``, ``roomrpc being create``, ``roomrpc seed``, ``roomrpc migrate``,
and the demo world ``roomrpc serve`` sets up on a fresh embedded database."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import NoReturn, TypeVar

import click
import msgspec
from aiohttp import web

from server.auth import Tokens
from server.rpc import RpcError
from server.seed import DEMO_USER, create_being, seed_demo
from server.settings import Settings
from server.storage import Storage, StorageUnavailable, beings

__all__ = ["being", "demo_world", "migrate", "parse_duration", "seed", "token"]

T = TypeVar("T")
log = logging.getLogger("roomrpc")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>[smhd]?)$")
DEMO_TOKEN_TTL = timedelta(days=1)


def parse_duration(
    ctx: click.Context | None, param: click.Parameter | None, value: str
) -> timedelta:
    """``90``, ``90s``, ``15m``, ``1h``, ``7d`` as a timedelta (a click callback)."""
    match = _DURATION.match(value.strip())
    if match is None or int(match["n"]) == 0:
        raise click.BadParameter(f"{value!r} is not a duration like 90s, 15m, 1h or 7d")
    return timedelta(seconds=int(match["n"]) * _UNITS[match["unit"] or "s"])


def _run(settings: Settings, work: Callable[[Storage], Awaitable[T]]) -> T:
    """Open the database (migrating it), run ``work``, close; errors end the command."""

    async def main() -> T:
        storage = await Storage.open(settings)
        try:
            return await work(storage)
        finally:
            await storage.close()

    try:
        return asyncio.run(main())
    except StorageUnavailable:
        _fail("the database is unavailable (check DATABASE_URL)", 1)
    except RpcError as exc:
        _fail(exc.message, 1)
    except ValueError as exc:
        _fail(str(exc), 2)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"roomrpc: {message}", err=True)
    sys.exit(code)


def _settings() -> Settings:
    from server.cli import _settings as load  # one loader, one error format

    return load()


@click.command()
@click.argument("being_id")
@click.option("--ttl", default="1h", show_default=True, callback=parse_duration, help="Lifetime.")
@click.option("--admin", is_flag=True, help="Grant the admin role (trusted services).")
def token(being_id: str, ttl: timedelta, admin: bool) -> None:
    """Print a bearer token for an existing being."""
    settings = _settings()

    async def check(storage: Storage) -> bool:
        async with storage.read() as conn:
            return await beings.exists(conn, being_id)

    if not _run(settings, check):
        _fail(f"no being {being_id} (create it with 'roomrpc being create')", 1)
    roles = ("admin",) if admin else ()
    click.echo(Tokens.from_settings(settings).mint(being_id, ttl=ttl, roles=roles))


@click.group()
def being() -> None:
    """Manage beings as an operator."""


@being.command("create")
@click.argument("being_id")
@click.option("--name", required=True, help="Display name.")
@click.option("--type", "type_", type=click.Choice(["user", "space", "bot"]), default="user")
@click.option("--owner", help="Owner being id (spaces and bots).")
@click.option("--visibility", type=click.Choice(["public", "private"]), help="Spaces only.")
@click.option("--metadata", default="{}", help="A JSON object.")
def create(
    being_id: str, name: str, type_: str, owner: str | None, visibility: str | None, metadata: str
) -> None:
    """Create a being (any type, users included) and print it as JSON."""
    try:
        meta = json.loads(metadata)
    except json.JSONDecodeError:
        _fail("--metadata must be a JSON object", 2)
    fields = {"id": being_id, "name": name, "type": type_, "metadata": meta}
    if owner is not None:
        fields["ownerId"] = owner
    if visibility is not None:
        fields["visibility"] = visibility

    async def work(storage: Storage) -> bytes:
        try:
            return msgspec.json.encode(await create_being(storage, fields))
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid being: {exc}") from None

    click.echo(_run(_settings(), work).decode())


@click.command()
def seed() -> None:
    """Create the demo world (two users, a public and a private space) if missing."""
    created = _run(_settings(), seed_demo)
    click.echo(f"created {', '.join(created)}" if created else "the demo world is already there")


@click.command()
def migrate() -> None:
    """Bring the database to the newest schema (the server also does this at start-up)."""

    async def work(storage: Storage) -> None:
        return None

    _run(_settings(), work)
    click.echo("the database is up to date")


def demo_world(
    settings: Settings, url: str, storage: Callable[[], Storage]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """For ``serve``: seed a fresh embedded database and print a curl line that works."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if settings.database_url is None:
            await _greet(settings, url, storage())
        yield

    return ctx


async def _greet(settings: Settings, url: str, storage: Storage) -> None:
    if storage.fresh:
        created = await seed_demo(storage)
        log.info("fresh database: seeded the demo world (%s)", ", ".join(created))
    async with storage.read() as conn:
        if not await beings.exists(conn, DEMO_USER):
            return
    bearer = Tokens.from_settings(settings).mint(DEMO_USER, ttl=DEMO_TOKEN_TTL)
    body = '{"jsonrpc":"2.0","method":"being.get","params":{"id":"@demo-space"},"id":1}'
    click.echo(f"roomrpc: try it, as {DEMO_USER} (token valid for a day):")
    click.echo(
        f"curl -s {url}/rpc -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {bearer}' -d '{body}'"
    )
