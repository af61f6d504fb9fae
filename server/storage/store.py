"""``Storage``: the engine, its transactions, and what start-up and /readyz need."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from time import perf_counter
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schema.errors import Issue
from server.observe import Metrics
from server.rpc import RpcError
from server.settings import Settings
from server.storage import migrate
from server.storage.cache import RowCache
from server.storage.engine import (
    MODE,
    create_engine,
    create_sqlite_reader,
    describe_database,
    sqlite_path,
)
from server.storage.errors import (
    DatabaseMissing,
    DatabaseOpenError,
    StorageUnavailable,
    is_down,
    is_invalid_text,
    is_missing_reference,
    sqlstate,
)

__all__ = ["Prepared", "Publish", "Storage", "after_commit", "invalidate"]

_AFTER_COMMIT = "roomrpc.after_commit"
_STORAGE = "roomrpc.storage"
# Tells other instances (the bus) that rows of these beings change when ``conn`` commits.
Publish = Callable[[AsyncConnection, tuple[str, ...]], Awaitable[None]]

log = logging.getLogger("roomrpc.storage")
T = TypeVar("T")


async def _close(conn: AsyncConnection) -> None:
    """Give the connection back; one the database lost on the way is simply dropped."""
    try:
        await conn.close()
    except Exception as exc:
        if not is_down(exc):
            raise
        log.warning("database connection dropped: %s", _cause(exc))


class _LoopReader:
    """The part of ``AsyncConnection`` queries use, over a synchronous SQLite connection.

    The same Core statements run; they just finish without a thread hop.
    """

    __slots__ = ("_conn", "dialect")

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(self._conn, *args)

    def first(self, compiled: _Compiled, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """``compiled``'s first row, its values as SQLAlchemy's types read them."""
        args = tuple(
            value if name is None else params[name] if bind is None else bind(params[name])
            for name, bind, value in compiled.arguments
        )
        dbapi = self._conn.connection.dbapi_connection
        assert dbapi is not None
        try:
            cursor = dbapi.execute(compiled.sql, args)
            try:
                row = cursor.fetchone()
            finally:
                cursor.close()  # the statement is reset now: no snapshot is kept open
        except compiled.errors as exc:  # as SQLAlchemy raises it: _LoopRead and is_down read it
            raise sa.exc.DBAPIError.instance(compiled.sql, args, exc, compiled.errors) from exc
        if row is None:
            return None
        return tuple(
            value if read is None else read(value)
            for read, value in zip(compiled.results, row, strict=True)
        )


class _Compiled:
    """A statement as one dialect runs it: its SQL, its positional arguments (a parameter's
    name and bind processor, or a value fixed in the statement) and its result processors."""

    __slots__ = ("arguments", "dialect", "errors", "results", "sql")

    def __init__(self, statement: sa.Select[Any], dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None or any(
            bind.expanding or bind.literal_execute or bind.callable is not None
            for bind in compiled.binds.values()
        ):
            raise ValueError("a prepared statement has plain positional parameters only")
        arguments: list[tuple[str | None, Callable[[Any], Any] | None, Any]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                arguments.append((bind.key, process, None))
            else:  # a value written into the statement, processed once
                value = bind.effective_value
                arguments.append((None, None, value if process is None else process(value)))
        self.arguments = tuple(arguments)
        self.results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        self.sql = compiled.string
        self.dialect = dialect
        self.errors: type[Exception] = dialect.loaded_dbapi.Error


class Prepared:
    """A SELECT on a hot path, read as its first row of plain values (or None).

    On SQLite's loop reader it runs on the DBAPI connection, with the SQL and the
    type processors SQLAlchemy compiled for it once: the same statement, the same
    values in and out, without SQLAlchemy's execution context (which costs several
    times the read itself). Anywhere else (PostgreSQL, a write's transaction) it is
    ``conn.execute(statement, params)``.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    async def first(
        self, conn: AsyncConnection, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        if isinstance(conn, _LoopReader):
            compiled = self._compiled
            if compiled is None or compiled.dialect is not conn.dialect:
                compiled = self._compiled = _Compiled(self.statement, conn.dialect)
            return conn.first(compiled, params)
        row = (await conn.execute(self.statement, params)).first()
        return None if row is None else tuple(row)


class _LoopRead:
    """``Storage.read()`` on SQLite: an idle connection of the loop's reader, put back after.

    A plain class rather than a generator-based context manager: it is on every read.
    """

    __slots__ = ("_engine", "_idle", "_metrics", "_start", "_sync")

    def __init__(
        self, engine: sa.Engine, idle: list[sa.Connection], metrics: Metrics | None
    ) -> None:
        self._engine = engine
        self._idle = idle
        self._metrics = metrics

    async def __aenter__(self) -> AsyncConnection:
        self._start = perf_counter()
        try:
            self._sync = self._idle.pop() if self._idle else self._engine.connect()
        except Exception as exc:
            if is_down(exc):
                raise _unavailable(exc) from exc
            raise
        return cast(AsyncConnection, _LoopReader(self._sync))

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        sync = self._sync
        if self._metrics is not None:
            self._metrics.database.get("read").observe(perf_counter() - self._start)
        try:
            if isinstance(exc, sa.exc.SQLAlchemyError):
                sync.close()  # a connection the database failed is not reused
            if not sync.closed:
                sync.rollback()  # SQLAlchemy's bookkeeping: SQLite had no transaction
                self._idle.append(sync)
        except Exception as failure:
            if is_down(failure):
                raise _unavailable(failure) from failure
            raise
        if isinstance(exc, Exception) and is_down(exc):
            raise _unavailable(exc) from exc


def _invalid_text() -> RpcError:
    """What a value the database cannot store answers, when no rule refused it first."""
    issue = Issue(path="$", message="Text may not contain the NUL character (\\u0000)")
    return RpcError("INVALID_PARAMS", issues=[issue])


def _cause(exc: BaseException) -> str:
    """One line naming a database failure: the driver's class, SQLSTATE and first line."""
    orig = getattr(exc, "orig", None) or exc
    for _ in range(3):  # SQLAlchemy adapts the driver's error: name the driver's own
        if orig.__cause__ is None:
            break
        orig = orig.__cause__
    first_line = (str(orig).splitlines() or [""])[0][:200]
    state = sqlstate(exc)
    return f"{type(orig).__name__}{f' [{state}]' if state else ''}: {first_line}"


def _unavailable(exc: BaseException) -> StorageUnavailable:
    """The caller's error; the operator's log gets the cause in one line."""
    log.warning("database unavailable: %s", _cause(exc))
    return StorageUnavailable()


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    """A pooled connection; any failure to get one means the database is unavailable."""
    try:
        return await engine.connect()
    except Exception as exc:
        raise _unavailable(exc) from exc


class Storage:
    """One database, SQLite or PostgreSQL, behind one code path.

    ``read()`` runs statements outside a transaction (each is its own snapshot);
    ``write()`` is one transaction, committed when the block ends and rolled
    back, leaving no trace, when it raises. A database that cannot be reached
    raises ``StorageUnavailable`` (SERVICE_UNAVAILABLE, retryable) from both.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        fresh: bool,
        schema: str | None = None,
        loop_reader: sa.Engine | None = None,
        cache: RowCache | None = None,
    ) -> None:
        self.engine = engine
        # Rows nearly every call reads (see server/storage/cache.py); ttl 0: nothing kept.
        self.cache = cache if cache is not None else RowCache(ttl=0, size=0)
        self.publish: Publish | None = None  # set by the app: the bus's notification
        self.loop_reader = loop_reader  # SQLite: reads run on the loop's thread
        self._idle: list[sa.Connection] = []  # its connections, kept open between reads
        self.dialect = engine.dialect.name
        self.fresh = fresh  # True when this start created the schema
        self.schema = schema
        self.deletions = 0  # bumped on each being deleted: caches of beings check it
        read_options = {MODE: "read"}
        if self.dialect != "sqlite":
            read_options["isolation_level"] = "AUTOCOMMIT"
        self._reader = engine.execution_options(**read_options)
        self._writer = engine.execution_options(**{MODE: "write"})
        self.metrics: Metrics | None = None  # set by the app: each read's and write's latency

    @classmethod
    async def open(cls, settings: Settings, *, create: bool = True) -> Storage:
        """Connect and migrate to the newest schema.

        A database that cannot be opened raises ``DatabaseOpenError`` (a
        ``StorageUnavailable``) whose ``cause`` is one line: the driver's class,
        SQLSTATE and words. With ``create=False`` (the commands that only read)
        nothing is created: no file, no tables (``DatabaseMissing``).
        """
        path = sqlite_path(settings)
        if not create and path is not None and not path.is_file():
            raise DatabaseMissing(f"no database file at {path}")
        engine = create_engine(settings, create=create)
        try:
            conn = await engine.execution_options(**{MODE: "write"}).connect()
        except Exception as exc:  # whatever refused the connection, it is one line
            await engine.dispose()
            raise DatabaseOpenError(_cause(exc)) from exc
        try:
            async with conn.begin():
                if create:
                    before = await migrate.upgrade(conn, settings.database_schema)
                else:
                    before = await migrate.current(conn)
        except Exception as exc:
            await conn.close()
            await engine.dispose()
            if is_down(exc):
                raise DatabaseOpenError(_cause(exc)) from exc
            raise
        await conn.close()
        if before is None and not create:
            await engine.dispose()
            raise DatabaseMissing(f"{describe_database(settings)} has no roomrpc tables")
        if before != migrate.head():
            log.info("database migrated from %s to %s", before or "empty", migrate.head())
        reader = None
        if engine.dialect.name == "sqlite":
            reader = create_sqlite_reader(engine.url, settings.database_pool_size)
        return cls(
            engine,
            fresh=before is None,
            schema=settings.database_schema,
            loop_reader=reader,
            cache=RowCache(ttl=settings.cache_seconds, size=settings.cache_max_entries),
        )

    async def close(self) -> None:
        """Close every pooled connection."""
        if self.loop_reader is not None:
            for conn in self._idle:
                conn.close()
            self._idle.clear()
            self.loop_reader.dispose()
        await self.engine.dispose()

    async def ping(self) -> None:
        """A round trip to the database (the /readyz check); raises when it is down."""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads."""
        if self.loop_reader is not None:
            return _LoopRead(self.loop_reader, self._idle, self.metrics)
        return self._pooled_read()

    @asynccontextmanager
    async def _pooled_read(self) -> AsyncIterator[AsyncConnection]:
        start = perf_counter()
        conn = await _connect(self._reader)
        try:
            yield conn
        except Exception as exc:
            if is_down(exc):
                raise _unavailable(exc) from exc
            if is_invalid_text(exc):
                raise _invalid_text() from None
            raise
        finally:
            await _close(conn)
            self._observe("read", start)

    def _observe(self, mode: str, start: float) -> None:
        if self.metrics is not None:
            self.metrics.database.get(mode).observe(perf_counter() - start)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in one transaction: all of the block's writes, or none.

        Callbacks registered with ``after_commit`` run once it has committed.
        """
        callbacks: list[Callable[[], None]] = []
        start = perf_counter()
        conn = await _connect(self._writer)
        try:
            async with conn.begin():
                conn.info[_AFTER_COMMIT] = callbacks
                conn.info[_STORAGE] = self
                try:
                    yield conn
                finally:
                    with contextlib.suppress(Exception):  # a broken connection has no info
                        conn.info.pop(_AFTER_COMMIT, None)
                        conn.info.pop(_STORAGE, None)
        except sa.exc.IntegrityError as exc:
            if is_missing_reference(exc):  # deleted by another call since it was read
                message = "A being this write refers to no longer exists"
                raise RpcError("NOT_FOUND", message, reason="gone") from None
            raise
        except Exception as exc:
            if is_down(exc):
                raise _unavailable(exc) from exc
            if is_invalid_text(exc):
                raise _invalid_text() from None
            raise
        finally:
            await _close(conn)
            self._observe("write", start)
        for callback in callbacks:
            callback()


def after_commit(conn: AsyncConnection, callback: Callable[[], None]) -> None:
    """Run ``callback()`` when the transaction of ``conn`` (from ``Storage.write``) commits."""
    callbacks: list[Callable[[], None]] | None = conn.info.get(_AFTER_COMMIT)
    if callbacks is None:
        raise RuntimeError("after_commit needs a connection of Storage.write()")
    callbacks.append(callback)


async def invalidate(conn: AsyncConnection, *being_ids: str) -> None:
    """Cached rows of these beings change in ``conn``'s transaction (of ``Storage.write``):
    this process drops them when it commits, other instances when the bus tells them."""
    storage: Storage | None = conn.info.get(_STORAGE)
    if storage is None:
        raise RuntimeError("invalidate needs a connection of Storage.write()")
    cache = storage.cache
    after_commit(conn, lambda: cache.drop(being_ids))
    if storage.publish is not None:
        await storage.publish(conn, being_ids)
