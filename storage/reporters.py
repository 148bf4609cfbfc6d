"""Pseudonymous reporters: found by keyed hash, known to officers only by alias."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_for
from storage.models import Reporter, utcnow
from storage.privacy import RECEIPT_ALPHABET


@dataclass(frozen=True, slots=True)
class ReporterRef:
    """What handling one update needs to know about its reporter (no ORM object travels between updates)."""

    id: int
    key_hash: bytes
    locale: str

    @classmethod
    def of(cls, reporter: Reporter) -> ReporterRef:
        """The reference of a loaded reporter row."""
        return cls(id=reporter.id, key_hash=reporter.key_hash, locale=reporter.locale)


def new_alias() -> str:
    """A random alias such as NG-7K3M9Q ("nguồn", source) for officers to tell reporters apart."""
    return "NG-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(6))


async def find_reporter(session: AsyncSession, *, key_hash: bytes) -> Reporter | None:
    """The reporter with this keyed hash, or None."""
    return await session.scalar(select(Reporter).where(Reporter.key_hash == key_hash))


async def get_or_create_reporter(session: AsyncSession, *, key_hash: bytes, locale: str) -> Reporter:
    """Find the reporter or create one; safe when two updates race to create it.

    One INSERT .. ON CONFLICT DO NOTHING per attempt (no savepoint): on SQLite the write lock is held from
    the first write to the commit, so every statement less is time other writers do not wait.
    """
    reporter = await find_reporter(session, key_hash=key_hash)
    if reporter is not None:
        return reporter
    for _attempt in range(5):
        values = {"key_hash": key_hash, "alias": new_alias(), "locale": locale, "created_at": utcnow()}
        stmt = insert_for(session, Reporter).values(**values).on_conflict_do_nothing().returning(Reporter)
        created: Reporter | None = await session.scalar(stmt)
        if created is not None:
            return created
        # A conflict: a racing update created this reporter, or (rarely) the random alias is taken.
        existing = await find_reporter(session, key_hash=key_hash)
        if existing is not None:
            return existing
    raise RuntimeError("could not allocate a reporter alias")


async def set_reporter_locale(session: AsyncSession, *, reporter_id: int, locale: str) -> None:
    """Remember the language the citizen chose."""
    await session.execute(update(Reporter).where(Reporter.id == reporter_id).values(locale=locale))


async def set_reporter_chat(session: AsyncSession, *, reporter_id: int, chat_enc: bytes) -> None:
    """Store the sealed chat id used to deliver follow-up messages."""
    await session.execute(update(Reporter).where(Reporter.id == reporter_id).values(chat_enc=chat_enc))
