"""What every command shares: settings, the database line, id checks, one error format."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from server.cli._serving import fail, load
from server.rpc import RpcError
from server.settings import Settings
from server.storage import (
    DatabaseMissing,
    DatabaseOpenError,
    Storage,
    StorageUnavailable,
    describe_database,
)

__all__ = [
    "BEING_ID_RULE",
    "DEVICE_RULE",
    "being_id",
    "device_label",
    "fail",
    "load",
    "run",
    "where_to_look",
]

T = TypeVar("T")
_BEING_ID = re.compile(r"^@[a-z0-9._-]{1,63}$")  # schema.being.BeingId
_DEVICE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")  # schema.livekit.Device
BEING_ID_RULE = "a being id is '@' then 1 to 63 of a-z 0-9 . _ - (like @alice)"
DEVICE_RULE = "a device label is 1 to 32 of A-Z a-z 0-9 . _ - (like tab-2)"


def being_id(ctx: click.Context | None, param: click.Parameter | None, value: str) -> str:
    """A click callback: the value is a being id, or the command stops before anything."""
    if value is not None and not _BEING_ID.match(value):
        hint = f" (did you mean @{value}?)" if _BEING_ID.match(f"@{value}") else ""
        raise click.BadParameter(f"{value!r} is not a being id: {BEING_ID_RULE}{hint}")
    return value


def device_label(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """A click callback: a tab or device label."""
    if value is not None and not _DEVICE.match(value):
        raise click.BadParameter(f"{value!r} is not a device label: {DEVICE_RULE}")
    return value


def where_to_look(settings: Settings) -> str:
    """How to point a command at the server's database."""
    if settings.database_url is None:
        return (
            f"DATA_DIR is {settings.data_dir!r}, read from {os.getcwd()}: run the command "
            "in the folder the server runs in, or set DATA_DIR (or DATABASE_URL) to the "
            "server's; 'roomrpc migrate' creates a new database"
        )
    return (
        "check DATABASE_URL and DATABASE_SCHEMA (the server's values), or run "
        "'roomrpc migrate' to create the tables"
    )


def run(settings: Settings, work: Callable[[Storage], Awaitable[T]], *, create: bool) -> T:
    """Say which database, open it, run ``work``, close; errors end the command.

    Commands that only read or mint pass ``create=False``: a database that is not
    there is refused, never created.
    """
    click.echo(f"roomrpc: database: {describe_database(settings)}", err=True)

    async def main() -> T:
        storage = await Storage.open(settings, create=create)
        try:
            return await work(storage)
        finally:
            await storage.close()

    try:
        return asyncio.run(main())
    except DatabaseMissing as exc:
        fail(f"{exc}: {where_to_look(settings)}", 1)
    except DatabaseOpenError as exc:
        fail(f"cannot open the database: {exc} (check DATABASE_URL)", 1)
    except StorageUnavailable:
        fail("the database is unavailable (check DATABASE_URL)", 1)
    except RpcError as exc:
        fail(exc.message, 1)
    except ValueError as exc:
        fail(str(exc), 2)
