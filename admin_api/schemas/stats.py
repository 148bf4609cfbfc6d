"""Statistics response bodies."""

from __future__ import annotations

from admin_api.schemas.base import OutputModel
from storage.domain import Category, CategoryGroup, Outcome, TipStatus
from storage.stats import Period, TipStats


class AreaCountRead(OutputModel):
    """Tips in one province or commune."""

    code: int
    name: str
    count: int
    province_code: int | None = None


class PeriodCount(OutputModel):
    """Tips created in one local day, month or year (Asia/Ho_Chi_Minh)."""

    period: str
    count: int


class ValuableRatio(OutputModel):
    """Valuable tips against closed tips and against all tips."""

    valuable: int
    closed: int
    total: int
    of_closed: float | None
    of_all: float | None


class TipStatsRead(OutputModel):
    """Counts inside the caller's scope and filter; groups the caller may not see are left out."""

    total: int
    by_group: dict[CategoryGroup, int]
    by_category: dict[Category, int]
    by_status: dict[TipStatus, int]
    by_outcome: dict[Outcome, int]
    by_province: list[AreaCountRead]
    by_commune: list[AreaCountRead]
    no_commune: int
    period: Period
    by_period: list[PeriodCount]
    valuable_ratio: ValuableRatio
    responded: int
    median_first_response_seconds: float | None

    @classmethod
    def of(cls, stats: TipStats) -> TipStatsRead:
        """Build the body from storage's result."""
        return cls(
            total=stats.total,
            by_group=stats.by_group,
            by_category=stats.by_category,
            by_status=stats.by_status,
            by_outcome=stats.by_outcome,
            by_province=[AreaCountRead.model_validate(a) for a in stats.by_province],
            by_commune=[AreaCountRead.model_validate(a) for a in stats.by_commune],
            no_commune=stats.no_commune,
            period=stats.period,
            by_period=[PeriodCount(period=p, count=n) for p, n in stats.by_period],
            valuable_ratio=ValuableRatio(
                valuable=stats.valuable,
                closed=stats.closed,
                total=stats.total,
                of_closed=stats.valuable_of_closed,
                of_all=stats.valuable_of_all,
            ),
            responded=stats.responded,
            median_first_response_seconds=stats.median_first_response_seconds,
        )
