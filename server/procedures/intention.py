"""Handlers of the ``intention`` namespace: speaking in a space, reading its history."""

from __future__ import annotations

from schema import intention
from server.deps import AuthedCtx, Ctx
from server.procedures._access import MANAGERS, now
from server.procedures.space import find_space
from server.rpc import Router, RpcError
from server.storage import intentions

__all__ = ["router"]

router = Router()


@router.procedure(intention.create)
async def create(ctx: AuthedCtx, params: intention.CreateIntentionInput) -> intention.Intention:
    """Members speak; listeners listen; ``system`` is for managers and admins."""
    principal = ctx.principal
    async with ctx.deps.storage.write() as conn:
        _, role = await find_space(conn, params.space_id, principal)
        if not principal.is_admin:
            if role is None or role == "listener":
                reason = "listener" if role else "not_member"
                raise RpcError(
                    "FORBIDDEN", f"You may not speak in {params.space_id}", reason=reason
                )
            if params.kind == "system" and role not in MANAGERS:
                message = "Only owners, moderators and admins post system intentions"
                raise RpcError("FORBIDDEN", message, reason="not_manager")
        return await intentions.insert(
            conn,
            space_id=params.space_id,
            author_id=principal.being_id,
            kind=params.kind,
            content=params.content,
            now=now(),
        )


@router.procedure(intention.list_)
async def list_(ctx: Ctx, params: intention.ListIntentionsInput) -> intention.IntentionPage:
    """Newest first; ``nextBefore`` continues with older ones."""
    async with ctx.deps.storage.read() as conn:
        await find_space(conn, params.space_id, ctx.principal)
        items = await intentions.page(conn, params.space_id, params.before, params.limit + 1)
    more = len(items) > params.limit
    del items[params.limit :]
    return intention.IntentionPage(items=items, next_before=items[-1].id if more else None)
