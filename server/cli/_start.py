"""What ``roomrpc serve`` does once before it serves: open and migrate the database,
seed a fresh embedded one, and say, once the port is bound, what is being served."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import click

from server.auth import Tokens, load_secret
from server.cli.seed import DEMO_SPACE, DEMO_USER, seed_demo
from server.settings import Settings
from server.storage import Storage, beings, describe_database

__all__ = ["Prepared", "announce", "prepare"]

log = logging.getLogger("roomrpc")
DEMO_TOKEN_TTL = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Prepared:
    """What start-up found: whether the demo user is there to be tried."""

    demo: bool


async def prepare(settings: Settings) -> Prepared:
    """Open the database (migrating it, under the migration lock), seed a fresh
    embedded one; raises ``DatabaseOpenError`` with the cause in one line."""
    storage = await Storage.open(settings)
    try:
        load_secret(settings)  # generated here, once, before any worker starts and reads it
        if storage.fresh and settings.database_url is None:
            created = await seed_demo(storage)
            log.info("fresh database: seeded the demo world (%s)", ", ".join(created))
        async with storage.read() as conn:
            demo = await beings.exists(conn, DEMO_USER)
    finally:
        await storage.close()
    return Prepared(demo=demo)


def announce(settings: Settings, url: str, prepared: Prepared, *, workers: int = 1) -> None:
    """Once the port is bound: one line on what is served, then a curl line to try."""
    media = (
        f"on ({settings.livekit_url})"
        if settings.livekit_url
        else "off (set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)"
    )
    explorer = f"{url}/" if settings.explorer else "off (EXPLORER=false)"
    metrics = f"{url}/metrics" if settings.metrics else "off"
    log.info(
        "serving %s with %d worker%s; database: %s; media: %s; explorer: %s; metrics: %s",
        url,
        workers,
        "" if workers == 1 else "s",
        describe_database(settings),
        media,
        explorer,
        metrics,
    )
    if not prepared.demo:
        log.info("no demo world in this database: 'roomrpc seed' makes it (@alice, %s)", DEMO_SPACE)
        return
    bearer = Tokens.from_settings(settings).mint(DEMO_USER, ttl=DEMO_TOKEN_TTL)
    body = '{"jsonrpc":"2.0","method":"being.get","params":{"id":"@demo-space"},"id":1}'
    click.echo(f"roomrpc: try it, as {DEMO_USER} (token valid for a day):")
    click.echo(
        f"curl -s {url}/rpc -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {bearer}' -d '{body}'"
    )
