"""Sliding-window attempt counting in the database (shared by every worker)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import TooManyAttempts
from storage.models import ThrottleHit, utcnow


async def ensure_allowed(session: AsyncSession, *, bucket: str, key_hash: str, limit: int, window: timedelta) -> None:
    """Raise TooManyAttempts when `limit` attempts already fall inside the window."""
    now = utcnow()
    await session.execute(
        delete(ThrottleHit).where(
            ThrottleHit.bucket == bucket, ThrottleHit.key_hash == key_hash, ThrottleHit.at < now - window
        )
    )
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(ThrottleHit.at)).where(
                ThrottleHit.bucket == bucket, ThrottleHit.key_hash == key_hash
            )
        )
    ).one()
    if count >= limit:
        raise TooManyAttempts(max(1, int((oldest + window - now).total_seconds()) + 1))


async def record_attempt(session: AsyncSession, *, bucket: str, key_hash: str) -> None:
    """Count one (failed) attempt."""
    session.add(ThrottleHit(bucket=bucket, key_hash=key_hash, at=utcnow()))
    await session.flush()
