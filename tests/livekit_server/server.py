"""``LiveKitServer``: the wire-level test server, its lifecycle, faults and test controls."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterable, Mapping
from types import TracebackType

import jwt
from aiohttp import web
from livekit.protocol.egress import EgressInfo
from livekit.protocol.models import (
    ParticipantInfo,
    ParticipantPermission,
    Room,
    TrackInfo,
    TrackSource,
    TrackType,
)
from livekit.protocol.webhook import WebhookEvent

from tests.livekit_server.agent_dispatch import SERVICE as DISPATCH_SERVICE
from tests.livekit_server.agent_dispatch import AgentDispatchService
from tests.livekit_server.auth import Authenticator
from tests.livekit_server.controls import add_control_routes
from tests.livekit_server.egress import SERVICE as EGRESS_SERVICE
from tests.livekit_server.egress import EgressService
from tests.livekit_server.room_service import AFFINITY_TIMEOUT, SERVICE, RoomService, SentData
from tests.livekit_server.state import DEFAULTS, Limits, RoomDefaults, RoomStore
from tests.livekit_server.twirp import PlainHttpError, twirp_handler
from tests.livekit_server.webhooks import Delivery, WebhookSender, make_event, sign

__all__ = ["LiveKitServer"]


class LiveKitServer:
    """A LiveKit-compatible server for tests: Twirp RoomService, JWT auth, signed webhooks.

    Start it in-process (``async with LiveKitServer(...) as lk``) on 127.0.0.1 and
    an ephemeral port, point the real ``livekit-api`` client at ``lk.url``, and
    drive it with the controls below (participants join, leave, publish) and the
    fault switches (``slow``, ``down``/``up``, ``wrong_credentials``).
    """

    def __init__(
        self,
        *,
        api_key: str = "devkey",
        api_secret: str = "secret",
        webhook_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        defaults: RoomDefaults = DEFAULTS,
        limits: Limits | None = None,
        remote_unmute: bool = False,
        affinity_timeout: float = AFFINITY_TIMEOUT,
        webhook_retries: int = 2,
        http_controls: bool = False,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.host = host
        self._port = port
        self._delay = 0.0
        self._wrong_secret: str | None = None
        self._stopping = asyncio.Event()
        self.webhooks = WebhookSender(webhook_url, retries=webhook_retries)
        self.store = RoomStore(self._emit, defaults)
        limits = limits or Limits()
        self.service = RoomService(
            self.store,
            limits=limits,
            remote_unmute=remote_unmute,
            affinity_timeout=affinity_timeout,
        )
        self.dispatch = AgentDispatchService(self.store, limits)
        self.egress = EgressService(self.store, self._emit_egress)
        self._auth = Authenticator(self._secret_for)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._http_controls = http_controls

    # Lifecycle ------------------------------------------------------------------------------

    async def start(self) -> LiveKitServer:
        """Listen on ``host``:``port`` (0: an ephemeral port, then kept across ``down``/``up``)."""
        app = web.Application()
        services = {
            SERVICE: self.service.methods(),
            DISPATCH_SERVICE: self.dispatch.methods(),
            EGRESS_SERVICE: self.egress.methods(),
        }
        handlers = {
            name: twirp_handler(name, methods, self._auth, self._before_call)
            for name, methods in services.items()
        }

        async def handle(request: web.Request) -> web.StreamResponse:
            name = request.match_info["service"]
            return await handlers.get(name, handlers[SERVICE])(request)  # unknown: bad_route

        app.router.add_route("*", "/twirp/{service}/{method}", handle)
        app.router.add_get("/", _ok)  # livekit-server answers its root with 200 "OK"
        if self._http_controls:
            add_control_routes(app, self)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await self.webhooks.start()
        await self.up()
        return self

    async def stop(self) -> None:
        """Stop listening, cancel room timers and the webhook worker."""
        self._stopping.set()
        self.store.close()
        await self.webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> LiveKitServer:
        return await self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The http URL the server SDK calls (``LIVEKIT_API_URL``)."""
        return f"http://{self.host}:{self._port}"

    @property
    def ws_url(self) -> str:
        """The ws URL a browser would connect to (``LIVEKIT_URL``)."""
        return f"ws://{self.host}:{self._port}"

    # Faults --------------------------------------------------------------------------------

    def slow(self, seconds: float) -> None:
        """Every Twirp call waits ``seconds`` before it is handled; ``slow(0)`` restores."""
        self._delay = seconds

    def wrong_credentials(self, on: bool = True) -> None:
        """The server knows a different secret for our key: our tokens fail to verify, and
        the webhooks it signs fail to verify on our side."""
        self._wrong_secret = secrets.token_urlsafe(24) if on else None

    async def down(self) -> None:
        """Stop listening and drop open connections: calls are refused until ``up()``."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        assert self._runner is not None and self._runner.server is not None
        for connection in self._runner.server.connections:
            connection.force_close()

    async def up(self) -> None:
        """Listen again, on the same port."""
        assert self._runner is not None
        if self._site is None:
            self._site = web.TCPSite(self._runner, self.host, self._port)
            await self._site.start()
            if self._port == 0:
                server = self._site._server
                assert isinstance(server, asyncio.base_events.Server)
                self._port = server.sockets[0].getsockname()[1]

    @property
    def secret(self) -> str:
        """The secret this server currently verifies and signs with."""
        return self._wrong_secret or self.api_secret

    def _secret_for(self, api_key: str) -> str | None:
        return self.secret if api_key == self.api_key else None

    async def _before_call(self) -> None:
        if self._delay > 0:
            with contextlib.suppress(TimeoutError):  # stop() cuts a slow call short
                await asyncio.wait_for(self._stopping.wait(), self._delay)

    # Participants, rooms, data ------------------------------------------------------------

    async def join(
        self,
        room: str,
        identity: str,
        *,
        name: str = "",
        metadata: str = "",
        attributes: Mapping[str, str] | None = None,
        permission: ParticipantPermission | None = None,
        publish: Iterable[TrackType] = (),
        kind: ParticipantInfo.Kind | None = None,
        agents: Iterable[str] = (),
    ) -> ParticipantInfo:
        """``identity`` connects to ``room`` (created if needed) and publishes ``publish``;
        returns once the webhooks that causes have been delivered. ``agents`` (a token's
        ``roomConfig.agents``) are dispatched into the room as it is created."""
        fresh = self.store.room(room) is None
        joined = self.store.join(
            room,
            identity,
            name=name,
            metadata=metadata,
            attributes=attributes,
            permission=permission,
            kind=ParticipantInfo.Kind.STANDARD if kind is None else kind,
        )
        if fresh:
            for agent in agents:
                self.dispatch.create_for_token(room, agent)
        for track in publish:
            self.store.publish(room, identity, kind=track, source=_SOURCES[track])
        await self.flush_webhooks()
        return self.participant(room, identity) or joined

    async def join_with_token(self, token: str) -> ParticipantInfo:
        """Connect the way a browser does with a join token: the token is verified, and its
        room, identity, name, metadata, attributes and grants define the participant."""
        try:
            claims = self._auth.verify(token)
        except PlainHttpError as exc:
            raise PermissionError(exc.text) from None
        video = claims.video
        if video is None or not video.room_join or not video.room or not claims.identity:
            raise PermissionError("permissions denied: the token has no roomJoin grant")
        revoked = self.service.revoked_before.get((video.room, claims.identity))
        nbf = jwt.decode(token, options={"verify_signature": False}).get("nbf", 0)
        if revoked is not None and nbf < revoked:
            raise PermissionError("permissions denied: the token was revoked")
        permission = ParticipantPermission(
            can_publish=video.can_publish,
            can_publish_sources=[_SOURCE_NAMES[n] for n in video.can_publish_sources or ()],
            can_subscribe=video.can_subscribe,
            can_publish_data=video.can_publish_data,
            can_update_metadata=bool(video.can_update_own_metadata),
            hidden=bool(video.hidden),
        )
        return await self.join(
            video.room,
            claims.identity,
            name=claims.name,
            metadata=claims.metadata,
            attributes=claims.attributes,
            permission=permission,
            kind=ParticipantInfo.Kind.AGENT if claims.kind == "agent" else None,
            agents=[a.agent_name for a in claims.room_config.agents] if claims.room_config else (),
        )

    async def publish(
        self, room: str, identity: str, kind: TrackType = TrackType.AUDIO, *, name: str = ""
    ) -> TrackInfo:
        """``identity`` publishes a track (``track_published``)."""
        track = self.store.publish(room, identity, kind=kind, source=_SOURCES[kind], name=name)
        await self.flush_webhooks()
        return track

    async def leave(self, room: str, identity: str) -> None:
        """``identity`` disconnects (``participant_left``)."""
        self.store.leave(room, identity)
        await self.flush_webhooks()

    async def abort(self, room: str, identity: str) -> None:
        """``identity``'s connection fails (``participant_connection_aborted``)."""
        self.store.leave(room, identity, event="participant_connection_aborted")
        await self.flush_webhooks()

    async def finish_room(self, room: str) -> None:
        """The room closes now, as its timeouts would close it (``room_finished``)."""
        self.store.finish(room)
        await self.flush_webhooks()

    def room(self, name: str) -> Room | None:
        """The room's current state, or None."""
        rooms = self.store.list([name])
        return rooms[0] if rooms else None

    def participants(self, room: str) -> list[ParticipantInfo]:
        """Copies of the participants in ``room`` now."""
        state = self.store.room(room)
        return [] if state is None else [_copy(p) for p in state.participants.values()]

    def participant(self, room: str, identity: str) -> ParticipantInfo | None:
        """A copy of the participant's current state, or None."""
        found = self.store.participant(room, identity)
        return None if found is None else _copy(found)

    def subscriptions(self, room: str, identity: str) -> set[str]:
        """Track sids ``identity`` was subscribed to through UpdateSubscriptions."""
        state = self.store.room(room)
        return set() if state is None else set(state.subscriptions.get(identity, ()))

    def data_packets(self, room: str | None = None) -> list[SentData]:
        """What SendData delivered, oldest first (to ``room`` only, if given)."""
        return [d for d in self.service.sent if room is None or d.room == room]

    # Webhooks ------------------------------------------------------------------------------

    @property
    def events(self) -> list[WebhookEvent]:
        """Every webhook event produced, oldest first (sent or not)."""
        return self.webhooks.events

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook POST made, with the status our endpoint answered."""
        return self.webhooks.deliveries

    def event_names(self) -> list[str]:
        return [e.event for e in self.webhooks.events]

    async def flush_webhooks(self) -> None:
        """Wait until every queued webhook has been posted."""
        await self.webhooks.flush()

    async def deliver(self, event: WebhookEvent) -> Delivery:
        """Post ``event`` now, freshly signed: to replay one, or to send events out of order."""
        await self.flush_webhooks()
        return await self.webhooks.post(event, self.api_key, self.secret)

    def sign_webhook(self, body: bytes) -> str:
        """The ``Authorization`` value this server would send with ``body``."""
        return sign(body, self.api_key, self.secret)

    def _emit(
        self, name: str, room: Room, participant: ParticipantInfo | None, track: TrackInfo | None
    ) -> None:
        event = make_event(name, room, participant, track)
        self.webhooks.enqueue(event, self.api_key, self.secret)

    def _emit_egress(self, name: str, info: EgressInfo) -> None:
        event = make_event(name)
        event.egress_info.CopyFrom(info)
        self.webhooks.enqueue(event, self.api_key, self.secret)


# canPublishSources in a token, as livekit/protocol's sourceToProto reads them.
_SOURCE_NAMES = {
    "camera": TrackSource.CAMERA,
    "microphone": TrackSource.MICROPHONE,
    "screen_share": TrackSource.SCREEN_SHARE,
    "screen_share_audio": TrackSource.SCREEN_SHARE_AUDIO,
}
_SOURCES = {
    TrackType.AUDIO: TrackSource.MICROPHONE,
    TrackType.VIDEO: TrackSource.CAMERA,
    TrackType.DATA: TrackSource.UNKNOWN,
}


def _copy(participant: ParticipantInfo) -> ParticipantInfo:
    clone = ParticipantInfo()
    clone.CopyFrom(participant)
    return clone


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="OK")
