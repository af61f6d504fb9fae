"""``roomrpc serve`` as a newcomer runs it, called with the README's curl line."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
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


def _serve_once(
    tmp_path: Path, timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    """``roomrpc serve`` that is expected to stop by itself (a start-up problem)."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AUTH_SECRET")}
    return subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        cwd=tmp_path,
        env={**base, "HOST": "127.0.0.1", "PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


def test_an_unsupported_database_is_one_line(tmp_path: Path) -> None:
    done = _serve_once(tmp_path, DATABASE_URL="mysql://root:hunter2@db/app")
    assert done.returncode == 2
    assert _one_line(done) == (
        "roomrpc: invalid setting DATABASE_URL='mysql://root:***@db/app': unsupported "
        "database 'mysql' (roomrpc runs on sqlite or postgresql)"
    )


def test_a_missing_postgresql_database_is_one_line(tmp_path: Path, pg: object) -> None:
    if pg is None:
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (database test)")
    url = "postgresql://postgres@127.0.0.1:5432/roomrpc_no_such_database"
    done = _serve_once(tmp_path, DATABASE_URL=url)
    assert done.returncode == 1
    assert _one_line(done) == (
        f"roomrpc: cannot open the database PostgreSQL {url}: InvalidCatalogNameError "
        '[3D000]: database "roomrpc_no_such_database" does not exist (check DATABASE_URL)'
    )


def test_a_bad_value_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    done = _serve_once(tmp_path, FORWARDED_ALLOW_IPS="10.0.0.0/8,proxy.local")
    assert done.returncode == 2
    assert "FORWARDED_ALLOW_IPS" in _one_line(done) and "proxy.local" in _one_line(done)
    done = _serve_once(tmp_path, METRICS="perhaps")
    assert done.returncode == 2 and _one_line(done).startswith("roomrpc: invalid setting METRICS=")


def test_a_busy_port_says_so_before_any_try_it_line(served: int, tmp_path: Path) -> None:
    done = _serve_once(tmp_path, PORT=str(served))
    assert done.returncode == 1
    assert "try it" not in done.stdout + done.stderr
    assert "curl" not in done.stdout + done.stderr


def _start(cwd: Path, *args: str, **env: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AUTH_SECRET")}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), *args],
        cwd=cwd,
        env={**base, "HOST": "127.0.0.1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(90, process.kill)  # a line that never comes fails, not hangs
    watchdog.daemon = True
    watchdog.start()
    return process, port


def _until_curl(process: subprocess.Popen[str]) -> list[str]:
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("curl "):
            return lines
    raise AssertionError("\n".join(lines))


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(2)
    rest, _ = process.communicate(timeout=20)
    return rest


def test_a_start_says_once_what_it_serves_and_nothing_else(tmp_path: Path) -> None:
    process, port = _start(
        tmp_path,
        LIVEKIT_URL="ws://127.0.0.1:7880",
        LIVEKIT_API_KEY="devkey",
        LIVEKIT_API_SECRET="secret",  # livekit-server --dev's, shorter than PyJWT likes
    )
    try:
        lines = _until_curl(process)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
    finally:
        rest = _stop(process)
    text = "\n".join(lines) + rest
    (serving,) = [line for line in lines if "serving http" in line]
    assert f"serving http://127.0.0.1:{port} with 1 worker" in serving
    assert f"database: SQLite {tmp_path / 'data' / 'roomrpc.db'}" in serving
    assert "media: on (ws://127.0.0.1:7880)" in serving
    assert f"explorer: http://127.0.0.1:{port}/" in serving
    assert text.count("AUTH_SECRET is not set") == 1
    assert text.count("LIVEKIT_API_SECRET is shorter than 32 bytes") == 1
    for noise in ("Context impl", "Will assume", "site-packages", "InsecureKeyLength", "Warning:"):
        assert noise not in text, noise
    assert lines[-2].startswith("roomrpc: try it") and lines.index(serving) < len(lines) - 2


def test_json_logs_are_one_object_a_line(tmp_path: Path) -> None:
    process, port = _start(tmp_path, LOG_FORMAT="json", ACCESS_LOG="true")
    try:
        lines = _until_curl(process)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/rpc",
            data=b'{"jsonrpc":"2.0","method":"system.health","id":1}',
            headers={"Content-Type": "application/json", "X-Request-Id": "json-1"},
        )
        urllib.request.urlopen(request, timeout=5).close()
    finally:
        rest = _stop(process)
    logged = [line for line in lines + rest.splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in logged]
    assert any("serving http" in e["message"] for e in entries)
    (access,) = [e for e in entries if e["logger"] == "aiohttp.access"]
    assert access["rpc_methods"] == ["system.health"] and access["rpc_codes"] == ["OK"]
    assert access["request_id"] == "json-1" and access["client"] == "127.0.0.1"


def test_two_workers_serve_on_one_port(tmp_path: Path) -> None:
    process, port = _start(tmp_path, "--workers", "2")
    try:
        lines = _until_curl(process)
        assert any("with 2 workers" in line for line in lines)
        starts: set[str] = set()
        refused: OSError | None = None
        deadline = time.monotonic() + 60  # the second worker may still be starting
        while len(starts) < 2 and time.monotonic() < deadline:
            # each connection goes to one worker; both answer once both listen
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    text = r.read().decode()
            except OSError as exc:  # the supervisor's output below says why
                refused = exc
                break
            match = re.search(r'^roomrpc_worker\{pid="(\d+)"\} 1\.0$', text, re.MULTILINE)
            assert match
            starts.add(match[1])
            time.sleep(0.02)
    finally:
        rest = _stop(process)
    assert refused is None and len(starts) == 2, "\n".join([*lines, rest, repr(refused)])
    assert process.returncode == 0, rest
    assert "\n".join(lines).count("database migrated") == 1


def test_reload_restarts_on_a_python_change(tmp_path: Path) -> None:
    process, port = _start(tmp_path, "--reload", PYTHONUNBUFFERED="1")
    probe = ROOT / "server" / f"_reload_probe_{os.getpid()}.py"
    try:
        first = _until_curl(process)
        assert any("reloading on changes in" in line for line in first)
        probe.write_text("# written by tests/test_serve.py\n")
        again = _until_curl(process)  # a new process, a new "try it" line
        assert any("changed: restarting" in line for line in again)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
    finally:
        probe.unlink(missing_ok=True)
        _stop(process)


def test_on_postgresql_the_start_names_the_database_and_how_to_seed(
    tmp_path: Path, pg: object
) -> None:
    if pg is None:
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (database test)")
    url, schema = pg.url, pg.new_schema()  # type: ignore[attr-defined]
    process, _ = _start(tmp_path, DATABASE_URL=url, DATABASE_SCHEMA=schema)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if "roomrpc seed" in line:
                break
    finally:
        _stop(process)
    text = "\n".join(lines)
    assert f"database: PostgreSQL {url} (schema {schema})" in text
    assert "no demo world in this database: 'roomrpc seed' makes it" in text


def _readme_block(after: str) -> list[str]:
    """The command lines of the first ``sh`` block after the text ``after``."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text[text.index(after) :], re.DOTALL)
    assert block, f"a sh block after {after!r}"
    return [line for line in block[1].splitlines() if line and not line.startswith("#")]


def test_the_readme_media_block_joins_a_room_and_sees_presence(tmp_path: Path) -> None:
    """The quick start's LiveKit block, run as written (ports and paths moved aside)."""
    livekit_line, roomrpc_line, *calls = _readme_block("**6. Join a LiveKit room.**")
    lk_port, port = free_port(), free_port()
    bin_dir = Path(sys.executable).parent

    def adapt(line: str) -> str:
        line = line.replace("7880", str(lk_port)).replace("8080", str(port))
        if "tests.livekit_server" in line:
            line += f" --port {lk_port}"
        line = line.replace(".venv/bin/python ", "PYTHON ").replace(".venv/bin/", f"{bin_dir}/")
        line = line.replace("make run", "PYTHON -m server serve")  # make run, from elsewhere
        return line.replace("PYTHON ", f"{sys.executable} ")

    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AUTH_SECRET")}
    env = {**base, "PYTHONPATH": str(ROOT), "PORT": str(port)}
    started = []
    try:
        for line in (livekit_line, roomrpc_line):
            started.append(
                subprocess.Popen(
                    ["bash", "-c", f"exec env {adapt(line)}"],
                    cwd=tmp_path,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        script = "\n".join(adapt(line) for line in calls)
        done = subprocess.run(
            ["bash", "-ec", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        outputs = [json.loads(part) for part in done.stdout.replace("}{", "}\n{").splitlines()]
    finally:
        for process in started:
            process.send_signal(2)
            process.wait(timeout=20)
    join_token, joined, presence = outputs
    assert join_token["result"]["wsUrl"] == f"ws://127.0.0.1:{lk_port}"
    assert joined["identity"] == "@alice"
    assert [m["beingId"] for m in presence["result"]] == ["@alice"]  # from the webhook


def test_a_busy_port_is_one_line_with_workers_too(served: int, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AUTH_SECRET")}
    done = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--workers", "2", "--port", str(served)],
        cwd=tmp_path,
        env={**base, "HOST": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert (done.stdout + done.stderr).strip() == (
        f"roomrpc: cannot listen on 127.0.0.1:{served}: the address is already in use"
        " (set HOST/PORT)"
    )
