"""The one error class of the client: a JSON-RPC error answer, by its named code."""

from __future__ import annotations

from typing import Any, ClassVar

from schema.errors import ERRORS, ErrorName

__all__ = ["RETRYABLE", "RpcError"]

# Codes that say "not now" rather than "not this": worth another try after a pause.
RETRYABLE: frozenset[ErrorName] = frozenset({"TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"})


class RpcError(Exception):
    """An error answer: ``name`` (``"NOT_FOUND"``), ``code`` (-32004), ``data``, ``request_id``.

    Each named code has a subclass (``NotFound``, ``Unauthorized`` ...) in
    ``roomrpc.client``; ``err.name == "NOT_FOUND"`` is the same check by name.
    """

    name: ClassVar[ErrorName] = "INTERNAL_SERVER_ERROR"

    def __init__(
        self,
        code: int,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        id: int | str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.data: dict[str, Any] = data or {}
        self.method = method
        self.id = id
        super().__init__(f"{method or 'rpc'}: {self.name} ({code}) {message}")

    @property
    def request_id(self) -> str | None:
        """The server's request id (``X-Request-Id``), for its logs."""
        value = self.data.get("requestId")
        return value if isinstance(value, str) else None

    @property
    def reason(self) -> str | None:
        """A finer reason some errors carry (``idempotency_key_reused`` ...)."""
        value = self.data.get("reason")
        return value if isinstance(value, str) else None

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed later: the server says so, or the code does."""
        flag = self.data.get("retryable")
        return flag if isinstance(flag, bool) else self.name in RETRYABLE

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asks to wait before a retry (``data.retryAfter``)."""
        value = self.data.get("retryAfter")
        return float(value) if isinstance(value, int | float) else None


def code_name(code: int, data: dict[str, Any] | None) -> ErrorName:
    """The named code of an answer: ``data.code`` when it names one, else by number."""
    named = (data or {}).get("code")
    if isinstance(named, str) and named in ERRORS:
        return named
    for name, spec in ERRORS.items():
        if spec.code == code:
            return name
    return "INTERNAL_SERVER_ERROR"
