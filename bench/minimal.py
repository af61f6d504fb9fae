"""The honest baseline: a minimal aiohttp JSON-RPC server, in a process of its own.

It decodes the JSON-RPC body with msgspec and answers an encoded result, nothing
else: no routing beyond aiohttp's, no middleware, no validation, no storage. It runs
on the same event loop kind as ``roomrpc serve`` (uvloop unless ``UVLOOP=false``).

    python -m bench.minimal PORT
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
from aiohttp import web

from server.http.loop import loop_factory
from server.settings import load_settings

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_HEADERS = {"Content-Type": "application/json"}


async def rpc(request: web.Request) -> web.Response:
    call: Any = _decode(await request.read())
    params = call["params"]
    answer = {"jsonrpc": "2.0", "result": params["a"] + params["b"], "id": call["id"]}
    return web.Response(body=_encode(answer), headers=_HEADERS)


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    app = web.Application()
    app.router.add_post("/rpc", rpc)
    app.router.add_get("/healthz", healthz)
    factory = loop_factory(load_settings(env_file=None).uvloop)  # as roomrpc serve
    loop = factory() if factory is not None else None
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, loop=loop
    )


if __name__ == "__main__":
    main()
