"""Processed Telegram update ids: the record that makes redelivery harmless."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Executable, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import Write, dialect_insert, insert_for
from storage.models import ProcessedUpdate


async def is_update_processed(session: AsyncSession, *, update_id: int) -> bool:
    """True if this update id was already handled."""
    found = await session.scalar(select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == update_id))
    return found is not None


async def highest_update_id(session: AsyncSession) -> int:
    """The highest update id recorded so far (0 when none)."""
    return int(await session.scalar(select(func.max(ProcessedUpdate.update_id))) or 0)


async def record_update(session: AsyncSession, *, update_id: int) -> bool:
    """Record the update id; False if another worker recorded it first."""
    stmt = insert_for(session, ProcessedUpdate).values(update_id=update_id).on_conflict_do_nothing()
    result = await session.execute(stmt.returning(ProcessedUpdate.update_id))
    return result.first() is not None


async def prune_updates(session: AsyncSession, *, before: datetime) -> int:
    """Forget update ids older than `before` (Telegram never redelivers that late)."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.received_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


@cache
def _record_update(dialect: str) -> Executable:
    """Record one update id unless it is already recorded; built once per dialect (cached compiled form)."""
    return dialect_insert(dialect, ProcessedUpdate.__table__).on_conflict_do_nothing()  # type: ignore[no-any-return]


def record_updates_write(update_ids: Sequence[int], dialect: str) -> Write | None:
    """One statement and its parameter sets recording many update ids (executemany), or None."""
    if not update_ids:
        return None
    return _record_update(dialect), [{"update_id": update_id} for update_id in update_ids]


async def record_updates(session: AsyncSession, *, update_ids: list[int]) -> None:
    """Record many update ids in one executemany (already recorded ones are left alone)."""
    write = record_updates_write(update_ids, session.get_bind().dialect.name)
    if write is not None:
        await session.execute(*write)
