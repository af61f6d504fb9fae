"""examples/echo_bot.py as a process, against ``roomrpc serve`` restarted under it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from roomrpc.client import SyncClient
from tests.support.served import Served

ROOT = Path(__file__).resolve().parents[1]


class Bot:
    """The example bot in its own process, restartable, its log in ``folder``."""

    def __init__(self, folder: Path, url: str, token: str) -> None:
        self.folder, self.url, self.token = folder, url, token
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = (self.folder / "bot.log").open("ab")
        command = [sys.executable, str(ROOT / "examples" / "echo_bot.py"), "--url", self.url]
        command += ["--state", str(self.folder / "echo_bot.json")]
        self.process = subprocess.Popen(
            command,
            cwd=self.folder,
            env={**os.environ, "ROOMRPC_TOKEN": self.token},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def log(self) -> str:
        return (self.folder / "bot.log").read_text(errors="replace")


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Served, Bot, SyncClient]]:
    with Served(tmp_path) as server:
        server.cli(
            "being", "create", "@echo", "--name", "Echo", "--type", "bot", "--owner", "@alice"
        )
        bot = Bot(tmp_path, server.url, server.cli("token", "@echo"))
        with SyncClient(server.url, token=server.token("@alice")) as alice:
            alice.space.addMember(spaceId="@demo-space", beingId="@echo", role="member")
            bot.start()
            try:
                yield server, bot, alice
            finally:
                bot.stop()


def replies(alice: SyncClient) -> dict[int, int]:
    """How many times the bot answered each intention, by the id its reply names."""
    page = alice.intention.list(spaceId="@demo-space", limit=100)
    counts: dict[int, int] = {}
    for item in page.items:
        if item.author_id == "@echo":
            answered = int(item.content.rpartition("(re #")[2].rstrip(")"))
            counts[answered] = counts.get(answered, 0) + 1
    return counts


def present(alice: SyncClient, being: str) -> bool:
    members = alice.presence.members(roomBeingId="@demo-space")
    return any(m.being_id == being and m.sessions[0].status == "online" for m in members)


def test_the_bot_answers_each_mention_once_through_restarts(
    world: tuple[Served, Bot, SyncClient],
) -> None:
    server, bot, alice = world
    wait_for(lambda: present(alice, "@echo"), "the bot's presence")
    wait_for(lambda: "watching @demo-space" in bot.log(), "the bot's watch")
    said = [alice.intention.create(spaceId="@demo-space", content="@echo one").id]
    wait_for(lambda: said[0] in replies(alice), "the first answer")
    first = next(
        i for i in alice.intention.list(spaceId="@demo-space").items if i.author_id == "@echo"
    )
    assert first.content == f"@alice said: @echo one (re #{said[0]})"

    quiet = alice.intention.create(spaceId="@demo-space", content="no mention of the bot here")
    said.append(alice.intention.create(spaceId="@demo-space", content="@echo two").id)
    server.restart()  # the server goes away under the bot and comes back on the same file
    said.append(alice.intention.create(spaceId="@demo-space", content="@echo three").id)
    said.append(alice.intention.create(spaceId="@demo-space", content="hey @echo, four").id)
    wait_for(lambda: set(said) <= set(replies(alice)), "answers after the server restart")
    wait_for(lambda: present(alice, "@echo"), "the bot's presence after the restart")

    bot.stop()  # the bot itself restarts: what was said meanwhile is answered, once
    said.append(alice.intention.create(spaceId="@demo-space", content="@echo five").id)
    bot.start()
    wait_for(lambda: set(said) <= set(replies(alice)), "the answer after the bot's restart")
    time.sleep(1.5)  # room for a duplicate to show up if there were one
    counts = replies(alice)
    assert counts == dict.fromkeys(said, 1), bot.log()
    assert quiet.id not in counts
