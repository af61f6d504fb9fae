"""``make bench``: /rpc against a plain aiohttp JSON handler, same process, same run.

The server runs in a child process pinned to one core, wrk on the other. For each
scenario we report requests per second and per CPU-second of the server process,
and the ratio to the plain handler measured in the same run (rounds interleave,
the median of each is kept). The plain handler reads and parses the body as /rpc
must; a second one that answers without reading it is the harder baseline, and
/rpc's ratios to it are printed after the table.

    python -m bench [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from schema import Base, query

SERVER_CPU, LOAD_CPU = "0", "1"
# Rate limits stay on (their cost is in every figure) but out of wrk's reach.
_UNREACHED_LIMITS = {
    f"RATE_LIMIT_{name}": "1000000000/minute" for name in ("READS", "WRITES", "LIVEKIT", "TOKENS")
}


class AddInput(Base):
    a: int
    b: int


add = query("bench.add", AddInput, int, "a + b: the trivial procedure")


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    body: bytes
    calls: int = 1  # calls per HTTP request
    headers: tuple[tuple[str, str], ...] = ()


def _call(i: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "bench.add", "params": {"a": i, "b": 2}, "id": i}


BASELINE = Scenario("plain aiohttp handler", "/plain", b'{"a": 1, "b": 2}')
BARE = Scenario("plain handler, body unread", "/plain-bare", b'{"a": 1, "b": 2}')
SINGLE = Scenario("/rpc bench.add", "/rpc", json.dumps(_call(1)).encode())
BATCH = Scenario(
    "/rpc batch of 50 bench.add", "/rpc", json.dumps([_call(i) for i in range(50)]).encode(), 50
)
SCENARIOS: list[Scenario] = [BARE, SINGLE, BATCH]
# Other modules add scenarios (and the server-side setup they need) through this hook.
EXTRA: list[Callable[[], list[Scenario]]] = []
# (scenario, baseline scenario) pairs reported as a ratio of calls/s after the table.
RATIOS: list[tuple[str, str]] = [(SINGLE.name, BARE.name), (BATCH.name, BARE.name)]


def _register_extras() -> None:
    # --- being.get with a real token and database (bench/beings.py) ---
    from bench import beings as bench_beings

    EXTRA.append(bench_beings.scenarios)
    # --- livekit.getJoinToken against minting with livekit-api alone ---
    from bench import livekit as bench_livekit

    EXTRA.append(bench_livekit.scenarios)
    RATIOS.extend(bench_livekit.RATIOS)
    # --- a trivial call's delay while heavy batches run (after the table) ---
    from bench import fairness

    EXTRA.append(fairness.prepare)


def build_app() -> web.Application:
    """The roomrpc app with the bench procedure mounted, plus the plain handler."""
    import schema
    from server.http.app import create_app
    from server.procedures import ROUTERS
    from server.rpc import Context, Router
    from server.settings import load_settings

    router = Router()

    @router.procedure(add)
    async def _add(ctx: Context[Any], params: AddInput) -> int:
        return params.a + params.b

    async def plain(request: web.Request) -> web.Response:
        data = await request.json()
        return web.json_response({"result": data["a"] + data["b"]})

    async def bare(request: web.Request) -> web.Response:
        return web.json_response({"result": 3})

    app = create_app(
        load_settings(env_file=None), contract=(*schema.CONTRACT, add), routers=(*ROUTERS, router)
    )
    app.router.add_post("/plain", plain)
    app.router.add_post("/plain-bare", bare)
    # --- the plain livekit-api mint handler (bench/livekit.py) ---
    from bench import livekit as bench_livekit

    bench_livekit.add_routes(app)
    return app


def serve(port: int) -> None:
    web.run_app(build_app(), host="127.0.0.1", port=port, access_log=None, print=None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, scenario: Scenario, seconds: float, script_dir: Path) -> float:
    script = script_dir / "post.lua"
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in scenario.headers)
    body = scenario.body.decode().replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        f'wrk.headers["Content-Type"] = "application/json"\n{headers}'
    )
    done = subprocess.run(
        ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in done.stdout:
        raise SystemExit(f"{scenario.name}: non-2xx answers\n{done.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert match, done.stdout
    return float(match.group(1))


def _check(url: str, scenario: Scenario) -> None:
    request = urllib.request.Request(
        url,
        data=scenario.body,
        headers={"Content-Type": "application/json", **dict(scenario.headers)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    if '"error"' in text:
        raise SystemExit(f"{scenario.name}: the call fails: {text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    # --- what counting calls for /metrics costs, in process ---
    from bench import metrics as bench_metrics

    bench_metrics.report(bench_metrics.measure())
    if shutil.which("wrk") is None:
        raise SystemExit("make bench needs wrk: apt-get install wrk")
    _register_extras()
    scenarios = [BASELINE, *SCENARIOS, *(s for extra in EXTRA for s in extra())]
    port = _free_port()
    server = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, sys.executable, "-m", "bench", "--serve", str(port)],
        env={**os.environ, "LOG_LEVEL": "WARNING", **_UNREACHED_LIMITS},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        for scenario in scenarios:
            _check(base + scenario.path, scenario)
        rps: dict[str, list[float]] = {s.name: [] for s in scenarios}
        per_cpu: dict[str, list[float]] = {s.name: [] for s in scenarios}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.rounds):
                for scenario in scenarios:
                    cpu = _cpu_seconds(server.pid)
                    rate = _wrk(base + scenario.path, scenario, args.seconds, Path(tmp))
                    used = _cpu_seconds(server.pid) - cpu
                    rps[scenario.name].append(rate)
                    per_cpu[scenario.name].append(rate * args.seconds / max(used, 1e-9))
        _report(scenarios, rps, per_cpu)
        from bench import fairness

        fairness.measure(base, args.seconds, LOAD_CPU)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
    # --- rate limits: their cost per call, and a flood beside a quiet caller ---
    from bench import limits as bench_limits

    bench_limits.main()
    # Fan-out to WebSocket subscribers against a plain aiohttp broadcast (bench/live.py).
    subprocess.run([sys.executable, "-m", "bench.live"], check=True)


def _wait(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("bench server did not start")


def _report(
    scenarios: list[Scenario], rps: dict[str, list[float]], per_cpu: dict[str, list[float]]
) -> None:
    plain_rps = statistics.median(rps[BASELINE.name])
    plain_cpu = statistics.median(per_cpu[BASELINE.name])
    columns = ("req/s", "req/CPU-s", "calls/s", "ratio", "ratio/CPU")
    print(f"{'scenario':34} " + " ".join(f"{c:>9}" for c in columns))
    for s in scenarios:
        r, c = statistics.median(rps[s.name]), statistics.median(per_cpu[s.name])
        print(
            f"{s.name:34} {r:9.0f} {c:9.0f} {r * s.calls:9.0f} "
            f"{r * s.calls / plain_rps:9.2f} {c * s.calls / plain_cpu:9.2f}"
        )
    print("ratio: calls/s over the plain handler's req/s; ratio/CPU: the same per CPU-second")
    calls = {s.name: s.calls for s in scenarios}
    for name, base in RATIOS:
        r = statistics.median(rps[name]) * calls[name] / statistics.median(rps[base])
        c = statistics.median(per_cpu[name]) * calls[name] / statistics.median(per_cpu[base])
        print(f"{name} / {base}: {r:.2f} (per CPU-second {c:.2f})")


if __name__ == "__main__":
    main()
