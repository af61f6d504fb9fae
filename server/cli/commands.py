"""The ``roomrpc`` command: one group, its commands in the modules beside this one."""

from __future__ import annotations

import click

from server.cli.beings import being, migrate, revision, seed, token
from server.cli.contract import contract
from server.cli.serve import codegen, serve
from server.cli.spaces import space

__all__ = ["main"]


@click.group()
@click.version_option(package_name="roomrpc")
def main() -> None:
    """roomrpc: a typed JSON-RPC 2.0 backend for live rooms."""


for _command in (serve, codegen, token, being, space, seed, migrate, revision, contract):
    main.add_command(_command)
