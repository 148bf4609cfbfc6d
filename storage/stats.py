"""Tip statistics inside an officer's scope: counts by group, area, status, outcome and period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.domain import CATEGORIES_BY_GROUP, Category, CategoryGroup, Outcome, TipStatus
from storage.models import Province, Tip, TipCommuneCount, TipCount, TipPeriodCount, Ward
from storage.scope import Scope
from storage.tip_counts import Window, commune_clauses, count_clauses, edge_where, split_range
from storage.tip_filters import TipFilter, filter_clauses

# Periods are in Asia/Ho_Chi_Minh: UTC+7 without daylight saving since 1975, so a fixed shift is exact.
LOCAL_OFFSET_HOURS = 7
# From this many responded tips on, PostgreSQL reads the median off ix_tips_first_response in order (about half
# of that index, ~60 ms per million tips, whatever the filter) rather than sorting the matching values.
ORDERED_MEDIAN_FROM = 20_000


class Period(StrEnum):
    """How the time series is bucketed (in Vietnam time)."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


_SQLITE_FORMATS = {Period.DAY: "%Y-%m-%d", Period.MONTH: "%Y-%m", Period.YEAR: "%Y"}
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class AreaCount:
    """How many tips one province or commune has."""

    code: int
    name: str
    count: int
    province_code: int | None = None


@dataclass(frozen=True, slots=True)
class TipStats:
    """Everything the statistics endpoint shows."""

    total: int
    by_group: dict[CategoryGroup, int]
    by_category: dict[Category, int]
    by_status: dict[TipStatus, int]
    by_outcome: dict[Outcome, int]
    by_province: list[AreaCount]
    by_commune: list[AreaCount]
    no_commune: int
    period: Period
    by_period: list[tuple[str, int]]
    closed: int
    valuable: int
    responded: int
    median_first_response_seconds: float | None
    restricted_included: bool = field(default=False)

    @property
    def valuable_of_closed(self) -> float | None:
        """Valuable tips as a share of closed tips."""
        return self.valuable / self.closed if self.closed else None

    @property
    def valuable_of_all(self) -> float | None:
        """Valuable tips as a share of all tips."""
        return self.valuable / self.total if self.total else None


def _label(day: date, period: Period) -> str:
    """The label of the period a local date falls in."""
    return {Period.DAY: day.isoformat(), Period.MONTH: day.strftime("%Y-%m"), Period.YEAR: f"{day.year:04d}"}[period]


async def _tune_for_aggregates(session: AsyncSession) -> None:
    """PostgreSQL: JIT compilation costs more than it saves on these short aggregates."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))


BreakdownRow = tuple[str, str, str | None, int, int]  # category, status, outcome, province, tips


async def _breakdown(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> list[BreakdownRow]:
    """One pass: counts per (category, status, outcome, province)."""
    stmt = (
        select(Tip.category, Tip.status, Tip.outcome, Tip.province_code, func.count())
        .where(and_(*where))
        .group_by(Tip.category, Tip.status, Tip.outcome, Tip.province_code)
    )
    return [(str(c), str(s), o, int(p), int(n)) for c, s, o, p, n in await _rows(session, stmt)]


async def _breakdown_counts(
    session: AsyncSession, where: Sequence[ColumnElement[bool]]
) -> tuple[list[BreakdownRow], int]:
    """The same from tip_counts, and how many of those tips got a first response."""
    n = func.sum(TipCount.n)
    stmt = (
        select(
            TipCount.category,
            TipCount.status,
            TipCount.outcome,
            TipCount.province_code,
            n,
            func.sum(TipCount.responded),
        )
        .where(and_(*where))
        .group_by(TipCount.category, TipCount.status, TipCount.outcome, TipCount.province_code)
        .having(n > 0)  # status changes leave zero rows behind; the raw query never shows those keys
    )
    rows: list[BreakdownRow] = []
    responded = 0
    for category, status, outcome, province, count, answered in await _rows(session, stmt):
        rows.append((str(category), str(status), outcome or None, int(province), int(count)))
        responded += int(answered)
    return rows, responded


# commune code (None: no commune) → (name, province code, tips); names come with the counts in one statement.
CommuneCounts = dict[int | None, tuple[str, int, int]]


async def _rows(session: AsyncSession, stmt: Select[*tuple[Any, ...]]) -> list[Any]:
    """Plain rows through the session's connection (no ORM result machinery for thousands of aggregate rows)."""
    return list((await (await session.connection()).execute(stmt)).all())


