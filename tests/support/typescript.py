"""Helpers for the TypeScript tests: Node, tsc, a build of the client for a test contract."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

import schema
from codegen import generate
from schema import Procedure
from tests.support import codegen_zoo, spec_examples

__all__ = [
    "ARTIFACTS",
    "ROOT",
    "TEST_CONTRACT",
    "TS",
    "build_for",
    "node",
    "run_node_tests",
    "tsc",
]

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "clients" / "typescript"
ARTIFACTS = ROOT / "test-artifacts"
_TSC = TS / "node_modules" / "typescript" / "bin" / "tsc"
# What the TypeScript tests' server serves: the real contract, the spec examples, the zoo.
TEST_CONTRACT = (*schema.CONTRACT, *spec_examples.CONTRACT, *codegen_zoo.CONTRACT)


def node() -> str:
    """The ``node`` executable; the test fails with what to install when it is missing."""
    found = shutil.which("node")
    if found is None:
        pytest.fail("Node.js 20 or newer is needed for the TypeScript tests (see README)")
    if not _TSC.is_file():
        pytest.fail("clients/typescript/node_modules is missing: run `make setup-node`")
    return found


def tsc(*args: str | Path) -> None:
    """Run the pinned ``tsc``; fail the test with its diagnostics."""
    result = subprocess.run(
        [node(), str(_TSC), *map(str, args)], capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(f"tsc {' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")


def build_for(
    procedures: Iterable[Procedure[Any, Any]], folder: Path, tests: dict[str, str] | None = None
) -> Path:
    """The client generated for ``procedures``, built in ``folder`` with tests.

    The tests are ``clients/typescript/test/`` unless ``tests`` gives others (name: source).
    """
    shutil.copytree(TS / "src", folder / "src", ignore=shutil.ignore_patterns("*.gen.ts"))
    if tests is None:
        shutil.copytree(TS / "test", folder / "test")
    else:
        (folder / "test").mkdir()
        for name, source in tests.items():
            (folder / "test" / name).write_text(source, encoding="utf-8")
    for name in ("package.json", "tsconfig.json", "tsconfig.test.json"):
        shutil.copy(TS / name, folder / name)
    (folder / "node_modules").symlink_to(TS / "node_modules", target_is_directory=True)
    for relative, text in generate(procedures).items():
        if relative.startswith("typescript/"):
            (folder / relative.removeprefix("typescript/")).write_text(text, encoding="utf-8")
    tsc("-p", folder / "tsconfig.test.json")
    return folder / "dist-test"


async def run_node_tests(files: Sequence[Path], env: dict[str, str], timeout: float = 180) -> str:
    """``node --test`` on ``files`` (the event loop keeps serving meanwhile); fails on failure."""
    process = await asyncio.create_subprocess_exec(
        node(),
        "--test",
        "--test-reporter=spec",
        *map(str, files),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"node --test did not finish within {timeout} s")
    text = output.decode(errors="replace")
    if process.returncode != 0:
        pytest.fail(f"node --test failed (exit {process.returncode}):\n{text}")
    return text
