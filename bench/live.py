"""Fan-out: one intention.create to N WebSocket subscribers, against a plain aiohttp broadcast.

Both servers run as child processes pinned to one core (``roomrpc serve`` on a fresh
SQLite database, and a plain aiohttp app whose ``POST /broadcast`` loops over its
sockets calling ``send_str``); the subscribers run here on the other core.
Reported: p50/p99 delivery latency (POST sent -> event read by each subscriber),
events delivered per second at saturation, and the server's memory per idle socket.

    python -m bench.live [--subscribers 1000] [--idle 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

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


class Target:
    """One server under test: how to subscribe and how to cause one event."""

    def __init__(self, name: str, base: str, ws_path: str) -> None:
        self.name, self.base, self.ws_path = name, base, ws_path
        self.subscribe: Callable[[aiohttp.ClientWebSocketResponse], Awaitable[None]]
        self.fire: Callable[[aiohttp.ClientSession, int], Awaitable[None]]


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
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        sockets = [
            await session.ws_connect(target.base + target.ws_path) for _ in range(subscribers)
        ]
        for ws in sockets:
            await target.subscribe(ws)
        latencies: list[float] = []
        for i in range(rounds):
            start = time.perf_counter()
            arrivals = [asyncio.create_task(_arrival(ws)) for ws in sockets]
            await target.fire(session, i)
            for at in await asyncio.gather(*arrivals):
                latencies.append((at - start) * 1000)
        # Saturation: fire back to back for `seconds`, count what arrives.
        counted = [0]

        async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
            async for _msg in ws:
                counted[0] += 1

        drains = [asyncio.create_task(drain(ws)) for ws in sockets]
        end = time.perf_counter() + seconds
        fired = 0
        while time.perf_counter() < end:
            await target.fire(session, fired)
            fired += 1
        await asyncio.sleep(0.5)
        rate = counted[0] / (seconds + 0.5)
        for task in drains:
            task.cancel()
        for ws in sockets:
            await ws.close()
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "events_per_s": rate,
    }


async def _arrival(ws: aiohttp.ClientWebSocketResponse) -> float:
    msg = await ws.receive()
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return time.perf_counter()


async def _idle(target: Target, pid: int, count: int) -> float:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.sleep(0.5)
        before = _rss_kib(pid)
        sockets = []
        for _ in range(count):
            sockets.append(await session.ws_connect(target.base + target.ws_path))
        await asyncio.sleep(1.0)
        after = _rss_kib(pid)
        for ws in sockets:
            await ws.close()
    return (after - before) / count


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["taskset", "-c", SERVER_CPU, sys.executable, *args], env=env)


async def run(subscribers: int, idle: int, rounds: int, seconds: float) -> None:
    """Both servers, the same measurements, the ratios."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * idle + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # children inherit it
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "DATA_DIR": data,
            "LOG_LEVEL": "WARNING",
            "EXPLORER": "false",
            "LIVE_SOCKETS_PER_BEING": str(idle + subscribers + 10),
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
            rpc = Target("roomrpc intention.watch", f"http://127.0.0.1:{port}", "/rpc")
            base = Target("plain aiohttp broadcast", f"http://127.0.0.1:{plain_port}", "/ws")
            await _wait(rpc.base)
            await _wait(base.base)
            auth = {"Authorization": f"Bearer {token}"}

            async def watch(ws: aiohttp.ClientWebSocketResponse) -> None:
                await ws.send_str(
                    json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "method": "rpc.authenticate",
                            "params": {"token": token},
                            "id": 0,
                        }
                    )
                )
                await ws.receive()
                await ws.send_str(
                    json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "method": "intention.watch",
                            "params": {"spaceId": "@demo-space"},
                            "id": 1,
                        }
                    )
                )
                answer = json.loads((await ws.receive()).data)
                assert "result" in answer, answer

            async def create(session: aiohttp.ClientSession, i: int) -> None:
                body = {
                    "jsonrpc": "2.0",
                    "method": "intention.create",
                    "id": i,
                    "params": {"spaceId": "@demo-space", "content": f"hello {i}"},
                }
                async with session.post(rpc.base + "/rpc", json=body, headers=auth) as r:
                    assert "result" in await r.json()

            async def nothing(ws: aiohttp.ClientWebSocketResponse) -> None:
                return None

            async def broadcast(session: aiohttp.ClientSession, i: int) -> None:
                note = {
                    "jsonrpc": "2.0",
                    "method": "intention.watch",
                    "params": {"subscription": "s", "id": str(i), "data": {"content": "x"}},
                }
                async with session.post(base.base + "/broadcast", data=json.dumps(note)) as r:
                    await r.read()

            rpc.subscribe, rpc.fire = watch, create
            base.subscribe, base.fire = nothing, broadcast
            for target, pid in ((rpc, ours.pid), (base, plain.pid)):
                results[target.name] = await _fanout(target, subscribers, rounds, seconds)
                results[target.name]["idle_kib"] = await _idle(target, pid, idle)
        finally:
            for child in (ours, plain):
                child.terminate()
                child.wait(timeout=20)
    print(f"fan-out to {subscribers} WebSocket subscribers, {rounds} events; {idle} idle sockets")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--serve-plain", type=int, default=0)
    args = parser.parse_args()
    if args.serve_plain:
        web.run_app(plain_app(), host="127.0.0.1", port=args.serve_plain, print=None)
        return
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    asyncio.run(run(args.subscribers, args.idle, args.rounds, args.seconds))


if __name__ == "__main__":
    main()
