"""Pseudonymous reporters: found by keyed hash, known to officers only by alias."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.dialect import insert_for
from storage.models import Reporter, utcnow
from storage.privacy import RECEIPT_ALPHABET

REPORTERS = cast(Table, Reporter.__table__)  # table statements for the write jobs (no ORM bookkeeping)


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


async def get_or_create_reporter(session: AsyncSession, *, key_hash: bytes, locale: str) -> ReporterRef:
    """Find the reporter or create one; safe when two updates race to create it."""
    return await session.run_sync(ensure_reporter, key_hash=key_hash, locale=locale)


def ensure_reporter(session: Session, *, key_hash: bytes, locale: str) -> ReporterRef:
    """Find the reporter or create one (synchronous, for a group commit's write job or `run_sync`).

    One INSERT .. ON CONFLICT DO NOTHING per attempt (no savepoint): on SQLite the write lock is held from
    the first write to the commit, so every statement less is time other writers do not wait. Table
    statements, not ORM ones: the caller needs three columns, not a tracked object.
    """
    columns = (REPORTERS.c.id, REPORTERS.c.key_hash, REPORTERS.c.locale)
    by_hash = select(*columns).where(REPORTERS.c.key_hash == key_hash)
    row = session.execute(by_hash).first()
    for _attempt in range(5):
        if row is not None:
            break
        values = {"key_hash": key_hash, "alias": new_alias(), "locale": locale, "created_at": utcnow()}
        insert = insert_for(session, REPORTERS).values(**values).on_conflict_do_nothing().returning(*columns)
        # None: a conflict, with a racing update that created this reporter or (rarely) a taken alias.
        row = session.execute(insert).first() or session.execute(by_hash).first()
    if row is None:
        raise RuntimeError("could not allocate a reporter alias")
    return ReporterRef(id=row.id, key_hash=row.key_hash, locale=row.locale)


async def set_reporter_locale(session: AsyncSession, *, reporter_id: int, locale: str) -> None:
    """Remember the language the citizen chose."""
    await session.execute(update(Reporter).where(Reporter.id == reporter_id).values(locale=locale))


def set_reporter_chat(session: Session, *, reporter_id: int, chat_enc: bytes) -> None:
    """Store the sealed chat id used to deliver follow-up messages (synchronous, part of a tip's write)."""
    session.execute(update(REPORTERS).where(REPORTERS.c.id == reporter_id).values(chat_enc=chat_enc))
