"""Group commit: FSM changes and write jobs of many updates share one transaction; failures reach their waiters."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.fsm_memory import PendingFsm
from bot.unit import GroupCommitter
from storage.batch_writer import batch_writer
from storage.db import create_engine, create_session_factory, is_sqlite
from storage.fsm import load_fsm
from storage.models import ProcessedUpdate, Reporter
from storage.reporters import ReporterRef, ensure_reporter


async def test_concurrent_commits_are_all_durable_and_last_write_wins(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    group = GroupCommitter(batch_writer(engine, sessions))
    try:
        # 100 updates from 10 conversations, committed concurrently; each conversation's last state wins.
        await asyncio.gather(
            *(group.commit({f"key{i % 10}": PendingFsm(f"state{i}", f"data{i}".encode())}, i) for i in range(100))
        )
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 100
            for k in range(10):
                state, data = await load_fsm(session, key_hash=f"key{k}")
                assert state == f"state{90 + k}" and data == f"data{90 + k}".encode()
        # Clearing a conversation deletes its record.
        await group.commit({"key0": PendingFsm(None, None)}, None)
        async with sessions() as session:
            assert await load_fsm(session, key_hash="key0") == (None, None)
    finally:
        await engine.dispose()


async def test_a_failed_batch_fails_every_waiter(database_url: str) -> None:
    if not is_sqlite(database_url):
        pytest.skip("the failure is provoked by dropping the SQLite table")
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    group = GroupCommitter(batch_writer(engine, sessions))
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE fsm_records RENAME TO fsm_records_gone")
        results = await asyncio.gather(
            *(group.commit({f"k{i}": PendingFsm("s", b"d")}, 1000 + i) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, Exception) for r in results)
        async with sessions() as session:  # nothing half-written
            assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0
    finally:
        await engine.dispose()


async def test_write_jobs_share_the_batch_and_a_failing_one_fails_alone(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    group = GroupCommitter(batch_writer(engine, sessions))
    locale_of = {b"a" * 32: "vi", b"b" * 32: "en"}

    def broken(session: Session) -> None:
        ensure_reporter(session, key_hash=b"c" * 32, locale="vi")
        raise ValueError("a job that breaks after writing")

    try:
        # Queued together, so they share one batch; the broken job must not take the others down.
        results = await asyncio.gather(
            group.commit(
                {"ka": PendingFsm("s", b"1")}, 2001, partial(ensure_reporter, key_hash=b"a" * 32, locale="vi")
            ),
            group.commit({"kc": PendingFsm("s", b"3")}, 2003, broken),
            group.commit(
                {"kb": PendingFsm("s", b"2")}, 2002, partial(ensure_reporter, key_hash=b"b" * 32, locale="en")
            ),
            group.commit({"kd": PendingFsm("s", b"4")}, 2004),
            return_exceptions=True,
        )
        assert isinstance(results[1], ValueError)
        assert results[3] is None
        made = [results[0], results[2]]
        assert all(isinstance(r, ReporterRef) for r in made)
        assert {r.key_hash: r.locale for r in made if isinstance(r, ReporterRef)} == locale_of
        async with sessions() as session:
            stored = {row.key_hash: row.locale for row in (await session.scalars(select(Reporter))).all()}
            assert stored == locale_of  # the broken job's reporter was rolled back with it
            updates = set((await session.scalars(select(ProcessedUpdate.update_id))).all())
            assert updates == {2001, 2002, 2004}  # and its update was not recorded
            assert await load_fsm(session, key_hash="kc") == (None, None)
            assert await load_fsm(session, key_hash="kb") == ("s", b"2")
    finally:
        await engine.dispose()


async def test_the_writer_tells_the_waiters_once_their_batch_is_durable(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    writer = batch_writer(engine, sessions)
    told: list[tuple[list[object], int | None]] = []
    sqlite_file = make_url(database_url).database if is_sqlite(database_url) else None

    def durable(results: list[object]) -> None:
        # Told before `write` returns, and only once another connection can already see the batch.
        seen = None
        if sqlite_file is not None:
            with contextlib.closing(sqlite3.connect(sqlite_file)) as other:
                seen = other.execute("SELECT count(*) FROM processed_updates").fetchone()[0]
        told.append((results, seen))

    def answer(session: Session) -> int:
        return 42

    try:
        results = await writer.write({"k": ("s", b"d")}, [7001, 7002], [answer], durable)
        assert results == [42]
        assert told == [([42], 2 if sqlite_file is not None else None)]
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 2
    finally:
        await engine.dispose()
