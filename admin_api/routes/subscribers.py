"""Subscriber counts inside the caller's jurisdiction (never a list of people, never a chat id)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from admin_api.deps import CurrentOfficer, ScopeDep, SessionDep
from admin_api.schemas.outreach import SubscriberStatsRead
from storage.audit import record_audit
from storage.outreach_admin import subscriber_stats

router = APIRouter(tags=["subscribers"])


@router.get("/api/v1/subscribers", response_model=SubscriberStatsRead)
async def stats(
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    province_code: Annotated[int | None, Query(ge=1, le=99_999)] = None,
) -> SubscriberStatsRead:
    """Counts by state, topic, province and commune; whole-country subscribers count for nationwide officers only."""
    result = await subscriber_stats(session, scope=scope, province_code=province_code)
    await record_audit(
        session,
        officer_id=officer.id,
        action="subscribers_counted",
        detail={"province_code": province_code, "total": result.total},
    )
    await session.commit()
    return SubscriberStatsRead.of(result)
