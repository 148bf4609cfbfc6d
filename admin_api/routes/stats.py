"""Tip statistics inside the caller's jurisdiction."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from admin_api.deps import ContextDep, CurrentOfficer, ScopeDep, SessionDep
from admin_api.filters import TipFilterDep
from admin_api.schemas.stats import TipStatsRead
from storage.models import utcnow
from storage.stats import Period, tip_stats

router = APIRouter(tags=["stats"])


@router.get("/api/v1/stats/tips", response_model=TipStatsRead)
async def stats_tips(
    tip_filter: TipFilterDep,
    session: SessionDep,
    scope: ScopeDep,
    context: ContextDep,
    _officer: CurrentOfficer,
    period: Period = Period.MONTH,
) -> TipStatsRead:
    """Counts by group, category, province, commune, status, outcome and period; valuable ratio; median response."""
    stats = await tip_stats(
        session,
        tip_filter=tip_filter,
        scope=scope,
        now=utcnow(),
        ack_within=timedelta(hours=context.settings.urgent_ack_hours),
        period=period,
    )
    return TipStatsRead.of(stats)
