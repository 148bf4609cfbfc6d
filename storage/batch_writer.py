"""Group-commit batches: many updates' conversation states and update ids written in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import StaticPool

from storage.db import sqlite_pragmas, write_gate
from storage.fsm import fsm_batch_writes, save_fsm_many
from storage.updates import record_updates, record_updates_write

FsmRecords = Mapping[str, tuple[str | None, bytes | None]]
CLOSE_TIMEOUT_SECONDS = 10.0  # a batch being written finishes first


class BatchWriter(Protocol):
    """Writes one group-commit batch durably, or raises."""

    async def write(self, records: FsmRecords, update_ids: Sequence[int]) -> None:
        """Upsert the conversation records and record the update ids, in one transaction."""


class SessionBatchWriter:
    """Through a pooled async session (any database)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def write(self, records: FsmRecords, update_ids: Sequence[int]) -> None:
        """One session, two statements, one commit."""
        async with self._sessions() as session:
            await save_fsm_many(session, records=dict(records))
            await record_updates(session, update_ids=list(update_ids))
            await session.commit()


class SQLiteThreadWriter:
    """SQLite: a private connection used from one thread of its own, so a batch crosses threads once.

    Through the async driver a batch costs about ten hand-overs between the event loop and the driver's
    thread, and under load each waits for a whole turn of a busy loop, all while holding the write gate
    that every waiting update needs (measured: batches p50 20 ms, p99 300 ms at 130 updates/s). Here the
    batch runs start to finish in the writer's thread; the gate still orders it with the other writers.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._gate = write_gate(engine)
        url = engine.url.set(drivername="sqlite")
        # StaticPool: one connection, opened in and only ever used from the writer's single thread.
        self._engine: Engine = create_engine(url, poolclass=StaticPool)
        event.listen(self._engine, "connect", sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tinbao-group-commit")
        # Close the connection with the application's engine (a disposed engine may be used again, and so
        # may this writer: the connection reopens on the next batch). The idle thread ends with the writer.
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: self.close())

    async def write(self, records: FsmRecords, update_ids: Sequence[int]) -> None:
        """Hold the gate, then run the whole transaction in the writer's thread."""
        async with self._gate.held():
            await asyncio.get_running_loop().run_in_executor(self._thread, self._write, records, update_ids)

    def _write(self, records: FsmRecords, update_ids: Sequence[int]) -> None:
        writes = fsm_batch_writes(records, "sqlite")
        recorded = record_updates_write(update_ids, "sqlite")
        with self._engine.begin() as conn:
            for stmt, params in [*writes, *([recorded] if recorded is not None else [])]:
                conn.execute(stmt, params)

    def close(self) -> None:
        """Close the connection, in the thread that owns it, before returning.

        Waiting matters: the last connection to close removes SQLite's -wal/-shm files, and whoever disposed
        the engine may look at the files next (a backup, the privacy test's scan).
        """
        self._thread.submit(self._engine.dispose).result(timeout=CLOSE_TIMEOUT_SECONDS)


def batch_writer(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> BatchWriter:
    """The cheapest writer for the engine's database."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        return SQLiteThreadWriter(engine)  # (a second connection to ":memory:" would be another database)
    return SessionBatchWriter(sessions)
