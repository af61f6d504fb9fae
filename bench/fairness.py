"""Does a trivial call stay fast while heavy batches run? ``make bench`` prints the answer.

16 connections (wrk) send batches of 100 anonymous ``being.list {limit: 100}`` to
the bench server, whose SQLite database holds 120 beings; meanwhile one client
sends ``system.health``, one call after the other, and the delay of each answer
is kept. Printed: the probe's p50 and p99, alone and under that load.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["measure", "prepare"]

CLIENTS = 16
BATCH = [
    {"jsonrpc": "2.0", "method": "being.list", "params": {"limit": 100}, "id": i}
    for i in range(100)
]
PROBE = b'{"jsonrpc":"2.0","method":"system.health","id":1}'


async def _seed_bots(env: dict[str, str]) -> None:
    from server.cli.seed import create_being
    from server.settings import load_settings
    from server.storage import Storage

    storage = await Storage.open(load_settings(env, env_file=None))
    try:
        for i in range(120):
            fields = {"id": f"@bench-bot-{i:03d}", "name": f"Bench bot {i}", "type": "bot"}
            await create_being(storage, {**fields, "ownerId": "@alice"})
    finally:
        await storage.close()


def prepare() -> list[Any]:
    """For bench/__main__.py: 120 more beings in the bench database (no wrk scenario)."""
    asyncio.run(_seed_bots(dict(os.environ)))
    return []


def _probe(host: str, port: int, until: float, delays: list[float]) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    while time.monotonic() < until:
        started = time.perf_counter()
        conn.request("POST", "/rpc", body=PROBE, headers=headers)
        answer = conn.getresponse().read()
        delays.append(time.perf_counter() - started)
        assert b'"result"' in answer, answer[:200]
        time.sleep(0.005)
    conn.close()


def _delays(port: int, seconds: float) -> list[float]:
    delays: list[float] = []
    _probe("127.0.0.1", port, time.monotonic() + seconds, delays)
    return delays


def _under_load(base: str, port: int, seconds: float, load_cpu: str) -> tuple[list[float], str]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "batch.lua"
        body = json.dumps(BATCH).replace("\\", "\\\\").replace('"', '\\"')
        script.write_text(
            f'wrk.method = "POST"\nwrk.body = "{body}"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        wrk = subprocess.Popen(
            [
                "taskset",
                "-c",
                load_cpu,
                "wrk",
                "-t1",
                f"-c{CLIENTS}",
                f"-d{seconds:g}s",
                "--timeout",
                "30s",
                "-s",
                str(script),
                base + "/rpc",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)  # the batches are under way
        delays: list[float] = []
        probe = threading.Thread(
            target=_probe, args=("127.0.0.1", port, time.monotonic() + seconds - 1, delays)
        )
        probe.start()
        probe.join()
        out, _ = wrk.communicate(timeout=seconds + 60)
    return delays, out


def _pct(delays: list[float], q: int) -> float:
    return statistics.quantiles(delays, n=100)[q - 1] * 1000 if len(delays) > 1 else float("nan")


def measure(base: str, seconds: float, load_cpu: str) -> None:
    """Print the probe's delays alone and under 16 clients' heavy batches."""
    port = int(base.rsplit(":", 1)[1])
    alone = _delays(port, 2)
    loaded, wrk_out = _under_load(base, port, max(seconds, 4), load_cpu)
    batches = next(
        (line.split()[-1] for line in wrk_out.splitlines() if "Requests/sec" in line), "?"
    )
    print(
        f"\nsystem.health while {CLIENTS} clients send batches of 100 being.list {{limit:100}}"
        f" ({batches} batches/s):"
    )
    print(f"  alone       p50 {_pct(alone, 50):7.1f} ms   p99 {_pct(alone, 99):7.1f} ms")
    print(
        f"  under load  p50 {_pct(loaded, 50):7.1f} ms   p99 {_pct(loaded, 99):7.1f} ms"
        f"   ({len(loaded)} probes)"
    )
