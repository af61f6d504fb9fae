"""The client generator: the OpenRPC document, the TypeScript and Python clients, from the contract.

Reads ``schema/`` (msgspec and the standard library); never imports the server,
so it runs wherever the contract does. ``generate`` returns every generated file
by its path under ``clients/``; ``write`` puts them there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any

from codegen._emit import CORE_ERRORS, contract_ts, errors_ts, translator
from codegen._python import PY_CLIENT_PATH, python_client
from schema._procedure import Procedure
from schema.openrpc import build_openrpc, contract_hash

__all__ = [
    "COMPILED_BANNER",
    "CORE_ERRORS",
    "OPENRPC_PATH",
    "PY_CLIENT_PATH",
    "TS_CONTRACT_PATH",
    "TS_ERRORS_PATH",
    "api_version",
    "contract_files",
    "generate",
    "mark_compiled",
    "namespace_docs",
    "python_files",
    "stale",
    "write",
]

OPENRPC_PATH = "openrpc.json"
TS_ERRORS_PATH = "typescript/src/errors.gen.ts"
TS_CONTRACT_PATH = "typescript/src/contract.gen.ts"


def api_version() -> str:
    """The installed roomrpc's version: what ``rpc.discover`` reports."""
    try:
        return version("roomrpc")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0"


def namespace_docs(modules: Iterable[ModuleType]) -> dict[str, str]:
    """Each namespace module's docstring, keyed by namespace: the client's namespace docs."""
    return {m.__name__.rpartition(".")[2]: (m.__doc__ or "").strip() for m in modules}


def generate(
    procedures: Iterable[Procedure[Any, Any]],
    *,
    title: str = "roomrpc",
    version: str | None = None,
    docs: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every generated file's text, by its path relative to ``clients/``."""
    procs = sorted(procedures, key=lambda p: p.name)
    document = build_openrpc(procs, title=title, version=version or api_version())
    ts = translator(procs)
    return {
        OPENRPC_PATH: json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        TS_ERRORS_PATH: errors_ts(ts),
        TS_CONTRACT_PATH: contract_ts(ts, procs, docs or {}, contract_hash(document)),
    }


def write(files: Mapping[str, str], root: Path) -> list[Path]:
    """Write ``files`` under ``root``; returns the paths whose content changed."""
    changed = []
    for relative, text in files.items():
        path = root / relative
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(path)
    return changed


def stale(files: Mapping[str, str], root: Path) -> list[Path]:
    """The paths under ``root`` whose content differs from ``files`` (or that are missing)."""
    return [
        root / relative
        for relative, text in files.items()
        if not (root / relative).is_file() or (root / relative).read_text(encoding="utf-8") != text
    ]


def contract_files() -> dict[str, str]:
    """The generated files of the contract in ``schema/``: what a default server serves.

    The JSON-RPC spec's example methods are not part of it (a server serves them only
    with ``RPC_SPEC_EXAMPLES=true``), so the clients never offer them.
    """
    import schema  # here, not at import time: schema/__init__ is what imports the namespaces

    return generate(schema.CONTRACT, docs=namespace_docs(schema.NAMESPACES))


COMPILED_BANNER = (
    "// Compiled by `make client` (tsc) from clients/typescript: do not edit, edit the source.\n"
)


def mark_compiled(folder: Path) -> list[Path]:
    """Put the compiled banner at the top of every ``.js`` under ``folder`` that lacks it."""
    marked = []
    for path in sorted(folder.rglob("*.js")):
        text = path.read_text(encoding="utf-8")
        if not text.startswith(COMPILED_BANNER):
            path.write_text(COMPILED_BANNER + text, encoding="utf-8")
            marked.append(path)
    return marked


def python_files() -> dict[str, str]:
    """The generated Python client surface, by its path relative to ``roomrpc/client/``."""
    import schema

    return {PY_CLIENT_PATH: python_client(schema.CONTRACT)}
