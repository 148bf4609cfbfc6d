"""Safety pledges: coverage by area, a scoped list (names only for supervisors and admins, audited), texts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from admin_api.deps import AdminOfficer, ContextDep, CurrentOfficer, ScopeDep, SessionDep
from admin_api.schemas.outreach import (
    PledgeCoverageRead,
    PledgeList,
    PledgeRead,
    PledgeTextCreate,
    PledgeTextList,
    PledgeTextRead,
)
from storage.audit import record_audit
from storage.domain import OfficerRole, SignerKind
from storage.outreach_admin import (
    PledgeFilter,
    create_pledge_text,
    list_pledge_texts,
    list_pledges,
    pledge_coverage,
    reveal_representative,
)
from storage.pledges import pledge_year

router = APIRouter(tags=["pledges"])
NAME_ROLES = frozenset({OfficerRole.SUPERVISOR, OfficerRole.ADMIN})
Year = Annotated[int | None, Query(ge=2000, le=2100, description="default: this year (Asia/Ho_Chi_Minh)")]
Code = Annotated[int | None, Query(ge=1, le=99_999)]


@router.get("/api/v1/pledges/coverage", response_model=PledgeCoverageRead)
async def coverage(
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    year: Year = None,
    province_code: Code = None,
    ward_code: Code = None,
    signer_kind: SignerKind | None = None,
) -> PledgeCoverageRead:
    """Household pledges per commune, and all pledges by kind, province and pledge text version."""
    query = PledgeFilter(
        year=year or pledge_year(), province_code=province_code, ward_code=ward_code, signer_kind=signer_kind
    )
    result = await pledge_coverage(session, scope=scope, query=query)
    await record_audit(
        session,
        officer_id=officer.id,
        action="pledge_coverage_viewed",
        detail={"year": query.year, "total": result.total},
    )
    await session.commit()
    return PledgeCoverageRead.of(result)


@router.get("/api/v1/pledges", response_model=PledgeList)
async def list_(
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    context: ContextDep,
    year: Year = None,
    province_code: Code = None,
    ward_code: Code = None,
    signer_kind: SignerKind | None = None,
    names: Annotated[bool, Query(description="decrypt the signers' names (supervisors and admins; audited)")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PledgeList:
    """Pledges in your jurisdiction, newest first; without names unless a supervisor or admin asks (audited)."""
    if names and officer.role not in NAME_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only supervisors and admins may see signers' names")
    query = PledgeFilter(year=year, province_code=province_code, ward_code=ward_code, signer_kind=signer_kind)
    items, total = await list_pledges(session, scope=scope, query=query, limit=limit, offset=offset)
    revealed = [reveal_representative(i, context.keys) if names else None for i in items]
    await record_audit(session, officer_id=officer.id, action="pledges_listed", detail={"total": total})
    if names and items:
        await record_audit(
            session, officer_id=officer.id, action="pledge_names_viewed", detail={"pledge_ids": [i.id for i in items]}
        )
    await session.commit()
    return PledgeList(
        items=[PledgeRead.of(i, name) for i, name in zip(items, revealed, strict=True)],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/api/v1/pledges/texts", response_model=PledgeTextList)
async def texts(
    session: SessionDep,
    _officer: CurrentOfficer,
    scope: ScopeDep,
    signer_kind: SignerKind | None = None,
    active: bool | None = None,
) -> PledgeTextList:
    """Pledge texts: the national ones and those of areas inside your jurisdiction, newest version first."""
    rows = await list_pledge_texts(session, scope=scope, signer_kind=signer_kind, active=active)
    return PledgeTextList(items=[PledgeTextRead.of(t) for t in rows], total=len(rows))


@router.post("/api/v1/pledges/texts", response_model=PledgeTextRead, status_code=status.HTTP_201_CREATED)
async def create_text(
    body: PledgeTextCreate, session: SessionDep, admin: AdminOfficer, scope: ScopeDep
) -> PledgeTextRead:
    """A new version for your area (the national text: nationwide admins only); it is in force at once."""
    text = await create_pledge_text(
        session,
        scope=scope,
        signer_kind=body.signer_kind,
        body=body.body,
        province_code=body.province_code,
        ward_code=body.ward_code,
    )
    await record_audit(
        session,
        officer_id=admin.id,
        action="pledge_text_created",
        detail={"text_id": text.id, "version": text.version, "signer_kind": text.signer_kind.value},
    )
    await session.commit()
    return PledgeTextRead.of(text)
