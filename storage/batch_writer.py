"""Group-commit batches: many updates' conversation states, update ids and small write jobs in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from storage.db import sqlite_pragmas, write_gate
from storage.fsm import fsm_batch_writes, save_fsm_many
from storage.updates import record_updates, record_updates_write

FsmRecords = Mapping[str, tuple[str | None, bytes | None]]
# A write that joins a batch: plain synchronous ORM work on the batch's session, returning what its caller needs.
WriteJob = Callable[[Session], Any]
CLOSE_TIMEOUT_SECONDS = 10.0  # a batch being written finishes first


# Told the jobs' results on the event loop's thread the moment the batch is durable, before `write` returns.
OnDurable = Callable[[list[Any]], None]


class BatchWriter(Protocol):
    """Writes one group-commit batch durably, or raises."""

    async def write(
        self,
        records: FsmRecords,
        update_ids: Sequence[int],
        jobs: Sequence[WriteJob] = (),
        on_durable: OnDurable | None = None,
    ) -> list[Any]:
        """Run the jobs, upsert the conversation records and record the update ids, in one transaction."""


class SessionBatchWriter:
    """Through a pooled async session (any database)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def write(
        self,
        records: FsmRecords,
        update_ids: Sequence[int],
        jobs: Sequence[WriteJob] = (),
        on_durable: OnDurable | None = None,
    ) -> list[Any]:
        """One session, the jobs and two statements, one commit; the jobs' results in their order."""
        async with self._sessions() as session:
            results = [await session.run_sync(job) for job in jobs]
            await save_fsm_many(session, records=dict(records))
            await record_updates(session, update_ids=list(update_ids))
            await session.commit()
        if on_durable is not None:
            on_durable(results)
        return results


class SQLiteThreadWriter:
    """SQLite: a private connection; a batch's statements run at once, only its commit (the fsync) in a thread.

    Through the async driver a batch costs about ten hand-overs between the event loop and the driver's
    thread, and under load each waits for a whole turn of a busy loop, all while holding the write gate
    that every waiting update needs (measured: batches p50 20 ms, p99 300 ms at 130 updates/s). Running
    the whole batch in a thread of its own was better, but each statement step there gives up Python's
    lock and waits to get it back from the busy event loop (measured at 300 updates/s: 0.8 ms of work took
    2-25 ms). The statements take microseconds in SQLite, so they run here without a hand-over; the
    commit, which waits for the disk, is the one thing sent to the writer's thread.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._gate = write_gate(engine)
        url = engine.url.set(drivername="sqlite")
        # StaticPool: one connection. It is used by one batch at a time (the gate), from the event loop's
        # thread and, for the commit, the writer's thread: hence check_same_thread=False.
        self._engine: Engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        event.listen(self._engine, "connect", sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tinbao-group-commit")
        # Close the connection with the application's engine (a disposed engine may be used again, and so
        # may this writer: the connection reopens on the next batch). The idle thread ends with the writer.
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: self.close())

    async def write(
        self,
        records: FsmRecords,
        update_ids: Sequence[int],
        jobs: Sequence[WriteJob] = (),
        on_durable: OnDurable | None = None,
    ) -> list[Any]:
        """Hold the gate, write the batch, and commit it in the writer's thread."""
        async with self._gate.held():
            with self._engine.connect() as conn:
                conn.begin()
                try:
                    results = self._write(conn, records, update_ids, jobs)
                except BaseException:
                    conn.rollback()
                    raise
                await self._commit(conn, None if on_durable is None else partial(on_durable, results))
                return results

    async def _commit(self, conn: Connection, on_durable: Callable[[], None] | None) -> None:
        """Commit in the writer's thread; `on_durable` runs in the loop's first turn after it.

        Waiters are told straight from that turn: through run_in_executor's future, a shield and the group
        committer's own wake-up they heard two turns later, and under load each turn of the loop is milliseconds.
        """
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[None] = loop.create_future()

        def settle(committed: Future[None]) -> None:  # on the loop's thread
            error = committed.exception()
            try:
                if error is None and on_durable is not None:
                    on_durable()
            finally:
                if not settled.done():  # done already when this task was cancelled meanwhile
                    if error is None:
                        settled.set_result(None)
                    else:
                        settled.set_exception(error)

        def hand_back(committed: Future[None]) -> None:  # in the writer's thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to tell
                loop.call_soon_threadsafe(settle, committed)

        committing = self._thread.submit(conn.commit)
        committing.add_done_callback(hand_back)
        try:
            await settled
        except asyncio.CancelledError:
            # The commit goes on in the thread: the connection is not touched until it ends.
            await asyncio.wait([asyncio.wrap_future(committing)])
            raise

    @staticmethod
    def _write(conn: Connection, records: FsmRecords, update_ids: Sequence[int], jobs: Sequence[WriteJob]) -> list[Any]:
        writes = fsm_batch_writes(records, "sqlite")
        recorded = record_updates_write(update_ids, "sqlite")
        results: list[Any] = []
        if jobs:
            # The jobs' session joins the connection's transaction; the commit below makes everything durable.
            with Session(bind=conn) as session:
                results = [job(session) for job in jobs]
                session.flush()
        for stmt, params in [*writes, *([recorded] if recorded is not None else [])]:
            conn.execute(stmt, params)
        return results

    def close(self) -> None:
        """Close the connection in the writer's thread (after a commit still running there), before returning.

        Waiting matters: the last connection to close removes SQLite's -wal/-shm files, and whoever disposed
        the engine may look at the files next (a backup, the privacy test's scan).
        """
        self._thread.submit(self._engine.dispose).result(timeout=CLOSE_TIMEOUT_SECONDS)


def batch_writer(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> BatchWriter:
    """The cheapest writer for the engine's database."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        return SQLiteThreadWriter(engine)  # (a second connection to ":memory:" would be another database)
    return SessionBatchWriter(sessions)
