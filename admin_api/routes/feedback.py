"""Citizens' feedback ("Công an lắng nghe ý kiến Nhân dân"): list, read, statistics and mark handled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from admin_api.deps import CurrentOfficer, IdPath, ScopeDep, SessionDep
from admin_api.schemas.base import BoundedDatetime
from admin_api.schemas.outreach import FeedbackList, FeedbackRead, FeedbackStatsRead, FeedbackUpdate
from storage.audit import record_audit
from storage.models import utcnow
from storage.outreach_admin import FeedbackFilter, feedback_stats, get_feedback, list_feedback, mark_feedback

router = APIRouter(tags=["feedback"])
Code = Annotated[int | None, Query(ge=1, le=99_999)]


def _filter(
    handled: bool | None = None,
    province_code: Code = None,
    ward_code: Code = None,
    since: BoundedDatetime | None = None,
    until: BoundedDatetime | None = None,
) -> FeedbackFilter:
    return FeedbackFilter(handled=handled, province_code=province_code, ward_code=ward_code, since=since, until=until)


@router.get("/api/v1/feedback", response_model=FeedbackList)
async def list_(
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    handled: bool | None = None,
    province_code: Code = None,
    ward_code: Code = None,
    since: BoundedDatetime | None = None,
    until: BoundedDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> FeedbackList:
    """Feedback for areas inside your jurisdiction, newest first (the list is audited)."""
    query = _filter(handled, province_code, ward_code, since, until)
    items, total = await list_feedback(session, scope=scope, query=query, limit=limit, offset=offset)
    await record_audit(
        session,
        officer_id=officer.id,
        action="feedback_listed",
        detail={"total": total, "feedback_ids": [i.feedback.id for i in items]},
    )
    await session.commit()
    return FeedbackList(items=[FeedbackRead.of(i) for i in items], total=total, limit=limit, offset=offset)


@router.get("/api/v1/feedback/stats", response_model=FeedbackStatsRead)
async def stats(
    session: SessionDep,
    _officer: CurrentOfficer,
    scope: ScopeDep,
    province_code: Code = None,
    since: BoundedDatetime | None = None,
    until: BoundedDatetime | None = None,
) -> FeedbackStatsRead:
    """Totals, handled and open, by province and commune."""
    query = _filter(None, province_code, None, since, until)
    return FeedbackStatsRead.of(await feedback_stats(session, scope=scope, query=query))


@router.get("/api/v1/feedback/{feedback_id}", response_model=FeedbackRead)
async def read(feedback_id: IdPath, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep) -> FeedbackRead:
    """One opinion (the read is audited)."""
    item = await get_feedback(session, scope=scope, feedback_id=feedback_id)
    await record_audit(session, officer_id=officer.id, action="feedback_viewed", detail={"feedback_id": feedback_id})
    await session.commit()
    return FeedbackRead.of(item)


@router.patch("/api/v1/feedback/{feedback_id}", response_model=FeedbackRead)
async def change(
    feedback_id: IdPath, body: FeedbackUpdate, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep
) -> FeedbackRead:
    """Mark handled (or open again); the change is audited."""
    item = await get_feedback(session, scope=scope, feedback_id=feedback_id)
    if await mark_feedback(session, item=item, handled=body.handled, officer_id=officer.id, now=utcnow()):
        action = "feedback_handled" if body.handled else "feedback_reopened"
        await record_audit(session, officer_id=officer.id, action=action, detail={"feedback_id": feedback_id})
    await session.commit()
    return FeedbackRead.of(await get_feedback(session, scope=scope, feedback_id=feedback_id))
