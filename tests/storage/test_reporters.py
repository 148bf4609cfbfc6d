"""Reporters by keyed hash: found once created, and a taken random alias is retried, a bounded number of times."""

from __future__ import annotations

import pytest

import storage.reporters as reporters
from storage.db import create_engine, create_session_factory
from storage.reporters import get_or_create_reporter


async def test_a_taken_alias_is_retried_and_the_same_hash_finds_the_same_reporter(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            first = await get_or_create_reporter(session, key_hash=b"a" * 32, locale="vi")
            await session.commit()
        aliases = iter(["NG-TAKEN1", "NG-TAKEN1", "NG-FRESH1"])
        monkeypatch.setattr(reporters, "new_alias", lambda: next(aliases))
        async with sessions() as session:
            await get_or_create_reporter(session, key_hash=b"b" * 32, locale="en")  # takes NG-TAKEN1
            second = await get_or_create_reporter(session, key_hash=b"c" * 32, locale="vi")  # conflict, then fresh
            again = await get_or_create_reporter(session, key_hash=b"a" * 32, locale="en")
            await session.commit()
        assert (second.key_hash, second.locale) == (b"c" * 32, "vi")
        assert again == first  # found, not created again, and its language is kept
        monkeypatch.setattr(reporters, "new_alias", lambda: "NG-TAKEN1")
        async with sessions() as session:
            with pytest.raises(RuntimeError, match="alias"):
                await get_or_create_reporter(session, key_hash=b"d" * 32, locale="vi")
    finally:
        await engine.dispose()
