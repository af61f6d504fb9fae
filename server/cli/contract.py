"""``roomrpc contract diff OLD NEW``: breaking changes between two OpenRPC documents."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from codegen.contract_diff import diff

__all__ = ["contract"]


@click.group()
def contract() -> None:
    """Check the API contract (OpenRPC documents)."""


@contract.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def diff_command(old: Path, new: Path) -> None:
    """List every change from OLD to NEW; exit 1 when one breaks old clients."""
    try:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in (old, new))
    except (ValueError, OSError) as exc:
        raise click.ClickException(f"not an OpenRPC document: {exc}") from None
    changes = diff(before, after)
    for change in changes:
        click.echo(str(change))
    breaking = sum(c.breaking for c in changes)
    safe = len(changes) - breaking
    click.echo(f"roomrpc: {breaking} breaking, {safe} safe change(s) from {old} to {new}")
    if breaking:
        sys.exit(1)
