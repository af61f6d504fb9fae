"""The API explorer: ``GET /`` serves a page that lists and calls every procedure.

The page is static: ``static/index.html`` and ``static/explorer.css`` are written
by hand; ``static/js/`` is the TypeScript client's runtime and the explorer
(``clients/typescript/explorer/``) compiled by ``make client``, checked in so
the server needs no Node, and compared with a fresh build by the tests.
Nothing is loaded from elsewhere, which the Content-Security-Policy enforces.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

__all__ = ["STATIC", "add_explorer", "secure"]

STATIC = Path(__file__).parent / "static"
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


_SECURITY = {
    "Content-Security-Policy": _POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "index.html", headers={"Content-Type": "text/html; charset=utf-8"}
    )


def secure(request: web.Request, response: web.StreamResponse) -> None:
    """Every file of the explorer, the page at ``/`` or under ``/explorer/``, gets the policy
    (called as each response is prepared)."""
    path = request.path
    if path == "/" or path.startswith("/explorer/"):
        response.headers.update(_SECURITY)


def add_explorer(app: web.Application) -> None:
    """Serve the explorer at ``/`` and its files under ``/explorer/``."""
    app.router.add_get("/", _page)
    app.router.add_static("/explorer/", STATIC, append_version=False)
