"""``make bench``: throughput and per-request costs, as ratios against plain aiohttp handlers."""
