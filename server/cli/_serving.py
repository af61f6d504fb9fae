"""What serving needs and the command line does not: settings or one line why not,
binding and serving the app until a signal. No click here: a worker of ``roomrpc serve
--workers N`` (``server.cli.worker``) serves without loading it (~3 MiB resident)."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
import warnings
from typing import TYPE_CHECKING, NoReturn

from aiohttp import web

from server.settings import Settings, SettingsError, load_settings
from server.storage import describe_database

if TYPE_CHECKING:
    from server.cli._start import Prepared

__all__ = ["BIND_ERRORS", "fail", "load", "quiet_libraries", "serve_app", "url_host"]

BIND_ERRORS = {
    errno.EADDRINUSE: "the address is already in use",
    errno.EADDRNOTAVAIL: "no such address on this machine",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
}
log = logging.getLogger("roomrpc")


def fail(message: str, code: int) -> NoReturn:
    """Print ``roomrpc: message`` on stderr and exit with ``code``."""
    print(f"roomrpc: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def load() -> Settings:
    """The settings, or exit 2 with the one line that says what is wrong."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), 2)


def quiet_libraries(settings: Settings) -> None:
    """Third-party warnings that would print file paths become one line of ours, or none."""
    from jwt.warnings import InsecureKeyLengthWarning

    # livekit-api signs with LIVEKIT_API_SECRET; the dev server's "secret" is short by design.
    warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
    secret = settings.livekit_api_secret
    if secret is not None and len(secret.encode()) < 32:
        log.warning(
            "LIVEKIT_API_SECRET is shorter than 32 bytes: fine for livekit-server --dev, "
            "not for production"
        )


async def serve_app(
    settings: Settings, host: str, port: int, *, reuse_port: bool, prepared: Prepared | None
) -> None:
    """Start the app, bind, and only then announce; serve until SIGINT or SIGTERM."""
    from server.http.app import create_app
    from server.http.observe import AccessLogger
    from server.storage import DatabaseOpenError

    app = create_app(settings)
    runner = web.AppRunner(
        app,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        access_log_class=AccessLogger,
        handle_signals=False,
    )
    try:
        await runner.setup()
    except DatabaseOpenError as exc:
        fail(
            f"cannot open the database {describe_database(settings)}: {exc} (check DATABASE_URL)", 1
        )
    try:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        reason = BIND_ERRORS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        fail(f"cannot listen on {host}:{port}: {reason} (set HOST/PORT)", 1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if prepared is not None:
        from server.cli._start import announce

        announce(settings, f"http://{url_host(host)}:{port}", prepared)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