async def _named_communes(session: AsyncSession, counts: Subquery) -> CommuneCounts:
    """Attach commune names to a (code, n) subquery."""
    stmt = (
        select(counts.c.code, Ward.name, Ward.province_code, counts.c.n)
        .select_from(counts)
        .outerjoin(Ward, Ward.code == counts.c.code)
    )
    return {
        (int(code) if code else None): (str(name), int(province or 0), int(n))
        for code, name, province, n in await _rows(session, stmt)
    }


async def _communes(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> CommuneCounts:
    """Counts per commune (None for tips without a commune)."""
    stmt = select(Tip.ward_code.label("code"), func.count().label("n")).where(and_(*where)).group_by(Tip.ward_code)
    return await _named_communes(session, stmt.subquery())


async def _communes_counted(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> CommuneCounts:
    """The same from tip_commune_counts (code 0 there means no commune)."""
    n = func.sum(TipCommuneCount.n)
    stmt = (
        select(TipCommuneCount.ward_code.label("code"), n.label("n"))
        .where(and_(*where))
        .group_by(TipCommuneCount.ward_code)
        .having(n > 0)
    )
    return await _named_communes(session, stmt.subquery())


def _commune_list(*parts: CommuneCounts) -> tuple[list[AreaCount], int]:
    """Communes of all parts added up, biggest first, and the count of tips without a commune."""
    merged: dict[int | None, tuple[str, int, int]] = {}
    for part in parts:
        for code, (name, province, n) in part.items():
            before = merged.get(code)
            merged[code] = (name, province, n + (before[2] if before else 0))
    ordered = sorted((-n, code, name, province) for code, (name, province, n) in merged.items() if code is not None)
    communes = [AreaCount(code, name, -negative, province) for negative, code, name, province in ordered]
    return communes, merged[None][2] if None in merged else 0


def _fold_periods(rows: Sequence[tuple[date, int]], period: Period, counts: Counter[str]) -> None:
    """Add counts of local days (or first days of months and years) to the labels of their periods."""
    for day, n in rows:
        counts[_label(day, period)] += n


async def _periods(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], period: Period
) -> list[tuple[str, int]]:
    """Counts per local day, month or year, oldest first."""
    if session.get_bind().dialect.name == "postgresql":
        # Group by local day number (plain arithmetic, several times cheaper per row than to_char with a
        # named zone over a million tips), then fold the at most few thousand days into periods here.
        shifted = func.date_part("epoch", Tip.created_at) + LOCAL_OFFSET_HOURS * 3600
        day_number = func.floor(shifted / 86400).label("day")
        stmt = select(day_number, func.count()).where(and_(*where)).group_by(literal_column("day"))
        counts: Counter[str] = Counter()
        _fold_periods(
            [(EPOCH + timedelta(days=int(number)), int(n)) for number, n in (await session.execute(stmt)).all()],
            period,
            counts,
        )
        return sorted(counts.items())
    # SQLite stores UTC text; strftime applies the fixed +7 hours shift. Seconds only: its date functions round
    # to milliseconds, which would move 23:59:59.9995 into the next day.
    moment = func.substr(Tip.created_at, 1, 19)
    label = func.strftime(_SQLITE_FORMATS[period], moment, f"+{LOCAL_OFFSET_HOURS} hours").label("period")
    stmt = select(label, func.count()).where(and_(*where)).group_by(literal_column("period")).order_by(label)
    return [(str(p), int(n)) for p, n in (await session.execute(stmt)).all()]


async def _periods_counted(
    session: AsyncSession,
    table: type[TipCount] | type[TipPeriodCount],
    where: Sequence[ColumnElement[bool]],
    period: Period,
    counts: Counter[str],
) -> None:
    """Add rollup rows (first local day of their year or month) to the period labels."""
    n = func.sum(table.n)
    stmt = select(table.period_start, n).where(and_(*where)).group_by(table.period_start).having(n > 0)
    _fold_periods([(day, int(count)) for day, count in (await session.execute(stmt)).all()], period, counts)


def _response_seconds(session: AsyncSession) -> ColumnElement[float]:
    """Seconds from a tip to its first response (on PostgreSQL exactly ix_tips_first_response's expression)."""
    if session.get_bind().dialect.name == "postgresql":
        # date_part gives float8 (extract gives numeric, which sorts several times slower).
        return func.date_part("epoch", Tip.first_response_at - Tip.created_at)
    return (func.julianday(Tip.first_response_at) - func.julianday(Tip.created_at)) * 86400.0


def _middle(values: Sequence[float]) -> float | None:
    """The median from the one or two middle values, as percentile_cont computes it (lo + 0.5 * (hi - lo))."""
    if not values:
        return None
    low, high = values[0], values[-1]
    return round(low + 0.5 * (high - low), 1)


async def _median_response(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> tuple[int, float | None]:
    """How many tips got a first response, and the median seconds it took."""
    responded = [*where, Tip.first_response_at.is_not(None)]
    seconds = _response_seconds(session)
    if session.get_bind().dialect.name == "postgresql":
        stmt = select(func.count(), func.percentile_cont(0.5).within_group(seconds)).where(and_(*responded))
        n, median = (await session.execute(stmt)).one()
        return int(n), (round(float(median), 1) if median is not None else None)
    # SQLite: no percentile function; sort and read the middle row (or the two middle rows).
    n = int(await session.scalar(select(func.count()).where(and_(*responded))) or 0)
    if n == 0:
        return 0, None
    stmt = select(seconds).where(and_(*responded)).order_by(seconds).limit(2 - n % 2).offset((n - 1) // 2)
    return n, _middle([float(v) for v in (await session.scalars(stmt)).all()])


async def _median_counted(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    counted: Sequence[ColumnElement[bool]],
    edges: Sequence[ColumnElement[bool]] | None,
    estimate: int,
) -> tuple[int, float | None]:
    """The same, with the number of responded tips from tip_counts (+ the raw edges) inside one statement.

    One statement sees one snapshot, so the rank it reads is right even while tips are being written.
    """
    responded = [*where, Tip.first_response_at.is_not(None)]
    n_expr: ColumnElement[int] = func.coalesce(
        select(func.sum(TipCount.responded)).where(and_(*counted)).scalar_subquery(), 0
    )
    if edges is not None:
        edge_count = select(func.count()).select_from(Tip).where(*edges, Tip.first_response_at.is_not(None))
        n_expr = n_expr + edge_count.scalar_subquery()
    total = select(n_expr.label("n")).cte("responded_total")
    seconds = _response_seconds(session).label("seconds")
    middle = (
        select(seconds)
        .where(and_(*responded))
        .order_by(seconds)
        .offset(select((total.c.n - 1) // 2).scalar_subquery())
        .limit(select(2 - total.c.n % 2).scalar_subquery())
        .subquery("middle")
    )
    stmt = select(select(total.c.n).scalar_subquery(), middle.c.seconds).select_from(middle)
    postgres = session.get_bind().dialect.name == "postgresql"
    ordered = postgres and estimate >= ORDERED_MEDIAN_FROM
    if ordered:
        # The planner cannot know the offset is half of a big set; without this it sorts all the values.
        await session.execute(text("SET LOCAL enable_sort = off"))
    rows = (await session.execute(stmt)).all()
    if ordered:  # (after a failure the rollback undoes the SET LOCAL anyway)
        await session.execute(text("SET LOCAL enable_sort = on"))
    if not rows:
        return 0, None
    return int(rows[0][0]), _middle([float(v) for _n, v in rows])


async def _province_names(session: AsyncSession, codes: set[int]) -> dict[int, str]:
    """Names of the given provinces."""
    if not codes:
        return {}
    rows = await session.execute(select(Province.code, Province.name).where(Province.code.in_(sorted(codes))))
    return {int(c): str(n) for c, n in rows.all()}


async def tip_stats(
    session: AsyncSession,
    *,
    tip_filter: TipFilter,
    scope: Scope,
    now: datetime,
    ack_within: timedelta,
    period: Period = Period.MONTH,
    use_counts: bool = True,
) -> TipStats:
    """Statistics of the tips the filter selects inside the scope (out-of-scope tips never count).

    `use_counts=False` reads only the tips table (the reference the rollup is tested against).
    """
    await _tune_for_aggregates(session)
    where = filter_clauses(tip_filter, scope, now=now, ack_within=ack_within)
    window = split_range(tip_filter.created_from, tip_filter.created_to) if use_counts else None
    counted = count_clauses(tip_filter, scope) if window is not None else None
    communes_counted = commune_clauses(tip_filter, scope) if window is not None else None
    edges = edge_where(where, window) if window is not None else None

    rows: list[BreakdownRow]
    responded_estimate = 0
    if window is not None and counted is not None:
        in_window = [*counted, _rollup_window(window, TipCount, years=True)]
        rows, responded_estimate = await _breakdown_counts(session, in_window)
        if edges is not None:
            rows += await _breakdown(session, edges)
    else:
        rows = await _breakdown(session, where)

    visible = [c for c in Category if scope.covers_category(c)]
    by_category: Counter[Category] = Counter({c: 0 for c in visible})
    by_status: Counter[TipStatus] = Counter({s: 0 for s in TipStatus})
    by_outcome: Counter[Outcome] = Counter({o: 0 for o in Outcome})
    by_province: Counter[int] = Counter()
    # Add up by the stored strings first: thousands of enum lookups per request are measurable.
    categories: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for category, status, outcome, province_code, n in rows:
        categories[category] += n
        statuses[status] += n
        if outcome is not None:
            outcomes[outcome] += n
        by_province[province_code] += n
    by_category.update({Category(c): n for c, n in categories.items()})
    by_status.update({TipStatus(s): n for s, n in statuses.items()})
    by_outcome.update({Outcome(o): n for o, n in outcomes.items()})
    groups = [g for g in CategoryGroup if any(c in by_category for c in CATEGORIES_BY_GROUP[g])]
    by_group = {g: sum(by_category.get(c, 0) for c in CATEGORIES_BY_GROUP[g]) for g in groups}
    names = await _province_names(session, set(by_province))
    provinces = [
        AreaCount(code, names.get(code, str(code)), n)
        for code, n in sorted(by_province.items(), key=lambda item: (-item[1], item[0]))
    ]

    if window is not None and communes_counted is not None:
        in_window = [*communes_counted, _rollup_window(window, TipCommuneCount, years=True)]
        commune_parts = [await _communes_counted(session, in_window)]
        if edges is not None:
            commune_parts.append(await _communes(session, edges))
    else:
        commune_parts = [await _communes(session, where)]
    communes, no_commune = _commune_list(*commune_parts)

    # The narrow time-series table when the filter allows, else the wider one (status or outcome filters).
    period_table: type[TipCount] | type[TipPeriodCount] = TipPeriodCount
    period_counted = count_clauses(tip_filter, scope, TipPeriodCount) if window is not None else None
    if period_counted is None:
        period_table, period_counted = TipCount, counted
    if window is not None and period_counted is not None and period is not Period.DAY:
        period_counts: Counter[str] = Counter()
        rows_in_window = [*period_counted, _rollup_window(window, period_table, years=period is Period.YEAR)]
        await _periods_counted(session, period_table, rows_in_window, period, period_counts)
        if edges is not None:
            period_counts.update(dict(await _periods(session, edges, period)))
        by_period = sorted(period_counts.items())
    else:
        by_period = await _periods(session, where, period)

    if window is not None and counted is not None:
        counted_window = [*counted, _rollup_window(window, TipCount, years=True)]
        responded, median = await _median_counted(session, where, counted_window, edges, responded_estimate)
    else:
        responded, median = await _median_response(session, where)
    return TipStats(
        total=sum(by_status.values()),
        by_group=by_group,
        by_category=dict(by_category),
        by_status=dict(by_status),
        by_outcome=dict(by_outcome),
        by_province=provinces,
        by_commune=communes,
        no_commune=no_commune,
        period=period,
        by_period=by_period,
        closed=by_status[TipStatus.CLOSED],
        valuable=by_outcome[Outcome.VALUABLE],
        responded=responded,
        median_first_response_seconds=median,
        restricted_included=scope.can_view_restricted,
    )


def _rollup_window(
    window: Window, table: type[TipCount] | type[TipCommuneCount] | type[TipPeriodCount], *, years: bool
) -> ColumnElement[bool]:
    """The rollup rows of the window's whole months (as whole years where `years` and possible)."""
    return window.rollup_clause(table.grain, table.period_start, years=years)  # type: ignore[arg-type]
