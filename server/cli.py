"""The ``roomrpc`` command."""

from __future__ import annotations

import logging
import sys

import click
from aiohttp import web

from server.settings import Settings, SettingsError, load_settings

__all__ = ["main"]


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(f"roomrpc: {exc}", err=True)
        sys.exit(2)


@click.group()
@click.version_option(package_name="roomrpc")
def main() -> None:
    """roomrpc: a typed JSON-RPC 2.0 backend for live rooms."""


@main.command()
@click.option("--host", help="Address to listen on (default: HOST, or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: PORT, or 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the API on HOST:PORT."""
    from server.app import create_app  # the app's imports wait until settings are good

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    host, port = host or settings.host, port or settings.port
    # --- storage (issue 3): demo world on a fresh embedded database; a down DB is one line
    from server.app import DEPS
    from server.cli_beings import demo_world
    from server.storage import StorageUnavailable

    app.cleanup_ctx.append(demo_world(settings, f"http://{host}:{port}", lambda: app[DEPS].storage))
    try:
        web.run_app(
            app,
            host=host,
            port=port,
            access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
            print=lambda line: click.echo(f"roomrpc: {line.strip()}"),
        )
    except StorageUnavailable:
        click.echo("roomrpc: the database is unavailable (check DATABASE_URL)", err=True)
        sys.exit(1)


# --- storage and auth commands (issue 3) ---
def _register() -> None:
    from server.cli_beings import being, migrate, revision, seed, token

    for command in (token, being, seed, migrate, revision):
        main.add_command(command)


_register()
