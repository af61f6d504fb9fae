"""The LiveKit adapter: settings, RoomService calls, join tokens, webhooks, error mapping.

Procedures reach it as ``ctx.deps.livekit`` (None when media is off; use
``require_media``). Every call is bounded by ``LIVEKIT_CALL_TIMEOUT`` and every
LiveKit failure arrives as an ``RpcError`` with a ``reason``.
"""

from server.livekit.agents import Agents
from server.livekit.client import LiveKit, require_media
from server.livekit.config import LiveKitConfig, api_url_for
from server.livekit.egress import Egress, recording_of
from server.livekit.errors import media_not_configured, translate
from server.livekit.rooms import Rooms
from server.livekit.tokens import AgentDispatch, JoinGrants, mint_join_token
from server.livekit.webhooks import WebhookRejected, verify_webhook

__all__ = [
    "AgentDispatch",
    "Agents",
    "Egress",
    "JoinGrants",
    "LiveKit",
    "LiveKitConfig",
    "Rooms",
    "WebhookRejected",
    "api_url_for",
    "media_not_configured",
    "mint_join_token",
    "recording_of",
    "require_media",
    "translate",
    "verify_webhook",
]
