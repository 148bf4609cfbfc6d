"""SQLAlchemy's aiosqlite driver, with each statement run in one trip to the connection's thread (or none)."""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

Description = tuple[tuple[Any, ...], ...] | None
_READS_INLINE: ContextVar[bool] = ContextVar("tinbao_sqlite_reads_inline", default=False)


@contextmanager
def reads_inline() -> Iterator[None]:
    """Within this block, SELECTs run on the calling thread instead of a trip to the connection's thread.

    For work whose reads are a few indexed rows (a Telegram update's): in WAL mode a read does not wait for
    writers and takes microseconds, while each trip waits for a turn of the event loop on the way back, which
    under load is milliseconds. Officer queries (statistics, exports) may scan, so they keep the trip.
    """
    token = _READS_INLINE.set(True)
    try:
        yield
    finally:
        _READS_INLINE.reset(token)


def _is_read(operation: Any) -> bool:
    return isinstance(operation, str) and operation.lstrip()[:6].upper() == "SELECT"


def _run_statement(
    connection: sqlite3.Connection, operation: str, parameters: Any
) -> tuple[Description, list[Any], int, int | None]:
    """In aiosqlite's thread: execute, fetch every row and close the cursor."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> int:
    """In aiosqlite's thread: one statement for many parameter sets."""
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement costs one hand-over to aiosqlite's thread instead of four.

    SQLAlchemy's adapter opens an aiosqlite cursor, executes, fetches and closes it, each a separate trip
    to the connection's thread and back through the event loop. Under load each trip waits for a busy loop,
    and a writer holds the SQLite write gate all the while: a new tip's transaction held it for 5-75 ms.
    """

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor: the sqlite3 cursor lives and dies inside one call in the connection's thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Description = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        """The last statement's result columns (None when it returned no rows)."""
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        """The rowid of the last inserted row."""
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        """Rows per fetchmany() by default (rows are already buffered)."""
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        """Accepted and ignored: every row is fetched at once."""

    async def _async_soft_close(self) -> None:
        """Nothing is open in the thread once a statement has run."""

    def close(self) -> None:
        """Drop buffered rows."""
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        raw: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            if _READS_INLINE.get() and _is_read(operation):
                # The mutex keeps the connection's thread idle meanwhile (check_same_thread is off, see connect).
                found = _run_statement(raw._conn, operation, parameters)
            else:
                found = await raw._execute(_run_statement, raw._conn, operation, parameters)  # type: ignore[no-untyped-call]
        self._description, rows, self._rowcount, self._lastrowid = found
        self._rows = collections.deque(rows)
        return None

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        raw: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            self._rowcount = await raw._execute(  # type: ignore[no-untyped-call]
                _run_many, raw._conn, operation, list(seq_of_parameters)
            )
        self._description, self._lastrowid = None, None
        self._rows = collections.deque()
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection, handing out one-trip cursors; ending no transaction costs no trip."""

    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def _idle(self) -> bool:
        """True when SQLite has no transaction open, so commit and rollback would do nothing."""
        raw: sqlite3.Connection | None = self._connection._connection
        return raw is not None and not raw.in_transaction

    def rollback(self) -> None:
        """Roll back, skipping the trip when only reads ran (every read-only update ends this way)."""
        if not self._idle():
            super().rollback()

    def commit(self) -> None:
        """Commit, skipping the trip when nothing was written."""
        if not self._idle():
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given instead of its own."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        """Connect as SQLAlchemy does, then use the one-trip connection class (same layout, no new state).

        The sqlite3 connection may be used from the event loop's thread too (inline reads, the idle check),
        always while its own thread is idle: SQLAlchemy awaits every call, and reads hold the execute mutex.
        """
        kw.setdefault("check_same_thread", False)
        connection = super().connect(*arg, **kw)
        connection.__class__ = OneTripConnection
        return connection  # type: ignore[return-value]


def one_trip_dbapi() -> OneTripDBAPI:
    """The module to pass as `create_async_engine(..., module=...)` for sqlite+aiosqlite URLs."""
    return OneTripDBAPI(aiosqlite, sqlite3)
