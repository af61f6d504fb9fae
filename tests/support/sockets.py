"""A JSON-RPC client over a real WebSocket (aiohttp), and an SSE reader, for the live tests."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict, deque
from typing import Any

import aiohttp

__all__ = ["WsRpc", "read_sse"]


class WsRpc:
    """Calls over one WebSocket; answers matched by id, notifications kept per subscription."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._answers: dict[Any, Any] = {}
        self._events: defaultdict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._arrived = asyncio.Event()
        self.other: list[Any] = []  # answers without an id we asked (errors with id null)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, session: Any, url: str = "/rpc", token: str | None = None) -> WsRpc:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return cls(await session.ws_connect(url, headers=headers, autoping=True))

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            for item in data if isinstance(data, list) else [data]:
                if "method" in item:
                    self._events[item["params"]["subscription"]].append(item)
                elif item.get("id") is not None:
                    self._answers[item["id"]] = item
                else:
                    self.other.append(item)
            self._arrived.set()

    async def _wait(self, ready: Any, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not ready():
                self._arrived.clear()
                if self._reader.done():
                    raise ConnectionError("socket closed")
                await self._arrived.wait()

    async def send(self, payload: Any) -> None:
        await self.ws.send_str(json.dumps(payload))

    async def answer(self, rid: Any) -> Any:
        await self._wait(lambda: rid in self._answers)
        return self._answers.pop(rid)

    async def call(self, method: str, params: Any = None) -> Any:
        """The whole response object."""
        rid = next(self._ids)
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": rid}
        if params is not None:
            body["params"] = params
        await self.send(body)
        return await self.answer(rid)

    async def subscribe(self, method: str, params: Any) -> str:
        response = await self.call(method, params)
        assert "result" in response, response
        return str(response["result"]["subscription"])

    async def next(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next notification of ``sid`` (its params)."""
        await self._wait(lambda: bool(self._events[sid]), timeout)
        item = self._events[sid].popleft()
        return item["params"]  # type: ignore[no-any-return]

    def pending(self, sid: str) -> int:
        return len(self._events[sid])

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def read_sse(response: aiohttp.ClientResponse, count: int) -> list[tuple[str | None, Any]]:
    """``count`` events (id, parsed data) from an SSE response; pings, and the named
    ``subscribed`` event the stream opens with (the subscribe answer), are skipped."""
    events: list[tuple[str | None, Any]] = []
    event_id: str | None = None
    named: str | None = None
    while len(events) < count:
        line = (await response.content.readline()).decode()
        if line == "":
            break
        line = line.rstrip("\n")
        if not line:  # the end of a block
            event_id = named = None
        elif line.startswith("event: "):
            named = line[7:]
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: ") and named is None:
            events.append((event_id, json.loads(line[6:])))
    return events
