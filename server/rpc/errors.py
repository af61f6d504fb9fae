"""The one error class of the RPC core, and how errors become wire objects."""

from __future__ import annotations

import msgspec

from schema.errors import ERRORS, ErrorData, ErrorName, ErrorObject, Issue

__all__ = ["RpcError", "error_object"]


class RpcError(Exception):
    """An error a caller is meant to see: a named code from the closed table.

    Anything else raised by a handler is an internal error: logged with its
    cause and answered with a fixed message and the request id only.
    """

    def __init__(
        self,
        code: ErrorName,
        message: str | None = None,
        *,
        issues: list[Issue] | None = None,
        reason: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code: ErrorName = code
        self.message = message or ERRORS[code].message
        self.issues = issues
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(f"{code}: {self.message}")


def error_object(error: RpcError, *, path: str | None, request_id: str | None) -> ErrorObject:
    """The JSON-RPC error object for ``error``, in tRPC's ``data`` shape."""
    spec = ERRORS[error.code]
    data = ErrorData(
        code=error.code,
        http_status=spec.http_status,
        path=path,
        request_id=request_id,
        issues=msgspec.UNSET if error.issues is None else error.issues,
        reason=msgspec.UNSET if error.reason is None else error.reason,
        retryable=msgspec.UNSET if error.retryable is None else error.retryable,
        retry_after=msgspec.UNSET if error.retry_after is None else error.retry_after,
    )
    return ErrorObject(code=spec.code, message=error.message, data=data)
