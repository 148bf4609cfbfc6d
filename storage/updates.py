"""Processed Telegram update ids: the record that makes redelivery harmless."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_for
from storage.models import ProcessedUpdate


async def is_update_processed(session: AsyncSession, *, update_id: int) -> bool:
    """True if this update id was already handled."""
    found = await session.scalar(select(ProcessedUpdate.update_id).where(ProcessedUpdate.update_id == update_id))
    return found is not None


async def record_update(session: AsyncSession, *, update_id: int) -> bool:
    """Record the update id; False if another worker recorded it first."""
    stmt = insert_for(session, ProcessedUpdate).values(update_id=update_id).on_conflict_do_nothing()
    result = await session.execute(stmt.returning(ProcessedUpdate.update_id))
    return result.first() is not None


async def prune_updates(session: AsyncSession, *, before: datetime) -> int:
    """Forget update ids older than `before` (Telegram never redelivers that late)."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.received_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


async def record_updates(session: AsyncSession, *, update_ids: list[int]) -> None:
    """Record many update ids in one statement (already recorded ones are left alone)."""
    if update_ids:
        rows = [{"update_id": update_id} for update_id in update_ids]
        await session.execute(insert_for(session, ProcessedUpdate).values(rows).on_conflict_do_nothing())
