"""What counting a call costs: the dispatcher with and without the metrics observer.

In process, no HTTP: ``Dispatcher.handle`` on a single ``bench.add`` call and
on a batch of 50, rounds interleaved, the median kept; the difference per call
is what ``/metrics`` costs the hot path.

    python -m bench.metrics [--calls 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from schema import Base, query
from server.observe import Metrics
from server.rpc import Context, Dispatcher, Router, compile_procedures

__all__ = ["measure", "report"]


class AddInput(Base):
    a: int
    b: int


add = query("bench.add", AddInput, int, "a + b: the trivial procedure")


def _call(i: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "bench.add", "params": {"a": i, "b": 2}, "id": i}


SINGLE = json.dumps(_call(1)).encode()
BATCH = json.dumps([_call(i) for i in range(50)]).encode()


def _dispatcher(observe: Any) -> Dispatcher[None]:
    router = Router()

    @router.procedure(add)
    async def _add(ctx: Context[Any], params: AddInput) -> int:
        return params.a + params.b

    procedures = compile_procedures([add], [router])

    async def anonymous(authorization: str) -> None:
        return None

    return Dispatcher(
        procedures,
        deps=None,
        resolve_principal=anonymous,
        call_timeout=30,
        max_batch=100,
        observe=observe,
    )


async def _time(dispatcher: Dispatcher[None], body: bytes, n: int) -> float:
    handle = dispatcher.handle
    start = time.perf_counter()
    for _ in range(n):
        await handle(body, request_id="r", authorization=None)
    return time.perf_counter() - start


def measure(calls: int = 20000, rounds: int = 7) -> dict[str, float]:
    """µs per call with metrics off and on, single and batched, and the difference."""
    off, on = _dispatcher(None), _dispatcher(Metrics(process=False).observe_call)
    results: dict[str, list[float]] = {}

    async def run() -> None:
        for _ in range(rounds):
            for name, body, per in (("single", SINGLE, 1), ("batch", BATCH, 50)):
                n = max(calls // per, 1)
                for label, dispatcher in (("off", off), ("on", on)):
                    seconds = await _time(dispatcher, body, n)
                    results.setdefault(f"{name} {label}", []).append(seconds / (n * per) * 1e6)

    asyncio.run(run())
    medians = {k: statistics.median(v) for k, v in results.items()}
    for name in ("single", "batch"):
        medians[f"{name} overhead"] = medians[f"{name} on"] - medians[f"{name} off"]
    return medians


def report(medians: dict[str, float]) -> None:
    """Print the table ``make bench`` shows."""
    print("metrics on the hot path (in process, µs per call):")
    for name in ("single", "batch"):
        print(
            f"  {name:6}  off {medians[f'{name} off']:6.2f}  on {medians[f'{name} on']:6.2f}"
            f"  cost {medians[f'{name} overhead']:+.3f} µs/call"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    report(measure(args.calls, args.rounds))


if __name__ == "__main__":
    main()
