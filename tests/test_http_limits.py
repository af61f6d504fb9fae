"""What one request may cost: answer size, time on the loop, a whole-request deadline,
a body's arrival time, the write lock; and what an anonymous caller can put in the log."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any

import brotli
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from backports import zstd

from server.http.health import READY_CHECKS
from tests.support.world import Api

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


def _call(method: str, params: Any, id_: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params, "id": id_}


async def _post(client: TestClient[Any, Any], body: Any) -> tuple[int, bytes]:
    response = await client.post("/rpc", data=json.dumps(body))
    return response.status, await response.read()


# --- RPC_MAX_RESPONSE_BYTES ---


async def test_a_result_that_would_overflow_the_answer_is_replaced_the_others_kept(
    aiohttp_client: Client, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RPC_MAX_RESPONSE_BYTES="100000"))
    batch = [
        _call("probe.blob", {"size": 10_000}, 1),  # 60 kB: fits
        _call("probe.blob", {"size": 10_000}, 2),  # would make 120 kB
        _call("probe.echo", {"roomBeingId": "@a"}, 3),
        _call("probe.blob", {"size": 100}, 4),  # still fits after the error
    ]
    status, raw = await _post(client, batch)
    assert status == 200 and len(raw) <= 100_000
    answers = json.loads(raw)
    assert [a["id"] for a in answers] == [1, 2, 3, 4]
    assert answers[0]["result"] == "\u0001" * 10_000
    error = answers[1]["error"]
    assert error["data"]["code"] == "PAYLOAD_TOO_LARGE" and error["code"] == -32013
    assert error["data"]["reason"] == "response_too_large" and "100000 bytes" in error["message"]
    assert answers[2]["result"] == {"roomBeingId": "@a", "count": 1, "address": None}
    assert answers[3]["result"] == "\u0001" * 100


async def test_a_single_call_whose_result_is_too_large_answers_payload_too_large(
    aiohttp_client: Client, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RPC_MAX_RESPONSE_BYTES="1000"))
    _status, raw = await _post(client, _call("probe.blob", {"size": 1000}, 7))
    answer = json.loads(raw)
    assert answer["id"] == 7 and answer["error"]["data"]["code"] == "PAYLOAD_TOO_LARGE"
    _status, raw = await _post(client, _call("probe.blob", {"size": 10}, 8))
    assert json.loads(raw)["result"] == "\u0001" * 10


async def test_the_history_attack_is_bounded(
    make_api: Callable[[dict[str, str]], Awaitable[Api]], db_env: dict[str, str]
) -> None:
    """A public space full of 4000 x U+0001 messages, listed 20 times in one anonymous batch."""
    from tests.support.world import populate

    world = await populate(await make_api({**db_env, "RPC_MAX_RESPONSE_BYTES": "1048576"}))
    say = {"spaceId": "@hall", "content": "\u0001" * 4000}
    for _ in range(20):
        await world.ok("intention.create", say, as_="@owner")
    batch = [_call("intention.list", {"spaceId": "@hall", "limit": 100}, i) for i in range(20)]
    response = await world.client.post("/rpc", data=json.dumps(batch))
    raw = await response.read()
    assert len(raw) <= 1048576  # unbounded: 20 x 480 kB
    answers = json.loads(raw)
    codes = [a["error"]["data"]["code"] if "error" in a else "ok" for a in answers]
    assert codes[:2] == ["ok", "ok"] and set(codes[2:]) == {"PAYLOAD_TOO_LARGE"}, codes


# --- heavy batches take turns on the loop ---


async def test_a_trivial_call_is_answered_while_a_heavy_batch_runs(
    client: TestClient[Any, Any],
) -> None:
    """Each call of the batch holds the loop's thread 5 ms: 100 of them, half a second."""
    batch = [_call("probe.spin", {"ms": 5}, i) for i in range(100)]
    heavy = asyncio.create_task(_post(client, batch))
    await asyncio.sleep(0.05)  # the batch is under way
    _status, raw = await _post(client, _call("probe.echo", {"roomBeingId": "@a"}, 1))
    assert json.loads(raw)["result"]["roomBeingId"] == "@a"
    assert not heavy.done()  # answered between two turns of the batch, not after it
    _status, raw = await heavy
    assert len(json.loads(raw)) == 100


# --- RPC_REQUEST_TIMEOUT ---


