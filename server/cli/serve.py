"""``roomrpc serve`` and ``roomrpc codegen``."""

from __future__ import annotations

import errno
import logging
import sys
from pathlib import Path

import click
from aiohttp import web

from server.cli._common import load

__all__ = ["codegen", "serve"]


@click.command()
@click.option("--host", help="Address to listen on (default: HOST, or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: PORT, or 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the API on HOST:PORT."""
    from server.http.app import create_app  # the app's imports wait until settings are good

    settings = load()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    host, port = host or settings.host, port or settings.port
    # a fresh embedded database gets the demo world; a database that is down is one line
    from server.cli.beings import demo_world
    from server.http.app import DEPS
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
    except OSError as exc:
        if exc.errno not in _BIND_ERRORS:
            raise
        reason = _BIND_ERRORS[exc.errno]
        click.echo(f"roomrpc: cannot listen on {host}:{port}: {reason} (set HOST/PORT)", err=True)
        sys.exit(1)


_BIND_ERRORS = {
    errno.EADDRINUSE: "the address is already in use",
    errno.EADDRNOTAVAIL: "no such address on this machine",
}


# --- the client generator ---


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("clients"),
    show_default=True,
    help="Folder to write openrpc.json and typescript/ into.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file is out of date.")
@click.option(
    "--mark-compiled",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Only put the 'compiled, do not edit' banner on the .js files under this folder.",
)
def codegen(out: Path, check: bool, mark_compiled: Path | None) -> None:
    """Generate the OpenRPC document and the TypeScript client from the contract."""
    from codegen import contract_files, stale, write
    from codegen import mark_compiled as mark

    if mark_compiled is not None:
        mark(mark_compiled)
        return

    files = contract_files()
    if check:
        outdated = stale(files, out)
        for path in outdated:
            click.echo(f"roomrpc: out of date: {path} (run `make client`)", err=True)
        sys.exit(1 if outdated else 0)
    for path in write(files, out):
        click.echo(f"roomrpc: wrote {path}")
