"""A server-side caller: run a procedure in-process, with the same checks as over the wire."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from schema import Procedure
from server.rpc.context import Context, Principal
from server.rpc.router import Compiled

__all__ = ["Caller"]

D = TypeVar("D")
In = TypeVar("In")
Out = TypeVar("Out")


class Caller(Generic[D]):
    """Calls procedures by their contract entry: ``await caller(being.get, {"id": "@a"})``.

    Params (a Struct or a plain mapping) go through the procedure's own decoder,
    so constraints are checked exactly as for a call over HTTP; middleware runs
    too. Errors are raised: ``RpcError`` as is, anything else unchanged.
    """

    def __init__(
        self,
        procedures: Mapping[str, Compiled],
        deps: D,
        principal: Principal | None = None,
        *,
        request_prefix: str = "caller",
    ) -> None:
        self._procedures = procedures
        self._deps = deps
        self._principal = principal
        self._prefix = request_prefix
        self._ids = itertools.count(1)

    def as_principal(self, principal: Principal | None) -> Caller[D]:
        """The same caller acting for ``principal`` (None: anonymous)."""
        return Caller(self._procedures, self._deps, principal, request_prefix=self._prefix)

    async def __call__(
        self, spec: Procedure[In, Out], params: In | Mapping[str, Any] | None = None
    ) -> Out:
        proc = self._procedures[spec.name]
        raw = msgspec.json.encode({} if params is None else params)
        decoded = proc.params.decode(raw)
        ctx = Context(f"{self._prefix}-{next(self._ids)}", self._deps, self._principal, spec.name)
        result: Out = await proc.run(ctx, decoded)
        return result
