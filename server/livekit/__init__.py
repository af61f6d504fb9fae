"""The LiveKit adapter: settings, RoomService calls, join tokens, webhooks, error mapping.

Procedures reach it as ``ctx.deps.livekit`` (None when media is off; use
``require_media``). Every call is bounded by ``LIVEKIT_CALL_TIMEOUT`` and every
LiveKit failure arrives as an ``RpcError`` with a ``reason``.

The names that need livekit-api (and its protobuf modules, ~6 MiB resident) are
imported from their modules when first asked for: with media off a server never
asks, and never loads them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from server.livekit.config import (
    AgentDispatch,
    LiveKitConfig,
    api_url_for,
    media_not_configured,
    require_media,
)

if TYPE_CHECKING:
    from server.livekit.agents import Agents
    from server.livekit.client import LiveKit
    from server.livekit.egress import Egress, recording_of
    from server.livekit.errors import translate
    from server.livekit.rooms import Rooms
    from server.livekit.tokens import JoinGrants, mint_join_token
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

_LAZY = {
    "Agents": "agents",
    "Egress": "egress",
    "JoinGrants": "tokens",
    "LiveKit": "client",
    "Rooms": "rooms",
    "WebhookRejected": "webhooks",
    "mint_join_token": "tokens",
    "recording_of": "egress",
    "translate": "errors",
    "verify_webhook": "webhooks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
