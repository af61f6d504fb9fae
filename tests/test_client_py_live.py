"""The Python client's subscriptions over the real WebSocket of ``roomrpc serve``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from roomrpc.client import (
    Client,
    NotFound,
    RetryPolicy,
    Subscription,
    SyncClient,
    TooManyRequests,
)
from schema.intention import Intention, WatchIntentionsInput
from schema.presence import PresenceJoinEvent, PresenceSnapshotEvent
from tests.support.served import Served

PATIENT = RetryPolicy(attempts=40, base=0.05, cap=0.3)  # rides out a restart


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with Served(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture
async def alice(served: Served) -> AsyncIterator[Client]:
    async with Client(served.url, token=served.token("@alice"), retry=PATIENT) as client:
        yield client


async def take(sub: Subscription[Intention], n: int) -> list[Intention]:
    got = []
    async for intention in sub:
        got.append(intention)
        if len(got) == n:
            break
    return got


async def established(client: Client, space: str) -> None:
    """Once this returns, a watch opened before it is live (the socket answers in order)."""
    await client.presence.join(roomBeingId=space)


async def test_watch_yields_the_contracts_type(alice: Client, served: Served) -> None:
    async with Client(served.url, token=served.token("@alice")) as writer:
        sub = alice.intention.watch(spaceId="@demo-space")
        reading = asyncio.create_task(take(sub, 2))
        await asyncio.sleep(0)  # the iterator subscribes when first awaited
        await established(alice, "@demo-space")
        one = await writer.intention.create(spaceId="@demo-space", content="one")
        two = await writer.intention.create(spaceId="@demo-space", content="two")
        got = await asyncio.wait_for(reading, 10)
    assert all(isinstance(i, Intention) for i in got)
    assert [i.id for i in got] == [one.id, two.id]
    assert sub.last_event_id == str(two.id)
    await sub.aclose()


async def test_last_event_id_replays_what_came_after(alice: Client) -> None:
    said = [await alice.intention.create(spaceId="@demo-space", content=f"r{n}") for n in range(3)]
    async with alice.intention.watch(
        WatchIntentionsInput(space_id="@demo-space", last_event_id=str(said[0].id))
    ) as sub:
        got = await asyncio.wait_for(take(sub, 2), 10)
    assert [i.id for i in got] == [said[1].id, said[2].id]


async def test_a_watch_without_access_raises_not_found(served: Served) -> None:
    async with Client(served.url, token=served.token("@bob")) as bob:
        with pytest.raises(NotFound) as caught:
            async for _ in bob.intention.watch(spaceId="@alice-private"):
                pass
    assert caught.value.method == "intention.watch"


async def test_aclose_ends_the_iterator(alice: Client) -> None:
    sub = alice.intention.watch(spaceId="@demo-space")
    reading = asyncio.create_task(take(sub, 1))
    await established(alice, "@demo-space")
    await sub.aclose()
    assert await asyncio.wait_for(reading, 5) == []


async def test_presence_watch_events_are_typed_by_kind(served: Served, alice: Client) -> None:
    async with Client(served.url, token=served.token("@bob")) as bob:
        watch = alice.presence.watch(roomBeingId="@demo-space")
        first = await asyncio.wait_for(watch.__anext__(), 10)
        assert isinstance(first, PresenceSnapshotEvent)
        await bob.presence.join(roomBeingId="@demo-space", status="busy", device="phone")
        async for event in watch:
            if isinstance(event, PresenceJoinEvent) and event.member.being_id == "@bob":
                assert event.member.sessions[0].status == "busy"
                break
        await watch.aclose()


def test_sync_client_iterates_a_watch(served: Served) -> None:
    with SyncClient(served.url, token=served.token("@alice")) as alice:
        watch = alice.intention.watch(spaceId="@demo-space")
        with watch:
            alice.presence.join(roomBeingId="@demo-space")
            # the first next() subscribes; a write from another thread then arrives
            said: list[Intention] = []
            with SyncClient(served.url, token=served.token("@alice")) as writer:

                def write() -> None:
                    said.append(writer.intention.create(spaceId="@demo-space", content="sync"))

                timer = threading.Timer(0.5, write)
                timer.start()
                got = next(watch)
                timer.join()
            assert got.id == said[0].id and watch.last_event_id == str(got.id)


async def test_a_watch_resumes_across_a_server_restart(tmp_path: Path) -> None:
    """Writes go on while the server restarts; the reader sees each once, in order."""
    server = Served(tmp_path)
    await asyncio.to_thread(server.start)
    try:
        reader = Client(server.url, token=server.token("@alice"), retry=PATIENT)
        writer = Client(server.url, token=server.token("@alice"), retry=PATIENT)
        async with reader, writer:
            sub = reader.intention.watch(spaceId="@demo-space")
            reading = asyncio.create_task(take(sub, 30))
            await asyncio.sleep(0)
            await established(reader, "@demo-space")

            async def write() -> list[int]:
                ids = []
                for n in range(30):
                    said = await writer.intention.create(spaceId="@demo-space", content=f"w{n}")
                    ids.append(said.id)
                    await asyncio.sleep(0.03)
                return ids

            writing = asyncio.create_task(write())
            await asyncio.sleep(0.3)
            await asyncio.to_thread(server.restart)
            written = await asyncio.wait_for(writing, 60)
            got = await asyncio.wait_for(reading, 30)
            assert [i.id for i in got] == written  # no gap, no duplicate, in order
            assert reader.connects == 2  # one reconnect, the resume was the client's own
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_watch_dropped_before_its_first_event_resumes_where_it_began(
    tmp_path: Path,
) -> None:
    """The subscribe answer's lastEventId is the resume point before any event came."""
    server = Served(tmp_path)
    await asyncio.to_thread(server.start)
    try:
        slow = RetryPolicy(attempts=40, base=1.0, cap=1.0)  # the write lands while it waits
        async with Client(server.url, token=server.token("@alice"), retry=slow) as reader:
            sub = reader.intention.watch(spaceId="@demo-space")
            reading = asyncio.create_task(take(sub, 1))
            await asyncio.sleep(0)
            await established(reader, "@demo-space")
            assert sub.last_event_id is not None  # known before any event
            await asyncio.to_thread(server.restart)
            async with Client(server.url, token=server.token("@alice")) as writer:
                said = await writer.intention.create(spaceId="@demo-space", content="meanwhile")
            got = await asyncio.wait_for(reading, 30)
            assert [i.id for i in got] == [said.id]
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_limit_ends_a_watch_instead_of_looping(tmp_path: Path) -> None:
    server = Served(tmp_path, LIVE_SUBSCRIPTIONS_PER_SOCKET="1")
    await asyncio.to_thread(server.start)
    try:
        async with Client(server.url, token=server.token("@alice")) as alice:
            first = alice.intention.watch(spaceId="@demo-space")
            reading = asyncio.create_task(take(first, 1))
            await asyncio.sleep(0)
            with pytest.raises(TooManyRequests) as caught:
                async for _ in alice.intention.watch(spaceId="@alice-private"):
                    pass
            assert caught.value.reason == "subscriptions_per_socket"
            said = await alice.intention.create(spaceId="@demo-space", content="still on")
            assert [i.id for i in await asyncio.wait_for(reading, 10)] == [said.id]
    finally:
        await asyncio.to_thread(server.stop)


async def test_an_expired_token_is_replaced_and_the_watch_resumes(served: Served) -> None:
    """A token callable hands a fresh token: the client reconnects with it and resumes."""
    async with (
        Client(served.url, token=lambda: served.token("@alice", ttl=2)) as reader,
        Client(served.url, token=served.token("@alice")) as writer,
    ):
        sub = reader.intention.watch(spaceId="@demo-space")
        reading = asyncio.create_task(take(sub, 2))
        await asyncio.sleep(0)
        await established(reader, "@demo-space")
        before = await writer.intention.create(spaceId="@demo-space", content="before expiry")
        await asyncio.sleep(3)  # the socket's token expires: its subscriptions end
        after = await writer.intention.create(spaceId="@demo-space", content="after expiry")
        got = await asyncio.wait_for(reading, 10)
        assert [i.id for i in got] == [before.id, after.id]
        assert reader.connects == 2
