"""What every command shares: one settings loader, one error format."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from server.settings import Settings, SettingsError, load_settings

__all__ = ["fail", "load"]


def load() -> Settings:
    """The settings, or exit 2 with the one line that says what is wrong."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), 2)


def fail(message: str, code: int) -> NoReturn:
    """Print ``roomrpc: message`` on stderr and exit with ``code``."""
    click.echo(f"roomrpc: {message}", err=True)
    sys.exit(code)
