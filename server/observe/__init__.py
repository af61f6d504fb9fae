"""Observability shared by every layer: metrics, log format, the client address."""

from server.observe.logs import configure_logging
from server.observe.metrics import Gauge, Histogram, Metrics

__all__ = ["Gauge", "Histogram", "Metrics", "configure_logging"]
