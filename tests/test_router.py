"""Routers that cannot serve fail at start-up, with a message naming the problem."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import schema
from schema import Base, jsonrpc_examples, query
from server.http.app import create_app
from server.procedures import ROUTERS, routers_of
from server.rpc import Context, Router, RouterError
from tests.support.app import make_settings

ROOT = Path(__file__).resolve().parents[1]


class In(Base):
    pass


ping = query("test.ping", In, str, "ping")
reserved = query("rpc.mine", In, str, "not allowed")


async def _pong(ctx: Context[Any], params: In) -> str:
    return "pong"


def build(contract: tuple[Any, ...], routers: tuple[Router, ...]) -> None:
    settings = make_settings()
    create_app(settings, contract=(*schema.CONTRACT, *contract), routers=(*ROUTERS, *routers))


def test_duplicate_name_in_one_router() -> None:
    router = Router()
    router.add(ping, _pong)
    with pytest.raises(RouterError, match=r"'test\.ping' is registered twice"):
        router.add(ping, _pong)


def test_duplicate_name_across_routers() -> None:
    a, b = Router(), Router()
    a.add(ping, _pong)
    b.add(ping, _pong)
    with pytest.raises(RouterError, match=r"'test\.ping' is registered twice"):
        build((ping,), (a, b))


def test_contract_procedure_without_handler() -> None:
    expected = r"contract procedures without a handler: \['test\.ping'\]"
    with pytest.raises(RouterError, match=expected):
        build((ping,), ())


def test_handler_for_undeclared_procedure() -> None:
    router = Router()
    router.add(ping, _pong)
    with pytest.raises(RouterError, match="contract does not declare"):
        build((), (router,))


def test_user_procedure_under_rpc_prefix() -> None:
    router = Router()
    router.add(reserved, _pong)
    with pytest.raises(RouterError, match=r"reserved 'rpc\.' prefix"):
        build((reserved,), (router,))


def test_handler_must_be_async() -> None:
    def sync(ctx: Any, params: In) -> str:
        return "no"

    with pytest.raises(RouterError, match="must be an 'async def' function"):
        Router().add(ping, sync)  # type: ignore[arg-type]


def test_input_must_be_a_struct() -> None:
    with pytest.raises(TypeError, match="input must be a msgspec Struct"):
        query("test.bad", int, str, "int input")


def test_contract_names_are_namespaced_camel_case() -> None:
    import types

    module = types.ModuleType("schema.test")
    module.bad = query("test.snake_case", In, str, "bad name")  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"must be 'test\.camelCase'"):
        schema.procedures_of(module)


def test_the_shipped_contract_and_routers_agree() -> None:
    from server.http.app import PROCEDURES

    compiled = create_app(make_settings())[PROCEDURES]
    assert set(compiled) == {p.name for p in schema.CONTRACT}
    compiled = create_app(make_settings(RPC_SPEC_EXAMPLES="true"))[PROCEDURES]
    served = (*schema.CONTRACT, *jsonrpc_examples.CONTRACT)
    assert set(compiled) == {p.name for p in served}


# --- one registration: schema.NAMESPACES, handlers found by name, typed ---

# Declares procedures on purpose outside the product: mounted only with RPC_SPEC_EXAMPLES.
NOT_A_NAMESPACE = {"schema.jsonrpc_examples"}


def test_every_schema_module_that_declares_procedures_is_listed() -> None:
    listed = {m.__name__ for m in schema.NAMESPACES}
    for info in pkgutil.iter_modules(schema.__path__, "schema."):
        module = importlib.import_module(info.name)
        declares = any(isinstance(v, schema.Procedure) for v in vars(module).values())
        if declares and info.name not in NOT_A_NAMESPACE:
            assert info.name in listed, f"{info.name} declares procedures: add it to NAMESPACES"


def test_every_listed_namespace_has_its_router() -> None:
    names = [m.__name__.rpartition(".")[2] for m in schema.NAMESPACES]
    served = {e.spec.namespace for r in ROUTERS for e in r.entries}
    assert served == set(names) - {"rpc"}


def test_a_namespace_without_its_module_fails_at_start_up() -> None:
    with pytest.raises(RouterError, match="namespace 'nowhere' has no module"):
        routers_of(("nowhere",))


MISMATCHED = """
from typing import Any
from schema import being
from server.rpc import Context, Router

router = Router()

@router.procedure(being.get)
async def wrong_params(ctx: Context[Any], params: being.CreateBeingInput) -> being.Being:
    raise NotImplementedError

@router.procedure(being.get)
async def wrong_result(ctx: Context[Any], params: being.GetBeingInput) -> str:
    raise NotImplementedError

@router.procedure(being.get)
async def right(ctx: Context[Any], params: being.GetBeingInput) -> being.Being:
    raise NotImplementedError
"""


def test_mypy_refuses_a_handler_that_does_not_match_its_procedure(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(MISMATCHED)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "handlers.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        timeout=300,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, done.stdout
    assert "handlers.py:8:" in errors[0] and "CreateBeingInput]" in errors[0]
    assert "handlers.py:12:" in errors[1] and "Coroutine[Any, Any, str]" in errors[1]
