"""``LiveKit``: the one handle procedures reach through ``ctx.deps.livekit``."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Mapping, Sequence

import aiohttp
from aiohttp import web
from livekit.api import LiveKitAPI, WebhookEvent
from livekit.api.room_service import RoomService

from server.livekit.agents import Agents
from server.livekit.config import AgentDispatch, LiveKitConfig
from server.livekit.egress import Egress
from server.livekit.rooms import Rooms
from server.livekit.tokens import JoinGrants, mint_join_token
from server.livekit.webhooks import verify_webhook
from server.settings import Settings

__all__ = ["LiveKit"]

_PING_ROOM = "roomrpc-readiness-probe"


class LiveKit:
    """LiveKit for this app: RoomService (``rooms``), AgentDispatchService (``agents``),
    Egress (``egress``), join tokens, webhook verification.

    One aiohttp session serves every call; ``lifespan`` opens and closes it as an
    aiohttp ``cleanup_ctx`` entry.
    """

    def __init__(self, config: LiveKitConfig) -> None:
        self.config = config
        self._api: LiveKitAPI | None = None
        self._session: aiohttp.ClientSession | None = None
        self.rooms = Rooms(self._room_service, config.call_timeout)
        self.agents = Agents(lambda: self._connected().agent_dispatch, config.call_timeout)
        self.egress = Egress(lambda: self._connected().egress, config.call_timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveKit | None:
        """The handle, or None when media is off."""
        config = LiveKitConfig.from_settings(settings)
        return None if config is None else cls(config)

    @property
    def url(self) -> str:
        """The URL browsers connect to."""
        return self.config.url

    async def lifespan(self, app: web.Application) -> AsyncIterator[None]:
        """``app.cleanup_ctx`` entry: the shared session lives as long as the app."""
        await self.open()
        try:
            yield
        finally:
            await self.close()

    async def open(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.config.call_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._api = LiveKitAPI(
            self.config.api_url, self.config.api_key, self.config.api_secret, session=self._session
        )

    async def close(self) -> None:
        session, self._session, self._api = self._session, None, None
        if session is not None:  # LiveKitAPI leaves a session it was given open: ours to close
            await session.close()

    def _connected(self) -> LiveKitAPI:
        if self._api is None:
            raise RuntimeError("LiveKit handle used outside the app's lifespan")
        return self._api

    def _room_service(self) -> RoomService:
        return self._connected().room

    def mint_token(
        self,
        *,
        room: str,
        identity: str,
        grants: JoinGrants,
        ttl: datetime.timedelta,
        name: str | None = None,
        metadata: str | None = None,
        attributes: Mapping[str, str] | None = None,
        agent: bool = False,
        agents: Sequence[AgentDispatch] = (),
    ) -> str:
        """A join token for ``identity`` in ``room`` with exactly ``grants``."""
        return mint_join_token(
            self.config,
            room=room,
            identity=identity,
            grants=grants,
            ttl=ttl,
            name=name,
            metadata=metadata,
            attributes=attributes,
            agent=agent,
            agents=agents,
        )

    def verify_webhook(self, body: bytes, authorization: str | None) -> WebhookEvent:
        """The event LiveKit signed, or ``WebhookRejected``."""
        return verify_webhook(self.config, body, authorization)

    async def ping(self) -> None:
        """Readiness: LiveKit answers an authenticated call in time (raises RpcError if not)."""
        await self.rooms.list_rooms([_PING_ROOM])
