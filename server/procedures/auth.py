"""Handlers of the ``auth`` namespace."""

from __future__ import annotations

from schema import auth
from server.procedures.deps import AuthedCtx
from server.rpc import Router, RpcError
from server.storage import beings

__all__ = ["router"]

router = Router()


@router.procedure(auth.me)
async def me(ctx: AuthedCtx, params: auth.MeInput) -> auth.Me:
    """The caller's being and the roles its token carries."""
    principal = ctx.principal
    async with ctx.deps.storage.read() as conn:
        found = await beings.get(conn, principal.being_id, principal.being_id)
    if found is None:  # deleted since its token was checked
        raise RpcError("UNAUTHORIZED", f"No being {principal.being_id}", reason="unknown_being")
    return auth.Me(being=found[0], roles=sorted(principal.roles))
