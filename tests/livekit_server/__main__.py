"""``python -m tests.livekit_server``: serve the LiveKit test server until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from tests.livekit_server.server import LiveKitServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.livekit_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7880, help="0 picks a free port")
    parser.add_argument("--api-key", default="devkey")
    parser.add_argument("--api-secret", default="secret")
    parser.add_argument("--webhook-url", help="where to POST signed webhooks")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> None:
    server = LiveKitServer(
        api_key=args.api_key,
        api_secret=args.api_secret,
        webhook_url=args.webhook_url,
        host=args.host,
        port=args.port,
        http_controls=True,
    )
    async with server:
        print(f"LiveKit test server: LIVEKIT_URL={server.ws_url} key={server.api_key}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    main()
