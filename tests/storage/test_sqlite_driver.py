"""The one-trip aiosqlite cursor: same results and errors as SQLAlchemy's own, one thread trip per statement."""

from __future__ import annotations

import threading
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine
from storage.sqlite_driver import reads_inline


class TripCounter:
    """Counts hand-overs to aiosqlite's connection thread once installed."""

    def __init__(self) -> None:
        self.count = 0
        self._queue = aiosqlite.Connection._execute

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """From now on every trip to a connection's thread is counted."""
        queue = self._queue

        async def counted(connection: aiosqlite.Connection, fn: object, *args: object, **kwargs: object) -> object:
            self.count += 1
            return await queue(connection, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


async def test_statements_return_what_sqlalchemy_returns_in_one_trip_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    trips = TripCounter()
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            trips.install(monkeypatch)
            inserted = await connection.execute(text("INSERT INTO t (name) VALUES (:n)"), {"n": "a"})
            assert inserted.lastrowid == 1
            assert trips.count == 1
            many = await connection.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])
            assert many.rowcount == 2
            changed = await connection.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert changed.rowcount == 2
            rows = (await connection.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
            assert trips.count == 4
            empty = await connection.execute(text("SELECT id FROM t WHERE id > 10"))
            assert empty.keys() == ["id"] and empty.all() == []
            with pytest.raises(IntegrityError):
                await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
    finally:
        await engine.dispose()


async def test_update_reads_run_on_the_callers_thread_and_idle_transactions_end_without_a_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    trips = TripCounter()
    here = threading.get_ident()
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
            raw = (await connection.get_raw_connection()).driver_connection
            assert isinstance(raw, aiosqlite.Connection)
            await raw.create_function("thread_id", 0, threading.get_ident)
        trips.install(monkeypatch)

        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT thread_id()"))).scalar() != here
            assert trips.count == 1  # outside reads_inline(): a trip to the connection's thread
            with reads_inline():
                assert (await connection.execute(text("SELECT thread_id()"))).scalar() == here
                assert trips.count == 1
                await connection.rollback()  # nothing was written: SQLite has nothing to end, no trip
                assert trips.count == 1
                await connection.execute(text("INSERT INTO t (name) VALUES (thread_id())"))
                assert trips.count == 2  # writes keep their trip (they may wait for SQLite's write lock)
                assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 1  # own write seen
                await connection.commit()
                assert trips.count == 3
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT name FROM t"))).scalar() != str(here)
    finally:
        await engine.dispose()
