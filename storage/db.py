"""Engine and session factory; SQLite gets WAL, full sync, foreign keys and one writer at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.util import await_only

from storage.sqlite_driver import one_trip_dbapi

_GATE_KEY = "tinbao_write_gate"
GATE_TIMEOUT_SECONDS = 30.0


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Durability and integrity settings SQLite does not default to."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for SQLite (file created with its folder) or PostgreSQL."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Readers run concurrently (WAL); writers queue on the write gate, each holding its connection.
        # Connections are kept (a thread each): an overflow connection is opened and closed per checkout,
        # which under 50 concurrent updates cost a thread start, an open and the pragmas every time.
        # Each statement makes one trip to the connection's thread instead of four (storage/sqlite_driver.py).
        driver = {"module": one_trip_dbapi()} if make_url(url).get_driver_name() == "aiosqlite" else {}
        engine = create_async_engine(url, echo=echo, pool_size=50, max_overflow=10, **driver)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_size=20, max_overflow=20, pool_pre_ping=True)


class SQLiteWriteGate:
    """One writing transaction at a time in this process.

    SQLite has a single write lock; without this, concurrent sessions race for it and the losers sleep in
    SQLite's busy handler (1-100 ms steps). The gate is taken at a session's first write and given back
    when its transaction ends, so waiting happens in asyncio, in order, with no sleeping. Other processes
    still meet SQLite's own busy_timeout.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold the gate for writes made outside the engine's sessions (the group-commit thread)."""
        await self._acquire()
        try:
            yield
        finally:
            self._lock.release()

    async def _acquire(self) -> None:
        # asyncio.timeout, not wait_for: wait_for runs the acquire as a task of its own, so even a free gate
        # cost a turn of the event loop, and under load a turn is milliseconds, all of it before any write.
        async with asyncio.timeout(GATE_TIMEOUT_SECONDS):
            await self._lock.acquire()

    def install(self, session_class: type[Session]) -> None:
        """Listen on a session class private to one engine."""
        event.listen(session_class, "before_flush", self._before_flush)
        event.listen(session_class, "do_orm_execute", self._on_execute)
        event.listen(session_class, "after_transaction_end", self._after_transaction_end)

    def _enter(self, session: Session) -> None:
        if session.info.get(_GATE_KEY):
            return
        # Take a pooled connection BEFORE the gate: a gate holder must never wait for the pool, or the
        # sessions holding every connection while they wait for the gate would deadlock with it.
        session.connection()
        # Runs inside SQLAlchemy's greenlet, so the asyncio lock can be awaited from this sync hook.
        await_only(self._acquire())
        session.info[_GATE_KEY] = True

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        self._enter(session)

    def _on_execute(self, state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            self._enter(state.session)

    def _after_transaction_end(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and session.info.pop(_GATE_KEY, False):
            self._lock.release()


def session_has_written(session: AsyncSession) -> bool:
    """True when the session holds the SQLite write gate (it wrote) or has unflushed changes."""
    sync = session.sync_session
    return bool(sync.info.get(_GATE_KEY)) or bool(sync.new or sync.dirty or sync.deleted)


# One gate per SQLite engine, shared by its session factories and its group-commit writer.
_gates: WeakKeyDictionary[Engine, SQLiteWriteGate] = WeakKeyDictionary()


def write_gate(engine: AsyncEngine) -> SQLiteWriteGate:
    """The write gate of a SQLite engine."""
    gate = _gates.get(engine.sync_engine)
    if gate is None:
        gate = _gates[engine.sync_engine] = SQLiteWriteGate()
    return gate


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit; SQLite sessions share one write gate."""
    if engine.dialect.name != "sqlite":
        return async_sessionmaker(engine, expire_on_commit=False)
    session_class = type("GatedSession", (Session,), {})
    write_gate(engine).install(session_class)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)
