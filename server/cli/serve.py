"""``roomrpc serve`` (one process, ``--workers N``, or ``--reload``) and ``roomrpc codegen``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import click

from server.cli._common import fail, load
from server.cli._serving import BIND_ERRORS, quiet_libraries, serve_app, url_host
from server.settings import Settings
from server.storage import describe_database

if TYPE_CHECKING:
    from server.cli._start import Prepared

__all__ = ["codegen", "serve"]

log = logging.getLogger("roomrpc")


@click.command()
@click.option("--host", help="Address to listen on.  [default: HOST, or 127.0.0.1]")
@click.option("--port", type=int, help="Port to listen on.  [default: PORT, or 8080]")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes sharing the port (SO_REUSEPORT); migrations run once, first.",
)
@click.option("--reload", is_flag=True, help="Restart when a .py file changes (development).")
def serve(host: str | None, port: int | None, workers: int, reload: bool) -> None:
    """Serve the API on HOST:PORT."""
    settings = load()
    from server.observe import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    host, port = host or settings.host, port or settings.port
    if reload and workers > 1:
        fail("--reload serves one process: leave out --workers", 2)
    if reload:
        _reload(host, port)
    elif workers > 1:
        _supervise(settings, host, port, workers)
    else:
        _serve_one(settings, host, port)


def _serve_one(settings: Settings, host: str, port: int) -> None:
    quiet_libraries(settings)
    from server.http.loop import run

    prepared = _prepare(settings)
    run(
        serve_app(settings, host, port, reuse_port=False, prepared=prepared),
        use_uvloop=settings.uvloop,
    )


def _prepare(settings: Settings) -> Prepared:
    from server.cli._start import prepare
    from server.storage import DatabaseOpenError

    try:
        return asyncio.run(prepare(settings))
    except DatabaseOpenError as exc:
        fail(
            f"cannot open the database {describe_database(settings)}: {exc} (check DATABASE_URL)", 1
        )


def _supervise(settings: Settings, host: str, port: int, workers: int) -> None:
    """N processes on one port (SO_REUSEPORT, the kernel spreads connections); the
    database is opened and migrated here once, before any of them starts."""
    from server.cli._start import announce

    quiet_libraries(settings)
    _check_bind(host, port)  # one line if the port is taken, not one per worker
    prepared = _prepare(settings)
    command = [sys.executable, "-m", "server.cli.worker", host, str(port)]  # no click in them
    children = [subprocess.Popen(command) for _ in range(workers)]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    url = f"http://{url_host(host)}:{port}"
    if _wait_until_up(url, children):
        announce(settings, url, prepared, workers=workers)
    while not stopping:
        if any(child.poll() is not None for child in children):
            log.error("a worker exited (code %s): stopping the others", _codes(children))
            stop(signal.SIGTERM, None)
            break
        time.sleep(0.2)
    for child in children:
        child.wait()
    sys.exit(0 if all(c.returncode in (0, -signal.SIGTERM) for c in children) else 1)


def _check_bind(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            probe.bind(address)
    except OSError as exc:
        reason = BIND_ERRORS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        fail(f"cannot listen on {host}:{port}: {reason} (set HOST/PORT)", 1)


def _codes(children: list[subprocess.Popen[bytes]]) -> str:
    return ", ".join(str(c.returncode) for c in children if c.returncode is not None)


def _wait_until_up(url: str, children: list[subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _reload(host: str, port: int) -> None:
    """Serve in a child process, restarted by watchfiles when a .py file changes."""
    import watchfiles

    root = Path(__file__).resolve().parents[2]
    paths = [p for p in (root / "server", root / "schema") if p.is_dir()]
    command = f"{sys.executable} -m server serve --host {host} --port {port}"
    log.info("reloading on changes in %s", ", ".join(str(p) for p in paths))
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    watchfiles.run_process(
        *paths,
        target=command,
        target_type="command",
        watch_filter=watchfiles.PythonFilter(),
        callback=lambda changes: log.info("%d file(s) changed: restarting", len(changes)),
    )


# --- the client generator ---


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("clients"),
    show_default=True,
    help="Folder to write openrpc.json and typescript/ into.",
)
@click.option(
    "--python-out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("roomrpc/client"),
    show_default=True,
    help="Folder to write the Python client's generated surface into.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file is out of date.")
@click.option(
    "--mark-compiled",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Only put the 'compiled, do not edit' banner on the .js files under this folder.",
)
def codegen(out: Path, python_out: Path, check: bool, mark_compiled: Path | None) -> None:
    """Generate the OpenRPC document, the TypeScript and the Python client from the contract."""
    from codegen import contract_files, python_files, stale, write
    from codegen import mark_compiled as mark

    if mark_compiled is not None:
        mark(mark_compiled)
        return

    targets = ((contract_files(), out), (python_files(), python_out))
    if check:
        outdated = [path for files, root in targets for path in stale(files, root)]
        for path in outdated:
            click.echo(f"roomrpc: out of date: {path} (run `make client`)", err=True)
        sys.exit(1 if outdated else 0)
    for files, root in targets:
        for path in write(files, root):
            click.echo(f"roomrpc: wrote {path}")
