"""Fan-out: one intention.create to N WebSocket subscribers, against a plain aiohttp broadcast.

Both servers run as child processes pinned to one core (``roomrpc serve`` on a fresh
SQLite database, and a plain aiohttp app whose ``POST /broadcast`` loops over its
sockets calling ``send_str``); the subscribers run here on the other core.
Reported: p50/p99 delivery latency (POST sent -> event read by each subscriber),
events delivered per second at saturation, and the server's memory per idle socket.

    python -m bench.live [--subscribers 1000] [--idle 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench import plain_environment

SERVER_CPU, LOAD_CPU = "0", "1"


def plain_app() -> web.Application:
    """The baseline: sockets in a set, a broadcast loop of send_str."""
    sockets: set[web.WebSocketResponse] = set()

    async def ws(request: web.Request) -> web.WebSocketResponse:
        response = web.WebSocketResponse(heartbeat=15)
        await response.prepare(request)
        sockets.add(response)
        try:
            async for _ in response:
                pass
        finally:
            sockets.discard(response)
        return response

    async def broadcast(request: web.Request) -> web.Response:
        body = await request.text()
        for response in tuple(sockets):
            await response.send_str(body)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ws", ws)
    app.router.add_post("/broadcast", broadcast)
    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Subscriber(asyncio.Protocol):
    """A minimal WebSocket client: notes when each text frame arrives, answers pings.

    aiohttp's client costs tens of µs a message in this one process; this costs a
    few, so the latencies measured are the server's, not the bench's.
    """

    def __init__(self, host: str, path: str) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: ZGhiLWJlbmNoLWtleS0xMg==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiter: asyncio.Future[float] | None = None
        self.texts = 0
        self.last_text = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self._buffer += data
        if not self.upgraded.done():
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            assert self._buffer.startswith(b"HTTP/1.1 101"), bytes(self._buffer[:80])
            del self._buffer[: end + 4]
            self.upgraded.set_result(None)
        self._frames(now)

    def _frames(self, now: float) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            size, offset = buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, offset = struct.unpack_from(">H", buffer, 2)[0], 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, offset = struct.unpack_from(">Q", buffer, 2)[0], 10
            if len(buffer) < offset + size:
                return
            opcode, payload = buffer[0] & 0x0F, bytes(buffer[offset : offset + size])
            del buffer[: offset + size]
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x1:
                self.texts += 1
                self.last_text = payload
                if self.waiter is not None and not self.waiter.done():
                    self.waiter.set_result(now)

    def send_text(self, payload: bytes) -> None:
        self._send(0x1, payload)

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        size = len(payload)
        if size < 126:
            header = struct.pack(">BB", 0x80 | opcode, 0x80 | size)
        else:
            header = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, size)
        assert self._transport is not None
        self._transport.write(header + mask + masked)

    def next_text(self) -> asyncio.Future[float]:
        self.waiter = asyncio.get_running_loop().create_future()
        return self.waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class Target:
    """One server under test: its WebSocket, what to send to subscribe, how to fire an event."""

    def __init__(self, name: str, port: int, ws_path: str, subscribe: bytes | None) -> None:
        self.name, self.port, self.ws_path, self.subscribe = name, port, ws_path, subscribe
        self.base = f"http://127.0.0.1:{port}"
        self.fire: Callable[[aiohttp.ClientSession, int], Awaitable[None]]

    async def connect(self) -> Subscriber:
        loop = asyncio.get_running_loop()
        _, sub = await loop.create_connection(
            lambda: Subscriber(f"127.0.0.1:{self.port}", self.ws_path), "127.0.0.1", self.port
        )
        await sub.upgraded
        if self.subscribe is not None:
            answered = sub.next_text()
            sub.send_text(self.subscribe)
            await answered
            assert b'"subscription"' in sub.last_text, sub.last_text
        return sub


async def _wait(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(base + "/healthz") as r:
                    if r.status in (200, 404):
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise SystemExit("bench server did not start")


async def _fanout(target: Target, subscribers: int, rounds: int, seconds: float) -> dict[str, Any]:
    subs = [await target.connect() for _ in range(subscribers)]
    async with aiohttp.ClientSession() as session:
        latencies: list[float] = []
        for i in range(rounds):
            arrivals = [sub.next_text() for sub in subs]
            start = time.perf_counter()
            await target.fire(session, i)
            for at in await asyncio.gather(*arrivals):
                latencies.append((at - start) * 1000)
        # Saturation: fire back to back for `seconds`, count what arrives.
        for sub in subs:
            sub.waiter, sub.texts = None, 0
        end = time.perf_counter() + seconds
        fired = 0
        while time.perf_counter() < end:
            await target.fire(session, fired)
            fired += 1
        await asyncio.sleep(0.5)
        rate = sum(sub.texts for sub in subs) / (seconds + 0.5)
    for sub in subs:
        sub.close()
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "events_per_s": rate,
    }


async def _idle(target: Target, pid: int, count: int) -> tuple[float, float]:
    """RSS growth per socket, connected and quiet; then per subscription added to each."""
    idle = Target(target.name, target.port, target.ws_path, None)
    await asyncio.sleep(0.5)
    before = _rss_kib(pid)
    subs = [await idle.connect() for _ in range(count)]
    await asyncio.sleep(1.0)
    connected = _rss_kib(pid)
    subscribed = connected
    if target.subscribe is not None:
        for sub in subs:
            answered = sub.next_text()
            sub.send_text(target.subscribe)
            await answered
        await asyncio.sleep(1.0)
        subscribed = _rss_kib(pid)
    for sub in subs:
        sub.close()
    await asyncio.sleep(0.5)
    return (connected - before) / count, (subscribed - connected) / count


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["taskset", "-c", SERVER_CPU, sys.executable, *args], env=env)


async def run(subscribers: int, idle: int, rounds: int, seconds: float, repeats: int) -> None:
    """Both servers, the same measurements, the ratios."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * idle + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # children inherit it
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as data:
        env = {
            **plain_environment(),  # media off: the LiveKit scenarios may have run first
            "DATA_DIR": data,
            "AUTH_SECRET": secrets.token_hex(32),  # the token command and the server share it
            "LOG_LEVEL": "WARNING",
            "EXPLORER": "false",
            "LIVE_SOCKETS_PER_BEING": str(idle + subscribers + 10),
            # every socket is @alice's: her limits stay out of reach (they are counted still)
            "RATE_LIMIT_SOCKETS": "1000000000/minute",
            "RATE_LIMIT_SUBSCRIPTIONS": "1000000000/minute",
            "RATE_LIMIT_READS": "1000000000/minute",
            "RATE_LIMIT_WRITES": "1000000000/minute",
        }
        for command in (["seed"], ["token", "@alice", "--ttl", "2h"]):
            done = subprocess.run(
                [sys.executable, "-m", "server", *command],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        token = done.stdout.strip().splitlines()[-1]
        port = _free_port()
        ours = _spawn(["-m", "server", "serve"], {**env, "PORT": str(port)})
        plain_port = _free_port()
        plain = _spawn(["-m", "bench.live", "--serve-plain", str(plain_port)], env)
        try:
            watch = {
                "jsonrpc": "2.0",
                "method": "intention.watch",
                "id": 1,
                "params": {"spaceId": "@demo-space"},
            }
            rpc = Target("roomrpc intention.watch", port, "/rpc", json.dumps(watch).encode())
            base = Target("plain aiohttp broadcast", plain_port, "/ws", None)
            await _wait(rpc.base)
            await _wait(base.base)
            auth = {"Authorization": f"Bearer {token}"}

            async def create(session: aiohttp.ClientSession, i: int) -> None:
                body = {
                    "jsonrpc": "2.0",
                    "method": "intention.create",
                    "id": i,
                    "params": {"spaceId": "@demo-space", "content": f"hello {i}"},
                }
                async with session.post(rpc.base + "/rpc", json=body, headers=auth) as r:
                    assert "result" in await r.json()

            async def broadcast(session: aiohttp.ClientSession, i: int) -> None:
                note = {
                    "jsonrpc": "2.0",
                    "method": "intention.watch",
                    "params": {"subscription": "s", "id": str(i), "data": {"content": "x"}},
                }
                async with session.post(base.base + "/broadcast", data=json.dumps(note)) as r:
                    await r.read()

            rpc.fire, base.fire = create, broadcast
            runs: dict[str, list[dict[str, Any]]] = {rpc.name: [], base.name: []}
            for _repeat in range(repeats):  # interleaved: both see the same machine
                for target in (rpc, base):
                    runs[target.name].append(await _fanout(target, subscribers, rounds, seconds))
            for target, pid in ((rpc, ours.pid), (base, plain.pid)):
                results[target.name] = {
                    key: statistics.median(r[key] for r in runs[target.name])
                    for key in ("p50", "p99", "events_per_s")
                }
                per_socket, per_subscription = await _idle(target, pid, idle)
                results[target.name]["idle_kib"] = per_socket
                results[target.name]["subscribed_kib"] = per_subscription
        finally:
            for child in (ours, plain):
                child.terminate()
                child.wait(timeout=20)
    print(
        f"fan-out to {subscribers} WebSocket subscribers, {rounds} events, medians of {repeats} "
        f"interleaved runs; {idle} idle sockets"
    )
    print(f"{'server':28} {'p50 ms':>8} {'p99 ms':>8} {'events/s':>10} {'KiB/idle socket':>16}")
    for name, r in results.items():
        print(
            f"{name:28} {r['p50']:8.1f} {r['p99']:8.1f} {r['events_per_s']:10.0f} "
            f"{r['idle_kib']:16.1f}"
        )
    ours_r, plain_r = results["roomrpc intention.watch"], results["plain aiohttp broadcast"]
    print(
        f"ratios (roomrpc / plain): p99 {ours_r['p99'] / plain_r['p99']:.2f}, "
        f"events/s {ours_r['events_per_s'] / plain_r['events_per_s']:.2f}, "
        f"memory per idle socket {ours_r['idle_kib'] / max(plain_r['idle_kib'], 0.1):.2f}"
    )
    print(
        "roomrpc, each idle socket then subscribing to intention.watch: "
        f"+{ours_r['subscribed_kib']:.1f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve-plain", type=int, default=0)
    args = parser.parse_args()
    if args.serve_plain:
        web.run_app(plain_app(), host="127.0.0.1", port=args.serve_plain, print=None)
        return
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    asyncio.run(run(args.subscribers, args.idle, args.rounds, args.seconds, args.repeats))


if __name__ == "__main__":
    main()
