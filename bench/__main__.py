"""``make bench``: /rpc against a minimal aiohttp server in a process of its own.

The honest baseline is ``bench/minimal.py``: aiohttp on the same event loop kind,
the JSON-RPC body decoded with msgspec and a result encoded, nothing else. Every
scenario is reported as requests (and calls) per CPU-second of its server process,
and as a ratio to the minimal server's; rounds interleave, the median of each is
kept. The servers share one core, wrk runs on the other. A plain handler mounted
inside the roomrpc app is kept too: its ratio separates what the application
costs (middlewares, routing, the transport) from what dispatch costs.

After the table: the ratios the goals name, p50/p99 latency at a fixed load (wrk,
a fixed number of connections), and the resident memory of a ``roomrpc serve``
worker idle and under load.

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

from bench import plain_environment
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
    server: str = "app"  # which server process answers: a key of SERVERS


def _call(i: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "bench.add", "params": {"a": i, "b": 2}, "id": i}


MINIMAL = Scenario(
    "minimal aiohttp+msgspec server", "/rpc", json.dumps(_call(1)).encode(), server="minimal"
)
BASELINE = Scenario("in-app plain handler", "/plain", b'{"a": 1, "b": 2}')
BARE = Scenario("in-app plain, body unread", "/plain-bare", b'{"a": 1, "b": 2}')
SINGLE = Scenario("/rpc bench.add", "/rpc", json.dumps(_call(1)).encode())
BATCH = Scenario(
    "/rpc batch of 50 bench.add", "/rpc", json.dumps([_call(i) for i in range(50)]).encode(), 50
)
SCENARIOS: list[Scenario] = [BARE, SINGLE, BATCH]
# Other modules add scenarios (and the server-side setup they need) through this hook.
EXTRA: list[Callable[[], list[Scenario]]] = []
# (scenario, baseline scenario) pairs reported as a ratio of calls/s after the table.
RATIOS: list[tuple[str, str]] = [
    (SINGLE.name, MINIMAL.name),
    (SINGLE.name, BASELINE.name),
    (BATCH.name, SINGLE.name),
]
# Server processes beside the app (name -> extra environment); other modules add some
# (bench/beings.py: the app on PostgreSQL).
SERVERS: dict[str, dict[str, str]] = {"app": {}, "minimal": {}}
# Scenarios whose p50/p99 latency is printed at a fixed load.
LATENCY: list[str] = [MINIMAL.name, SINGLE.name]


def _register_extras() -> None:
    # --- being.get with a real token and database (bench/beings.py) ---
    from bench import beings as bench_beings

    EXTRA.append(bench_beings.scenarios)
    RATIOS.extend(bench_beings.RATIOS)
    LATENCY.extend(bench_beings.LATENCY)
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
    from server.http.loop import loop_factory
    from server.settings import load_settings

    factory = loop_factory(load_settings(env_file=None).uvloop)  # as roomrpc serve
    loop = factory() if factory is not None else None
    web.run_app(build_app(), host="127.0.0.1", port=port, access_log=None, print=None, loop=loop)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(
    url: str, scenario: Scenario, seconds: float, script_dir: Path, connections: int = 32
) -> str:
    script = script_dir / "post.lua"
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in scenario.headers)
    body = scenario.body.decode().replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        f'wrk.headers["Content-Type"] = "application/json"\n{headers}'
    )
    done = subprocess.run(
        [
            *("taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"),
            *("--latency", "-s", str(script), url),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in done.stdout:
        raise SystemExit(f"{scenario.name}: non-2xx answers\n{done.stdout}")
    return done.stdout


def _rate(wrk_output: str) -> float:
    match = re.search(r"Requests/sec:\s+([\d.]+)", wrk_output)
    assert match, wrk_output
    return float(match.group(1))


def _millis(wrk_output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", wrk_output, re.M)
    assert match, wrk_output
    return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]


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
    scenarios = [MINIMAL, BASELINE, *SCENARIOS, *(s for extra in EXTRA for s in extra())]
    from bench.beings import SERVERS as BEINGS_SERVERS

    SERVERS.update(BEINGS_SERVERS)
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for name, extra_env in SERVERS.items():
            servers[name] = _start(name, extra_env)
        for scenario in scenarios:
            _check(servers[scenario.server][1] + scenario.path, scenario)
        rps: dict[str, list[float]] = {s.name: [] for s in scenarios}
        per_cpu: dict[str, list[float]] = {s.name: [] for s in scenarios}
        latency: dict[str, tuple[float, float]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.rounds):
                for scenario in scenarios:
                    process, base = servers[scenario.server]
                    cpu = _cpu_seconds(process.pid)
                    rate = _rate(_wrk(base + scenario.path, scenario, args.seconds, Path(tmp)))
                    used = _cpu_seconds(process.pid) - cpu
                    rps[scenario.name].append(rate)
                    per_cpu[scenario.name].append(rate * args.seconds / max(used, 1e-9))
            by_name = {s.name: s for s in scenarios}
            for name in LATENCY:
                scenario = by_name[name]
                out = _wrk(
                    servers[scenario.server][1] + scenario.path,
                    scenario,
                    args.seconds,
                    Path(tmp),
                    connections=LATENCY_CONNECTIONS,
                )
                latency[name] = (_millis(out, "50"), _millis(out, "99"))
        _report(scenarios, rps, per_cpu)
        _report_latency(latency)
        from bench import fairness

        fairness.measure(servers["app"][1], args.seconds, LOAD_CPU)  # the app on SQLite
    finally:
        for process, _base in servers.values():
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
    _report_memory(args.seconds)
    # --- rate limits: their cost per call, and a flood beside a quiet caller ---
    from bench import limits as bench_limits

    bench_limits.main()
    # Fan-out to WebSocket subscribers against a plain aiohttp broadcast (bench/live.py).
    subprocess.run([sys.executable, "-m", "bench.live"], check=True)


LATENCY_CONNECTIONS = 4  # the fixed load of the latency figures: 4 connections back to back


def _start(name: str, extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    if name == "minimal":
        command = ["-m", "bench.minimal", str(port)]
    else:
        command = ["-m", "bench", "--serve", str(port)]
    process = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, sys.executable, *command],
        env={**os.environ, "LOG_LEVEL": "WARNING", **_UNREACHED_LIMITS, **extra_env},
    )
    base = f"http://127.0.0.1:{port}"
    _wait(base)
    return process, base


def _rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
    return int(found["VmRSS"]) / 1024, int(found["VmHWM"]) / 1024


def _report_memory(seconds: int) -> None:
    """RSS of one worker of ``roomrpc serve --workers N`` (``python -m server.cli.worker``,
    what the supervisor starts) on SQLite with media off (the database is
    migrated already, as a supervisor leaves it), idle, then after ``being.get`` calls at
    full speed; and of the minimal server, idle, for scale.

    The LiveKit scenarios set ``LIVEKIT_*`` in this process's environment: the worker
    does not inherit them (nor ``DATABASE_URL``), so it loads what a plain ``roomrpc
    serve`` loads (``tests/test_imports.py`` checks what that is)."""
    from bench.beings import load_scenario

    print("\nresident memory (MiB), SQLite, media off")
    port = _free_port()
    env = {**plain_environment(), "LOG_LEVEL": "WARNING", **_UNREACHED_LIMITS}
    worker = subprocess.Popen(
        [
            *("taskset", "-c", SERVER_CPU, sys.executable, "-m", "server.cli.worker"),
            *("127.0.0.1", str(port)),
        ],
        env=env,
    )
    minimal = None
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base)
        time.sleep(1)
        idle, _ = _rss_mib(worker.pid)
        load = load_scenario()
        if load is not None:
            with tempfile.TemporaryDirectory() as tmp:
                _wrk(base + load.path, load, seconds, Path(tmp))
            now, peak = _rss_mib(worker.pid)
            print(f"  roomrpc worker idle {idle:6.1f}   after load {now:6.1f}   peak {peak:6.1f}")
        else:
            print(f"  roomrpc worker idle {idle:6.1f}")
        minimal, _base = _start("minimal", {})
        time.sleep(1)
        print(f"  minimal server idle {_rss_mib(minimal.pid)[0]:6.1f}")
    finally:
        for process in (worker, minimal):
            if process is not None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=10)


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
    minimal_cpu = statistics.median(per_cpu[MINIMAL.name])
    plain_cpu = statistics.median(per_cpu[BASELINE.name])
    columns = ("req/s", "req/CPU-s", "calls/CPU-s", "/minimal", "/in-app")
    print(f"{'scenario':36} " + " ".join(f"{c:>11}" for c in columns))
    for s in scenarios:
        r, c = statistics.median(rps[s.name]), statistics.median(per_cpu[s.name])
        print(
            f"{s.name:36} {r:11.0f} {c:11.0f} {c * s.calls:11.0f} "
            f"{c * s.calls / minimal_cpu:11.2f} {c * s.calls / plain_cpu:11.2f}"
        )
    print(
        "/minimal, /in-app: calls per CPU-second of the server over the minimal server's"
        " (own process) and the in-app plain handler's"
    )
    calls = {s.name: s.calls for s in scenarios}
    for name, base in RATIOS:
        r = statistics.median(rps[name]) * calls[name] / statistics.median(rps[base])
        c = statistics.median(per_cpu[name]) * calls[name] / statistics.median(per_cpu[base])
        print(f"{name} / {base}: per CPU-second {c:.2f} (per second {r:.2f})")


def _report_latency(latency: dict[str, tuple[float, float]]) -> None:
    print(f"\nlatency at a fixed load ({LATENCY_CONNECTIONS} connections back to back), ms")
    for name, (p50, p99) in latency.items():
        print(f"  {name:36} p50 {p50:7.2f}   p99 {p99:7.2f}")


if __name__ == "__main__":
    main()
