"""Webhooks exactly as LiveKit sends them (livekit/protocol webhook/url_notifier.go).

The body is the protobuf JSON of a ``WebhookEvent`` (camelCase names); the
``Authorization`` header is a bare JWT (no "Bearer") signed with the API
secret, valid five minutes, whose ``sha256`` claim is the base64 SHA-256 of
the body; ``Content-Type`` is ``application/webhook+json``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from dataclasses import dataclass

import aiohttp
import jwt
from google.protobuf import json_format
from livekit.protocol.models import ParticipantInfo, Room, TrackInfo
from livekit.protocol.webhook import WebhookEvent

from tests.livekit_server.state import new_id

__all__ = ["CONTENT_TYPE", "Delivery", "WebhookSender", "encode_event", "make_event", "sign"]

CONTENT_TYPE = "application/webhook+json"
_VALID_FOR = 5 * 60  # seconds
log = logging.getLogger("livekit_test_server.webhooks")


def make_event(
    event: str,
    room: Room | None = None,
    participant: ParticipantInfo | None = None,
    track: TrackInfo | None = None,
) -> WebhookEvent:
    """A new event with a fresh unique id and ``created_at`` (Unix seconds)."""
    message = WebhookEvent(event=event, id=new_id("EV_"), created_at=int(time.time()))
    if room is not None:
        message.room.CopyFrom(room)
    if participant is not None:
        message.participant.CopyFrom(participant)
    if track is not None:
        message.track.CopyFrom(track)
    return message


def encode_event(event: WebhookEvent) -> bytes:
    """The body LiveKit posts: protobuf JSON, camelCase field names."""
    return json_format.MessageToJson(event, indent=None).encode()


def sign(body: bytes, api_key: str, api_secret: str) -> str:
    """The ``Authorization`` header value for ``body``: the claims livekit-server's
    ``auth.NewAccessToken(key, secret).SetValidFor(5 * time.Minute).SetSha256(b64)`` writes
    (go-jose omits the empty ``sub``; no video grant)."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    now = int(time.time())
    claims = {"iss": api_key, "nbf": now, "exp": now + _VALID_FOR, "sha256": digest}
    return jwt.encode(claims, api_secret, algorithm="HS256")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST of one event: the HTTP status, or the error that prevented one."""

    event: WebhookEvent
    body: bytes
    status: int | None
    error: str | None


# livekit/protocol webhook/resource_url_notifier.go: DefaultResourceURLNotifierConfig.MaxAge.
MAX_AGE = 30.0


class WebhookSender:
    """Posts events in order, one at a time, from a queue (as LiveKit's notifier does).

    As livekit/protocol's ``ResourceURLNotifier.Process`` does, an event that waited in
    the queue longer than ``max_age`` (30 s) is dropped, not sent ("dropped webhook",
    reason "age"); ``hold`` keeps events queued (a slow or unreachable endpoint) so that
    tests can make them age.
    """

    def __init__(
        self,
        url: str | None,
        *,
        retries: int = 2,
        retry_wait: float = 0.05,
        max_age: float = MAX_AGE,
    ) -> None:
        self.url = url
        self.retries = retries
        self.retry_wait = retry_wait
        self.max_age = max_age
        self.events: list[WebhookEvent] = []
        self.deliveries: list[Delivery] = []
        self.dropped: list[WebhookEvent] = []
        self._open = asyncio.Event()
        self._open.set()
        self._queue: asyncio.Queue[tuple[WebhookEvent, str, str, float]] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def enqueue(self, event: WebhookEvent, api_key: str, api_secret: str) -> None:
        """Record ``event`` and queue it for delivery, signed with these credentials."""
        self.events.append(event)
        if self.url is not None:
            self._queue.put_nowait((event, api_key, api_secret, time.monotonic()))

    def hold(self) -> None:
        """Keep events in the queue until ``release`` (they age meanwhile)."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    async def flush(self) -> None:
        """Wait until every queued event has been delivered (or given up on)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            event, key, secret, queued_at = await self._queue.get()
            try:
                await self._open.wait()
                if time.monotonic() - queued_at > self.max_age:
                    log.info("dropped webhook %s %s: reason age", event.event, event.id)
                    self.dropped.append(event)
                else:
                    await self.post(event, key, secret)
            finally:
                self._queue.task_done()

    async def post(self, event: WebhookEvent, api_key: str, api_secret: str) -> Delivery:
        """Sign and POST ``event`` now, retrying on a transport error or a 5xx."""
        assert self._session is not None and self.url is not None, "sender not started"
        body = encode_event(event)
        headers = {"Authorization": sign(body, api_key, api_secret), "Content-Type": CONTENT_TYPE}
        delivery = Delivery(event, body, None, "not sent")
        for attempt in range(1 + self.retries):
            try:
                async with self._session.post(self.url, data=body, headers=headers) as response:
                    await response.read()
                    delivery = Delivery(event, body, response.status, None)
            except (aiohttp.ClientError, TimeoutError) as exc:
                delivery = Delivery(event, body, None, f"{type(exc).__name__}: {exc}")
            if delivery.status is not None and delivery.status < 500:
                break
            await asyncio.sleep(self.retry_wait * (2**attempt))
        self.deliveries.append(delivery)
        log.info("webhook %s %s -> %s", event.event, event.id, delivery.status or delivery.error)
        return delivery
