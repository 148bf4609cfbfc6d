"""CSV export of the tips the caller may see, streamed and audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import StreamingResponse

from admin_api.deps import ContextDep, CurrentOfficer, ScopeDep, SessionDep
from admin_api.filters import TipFilterDep
from bot.context import AppContext
from storage.audit import record_audit
from storage.domain import OfficerRole
from storage.export import BOM, VIETNAM, ExportPlan, csv_text, export_batches, filter_summary, header, plan_export
from storage.models import utcnow

router = APIRouter(tags=["tips"])


async def _stream(context: AppContext, plan: ExportPlan, include_description: bool) -> AsyncIterator[str]:
    """The CSV body: BOM and header first, then one chunk per batch from a session of its own."""
    yield BOM + csv_text([header(include_description)])
    async with context.sessions() as session:
        async for batch in export_batches(session, plan=plan, include_description=include_description):
            yield csv_text(batch)


@router.get(
    "/api/v1/tips/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM"}},
)
async def export_csv(
    tip_filter: TipFilterDep,
    session: SessionDep,
    scope: ScopeDep,
    officer: CurrentOfficer,
    context: ContextDep,
    include_description: bool = False,
) -> StreamingResponse:
    """Tips matching the filter inside your scope; descriptions only for supervisors and admins."""
    if include_description and officer.role not in (OfficerRole.SUPERVISOR, OfficerRole.ADMIN):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "descriptions are exported by supervisors and admins only")
    now = utcnow()
    ack_within = timedelta(hours=context.settings.urgent_ack_hours)
    plan = await plan_export(session, tip_filter=tip_filter, scope=scope, now=now, ack_within=ack_within)
    # Audited before the first byte leaves, so an interrupted download is still on record.
    detail = {"filter": filter_summary(tip_filter), "rows": plan.rows, "include_description": include_description}
    await record_audit(session, officer_id=officer.id, action="tips_exported", detail=detail)
    await session.commit()
    filename = f"tinbao-tips-{now.astimezone(VIETNAM):%Y%m%d-%H%M}.csv"
    return StreamingResponse(
        _stream(context, plan, include_description),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
