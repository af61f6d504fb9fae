"""Routers that cannot serve fail at start-up, with a message naming the problem."""

from __future__ import annotations

from typing import Any

import pytest

import schema
from schema import Base, jsonrpc_examples, query
from server.app import create_app
from server.procedures import ROUTERS
from server.rpc import Context, Router, RouterError
from tests.conftest import make_settings


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
    from server.app import PROCEDURES

    app = create_app(make_settings())
    assert set(app[PROCEDURES]) == {p.name for p in schema.CONTRACT}
    app = create_app(make_settings(RPC_SPEC_EXAMPLES="true"))
    served = (*schema.CONTRACT, *jsonrpc_examples.CONTRACT)
    assert set(app[PROCEDURES]) == {p.name for p in served}
