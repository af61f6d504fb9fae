"""``GET /``: the API explorer page, its static files, and the page itself in Chromium."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from codegen import COMPILED_BANNER, mark_compiled
from server.auth import Tokens
from server.cli.seed import seed_demo
from server.http.app import DEPS, create_app
from server.http.explorer import STATIC
from tests.support import codegen_zoo
from tests.support.app import make_settings
from tests.support.typescript import ARTIFACTS, TS, run_node_tests, tsc
from tests.support.world import USERS, Api

CHROMIUM = Path("/usr/bin/chromium")


async def test_page_is_served_with_a_strict_policy(client: TestClient[Any, Any]) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    page = await response.text()
    assert '<script type="module" src="explorer/js/explorer/explorer.js">' in page
    assert "http://" not in page and "https://" not in page


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/explorer/explorer.css", "text/css"),
        ("/explorer/favicon.svg", "image/svg+xml"),
        ("/explorer/js/explorer/explorer.js", "text/javascript"),
        ("/explorer/js/src/link.js", "text/javascript"),
    ],
)
async def test_static_files(client: TestClient[Any, Any], path: str, content_type: str) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type in (content_type, "application/javascript")


async def test_no_file_outside_the_static_folder(client: TestClient[Any, Any]) -> None:
    response = await client.get("/explorer/../__init__.py")
    assert response.status in (403, 404)


def test_no_asset_from_elsewhere() -> None:
    for path in STATIC.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".css", ".js"):
            text = path.read_text(encoding="utf-8")
            assert "//cdn" not in text and "https://" not in text, path


def test_compiled_explorer_matches_its_source(tmp_path: Path) -> None:
    """``server/http/explorer/static/js`` is what ``make client`` builds from the TypeScript."""
    tsc("-p", TS / "tsconfig.explorer.json", "--outDir", tmp_path)
    mark_compiled(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.js"))
    shipped = sorted(p.relative_to(STATIC / "js") for p in (STATIC / "js").rglob("*.js"))
    assert fresh == shipped, "run `make client`"
    for relative in fresh:
        same = filecmp.cmp(tmp_path / relative, STATIC / "js" / relative, shallow=False)
        assert same, f"{relative} is out of date: run `make client`"


async def test_explorer_in_chromium(
    ts_build: Path,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    make_app: Callable[..., web.Application],
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("the browser test needs Debian's chromium at /usr/bin/chromium (see README)")
    app = make_app(contract=codegen_zoo.CONTRACT, routers=(codegen_zoo.router,))
    server = await aiohttp_server(app)
    shots = ARTIFACTS / "explorer"
    shutil.rmtree(shots, ignore_errors=True)
    env = {"ROOMRPC_URL": str(server.make_url("/rpc")), "ARTIFACTS": os.fspath(shots)}
    await run_node_tests([ts_build / "test" / "explorer.browser.test.js"], env, timeout=240)
    assert (shots / "explorer-system-health.png").stat().st_size > 10_000


async def test_explorer_can_be_turned_off(aiohttp_client: Any, make_app: Any) -> None:
    client = await aiohttp_client(make_app(EXPLORER="false"))
    assert (await client.get("/")).status == 404
    assert (await client.get("/healthz")).status == 200


def test_compiled_files_say_they_are_compiled() -> None:
    for path in (STATIC / "js").rglob("*.js"):
        assert path.read_text(encoding="utf-8").startswith(COMPILED_BANNER), path


async def test_explorer_on_the_demo_world_at_desktop_and_phone_width(
    ts_build: Path,
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    tmp_path: Path,
) -> None:
    """The shipped page against the real app: real tokens, the demo world, 1280 and 400 px."""
    if not CHROMIUM.exists():
        pytest.fail("the browser test needs Debian's chromium at /usr/bin/chromium (see README)")
    settings = make_settings(DATA_DIR=str(tmp_path), AUTH_SECRET="explorer-test-secret-" + "x" * 16)
    app = create_app(settings)
    server = await aiohttp_server(app)
    await seed_demo(app[DEPS].storage)
    token = Tokens.from_settings(settings).mint("@alice", ttl=timedelta(hours=1))
    shots = ARTIFACTS / "explorer-demo"
    shutil.rmtree(shots, ignore_errors=True)
    env = {
        "ROOMRPC_URL": str(server.make_url("/rpc")),
        "ROOMRPC_TOKEN": token,
        "ARTIFACTS": os.fspath(shots),
    }
    await run_node_tests([ts_build / "test" / "explorer.demo.browser.test.js"], env, timeout=240)
    for width in ("desktop", "phone"):
        assert (shots / f"explorer-demo-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("db_env", ["sqlite"], indirect=True)
async def test_explorer_watches_a_subscription_live_in_chromium(ts_build: Path, world: Api) -> None:
    """The shipped page subscribes to ``intention.watch``; intentions another client
    creates appear on it as they arrive, until Stop."""
    if not CHROMIUM.exists():
        pytest.fail("the browser test needs Debian's chromium at /usr/bin/chromium (see README)")
    shots = ARTIFACTS / "explorer-live"
    shutil.rmtree(shots, ignore_errors=True)
    env = {
        "ROOMRPC_URL": str(world.client.make_url("/rpc")),
        "ROOMRPC_TOKENS": json.dumps({b: world.token(b) for b in USERS}),
        "ARTIFACTS": os.fspath(shots),
    }
    await run_node_tests([ts_build / "test" / "explorer.live.browser.test.js"], env, timeout=240)
    assert (shots / "explorer-live.png").stat().st_size > 10_000
