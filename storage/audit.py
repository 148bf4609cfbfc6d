"""The audit trail: every read, change, reply, export and login of the officer API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent


async def record_audit(
    session: AsyncSession,
    *,
    officer_id: int | None,
    action: str,
    tip_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit event (flushed with the caller's transaction)."""
    session.add(AuditEvent(officer_id=officer_id, action=action, tip_id=tip_id, detail=detail or {}))
    await session.flush()


async def list_audit(
    session: AsyncSession,
    *,
    officer_id: int | None = None,
    action: str | None = None,
    tip_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[AuditEvent], int]:
    """Audit events, newest first, with the total count for paging."""
    stmt = select(AuditEvent)
    if officer_id is not None:
        stmt = stmt.where(AuditEvent.officer_id == officer_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if tip_id is not None:
        stmt = stmt.where(AuditEvent.tip_id == tip_id)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = (await session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit).offset(offset))).all()
    return rows, total


async def tip_audit_trail(session: AsyncSession, *, tip_id: int) -> Sequence[AuditEvent]:
    """Everything that happened to one tip, oldest first."""
    return (await session.scalars(select(AuditEvent).where(AuditEvent.tip_id == tip_id).order_by(AuditEvent.id))).all()
