"""The closed set of errors: named codes, JSON-RPC numbers, HTTP statuses, wire shapes."""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple, get_args

import msgspec

from schema._base import Base

__all__ = [
    "ANY_CALL",
    "ANY_CALL_REASONS",
    "ERRORS",
    "MUTATION_REASONS",
    "PROTOCOL_ERRORS",
    "STORAGE_REASONS",
    "SUBSCRIPTION_REASONS",
    "ErrorData",
    "ErrorName",
    "ErrorObject",
    "ErrorSpec",
    "Issue",
]

ErrorName = Literal[
    # The JSON-RPC 2.0 specification's own protocol errors.
    "PARSE_ERROR",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "INVALID_PARAMS",
    "INTERNAL_SERVER_ERROR",
    # Application errors (tRPC's names).
    "BAD_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "TIMEOUT",
    "CONFLICT",
    "PRECONDITION_FAILED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "TOO_MANY_REQUESTS",
    "SERVICE_UNAVAILABLE",
]


class ErrorSpec(NamedTuple):
    """One row of the error table."""

    code: int
    http_status: int
    message: str


# The one table. Spec codes (-32700, -32600..-32603) mean only what the spec says;
# application codes take tRPC's own numbers in -32000..-32099 where tRPC has one
# (UNAUTHORIZED -32001 ... TOO_MANY_REQUESTS -32029) and a distinct number in that
# range where tRPC folds the code into a spec code (BAD_REQUEST, SERVICE_UNAVAILABLE).
ERRORS: dict[ErrorName, ErrorSpec] = {
    "PARSE_ERROR": ErrorSpec(-32700, 400, "Parse error"),
    "INVALID_REQUEST": ErrorSpec(-32600, 400, "Invalid Request"),
    "METHOD_NOT_FOUND": ErrorSpec(-32601, 404, "Method not found"),
    "INVALID_PARAMS": ErrorSpec(-32602, 400, "Invalid params"),
    "INTERNAL_SERVER_ERROR": ErrorSpec(-32603, 500, "Internal error"),
    "BAD_REQUEST": ErrorSpec(-32000, 400, "Bad request"),
    "UNAUTHORIZED": ErrorSpec(-32001, 401, "Unauthorized"),
    "FORBIDDEN": ErrorSpec(-32003, 403, "Forbidden"),
    "NOT_FOUND": ErrorSpec(-32004, 404, "Not found"),
    "TIMEOUT": ErrorSpec(-32008, 408, "Timeout"),
    "CONFLICT": ErrorSpec(-32009, 409, "Conflict"),
    "PRECONDITION_FAILED": ErrorSpec(-32012, 412, "Precondition failed"),
    "PAYLOAD_TOO_LARGE": ErrorSpec(-32013, 413, "Payload too large"),
    "UNSUPPORTED_MEDIA_TYPE": ErrorSpec(-32015, 415, "Unsupported media type"),
    "TOO_MANY_REQUESTS": ErrorSpec(-32029, 429, "Too many requests"),
    "SERVICE_UNAVAILABLE": ErrorSpec(-32053, 503, "Service unavailable"),
}

PROTOCOL_ERRORS: frozenset[ErrorName] = frozenset(
    (
        "PARSE_ERROR",
        "INVALID_REQUEST",
        "METHOD_NOT_FOUND",
        "INVALID_PARAMS",
        "INTERNAL_SERVER_ERROR",
    )
)

# Codes any call may fail with, whatever it declares: the protocol's own errors,
# UNAUTHORIZED (a refused bearer token fails every call it rides on), TIMEOUT (the
# per-call time limit or the caller's deadline), the HTTP layer's checks (size, media
# type, a malformed X-Timeout-Ms or Idempotency-Key: BAD_REQUEST) and rate limits.
ANY_CALL: tuple[ErrorName, ...] = (
    *sorted(PROTOCOL_ERRORS),
    "UNAUTHORIZED",
    "TIMEOUT",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "TOO_MANY_REQUESTS",
    "BAD_REQUEST",
)
# ``reason``s any call may give: a refused token, a rate limit, a result too large
# for the answer (RPC_MAX_RESPONSE_BYTES).
ANY_CALL_REASONS: dict[ErrorName, tuple[str, ...]] = {
    "PAYLOAD_TOO_LARGE": ("response_too_large",),
    "UNAUTHORIZED": (
        "bad_algorithm",
        "bad_signature",
        "invalid_token",
        "token_expired",
        "token_predates_being",
        "unknown_being",
    ),
    "TOO_MANY_REQUESTS": ("rate_limited",),
}
# ... any procedure that declares the code: the database is down.
STORAGE_REASONS: dict[ErrorName, tuple[str, ...]] = {
    "SERVICE_UNAVAILABLE": ("database_unavailable",),
}
# ... any mutation: an Idempotency-Key's repeat, a row deleted by another call meanwhile.
MUTATION_REASONS: dict[ErrorName, tuple[str, ...]] = {
    "CONFLICT": ("answer_not_kept", "idempotency_key_reused", "in_progress"),
    "NOT_FOUND": ("gone",),
}
# ... any subscription: how the server ends one (a slow reader, limits, shutdown, a
# socket that now acts for another being).
SUBSCRIPTION_REASONS: dict[ErrorName, tuple[str, ...]] = {
    "TOO_MANY_REQUESTS": ("slow_consumer", "sockets_per_being", "subscriptions_per_socket"),
    "SERVICE_UNAVAILABLE": ("shutting_down",),
    "UNAUTHORIZED": ("rebound", "token_expired"),
}

assert set(get_args(ErrorName)) == set(ERRORS), "the error table must name every code"
assert len({spec.code for spec in ERRORS.values()}) == len(ERRORS), "codes must be distinct"


class Issue(Base):
    """One invalid value: where it is (a JSON path into params) and what is wrong."""

    path: str
    message: str


class ErrorData(Base, omit_defaults=True):
    """``error.data``: the named code and what a client needs to act on it."""

    code: ErrorName
    http_status: Annotated[int, msgspec.Meta(ge=100, le=599)]
    path: str | None = None
    request_id: str | None = None
    issues: list[Issue] | msgspec.UnsetType = msgspec.UNSET
    reason: str | msgspec.UnsetType = msgspec.UNSET
    retryable: bool | msgspec.UnsetType = msgspec.UNSET
    retry_after: float | msgspec.UnsetType = msgspec.UNSET  # seconds before trying again


class ErrorObject(Base):
    """The JSON-RPC 2.0 error object."""

    code: Annotated[int, msgspec.Meta(ge=-32768, le=-32000)]
    message: str
    data: ErrorData
