"""The import graph stays honest: each module imports alone, the core and contract stay lean."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import schema
import server


def modules(package: object) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    return [m.name for m in pkgutil.walk_packages(path, prefix) if not m.name.endswith("__main__")]


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(done.stdout.split())


@pytest.mark.parametrize("module", modules(server) + modules(schema))
def test_module_imports_in_a_fresh_interpreter(module: str) -> None:
    imported_after(module)


def test_core_never_imports_http_or_procedures() -> None:
    loaded = imported_after("server.rpc")
    assert "aiohttp" not in loaded
    assert not any(m.startswith("server.procedures") for m in loaded)


def test_contract_needs_only_msgspec_and_the_standard_library() -> None:
    baseline = imported_after("msgspec.json")  # msgspec and what it brings itself
    loaded = imported_after("schema.openrpc") - baseline
    ours = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names)
    assert ours <= {"schema"}, ours
