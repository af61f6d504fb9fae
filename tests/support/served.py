"""``roomrpc serve`` as a real process on a real port, restartable on the same database file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from server.auth.tokens import Tokens
from server.settings import load_settings

__all__ = ["Served", "free_port"]

SECRET = "a-test-secret-that-is-long-enough-for-hs256!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """One server process in ``folder`` (its SQLite file and log there); ``restart`` keeps both."""

    def __init__(self, folder: Path, **env: str) -> None:
        self.folder = folder
        self.port = free_port()
        self.env = {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "AUTH_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/rpc"

    def token(self, being_id: str, *, admin: bool = False, ttl: float = 3600) -> str:
        settings = load_settings({"DATA_DIR": str(self.folder / "data"), **self.env}, env_file=None)
        roles = ("admin",) if admin else ()
        return Tokens.from_settings(settings).mint(
            being_id, ttl=timedelta(seconds=ttl), roles=roles
        )

    def cli(self, *args: str) -> str:
        """``roomrpc ARGS`` in the server's folder, with its settings: what an operator types."""
        done = subprocess.run(
            [sys.executable, "-m", "server", *args],
            cwd=self.folder,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.strip()

    def start(self) -> None:
        self._log = (self.folder / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            cwd=self.folder,
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"roomrpc serve exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("roomrpc serve did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.folder / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Served:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
