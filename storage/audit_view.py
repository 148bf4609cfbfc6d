"""Reading the audit trail inside an admin's jurisdiction (storage.audit writes it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEvent, Officer, Tip
from storage.officers import list_officers, ward_provinces
from storage.scope import Scope


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of the audit list; empty fields do not filter."""

    officer_id: int | None = None
    action: str | None = None
    tip_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One event with the names an admin needs to read it."""

    id: int
    at: datetime
    officer_id: int | None
    officer_username: str | None
    action: str
    tip_id: int | None
    tip_ref: str | None
    detail: dict[str, Any]


async def officers_within(session: AsyncSession, scope: Scope) -> list[int]:
    """Ids of officers whose whole jurisdiction lies inside `scope`."""
    officers = list(await list_officers(session))
    wards = await ward_provinces(session, {w.ward_code for o in officers for w in o.wards})
    return [o.id for o in officers if scope.contains(Scope.of(o), wards)]


async def visible_clause(session: AsyncSession, scope: Scope) -> ColumnElement[bool]:
    """Events on tips inside the scope, and tip-less events by officers inside the jurisdiction.

    An event about a tip follows the tip (so a restricted or foreign tip never shows, whoever acted);
    an event without a tip (login, officer management, export) follows the officer who acted.
    """
    tip_events = and_(AuditEvent.tip_id.is_not(None), AuditEvent.tip_id.in_(select(Tip.id).where(scope.tip_clause())))
    if scope.nationwide:
        by_officer: ColumnElement[bool] = true()
        if scope.can_view_restricted:
            return true()
    else:
        ids = await officers_within(session, scope)
        by_officer = AuditEvent.officer_id.in_(ids) if ids else false()
    return or_(tip_events, and_(AuditEvent.tip_id.is_(None), by_officer))


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.officer_id is not None:
        conditions.append(AuditEvent.officer_id == query.officer_id)
    if query.action is not None:
        conditions.append(AuditEvent.action == query.action)
    if query.tip_id is not None:
        conditions.append(AuditEvent.tip_id == query.tip_id)
    if query.since is not None:
        conditions.append(AuditEvent.at >= query.since)
    if query.until is not None:
        conditions.append(AuditEvent.at < query.until)
    return conditions


async def list_audit_in_scope(
    session: AsyncSession, *, scope: Scope, query: AuditQuery, limit: int, offset: int
) -> tuple[list[AuditItem], int]:
    """Audit events the admin may see, newest first, with the total for paging."""
    where = and_(await visible_clause(session, scope), *_conditions(query))
    total = int(await session.scalar(select(func.count()).select_from(AuditEvent).where(where)) or 0)
    stmt = (
        select(AuditEvent, Officer.username, Tip.ref)
        .outerjoin(Officer, Officer.id == AuditEvent.officer_id)
        .outerjoin(Tip, Tip.id == AuditEvent.tip_id)
        .where(where)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [
        AuditItem(e.id, e.at, e.officer_id, username, e.action, e.tip_id, ref, dict(e.detail or {}))
        for e, username, ref in (await session.execute(stmt)).all()
    ]
    return items, total
