"""Who may see and change what: the rules every namespace shares, free of storage."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

from schema.being import Being
from schema.errors import Issue
from server.rpc import Principal, RpcError

__all__ = [
    "MANAGERS",
    "can_see",
    "check_text",
    "decode_cursor",
    "encode_cursor",
    "not_found",
    "now",
    "owns",
]

_CURSOR_ID = re.compile(r"@[a-z0-9._-]{1,63}")
MANAGERS = frozenset({"owner", "moderator"})


def now() -> datetime:
    """The time a write is stamped with."""
    return datetime.now(UTC)


def not_found(being_id: str) -> RpcError:
    """The one answer for absent and hidden beings alike."""
    return RpcError("NOT_FOUND", f"No being {being_id}", reason="no_such_being")


def can_see(being: Being, role: str | None, principal: Principal | None) -> bool:
    """Public beings are seen by anyone; a private space by its members and admins."""
    if being.visibility != "private":
        return True
    return principal is not None and (role is not None or principal.is_admin)


def owns(being: Being, role: str | None, principal: Principal) -> bool:
    """Owner rights: admins; a space's owners; a bot's owner; a user itself."""
    if principal.is_admin:
        return True
    if being.type == "space":
        return role == "owner"
    if being.type == "bot":
        return being.owner_id == principal.being_id
    return being.id == principal.being_id


def encode_cursor(last_id: str) -> str:
    """An opaque cursor that continues after ``last_id``."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, path: str = "$.cursor") -> str | None:
    """The id a cursor continues after; INVALID_PARAMS naming the field if it is not ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, and a cursor that is not ASCII
        raw = ""
    if _CURSOR_ID.fullmatch(raw) is None:  # cursors carry a being id, nothing else
        issue = Issue(path=path, message="Not a cursor this server handed out")
        raise RpcError("INVALID_PARAMS", issues=[issue])
    return raw


def check_text(value: object, path: str) -> None:
    """INVALID_PARAMS naming ``path`` when a string in ``value`` (keys and nested values
    included) holds the NUL character, which PostgreSQL's text and jsonb cannot store:
    refused the same way on every database."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                issue = Issue(path=path, message="Text may not contain the NUL character (\\u0000)")
                raise RpcError("INVALID_PARAMS", issues=[issue])
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
