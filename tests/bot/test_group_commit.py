"""Group commit: many updates' FSM changes share one transaction, in order, and failures reach every waiter."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.fsm_memory import PendingFsm
from bot.unit import GroupCommitter
from storage.batch_writer import batch_writer
from storage.db import create_engine, create_session_factory, is_sqlite
from storage.fsm import load_fsm
from storage.models import ProcessedUpdate


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
