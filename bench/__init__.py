"""``make bench``: throughput and per-request costs, as ratios against plain aiohttp handlers."""

import os


def plain_environment() -> dict[str, str]:
    """This process's environment without what the LiveKit scenarios put in it (and any
    ``DATABASE_*``, ``OTEL_*``): a server started with it is a plain ``roomrpc serve`` on
    SQLite, media off."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "DATABASE_", "OTEL_"))
    }
