"""``roomrpc serve`` as a newcomer runs it, called with the README's curl line."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    cwd = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("roomrpc serve did not come up")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def readme_curl() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^curl .*?(?<!\\)$", text, re.MULTILINE | re.DOTALL)
    assert match, "README shows a curl line"
    return match.group(0)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_line_works(served: int) -> None:
    command = readme_curl().replace("127.0.0.1:8080", f"127.0.0.1:{served}")
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=True
    )
    body = json.loads(done.stdout)
    assert body["jsonrpc"] == "2.0"
    assert body["id"] == 1
    assert body["result"]["status"] == "ok"


def test_served_over_plain_http(served: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{served}/rpc",
        data=b'[{"jsonrpc":"2.0","method":"system.health","id":"a"},{"foo":1}]',
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        first, second = json.loads(response.read())
    assert first["result"]["status"] == "ok"
    assert second["error"]["code"] == -32600


def test_a_busy_port_is_one_line(served: int, tmp_path: Path) -> None:
    env = {**os.environ, "PORT": str(served), "HOST": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"roomrpc: cannot listen on 127.0.0.1:{served}: the address is already in use"
        " (set HOST/PORT)"
    )
    assert "Traceback" not in done.stderr
