"""What one intake process remembers: handled update ids, recent conversations and reporters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dedupe import DatabaseClaims
from bot.recent import RecentCache
from storage.db import create_engine, create_session_factory
from storage.updates import record_updates


@pytest_asyncio.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test database."""
    engine = create_engine(database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _record(sessions: async_sessionmaker[AsyncSession], *update_ids: int) -> None:
    async with sessions() as session:
        await record_updates(session, update_ids=list(update_ids))
        await session.commit()


async def test_claims_use_memory_for_new_updates_and_the_table_for_older_ones(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _record(sessions, 10, 11)  # handled by an earlier process
    claims = DatabaseClaims(remember=2)
    async with sessions() as session:
        assert not await claims.claim(10, session)  # below the floor: the table knows it
        assert await claims.claim(12, session)  # above it: new
        assert not await claims.claim(12, session)  # a second copy while the first is handled
        await claims.release(12, handled=True)
        assert not await claims.claim(12, session)  # remembered
        assert await claims.claim(13, session)
        await claims.release(13, handled=False)  # failed: a redelivery must be handled
        assert await claims.claim(13, session)
        await claims.release(13, handled=True)
        await _record(sessions, 12, 13)  # what the unit's commit wrote
        assert await claims.claim(14, session)
        await claims.release(14, handled=True)  # memory holds 13 and 14 now; 12 was forgotten
        assert not await claims.claim(12, session)  # so the table answers for it
        assert not await claims.claim(14, session)


async def test_a_restarted_process_still_skips_updates_handled_before(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = DatabaseClaims()
    async with sessions() as session:
        assert await first.claim(500, session)
    await first.release(500, handled=True)
    await _record(sessions, 500)
    restarted = DatabaseClaims()
    async with sessions() as session:
        assert not await restarted.claim(500, session)
        assert await restarted.claim(501, session)


def test_recent_cache_expires_and_stays_bounded() -> None:
    now = [0.0]
    cache: RecentCache[str, int] = RecentCache(size=2, ttl_seconds=10.0, clock=lambda: now[0])
    cache.store({"a": 1, "b": 2})
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.store({"c": 3})
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    now[0] = 10.5
    assert cache.get("a") is None  # too old: the caller reads the table again
    cache.forget("c")
    assert cache.get("c") is None and len(cache) == 0
