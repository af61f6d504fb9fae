"""An echo bot: a bot being that answers, in each space it is a member of, what mentions it.

    python examples/echo_bot.py --url http://127.0.0.1:8080/rpc --token "$(roomrpc token @echo)"

It stays present (``presence.join``, status online) in those spaces, and keeps working
through server restarts: the client reconnects and resumes each watch from its last
event id. It never answers one intention twice: each reply names the intention it
answers (``re #42``), so after its own restart it reads its last replies back from the
history, and the last event id of each space is kept in a state file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
from pathlib import Path

from roomrpc.client import Client, Forbidden, NotFound, RetryPolicy, RpcError
from schema.intention import Intention

log = logging.getLogger("echo_bot")

REPLY = re.compile(r"\(re #(\d+)\)$")
RESCAN_SECONDS = 10.0


class State:
    """The last handled event id of each space, kept in a JSON file (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.last: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def handled(self, space: str, event_id: str | None) -> None:
        if event_id is None:
            return
        self.last[space] = event_id
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.last))
        os.replace(partial, self.path)


def mentions(content: str, me: str) -> bool:
    return re.search(rf"(?<![\w@.-]){re.escape(me)}(?![\w.-])", content) is not None


async def member_spaces(client: Client, me: str) -> set[str]:
    """The spaces ``me`` is a member of (every space it can see, then each one's members)."""
    found: set[str] = set()
    cursor: str | None = None
    while True:
        page = await client.being.list(type="space", cursor=cursor, limit=100)
        checks = [is_member(client, space.id, me) for space in page.items]
        for space, member in zip(page.items, await asyncio.gather(*checks), strict=True):
            if member:
                found.add(space.id)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


async def is_member(client: Client, space: str, me: str) -> bool:
    cursor: str | None = None
    while True:
        page = await client.space.members(spaceId=space, cursor=cursor, limit=100)
        if any(m.being_id == me for m in page.items):
            return True
        if page.next_cursor is None:
            return False
        cursor = page.next_cursor


async def answered(client: Client, space: str, me: str) -> set[int]:
    """The intentions ``me`` already answered in ``space``, read from its recent replies."""
    page = await client.intention.list(spaceId=space, limit=100)
    ids = set()
    for item in page.items:
        match = REPLY.search(item.content) if item.author_id == me else None
        if match:
            ids.add(int(match.group(1)))
    return ids


def reply_to(intention: Intention) -> str:
    said = intention.content if len(intention.content) <= 3000 else intention.content[:3000] + "…"
    return f"{intention.author_id} said: {said} (re #{intention.id})"


async def serve_space(client: Client, me: str, space: str, state: State) -> None:
    """Be present in ``space`` and answer what mentions ``me`` there, until access ends."""
    await client.presence.join(roomBeingId=space, status="online")
    done = await answered(client, space, me)
    watch = client.intention.watch(spaceId=space, lastEventId=state.last.get(space))
    log.info("watching %s from %s", space, state.last.get(space) or "now")
    async with watch:
        async for intention in watch:
            if intention.author_id != me and intention.id not in done:
                if mentions(intention.content, me):
                    with client.idempotency_key(f"echo-{me}-{intention.id}"):  # runs once
                        await client.intention.create(spaceId=space, content=reply_to(intention))
                    log.info("answered #%s in %s", intention.id, space)
                done.add(intention.id)
            state.handled(space, watch.last_event_id)


async def run(url: str, token: str, state_path: Path) -> None:
    retry = RetryPolicy(attempts=12, base=0.2, cap=5.0)  # rides out a server restart
    async with Client(url, token=token, retry=retry) as client:
        me = (await client.auth.me()).being.id
        state = State(state_path)
        tasks: dict[str, asyncio.Task[None]] = {}
        log.info("%s is up", me)
        while True:
            for space in await member_spaces(client, me) - set(tasks):
                tasks[space] = asyncio.create_task(serve_space(client, me, space, state))
            await asyncio.sleep(RESCAN_SECONDS)
            for space, task in list(tasks.items()):
                if task.done():  # access lost, the space deleted: the next scan decides
                    del tasks[space]
                    error = task.exception()
                    if error is not None and not isinstance(error, NotFound | Forbidden):
                        log.warning("%s: %s", space, error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--url", default=os.environ.get("ROOMRPC_URL", "http://127.0.0.1:8080/rpc"))
    parser.add_argument("--token", default=os.environ.get("ROOMRPC_TOKEN"), required=False)
    parser.add_argument("--state", type=Path, default=Path("echo_bot.json"))
    args = parser.parse_args()
    if not args.token:
        parser.error("--token (or ROOMRPC_TOKEN) is required: roomrpc token @your-bot")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        asyncio.run(run(args.url, args.token, args.state))
    except KeyboardInterrupt:
        pass
    except RpcError as error:
        raise SystemExit(f"echo_bot: {error}") from None


if __name__ == "__main__":
    main()
