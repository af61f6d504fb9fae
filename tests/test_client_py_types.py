"""mypy --strict reads the Python client's generated surface: misuse is a type error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import schema
from codegen._python import python_client
from tests.support import codegen_zoo

ROOT = Path(__file__).resolve().parents[1]

# Each line marked `# E: code` must get exactly that error from mypy; no other line may.
PROGRAM = """\
from roomrpc.client import Client, NotFound, RpcError, SyncClient
from schema.being import Being, GetBeingInput
from schema.intention import CreateIntentionInput, Intention
from schema.presence import PresenceSnapshotEvent


async def fine(c: Client, s: SyncClient) -> None:
    b: Being = await c.being.get(id="@a")
    b = await c.being.get(GetBeingInput(id="@a"))
    i: Intention = await c.intention.create(spaceId="@s", content="x", kind="action")
    page = await c.being.list()
    names: list[str] = [x.name for x in page.items]
    async for event in c.intention.watch(spaceId="@s", lastEventId=None):
        n: int = event.id
    async for change in c.presence.watch(roomBeingId="@s"):
        if isinstance(change, PresenceSnapshotEvent):
            count: int = len(change.members)
    b = s.being.get(id="@a")
    for sync_event in s.intention.watch(spaceId="@s"):
        m: str = sync_event.content
    try:
        await c.being.get(id="@a")
    except NotFound as e:
        code: int = e.code
    except RpcError as e:
        name: str = e.name


async def misuse(c: Client, s: SyncClient) -> None:
    await c.being.gett(id="@a")  # E: attr-defined
    await c.being.get(idd="@a")  # E: call-overload
    await c.being.get(id=1)  # E: call-overload
    await c.being.get(CreateIntentionInput(space_id="@s", content="x"))  # E: call-overload
    wrong: Intention = await c.being.get(id="@a")  # E: assignment
    await c.intention.create(spaceId="@s")  # E: call-overload
    await c.intention.create(spaceId="@s", content="x", kind="shout")  # E: call-overload
    async for event in c.intention.watch(spaceId="@s"):
        event.nope  # E: attr-defined
    async for change in c.presence.watch(roomBeingId="@s"):
        change.members  # E: union-attr
    s.being.get(idd="@a")  # E: call-overload
    c.nothing.get()  # E: attr-defined
    text: str = s.being.list()  # E: assignment
"""


def readme_example() -> str:
    """The README's Python client example, as the body of a function mypy can read."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The Python client and bots") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n", 10)]
    body = "".join(f"    {line}\n" if line else "\n" for line in code.splitlines())
    return f"async def readme(token: str) -> None:\n{body}"


def test_mypy_refuses_misuse_of_the_client(tmp_path: Path) -> None:
    """One mypy run: the misuse file, the README's example, and the surface generated
    for every type the generator knows (the codegen zoo); the last two check clean."""
    (tmp_path / "use.py").write_text(PROGRAM)
    (tmp_path / "readme.py").write_text(readme_example())
    zoo = python_client((*schema.CONTRACT, *codegen_zoo.CONTRACT))
    (tmp_path / "zoo_surface.py").write_text(zoo)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "use.py",
            "readme.py",
            "zoo_surface.py",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        timeout=300,
    )
    found = {
        (int(m.group(1)), m.group(2))
        for m in re.finditer(r"^use\.py:(\d+): error: .*\[([a-z-]+)\]$", done.stdout, re.M)
    }
    expected = {
        (n, line.rpartition("# E: ")[2])
        for n, line in enumerate(PROGRAM.splitlines(), start=1)
        if "# E: " in line
    }
    assert found == expected, done.stdout
    assert "zoo_surface.py" not in done.stdout
    assert "readme.py" not in done.stdout
