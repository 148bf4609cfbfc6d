"""Reading the tip count rollups (migration 0005): which part of a statistics request they can answer.

The triggers keep counts per local year and month. A request is answered from them for the whole local
months inside its date range (whole years where the output allows), and from the tips table for the
partial months at either end; a filter or scope the rollup cannot express falls back to the raw queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_

from storage.models import Tip, TipCommuneCount, TipCount, TipPeriodCount
from storage.scope import Scope
from storage.tip_filters import TipFilter

LOCAL_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh: UTC+7, no daylight saving since 1975
YEAR, MONTH = "year", "month"
# Filter fields each table can apply (everything else in TipFilter means the raw queries).
COUNT_FIELDS = frozenset({"status", "category", "group", "province_code", "outcome"})
COMMUNE_FIELDS = frozenset({"province_code", "ward_code"})
PERIOD_FIELDS = frozenset({"category", "group", "province_code"})
# Fields filter_clauses applies when not None (the others when non-empty); the dates are split, not filtered.
_OPTIONAL_FIELDS = ("assignee_id", "unassigned", "urgent", "overdue")
_DATE_FIELDS = ("created_from", "created_to")


def _month_start(moment: datetime) -> datetime:
    """Midnight on the first day of the moment's month."""
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(moment: datetime) -> datetime:
    """The same day and time one calendar month later (only called with first days)."""
    return (
        moment.replace(year=moment.year + 1, month=1) if moment.month == 12 else moment.replace(month=moment.month + 1)
    )


@dataclass(frozen=True, slots=True)
class Window:
    """A date range split into whole local months [first_month, end_month) and raw edges (UTC ranges)."""

    first_month: date | None  # None: open (everything before end_month)
    end_month: date | None  # None: open
    edges: tuple[tuple[datetime | None, datetime | None], ...]

    def rollup_clause(
        self, grain_col: ColumnElement[str], start_col: ColumnElement[date], *, years: bool
    ) -> ColumnElement[bool]:
        """Rollup rows of the whole months, taken as whole years where they cover one (if `years`)."""
        first, end = self.first_month, self.end_month
        if not years:
            return and_(grain_col == MONTH, *_bounds(start_col, first, end))
        first_year = first if first is None or (first.month == 1) else date(first.year + 1, 1, 1)
        end_year = end if end is None else date(end.year, 1, 1)
        if first_year is not None and end_year is not None and first_year >= end_year:
            return and_(grain_col == MONTH, *_bounds(start_col, first, end))
        parts = [and_(grain_col == YEAR, *_bounds(start_col, first_year, end_year))]
        if first is not None and first_year is not None and first < first_year:
            parts.append(and_(grain_col == MONTH, *_bounds(start_col, first, first_year)))
        if end is not None and end_year is not None and end_year < end:
            parts.append(and_(grain_col == MONTH, *_bounds(start_col, end_year, end)))
        return or_(*parts)

    def edge_clause(self) -> ColumnElement[bool] | None:
        """Tips of the partial months at the ends (None when the range is made of whole months)."""
        if not self.edges:
            return None
        parts = [and_(*_bounds(Tip.created_at, low, high)) for low, high in self.edges]  # type: ignore[arg-type]
        return or_(*parts)


def _bounds(col: ColumnElement[date], low: date | None, high: date | None) -> list[ColumnElement[bool]]:
    """low <= col < high, for the bounds that are given."""
    clauses: list[ColumnElement[bool]] = []
    if low is not None:
        clauses.append(col >= low)
    if high is not None:
        clauses.append(col < high)
    return clauses


def split_range(created_from: datetime | None, created_to: datetime | None) -> Window | None:
    """Whole local months inside [from, to) plus the UTC edges; None when it holds no whole month."""
    try:
        first: datetime | None = None
        end: datetime | None = None
        edges: list[tuple[datetime | None, datetime | None]] = []
        if created_from is not None:
            local = created_from.astimezone(UTC).replace(tzinfo=None) + LOCAL_OFFSET
            first = local if local == _month_start(local) else _next_month(_month_start(local))
            if local < first:
                edges.append((created_from, (first - LOCAL_OFFSET).replace(tzinfo=UTC)))
        if created_to is not None:
            local = created_to.astimezone(UTC).replace(tzinfo=None) + LOCAL_OFFSET
            end = _month_start(local)
            if end < local:
                edges.append(((end - LOCAL_OFFSET).replace(tzinfo=UTC), created_to))
    except (OverflowError, ValueError):
        return None  # dates at the ends of the calendar: not worth a rollup
    if first is not None and end is not None and first >= end:
        return None
    return Window(
        first_month=first.date() if first is not None else None,
        end_month=end.date() if end is not None else None,
        edges=tuple(edges),
    )


def _uses_only(tip_filter: TipFilter, allowed: frozenset[str]) -> bool:
    """True if every filter field outside `allowed` is unset (mirrors the tests in filter_clauses)."""
    for spec in fields(tip_filter):
        name = spec.name
        if name in allowed or name in _DATE_FIELDS:
            continue
        value = getattr(tip_filter, name)
        if (value is not None) if name in _OPTIONAL_FIELDS else bool(value):
            return False
    return True


def count_clauses(
    tip_filter: TipFilter, scope: Scope, table: type[TipCount] | type[TipPeriodCount] = TipCount
) -> list[ColumnElement[bool]] | None:
    """The scope and filter on tip_counts (or tip_period_counts), or None when it cannot express them."""
    if not scope.nationwide and scope.ward_codes:
        return None  # no commune column: commune jurisdictions (small) use the raw queries
    if not _uses_only(tip_filter, COUNT_FIELDS if table is TipCount else PERIOD_FIELDS):
        return None
    f = tip_filter
    clauses = [
        # Without commune codes the scope's area rule reads only the province column.
        scope.area_clause(table.province_code, table.province_code),  # type: ignore[arg-type]
        scope.category_clause(table.category),  # type: ignore[arg-type]
    ]
    if f.category:
        clauses.append(table.category.in_([c.value for c in f.category]))
    if f.group:
        clauses.append(table.category_group.in_([g.value for g in f.group]))
    if f.province_code:
        clauses.append(table.province_code.in_(list(f.province_code)))
    if f.status:
        clauses.append(TipCount.status.in_([s.value for s in f.status]))
    if f.outcome:
        clauses.append(TipCount.outcome.in_([o.value for o in f.outcome]))
    return clauses


def commune_clauses(tip_filter: TipFilter, scope: Scope) -> list[ColumnElement[bool]] | None:
    """The scope and filter on tip_commune_counts, or None when that table cannot express them."""
    if not _uses_only(tip_filter, COMMUNE_FIELDS):
        return None
    # Code 0 stands for "no commune" in the rollup; as a real filter it would match those rows instead of none.
    if 0 in scope.ward_codes or 0 in tip_filter.ward_code:
        return None
    clauses = [scope.area_clause(TipCommuneCount.province_code, TipCommuneCount.ward_code)]  # type: ignore[arg-type]
    if not scope.can_view_restricted:
        clauses.append(TipCommuneCount.restricted.is_(False))
    if tip_filter.province_code:
        clauses.append(TipCommuneCount.province_code.in_(list(tip_filter.province_code)))
    if tip_filter.ward_code:
        clauses.append(TipCommuneCount.ward_code.in_(list(tip_filter.ward_code)))
    return clauses


def edge_where(where: Sequence[ColumnElement[bool]], window: Window) -> list[ColumnElement[bool]] | None:
    """The raw conditions restricted to the window's edges, or None when there are none."""
    edge = window.edge_clause()
    return None if edge is None else [*where, edge]
