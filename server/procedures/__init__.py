"""Every namespace's handlers, found by name: ``server/procedures/x.py`` serves ``schema/x.py``.

``schema.NAMESPACES`` is the only list of namespaces; each one's module here
exposes a ``router``. ``rpc`` is the core's own (``rpc.discover``).
"""

from __future__ import annotations

import importlib

import schema
from server.rpc import Router, RouterError

__all__ = ["ROUTERS", "routers_of"]

BUILTIN = "rpc"  # served by the core, not by a module here


def routers_of(namespaces: tuple[str, ...]) -> tuple[Router, ...]:
    """The router of each namespace; a namespace without its module fails at start-up."""
    found: list[Router] = []
    for name in namespaces:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise RouterError(f"namespace {name!r} has no module {__name__}.{name}") from None
        router = getattr(module, "router", None)
        if not isinstance(router, Router):
            raise RouterError(f"{module.__name__} must define 'router = Router()'")
        found.append(router)
    return tuple(found)


ROUTERS: tuple[Router, ...] = routers_of(
    tuple(n for n in (m.__name__.rpartition(".")[2] for m in schema.NAMESPACES) if n != BUILTIN)
)
