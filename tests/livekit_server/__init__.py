"""A LiveKit-compatible test server: the real wire protocol, driven by the real livekit-api.

LiveKit's own server cannot be installed here, so tests talk to this one. It
serves ``livekit.RoomService`` over Twirp (protobuf and JSON bodies), checks
bearer JWTs with livekit-api's ``TokenVerifier`` and the grant each method
needs, answers with LiveKit's error codes and statuses, keeps room and
participant state with LiveKit's documented semantics, and posts webhooks
signed as LiveKit signs them. See ``LiveKitServer`` for the test controls.
"""

from tests.livekit_server.room_service import SentData
from tests.livekit_server.server import LiveKitServer
from tests.livekit_server.state import Limits, RoomDefaults, RoomFullError
from tests.livekit_server.twirp import STATUS
from tests.livekit_server.webhooks import CONTENT_TYPE, Delivery, encode_event, make_event, sign

__all__ = [
    "CONTENT_TYPE",
    "STATUS",
    "Delivery",
    "Limits",
    "LiveKitServer",
    "RoomDefaults",
    "RoomFullError",
    "SentData",
    "encode_event",
    "make_event",
    "sign",
]
