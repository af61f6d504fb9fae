"""The operator's commands, and the first run a newcomer gets from ``make run``."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import jwt
from click.testing import CliRunner

from server.cli import main


def _run(tmp_path: Path, *args: str) -> Any:
    env = {"DATA_DIR": str(tmp_path / "data"), "AUTH_SECRET": ""}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _secret(tmp_path: Path) -> str:
    return (tmp_path / "data" / "auth_secret").read_text().strip()


def test_seed_then_token_then_being_create(tmp_path: Path) -> None:
    seeded = _run(tmp_path, "seed")
    assert seeded.exit_code == 0 and "@demo-space" in seeded.output
    assert "already there" in _run(tmp_path, "seed").output
    issued = _run(tmp_path, "token", "@alice", "--ttl", "2h", "--admin")
    assert issued.exit_code == 0
    claims = jwt.decode(issued.output.strip(), _secret(tmp_path), algorithms=["HS256"])
    assert claims["sub"] == "@alice" and claims["roles"] == ["admin"]
    assert 7190 <= claims["exp"] - time.time() <= 7200
    assert (tmp_path / "data" / "auth_secret").stat().st_mode & 0o777 == 0o600
    assert _secret(tmp_path) not in seeded.output + issued.output
    created = _run(tmp_path, "being", "create", "@carol", "--name", "Carol")
    assert json.loads(created.output)["type"] == "user"
    again = _run(tmp_path, "being", "create", "@carol", "--name", "Carol")
    assert again.exit_code == 1 and "already exists" in again.output


def test_bad_commands_say_what_is_wrong(tmp_path: Path) -> None:
    missing = _run(tmp_path, "token", "@ghost")
    assert missing.exit_code == 1 and "no being @ghost" in missing.output
    bad_ttl = _run(tmp_path, "token", "@alice", "--ttl", "soon")
    assert bad_ttl.exit_code == 2 and "duration" in bad_ttl.output
    bad_id = _run(tmp_path, "being", "create", "carol", "--name", "Carol")
    assert bad_id.exit_code == 2 and "$.id" in bad_id.output
    bad_db = CliRunner().invoke(
        main, ["seed"], env={"DATA_DIR": str(tmp_path), "DATABASE_URL": "mysql://x@y/z"}
    )
    assert bad_db.exit_code == 2 and "DATABASE_URL" in bad_db.output
    assert "Traceback" not in missing.output + bad_id.output + bad_db.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(cwd: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """``roomrpc serve`` as ``make run`` starts it, until it listens; returns its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("AUTH_SECRET", "DATABASE_URL")}
    roomrpc = Path(sys.executable).parent / "roomrpc"
    process = subprocess.Popen(
        [str(roomrpc), "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "Running on" in line:
            return process, lines
    raise AssertionError("".join(lines))


def _curl(line: str) -> Any:
    """Run the printed curl line's request (no curl binary needed)."""
    url = re.search(r"curl -s (\S+)", line)
    token = re.search(r"Bearer ([\w.-]+)", line)
    body = re.search(r"-d '(.*)'$", line.strip())
    assert url and token and body, line
    request = urllib.request.Request(
        url[1],
        data=body[1].encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token[1]}"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)
    assert process.stdout is not None
    process.stdout.close()


def test_first_run_seeds_the_demo_world_and_prints_a_working_curl_line(tmp_path: Path) -> None:
    port = _free_port()
    process, lines = _serve(tmp_path, port)
    try:
        output = "".join(lines)
        assert "seeded the demo world" in output and "AUTH_SECRET is not set" in output
        curl = next(line for line in lines if line.startswith("curl "))
        assert _curl(curl)["result"]["id"] == "@demo-space"
        assert _secret_of(tmp_path) not in output
    finally:
        _stop(process)
    process, lines = _serve(tmp_path, port)  # a restart: same secret, no second seeding
    try:
        assert "seeded" not in "".join(lines)
        assert _curl(curl)["result"]["id"] == "@demo-space"  # yesterday's token still works
    finally:
        _stop(process)


def _secret_of(cwd: Path) -> str:
    return (cwd / "data" / "auth_secret").read_text().strip()
