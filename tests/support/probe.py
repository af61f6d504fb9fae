"""A ``probe`` namespace mounted by tests: procedures that fail, sleep, or need a caller."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

import msgspec

from schema import Base, Procedure, mutation, query
from schema.errors import ErrorName
from server.rpc import AuthedContext, Context, Router, RpcError

__all__ = ["CONTRACT", "NAPS", "SECRET", "router"]

SECRET = "s3cr3t-db-password"


class Nothing(Base):
    pass


class RaiseInput(Base):
    code: ErrorName
    message: str | None = None


class SleepInput(Base):
    seconds: Annotated[float, msgspec.Meta(ge=0, le=10)]


class Address(Base):
    city: Annotated[str, msgspec.Meta(min_length=1)]


class EchoInput(Base):
    room_being_id: Annotated[str, msgspec.Meta(pattern=r"^@[a-z0-9._-]{1,63}$")]
    count: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    address: Address | None = None


class BlobInput(Base):
    size: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class SpinInput(Base):
    ms: Annotated[float, msgspec.Meta(ge=0, le=100)]


class WhoAmI(Base):
    being_id: str
    admin: bool


boom = mutation("probe.boom", Nothing, type(None), "Raises an unexpected exception")
fail = mutation("probe.fail", RaiseInput, type(None), "Raises the named error")
sleep = query("probe.sleep", SleepInput, float, "Sleeps, then answers")
echo = query("probe.echo", EchoInput, EchoInput, "Answers its params")
whoami = query("probe.whoami", Nothing, WhoAmI, "The caller", protected=True)
unencodable = query("probe.unencodable", Nothing, Any, "Returns what JSON cannot hold")
blob = query("probe.blob", BlobInput, str, "size x U+0001: six bytes each in JSON")
spin = query("probe.spin", SpinInput, float, "Holds the event loop's thread for ms")

nap = mutation("probe.nap", SleepInput, int, "Sleeps, then answers how many naps ran so far")
NAPS: list[float] = []  # every nap that ran: what idempotency tests count
db_sleep = query("probe.dbSleep", SleepInput, bool, "Has the database sleep (PostgreSQL)")

CONTRACT: tuple[Procedure[Any, Any], ...] = (
    boom,
    fail,
    sleep,
    echo,
    whoami,
    unencodable,
    blob,
    spin,
    nap,
    db_sleep,
)

router = Router()


@router.procedure(boom)
async def _boom(ctx: Context[Any], params: Nothing) -> None:
    raise RuntimeError(f"connection to postgres://app:{SECRET}@db failed")


@router.procedure(fail)
async def _fail(ctx: Context[Any], params: RaiseInput) -> None:
    raise RpcError(params.code, params.message)


@router.procedure(sleep)
async def _sleep(ctx: Context[Any], params: SleepInput) -> float:
    await asyncio.sleep(params.seconds)
    return params.seconds


@router.procedure(echo)
async def _echo(ctx: Context[Any], params: EchoInput) -> EchoInput:
    return params


@router.procedure(whoami)
async def _whoami(ctx: AuthedContext[Any], params: Nothing) -> WhoAmI:
    return WhoAmI(being_id=ctx.principal.being_id, admin=ctx.principal.is_admin)


@router.procedure(unencodable)
async def _unencodable(ctx: Context[Any], params: Nothing) -> Any:
    return {"value": object()}


@router.procedure(blob)
async def _blob(ctx: Context[Any], params: BlobInput) -> str:
    return "\u0001" * params.size


@router.procedure(spin)
async def _spin(ctx: Context[Any], params: SpinInput) -> float:
    ends = time.perf_counter() + params.ms / 1000
    while time.perf_counter() < ends:  # a synchronous read on the loop's thread, say
        pass
    return params.ms


@router.procedure(nap)
async def _nap(ctx: Context[Any], params: SleepInput) -> int:
    if params.seconds:
        await asyncio.sleep(params.seconds)
    NAPS.append(params.seconds)
    return len(NAPS)


@router.procedure(db_sleep)
async def _db_sleep(ctx: Context[Any], params: SleepInput) -> bool:
    import sqlalchemy as sa

    async with ctx.deps.storage.read() as conn:
        await conn.execute(sa.text(f"SELECT pg_sleep({params.seconds:.3f})"))
    return True
