"""Tip filters shared by the list, the CSV export and the statistics: always combined with the scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_

from storage.domain import Category, CategoryGroup, Outcome, Priority, TipStatus
from storage.models import Tip
from storage.scope import Scope

# Statuses in which a tip still waits for an officer's first action.
UNACKNOWLEDGED = (TipStatus.NEW,)


@dataclass(frozen=True, slots=True)
class TipFilter:
    """What an officer asked to see; empty fields do not filter."""

    status: Sequence[TipStatus] = field(default_factory=tuple)
    category: Sequence[Category] = field(default_factory=tuple)
    group: Sequence[CategoryGroup] = field(default_factory=tuple)
    province_code: Sequence[int] = field(default_factory=tuple)
    ward_code: Sequence[int] = field(default_factory=tuple)
    priority: Sequence[Priority] = field(default_factory=tuple)
    outcome: Sequence[Outcome] = field(default_factory=tuple)
    assignee_id: int | None = None
    unassigned: bool | None = None
    urgent: bool | None = None
    overdue: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None


def overdue_clause(now: datetime, ack_within: timedelta) -> ColumnElement[bool]:
    """Tips nobody acknowledged within the configured time."""
    return and_(Tip.status.in_(UNACKNOWLEDGED), Tip.first_response_at.is_(None), Tip.created_at < now - ack_within)


def is_overdue(tip: Tip, now: datetime, ack_within: timedelta) -> bool:
    """Python twin of `overdue_clause` for one loaded tip."""
    return tip.status in UNACKNOWLEDGED and tip.first_response_at is None and tip.created_at < now - ack_within


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so a search for '50%' means the characters."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_clauses(
    tip_filter: TipFilter, scope: Scope, *, now: datetime, ack_within: timedelta
) -> list[ColumnElement[bool]]:
    """SQL conditions for the filter, the scope first (it is never optional)."""
    f = tip_filter
    clauses: list[ColumnElement[bool]] = [scope.tip_clause()]
    if f.status:
        clauses.append(Tip.status.in_(list(f.status)))
    if f.category:
        clauses.append(Tip.category.in_(list(f.category)))
    if f.group:
        clauses.append(Tip.category_group.in_(list(f.group)))
    if f.province_code:
        clauses.append(Tip.province_code.in_(list(f.province_code)))
    if f.ward_code:
        clauses.append(Tip.ward_code.in_(list(f.ward_code)))
    if f.priority:
        clauses.append(Tip.priority.in_(list(f.priority)))
    if f.outcome:
        clauses.append(Tip.outcome.in_(list(f.outcome)))
    if f.assignee_id is not None:
        clauses.append(Tip.assignee_id == f.assignee_id)
    if f.unassigned is not None:
        clauses.append(Tip.assignee_id.is_(None) if f.unassigned else Tip.assignee_id.is_not(None))
    if f.urgent is not None:
        clauses.append(Tip.urgent.is_(f.urgent))
    if f.overdue is not None:
        overdue = overdue_clause(now, ack_within)
        clauses.append(overdue if f.overdue else ~overdue)
    if f.created_from is not None:
        clauses.append(Tip.created_at >= f.created_from)
    if f.created_to is not None:
        clauses.append(Tip.created_at < f.created_to)
    if f.text:
        pattern = f"%{escape_like(f.text.strip().lower())}%"
        clauses.append(or_(func.lower(Tip.description).like(pattern, escape="\\"), Tip.ref == f.text.strip().upper()))
    return clauses
