"""Leader leases: a named row with a holder and an expiry, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_for
from storage.models import Lease

WORKER_LEASE = "worker"  # the scheduler, the campaign sender and urgent alerts


async def acquire_lease(session: AsyncSession, *, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; True if `holder` holds it until now + ttl.

    One upsert: it inserts a missing row, or overwrites the row when it is ours or has expired. Both
    databases run it atomically for the row, so two contenders can never both win.
    """
    table = Lease.__table__
    stmt = insert_for(session, table).values(name=name, holder=holder, expires_at=now + ttl)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=or_(table.c.holder == holder, table.c.expires_at < now),
    )
    await session.execute(stmt)
    current = await session.scalar(select(Lease.holder).where(Lease.name == name))
    return current == holder


async def release_lease(session: AsyncSession, *, name: str, holder: str) -> None:
    """Give the lease back (a clean shutdown lets the next process take over at once)."""
    await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


async def lease_holder(session: AsyncSession, *, name: str, now: datetime) -> str | None:
    """Who holds the lease now, or None when it is free or expired."""
    row = (await session.execute(select(Lease.holder, Lease.expires_at).where(Lease.name == name))).first()
    if row is None or row.expires_at <= now:
        return None
    return str(row.holder)


def holds_lease(*, name: str, holder: str, now: datetime) -> ColumnElement[bool]:
    """SQL condition: `holder` still holds a live lease (a fencing check inside other statements)."""
    return exists().where(and_(Lease.name == name, Lease.holder == holder, Lease.expires_at > now))
