"""The import graph stays honest: layers import downwards only, no cycles, each module alone.

The layers, lowest first: the contract (``schema``), the core (``server.rpc``,
``server.settings``), the rules (``server.domain``), the adapters (storage,
LiveKit, auth, the bus), the procedures, and the transports and commands
(``server.http``, ``server.cli``). Imports inside functions count as much as
those at the top of a module.
"""

from __future__ import annotations

import ast
import os
import pkgutil
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import codegen
import roomrpc
import schema
import server

ROOT = Path(__file__).resolve().parents[1]

# Each package prefix and its layer; a module may import its own layer and lower ones.
LAYERS: dict[str, int] = {
    "schema": 0,
    "server": 0,  # the package itself holds only __version__
    "codegen": 1,
    "roomrpc": 1,  # the Python client: the contract and the wire, never the server
    "server.rpc": 1,
    "server.settings": 1,
    "server.observe": 1,
    "server.domain": 2,
    "server.storage": 3,
    "server.livekit": 3,
    "server.auth": 3,
    "server.bus": 3,
    "server.ratelimit": 3,
    "server.procedures": 4,
    "server.http": 5,
    "server.cli": 5,
    "server.__main__": 6,
}
# Adapters stand side by side; only these lean on another one.
ADAPTER_USES: dict[str, frozenset[str]] = {
    "server.auth": frozenset({"server.storage"}),
    "server.bus": frozenset({"server.storage"}),
}


def modules(package: object) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    found = [package.__name__]  # type: ignore[attr-defined]
    return found + [m.name for m in pkgutil.walk_packages(path, prefix)]


OURS = modules(server) + modules(schema) + modules(codegen) + modules(roomrpc)


def source_of(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def imports_of(module: str) -> Iterator[str]:
    """Every module of ours that ``module`` imports, wherever the import statement stands."""
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    package = module if source_of(module).name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (name for name in names if name in OURS)


def layer_of(module: str) -> tuple[str, int]:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return prefix, LAYERS[prefix]


def test_every_module_has_a_layer() -> None:
    for module in OURS:
        assert layer_of(module), module


def violations(module: str, targets: Iterable[str]) -> list[str]:
    """What is wrong with ``module`` importing ``targets``."""
    home, level = layer_of(module)
    found = []
    for target in targets:
        there, target_level = layer_of(target)
        if target_level > level:
            found.append(f"{module} ({home}) imports {target} ({there}), a higher layer")
        elif target_level == level == LAYERS["server.storage"] and there != home:
            allowed = ADAPTER_USES.get(home, frozenset())
            found += [] if there in allowed else [f"adapter {module} imports adapter {target}"]
    return found


@pytest.mark.parametrize("module", OURS)
def test_imports_run_downwards(module: str) -> None:
    assert violations(module, imports_of(module)) == []


def test_no_cycles() -> None:
    graph = {m: set(imports_of(m)) - {m} for m in OURS}
    # A package's __init__ re-exporting its own modules is no cycle: drop parent -> child.
    for m, targets in graph.items():
        graph[m] = {t for t in targets if not t.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle = [*stack[stack.index(t) :], t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("server.rpc.dispatch", "server.procedures.being"),
        ("server.domain.access", "server.storage.beings"),
        ("schema.being", "server.rpc"),
        ("server.storage.beings", "server.livekit.rooms"),
        ("server.procedures.being", "server.http.app"),
    ],
)
def test_the_checker_reports_an_upward_import(module: str, target: str) -> None:
    assert violations(module, [target]) != []


def test_the_checker_reads_imports_inside_functions() -> None:
    assert "server.http.app" in set(imports_of("server.cli._serving"))


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(done.stdout.split())


@pytest.mark.parametrize("module", [m for m in OURS if not m.endswith("__main__")])
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


def test_the_python_client_needs_only_aiohttp_msgspec_and_the_contract() -> None:
    baseline = imported_after("aiohttp") | imported_after("msgspec.json")
    loaded = imported_after("roomrpc.client") - baseline
    ours = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names)
    assert ours <= {"roomrpc", "schema"}, ours


# A worker of ``roomrpc serve --workers N`` (what its supervisor starts) that answers
# /healthz and one call over HTTP, then prints every module it has loaded and stops itself.
_SERVE_AND_LIST = """
import json, os, signal, sys, threading, time, urllib.request

def probe(base):
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    body = json.dumps({"jsonrpc": "2.0", "method": "system.health", "id": 1}).encode()
    headers = {"Content-Type": "application/json"}
    urllib.request.urlopen(urllib.request.Request(base + "/rpc", body, headers)).read()
    print("\\n".join(sys.modules), flush=True)
    os.kill(os.getpid(), signal.SIGINT)

port = sys.argv[1]
threading.Thread(target=probe, args=(f"http://127.0.0.1:{port}",), daemon=True).start()
from server.cli.worker import main
main(["127.0.0.1", port])
"""
# What a worker on SQLite with media off has no use for (each costs MiB resident).
_UNUSED_ON_SQLITE_MEDIA_OFF = (
    "click",
    "livekit",
    "google.protobuf",
    "asyncpg",
    "sqlalchemy.dialects.postgresql",
)


def served_modules(data_dir: Path, **env: str) -> set[str]:
    """The modules a worker (the database migrated first, as its supervisor does) has
    loaded once it has served a call."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIVEKIT_", "DATABASE_", "OTEL_")) and k != "AUTH_SECRET"
    }
    full = {**base, "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", **env}
    migrate = [sys.executable, "-m", "server", "migrate"]
    subprocess.run(migrate, env=full, capture_output=True, timeout=60, check=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_AND_LIST, port],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "server" in done.stdout.split(), done.stdout + done.stderr
    return set(done.stdout.split())


def _unused(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.startswith(_UNUSED_ON_SQLITE_MEDIA_OFF))


def test_a_worker_on_sqlite_with_media_off_loads_no_click_livekit_or_postgresql(
    tmp_path: Path,
) -> None:
    assert _unused(served_modules(tmp_path)) == []


def test_a_worker_with_media_on_loads_livekit(tmp_path: Path) -> None:
    """The check above sees what it looks for: with LIVEKIT_URL set, livekit-api is loaded."""
    livekit = {
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": "a-secret-of-at-least-thirty-two-characters",
    }
    loaded = served_modules(tmp_path, **livekit)
    assert {"livekit.api", "livekit.protocol", "google.protobuf"} <= loaded
