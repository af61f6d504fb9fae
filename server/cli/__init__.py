"""The ``roomrpc`` command (``server.cli.commands``), and the process of a worker
(``server.cli.worker``).

``main`` is imported when first asked for: a worker is started as
``python -m server.cli.worker``, which runs this package's ``__init__`` first, and
serves without click or the other commands (~3 MiB resident).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.cli.commands import main

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name != "main":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from server.cli.commands import main

    return main