async def test_a_batch_has_one_deadline_for_all_its_calls(
    aiohttp_client: Client, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(RPC_CALL_TIMEOUT="1", RPC_REQUEST_TIMEOUT="0.5"))
    batch = [_call("probe.sleep", {"seconds": 0.2}, i) for i in range(10)]
    started = time.monotonic()
    _status, raw = await _post(client, batch)
    assert time.monotonic() - started < 1.5  # 10 x 0.2 s without the deadline
    answers = json.loads(raw)
    assert [a["id"] for a in answers] == list(range(10))
    assert "result" in answers[0] and answers[0]["result"] == 0.2
    late = answers[-1]["error"]
    assert late["data"]["code"] == "TIMEOUT" and late["data"]["retryable"] is True
    assert late["message"] == "The request did not finish within 0.5 s"


async def test_a_write_waiting_for_sqlite_s_lock_honours_the_call_timeout(
    make_api: Callable[[dict[str, str]], Awaitable[Api]], tmp_path: Path
) -> None:
    from tests.support.db import AUTH_SECRET
    from tests.support.world import populate

    env = {"DATA_DIR": str(tmp_path), "AUTH_SECRET": AUTH_SECRET, "RPC_CALL_TIMEOUT": "1"}
    world = await populate(await make_api(env))
    holder = sqlite3.connect(tmp_path / "roomrpc.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.monotonic()
        say = {"spaceId": "@hall", "content": "hello"}
        error = await world.error("intention.create", say, as_="@owner")
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert error["data"]["code"] in ("TIMEOUT", "SERVICE_UNAVAILABLE"), error
    assert error["data"]["retryable"] is True
    assert waited < 2.5  # the lock's own wait used to be 5 s
    assert await world.ok("intention.create", say, as_="@owner")


# --- HTTP_READ_TIMEOUT ---


async def _trickle(port: int, seconds: float, path: str = "/rpc", headers: str = "") -> bytes:
    """Headers at once, then one byte of a 100-byte body every 0.1 s; what comes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{headers}".encode()
        + b"Content-Length: 100\r\n\r\n{"
    )
    ends = time.monotonic() + seconds
    answer = b""
    try:
        while time.monotonic() < ends:
            await writer.drain()
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.1)
            except TimeoutError:
                writer.write(b" ")
                continue
            if not chunk:
                break
            answer += chunk
    except ConnectionError:
        pass
    finally:
        writer.close()
    return answer


async def test_a_body_that_trickles_gets_408_and_one_log_line(
    aiohttp_client: Client,
    make_app: Callable[..., web.Application],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await aiohttp_client(make_app(HTTP_READ_TIMEOUT="0.5"))
    port = client.server.port
    assert port is not None
    with caplog.at_level(logging.DEBUG):
        answers = await asyncio.gather(*(_trickle(port, 3) for _ in range(20)))
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert b'"code":"TIMEOUT"' in answer
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) <= 1, [r.getMessage() for r in lines]
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.INFO)


async def test_a_token_request_body_that_trickles_gets_408_and_a_closed_connection(
    aiohttp_client: Client, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(HTTP_READ_TIMEOUT="0.5"))
    port = client.server.port
    assert port is not None
    signed_in = "Authorization: Bearer user:@alice\r\n"  # the body is read once the caller is known
    answer = await _trickle(port, 3, "/livekit/token", signed_in)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b'"code":"TIMEOUT"' in answer and b"Connection: close" in answer


# --- what an anonymous caller can put in the log ---


async def test_a_header_over_8_kb_is_one_short_line_without_the_credential(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Bearer sk-" + "z" * 9000
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            response = await client.post("/rpc", data="{}", headers={"Authorization": secret})
            assert response.status in (400, 431)
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and not lines[0].exc_info
    assert "zzzz" not in lines[0].getMessage() and len(lines[0].getMessage()) < 200


_HEAD = b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
BROKEN_BODIES = {
    "left mid-body": _HEAD + b"Content-Length: 1000\r\n\r\n{",
    "left mid-chunk": _HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\n{",
    "bad chunk": _HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{",
    "bad gzip": _HEAD + b"Content-Encoding: gzip\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100,
}


@pytest.mark.parametrize("coding", [b"gzip", b"br", b"zstd"])
@pytest.mark.parametrize("content_length", [True, False])
async def test_a_body_that_does_not_decompress_is_a_parse_error_not_a_500(
    client: TestClient[Any, Any],
    caplog: pytest.LogCaptureFixture,
    content_length: bool,
    coding: bytes,
) -> None:
    port = client.server.port
    assert port is not None
    body = b"x" * 100  # neither gzip, brotli nor zstd
    framing = b"Content-Length: 100\r\n" if content_length else b"Transfer-Encoding: chunked\r\n"
    payload = body if content_length else b"64\r\n" + body + b"\r\n0\r\n\r\n"
    with caplog.at_level(logging.INFO):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_HEAD + b"Content-Encoding: " + coding + b"\r\n" + framing + b"\r\n" + payload)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(4096), 5)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b'"code":-32700' in answer and b'"id":null' in answer, answer
    assert b"\r\nConnection: close\r\n" in answer  # aiohttp closes it: the client is told
    assert not any(r.exc_info for r in caplog.records)
    response = await client.post("/rpc", data=json.dumps(_call("system.health", {}, 1)))
    assert response.status == 200  # and the server goes on serving


@pytest.mark.parametrize("coding", ["compress", "bogus", "gzip, zstd"])
async def test_a_content_encoding_we_cannot_decode_is_415(
    client: TestClient[Any, Any], coding: str
) -> None:
    body = json.dumps(_call("system.health", {}, 1))
    response = await client.post("/rpc", data=body, headers={"Content-Encoding": coding})
    assert response.status == 415
    answer = await response.json()
    assert answer["error"]["data"]["code"] == "UNSUPPORTED_MEDIA_TYPE" and answer["id"] is None


_PACK: dict[str, Callable[[bytes], bytes]] = {"br": brotli.compress, "zstd": zstd.compress}


def _bomb(coding: str, mib: int) -> bytes:
    """``mib`` MiB of zeros, compressed a MiB at a time: a few kB on the wire."""
    zeros = bytes(1 << 20)
    if coding == "br":
        packer = brotli.Compressor(quality=5)
        return b"".join([*(packer.process(zeros) for _ in range(mib)), packer.finish()])
    zpacker = zstd.ZstdCompressor()
    return b"".join([*(zpacker.compress(zeros) for _ in range(mib)), zpacker.flush()])


@pytest.mark.parametrize("coding", ["br", "zstd", "BR"])
async def test_a_br_or_zstd_body_is_read_decompressed(
    client: TestClient[Any, Any], coding: str
) -> None:
    batch = [_call("probe.echo", {"roomBeingId": "@a"}, 1), _call("system.health", {}, 2)]
    packed = _PACK[coding.lower()](json.dumps(batch).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": coding}
    response = await client.post("/rpc", data=packed, headers=headers)
    assert response.status == 200
    answers = await response.json()
    assert answers[0]["result"] == {"roomBeingId": "@a", "count": 1, "address": None}
    assert answers[1]["result"]["status"] == "ok"


@pytest.mark.parametrize("coding", ["br", "zstd"])
@pytest.mark.parametrize("chunked", [False, True])
async def test_a_br_or_zstd_bomb_is_413_not_decompressed_whole(
    client: TestClient[Any, Any], coding: str, chunked: bool
) -> None:
    """64 MiB once decompressed, a few kB sent: refused past RPC_MAX_BODY_BYTES (1 MiB)."""
    bomb = _bomb(coding, 64)
    assert len(bomb) < 16 * 1024

    async def pieces() -> Any:  # no Content-Length: chunked, nothing known before reading
        for i in range(0, len(bomb), 512):
            yield bomb[i : i + 512]

    headers = {"Content-Type": "application/json", "Content-Encoding": coding}
    response = await client.post("/rpc", data=pieces() if chunked else bomb, headers=headers)
    assert response.status == 413
    answer = await response.json()
    assert answer["error"]["data"]["code"] == "PAYLOAD_TOO_LARGE" and answer["id"] is None
    assert answer["error"]["message"] == "Body exceeds 1048576 bytes"
    response = await client.post("/rpc", data=json.dumps(_call("system.health", {}, 1)))
    assert response.status == 200  # and the server goes on serving


async def test_a_client_breaking_or_leaving_mid_body_is_one_short_line(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    port = client.server.port
    assert port is not None
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            for data in BROKEN_BODIES.values():
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(data)
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.transport.abort()
                await asyncio.sleep(0.05)
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any(r.exc_info for r in caplog.records), [r.getMessage() for r in lines]
    assert len(lines) <= len(BROKEN_BODIES), [r.getMessage() for r in lines]
    assert all(len(r.getMessage()) < 200 for r in lines)


async def test_a_failing_readiness_check_is_one_short_line(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise OSError("connection to postgres://app:pw@db refused")

    client.app[READY_CHECKS]["database"] = broken
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            response = await client.get("/readyz")
            assert response.status == 503
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and not lines[0].exc_info
    assert "pw" not in lines[0].getMessage()


async def test_the_server_header_names_no_versions(client: TestClient[Any, Any]) -> None:
    for response in (
        await client.get("/healthz"),
        await client.post("/rpc", data=json.dumps(_call("probe.echo", {"roomBeingId": "@a"}, 1))),
        await client.get("/explorer/index.html"),
    ):
        assert response.headers["Server"] == "roomrpc"


async def test_the_explorer_s_files_carry_the_page_s_security_headers(
    client: TestClient[Any, Any],
) -> None:
    page = await client.get("/")
    same = await client.get("/explorer/index.html")
    assert same.status == 200
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"):
        assert same.headers[name] == page.headers[name], name


async def test_an_answer_to_a_disallowed_origin_varies_on_origin(
    aiohttp_client: Client, make_app: Callable[..., web.Application]
) -> None:
    client = await aiohttp_client(make_app(CORS_ORIGINS="https://good.example"))
    body = json.dumps(_call("probe.echo", {"roomBeingId": "@a"}, 1))
    response = await client.post("/rpc", data=body, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"
    preflight = await client.options("/rpc", headers={"Origin": "https://evil.example"})
    assert preflight.status == 403 and preflight.headers["Vary"] == "Origin"


async def test_a_huge_unknown_field_name_is_not_echoed_back_whole(
    client: TestClient[Any, Any],
) -> None:
    name = "x" * 1_000_000
    _status, raw = await _post(client, _call("probe.echo", {"roomBeingId": "@a", name: 1}, 1))
    assert len(raw) < 2000
    issue = json.loads(raw)["error"]["data"]["issues"][0]
    assert issue["path"].startswith("$.xxxx") and issue["path"].endswith("…")


def _serve_with_few_files(tmp_path: Path, port: int, out: IO[bytes]) -> subprocess.Popen[bytes]:
    def few_files() -> None:  # in the child: 128 descriptors, as a small container gives
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    # asyncio's own loop logs every accept() that fails for want of a file descriptor;
    # uvloop's (libuv) drops such connections without a word, so the asyncio loop is the
    # one whose noise this checks.
    env = {**os.environ, "PORT": str(port), "HTTP_READ_TIMEOUT": "2", "DATA_DIR": str(tmp_path)}
    env["UVLOOP"] = "false"
    return subprocess.Popen(
        [sys.executable, "-m", "server", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        preexec_fn=few_files,
    )


async def test_held_connections_past_the_file_limit_cost_a_line_not_a_traceback_each(
    tmp_path: Path,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = (tmp_path / "out.log").open("wb")
    server = _serve_with_few_files(tmp_path, port, out)
    try:
        for _ in range(300):
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        answers = await asyncio.gather(*(_trickle(port, 5) for _ in range(200)))
        assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) >= 100
    finally:
        server.terminate()
        server.wait(timeout=10)
        out.close()
    log = (tmp_path / "out.log").read_text()
    assert "Traceback" not in log and "Too many open files" in log, log[-2000:]
    assert log.count("cannot accept connections") == 1
    assert log.count("request bodies not received") == 1


async def test_the_accept_retry_due_after_shutdown_is_not_a_traceback(
    aiohttp_client: Client,
    make_app: Callable[..., web.Application],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a failed accept(), asyncio listens again a second later; when shutdown closed
    the socket meanwhile, that retry raises ValueError: quiet during and after the app."""
    loop = asyncio.get_running_loop()
    late_retry = {
        "message": "Exception in callback BaseSelectorEventLoop._start_serving(<...>)",
        "exception": ValueError("Invalid file descriptor: -1"),
    }
    client = await aiohttp_client(make_app())
    with caplog.at_level(logging.DEBUG):
        loop.call_exception_handler(late_retry)
        await client.close()  # the app's clean-up has run
        loop.call_exception_handler(late_retry)
        loop.call_exception_handler({"message": "something else", "exception": ValueError("x")})
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["something else"]  # others are still told
