"""The TypeScript client: strict builds, type tests, Node's test runner against a live server."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests import codegen_zoo, spec_examples
from tests.typescript import TS, build_for, run_node_tests, tsc


@pytest.fixture
async def live_url(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
    make_app: Callable[..., web.Application],
) -> str:
    app = make_app(
        contract=codegen_zoo.CONTRACT,
        routers=(codegen_zoo.router,),
        RPC_MAX_BATCH="6",
        RPC_CALL_TIMEOUT="1",
    )
    server = await aiohttp_server(app)
    return str(server.make_url("/rpc"))


def test_checked_in_client_builds_under_strict(tmp_path: Path) -> None:
    tsc("-p", TS / "tsconfig.json", "--outDir", tmp_path)
    assert (tmp_path / "index.js").is_file()
    assert (tmp_path / "index.d.ts").is_file()


def test_checked_in_client_type_tests() -> None:
    """``test-types/``: wrong inputs against the real contract fail to compile."""
    tsc("-p", TS / "tsconfig.typecheck.json")


def test_type_tests_can_fail(tmp_path: Path) -> None:
    """An ``@ts-expect-error`` on a line that compiles is itself an error: the checks bite."""
    index = (TS / "src" / "index.js").as_posix()
    (tmp_path / "probe.ts").write_text(
        f'import {{ createClient }} from "{index}";\n'
        'const client = createClient({ url: "/rpc" });\n'
        "// @ts-expect-error (wrongly: this call is fine)\n"
        "void client.system.health({});\n",
        encoding="utf-8",
    )
    config = {
        "extends": (TS / "tsconfig.typecheck.json").as_posix(),
        "compilerOptions": {"rootDir": "/"},
        "include": [(TS / "src").as_posix(), (tmp_path / "probe.ts").as_posix()],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="Unused '@ts-expect-error'"):
        tsc("-p", tmp_path / "tsconfig.json")


_SPEC_CHECK = """
import { createClient } from "../src/index.js";
const client = createClient({ url: "/rpc" });
export async function spec(): Promise<number> {
  await client.update({ a: 1, e: 5 });
  const data: unknown[] = await client.get_data();
  // @ts-expect-error subtrahend is required
  await client.subtract({ minuend: 1 });
  // @ts-expect-error only the spec's procedures exist
  await client.system.health();
  return (await client.sum()) + data.length;
}
"""


def test_spec_examples_contract_builds(tmp_path: Path) -> None:
    """The spec examples alone (flat names, no namespace) make a client that type-checks."""
    build_for(spec_examples.CONTRACT, tmp_path, {"spec.check.ts": _SPEC_CHECK})
    assert (tmp_path / "dist-test" / "test" / "spec.check.js").is_file()


def test_test_contract_builds_with_type_tests(ts_build: Path) -> None:
    assert (ts_build / "test" / "types.check.js").is_file()


async def test_client_against_live_server(ts_build: Path, live_url: str) -> None:
    output = await run_node_tests([ts_build / "test" / "client.test.js"], {"ROOMRPC_URL": live_url})
    passed = re.search(r"^\S pass (\d+)$", output, re.MULTILINE)  # the spec reporter's summary
    assert passed is not None and int(passed[1]) >= 15, output
    assert re.search(r"^\S fail 0$", output, re.MULTILINE), output
