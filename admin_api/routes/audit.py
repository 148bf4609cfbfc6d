"""The audit trail, for admins, limited to their jurisdiction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from admin_api.deps import AdminOfficer, SessionDep
from admin_api.schemas.audit import AuditEventRead, AuditPage
from admin_api.schemas.base import BoundedDatetime, SafeText
from storage.audit_view import AuditQuery, list_audit_in_scope
from storage.scope import Scope

router = APIRouter(tags=["audit"])
MAX_ID = 2_147_483_647


@router.get("/api/v1/audit", response_model=AuditPage)
async def audit_list(
    session: SessionDep,
    admin: AdminOfficer,
    officer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: Annotated[SafeText | None, Query(max_length=48)] = None,
    tip_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: BoundedDatetime | None = None,
    until: BoundedDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    """Who read, changed, replied, exported or logged in, and when (newest first).

    A nationwide admin sees every event (events on restricted tips only with the restricted permission);
    other admins see events on tips inside their scope, and tip-less events (logins, officer changes,
    exports) by officers whose whole jurisdiction lies inside theirs.
    """
    query = AuditQuery(officer_id=officer_id, action=action, tip_id=tip_id, since=since, until=until)
    items, total = await list_audit_in_scope(session, scope=Scope.of(admin), query=query, limit=limit, offset=offset)
    return AuditPage(items=[AuditEventRead.model_validate(i) for i in items], total=total, limit=limit, offset=offset)
