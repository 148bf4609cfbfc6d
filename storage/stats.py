"""Tip statistics inside an officer's scope: counts by group, area, status, outcome and period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.domain import CATEGORIES_BY_GROUP, Category, CategoryGroup, Outcome, TipStatus
from storage.models import Province, Tip, Ward
from storage.scope import Scope
from storage.tip_filters import TipFilter, filter_clauses

# Periods are in Asia/Ho_Chi_Minh: UTC+7 without daylight saving since 1975, so a fixed shift is exact.
LOCAL_OFFSET_HOURS = 7


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


async def _breakdown(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> list[Any]:
    """One pass: counts per (category, status, outcome, province)."""
    stmt = (
        select(Tip.category, Tip.status, Tip.outcome, Tip.province_code, func.count())
        .where(and_(*where))
        .group_by(Tip.category, Tip.status, Tip.outcome, Tip.province_code)
    )
    return list((await session.execute(stmt)).all())


async def _communes(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> tuple[list[AreaCount], int]:
    """Counts per commune, biggest first, and the count of tips without a commune."""
    counts = (
        select(Tip.ward_code.label("code"), func.count().label("n")).where(and_(*where)).group_by(Tip.ward_code)
    ).subquery()
    stmt = (
        select(counts.c.code, Ward.name, Ward.province_code, counts.c.n)
        .select_from(counts)
        .outerjoin(Ward, Ward.code == counts.c.code)
        .order_by(counts.c.n.desc(), counts.c.code)
    )
    communes: list[AreaCount] = []
    unknown = 0
    for code, name, province_code, n in (await session.execute(stmt)).all():
        if code is None:
            unknown = int(n)
        else:
            communes.append(AreaCount(int(code), str(name), int(n), int(province_code)))
    return communes, unknown


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
        for number, n in (await session.execute(stmt)).all():
            counts[_label(EPOCH + timedelta(days=int(number)), period)] += int(n)
        return sorted(counts.items())
    # SQLite stores UTC text; strftime applies the fixed +7 hours shift.
    label = func.strftime(_SQLITE_FORMATS[period], Tip.created_at, f"+{LOCAL_OFFSET_HOURS} hours").label("period")
    stmt = select(label, func.count()).where(and_(*where)).group_by(literal_column("period")).order_by(label)
    return [(str(p), int(n)) for p, n in (await session.execute(stmt)).all()]


async def _median_response(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> tuple[int, float | None]:
    """How many tips got a first response, and the median seconds it took."""
    responded = [*where, Tip.first_response_at.is_not(None)]
    if session.get_bind().dialect.name == "postgresql":
        # date_part gives float8 (extract gives numeric, which sorts several times slower).
        seconds = func.date_part("epoch", Tip.first_response_at - Tip.created_at)
        stmt = select(func.count(), func.percentile_cont(0.5).within_group(seconds)).where(and_(*responded))
        n, median = (await session.execute(stmt)).one()
        return int(n), (round(float(median), 1) if median is not None else None)
    # SQLite: no percentile function; sort and read the middle row (or the two middle rows).
    n = int(await session.scalar(select(func.count()).where(and_(*responded))) or 0)
    if n == 0:
        return 0, None
    delta = (func.julianday(Tip.first_response_at) - func.julianday(Tip.created_at)) * 86400.0
    stmt = select(delta).where(and_(*responded)).order_by(delta).limit(2 - n % 2).offset((n - 1) // 2)
    middle = [float(v) for v in (await session.scalars(stmt)).all()]
    return n, round(sum(middle) / len(middle), 1)


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
) -> TipStats:
    """Statistics of the tips the filter selects inside the scope (out-of-scope tips never count)."""
    await _tune_for_aggregates(session)
    where = filter_clauses(tip_filter, scope, now=now, ack_within=ack_within)
    visible = [c for c in Category if scope.covers_category(c)]
    by_category: Counter[Category] = Counter({c: 0 for c in visible})
    by_status: Counter[TipStatus] = Counter({s: 0 for s in TipStatus})
    by_outcome: Counter[Outcome] = Counter({o: 0 for o in Outcome})
    by_province: Counter[int] = Counter()
    for category, status, outcome, province_code, n in await _breakdown(session, where):
        by_category[Category(category)] += n
        by_status[TipStatus(status)] += n
        if outcome is not None:
            by_outcome[Outcome(outcome)] += n
        by_province[int(province_code)] += n
    groups = [g for g in CategoryGroup if any(c in by_category for c in CATEGORIES_BY_GROUP[g])]
    by_group = {g: sum(by_category.get(c, 0) for c in CATEGORIES_BY_GROUP[g]) for g in groups}
    names = await _province_names(session, set(by_province))
    provinces = [
        AreaCount(code, names.get(code, str(code)), n)
        for code, n in sorted(by_province.items(), key=lambda item: (-item[1], item[0]))
    ]
    communes, no_commune = await _communes(session, where)
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
        by_period=await _periods(session, where, period),
        closed=by_status[TipStatus.CLOSED],
        valuable=by_outcome[Outcome.VALUABLE],
        responded=responded,
        median_first_response_seconds=median,
        restricted_included=scope.can_view_restricted,
    )
