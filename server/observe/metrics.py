"""roomrpc's Prometheus metrics: plain counters on the hot path, read by prometheus-client.

A call is counted with a dict update and a bucket search (well under a
microsecond; ``make bench`` measures it). prometheus-client's own ``labels()``
and its per-sample locks cost several times that, so the numbers live here and
a collector turns them into metric families only when ``/metrics`` is scraped.
The event loop is the only writer, so no lock is taken.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
)
from prometheus_client import Gauge as _PromGauge
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

__all__ = ["CALL_BUCKETS", "Gauge", "Histogram", "Metrics"]

# Seconds: a call served from memory takes tens of µs, one that waits on LiveKit tens of ms.
CALL_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                0.5, 1.0, 2.5, 5.0, 10.0, 30.0)  # fmt: skip
Gauge = _PromGauge


class Histogram:
    """One histogram series: counts per bucket and a sum, no lock (one writer)."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        """Count one observation."""
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.total += seconds

    def buckets(self) -> list[tuple[str, float]]:
        """Prometheus's cumulative ``le`` buckets."""
        found, running = [], 0
        for bound, count in zip((*map(repr, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            found.append((bound, float(running)))
        return found


class _Family:
    """Histograms of one metric, one per label value, made on first use."""

    __slots__ = ("bounds", "series")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.series: dict[str, Histogram] = {}

    def get(self, label: str) -> Histogram:
        series = self.series.get(label)
        if series is None:
            series = self.series[label] = Histogram(self.bounds)
        return series

    def family(self, name: str, documentation: str, label: str) -> HistogramMetricFamily:
        metric = HistogramMetricFamily(name, documentation, labels=[label])
        for value, series in sorted(self.series.items()):
            metric.add_metric([value], series.buckets(), series.total)
        return metric


class Metrics:
    """The metrics of one process; ``registry`` is what ``/metrics`` exposes.

    Other code counts through these handles:

    - ``observe_call(method, code, seconds)``: the dispatcher, once per call;
    - ``ws_connections`` / ``subscriptions``: prometheus-client gauges; the app
      reads them from its open sockets when scraped (``set_function``);
    - ``database.get("read" | "write").observe(seconds)``, and ``livekit`` by
      RoomService method.
    """

    def __init__(self, *, process: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._calls: dict[str, _Calls] = {}
        self.durations = _Family(CALL_BUCKETS)
        self.database = _Family(CALL_BUCKETS)
        self.livekit = _Family(CALL_BUCKETS)
        self.ws_connections = Gauge(
            "roomrpc_ws_connections", "Open WebSocket connections", registry=self.registry
        )
        self.subscriptions = Gauge(
            "roomrpc_subscriptions", "Active subscriptions", registry=self.registry
        )
        self.registry.register(_Collector(self))
        if process:  # the process's CPU, memory, file descriptors, GC and Python version
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)

    def observe_call(self, method: str, code: str, seconds: float) -> None:
        """Count one finished call: ``code`` is ``OK`` or the error's name."""
        series = self._calls.get(method)
        if series is None:
            series = self._calls[method] = _Calls(self.durations.get(method))
        codes = series.codes
        codes[code] = codes.get(code, 0) + 1
        histogram = series.histogram
        histogram.counts[bisect_left(CALL_BUCKETS, seconds)] += 1
        histogram.total += seconds

    @property
    def calls(self) -> dict[tuple[str, str], int]:
        """Calls counted so far, by (method, code)."""
        return {(m, c): n for m, s in self._calls.items() for c, n in s.codes.items()}


class _Calls:
    """The calls of one method: a count per code, and the duration histogram."""

    __slots__ = ("codes", "histogram")

    def __init__(self, histogram: Histogram) -> None:
        self.codes: dict[str, int] = {}
        self.histogram = histogram


class _Collector(Collector):
    """Turns the plain numbers into metric families at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        worker = GaugeMetricFamily(
            "roomrpc_worker",
            "This process: with --workers, each scrape reaches one",
            labels=["pid"],
        )
        worker.add_metric([str(os.getpid())], 1)
        yield worker
        calls = CounterMetricFamily(
            "roomrpc_rpc_calls", "RPC calls by method and result code", labels=["method", "code"]
        )
        for (method, code), count in sorted(m.calls.items()):
            calls.add_metric([method, code], count)
        yield calls
        yield m.durations.family("roomrpc_rpc_call_duration_seconds", "RPC call duration", "method")
        yield m.database.family(
            "roomrpc_db_call_duration_seconds", "Database transaction duration", "mode"
        )
        yield m.livekit.family(
            "roomrpc_livekit_call_duration_seconds", "LiveKit API call duration", "method"
        )
