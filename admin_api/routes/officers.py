"""Admins manage officer accounts inside their own jurisdiction."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from admin_api.deps import AdminOfficer, IdPath, SessionDep
from admin_api.schemas.officers import OfficerCreate, OfficerList, OfficerRead, OfficerUpdate
from storage.audit import record_audit
from storage.models import Officer
from storage.officers import (
    Jurisdiction,
    create_officer,
    get_officer,
    list_officers,
    set_password,
    update_officer,
    ward_provinces,
)
from storage.scope import Scope

router = APIRouter(prefix="/api/v1/officers", tags=["officers"])
# An admin may only switch their own duty flag here: their role, areas, permission, activity and password
# change through another admin or /api/v1/auth/password (no self-promotion, no lock-out by mistake).
_SELF_EDITABLE = {"on_duty"}


async def _ensure_within(session: SessionDep, admin: Officer, jurisdiction: Jurisdiction) -> None:
    """An admin may only grant areas inside their own jurisdiction."""
    wanted = Scope(
        nationwide=jurisdiction.nationwide,
        province_codes=frozenset(jurisdiction.province_codes),
        ward_codes=frozenset(jurisdiction.ward_codes),
        can_view_restricted=False,
    )
    if not Scope.of(admin).contains(wanted, await ward_provinces(session, jurisdiction.ward_codes)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "jurisdiction outside your own")


async def _visible_officer(session: SessionDep, admin: Officer, officer_id: int) -> Officer:
    """An officer the admin may manage: one whose jurisdiction lies inside the admin's (else 404)."""
    officer = await get_officer(session, officer_id=officer_id)
    target = Scope.of(officer)
    wards = await ward_provinces(session, target.ward_codes)
    if not Scope.of(admin).contains(target, wards):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "officer")
    return officer


@router.post("", response_model=OfficerRead, status_code=status.HTTP_201_CREATED)
async def create(body: OfficerCreate, session: SessionDep, admin: AdminOfficer) -> OfficerRead:
    """Create an officer."""
    jurisdiction = Jurisdiction(body.nationwide, body.province_codes, body.ward_codes)
    await _ensure_within(session, admin, jurisdiction)
    if body.can_view_restricted and not admin.can_view_restricted:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you cannot grant the restricted permission")
    officer = await create_officer(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        jurisdiction=jurisdiction,
        can_view_restricted=body.can_view_restricted,
    )
    await record_audit(session, officer_id=admin.id, action="officer_created", detail={"officer_id": officer.id})
    await session.commit()
    return OfficerRead.of(officer)


@router.get("", response_model=OfficerList)
async def list_all(session: SessionDep, admin: AdminOfficer) -> OfficerList:
    """Officers whose jurisdiction lies inside the admin's."""
    scope = Scope.of(admin)
    officers = list(await list_officers(session))
    wards = await ward_provinces(session, {w.ward_code for o in officers for w in o.wards})
    visible = [OfficerRead.of(o) for o in officers if scope.contains(Scope.of(o), wards)]
    return OfficerList(items=visible, total=len(visible))


@router.get("/{officer_id}", response_model=OfficerRead)
async def read(officer_id: IdPath, session: SessionDep, admin: AdminOfficer) -> OfficerRead:
    """One officer."""
    return OfficerRead.of(await _visible_officer(session, admin, officer_id))


@router.patch("/{officer_id}", response_model=OfficerRead)
async def change(officer_id: IdPath, body: OfficerUpdate, session: SessionDep, admin: AdminOfficer) -> OfficerRead:
    """Change role, jurisdiction, permission, duty, activity or password."""
    officer = await _visible_officer(session, admin, officer_id)
    if officer.id == admin.id and set(body.model_dump(exclude_unset=True)) - _SELF_EDITABLE:
        raise HTTPException(status.HTTP_409_CONFLICT, "another admin must change your role, areas or status")
    jurisdiction = None
    if body.nationwide is not None or body.province_codes is not None or body.ward_codes is not None:
        jurisdiction = Jurisdiction(
            nationwide=body.nationwide if body.nationwide is not None else officer.nationwide,
            province_codes=(
                body.province_codes if body.province_codes is not None else [p.province_code for p in officer.provinces]
            ),
            ward_codes=body.ward_codes if body.ward_codes is not None else [w.ward_code for w in officer.wards],
        )
        await _ensure_within(session, admin, jurisdiction)
    if body.can_view_restricted and not admin.can_view_restricted:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you cannot grant the restricted permission")
    await update_officer(
        session,
        officer,
        role=body.role,
        jurisdiction=jurisdiction,
        can_view_restricted=body.can_view_restricted,
        active=body.active,
        on_duty=body.on_duty,
    )
    if body.password is not None:
        await set_password(session, officer, new=body.password)
    changed = sorted(body.model_dump(exclude_unset=True, exclude={"password"}))
    if body.password is not None:
        changed.append("password")
    await record_audit(
        session, officer_id=admin.id, action="officer_updated", detail={"officer_id": officer.id, "fields": changed}
    )
    await session.commit()
    return OfficerRead.of(officer)


@router.delete("/{officer_id}", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate(officer_id: IdPath, session: SessionDep, admin: AdminOfficer) -> None:
    """Deactivate an officer: their tokens stop working at once."""
    officer = await _visible_officer(session, admin, officer_id)
    if officer.id == admin.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot deactivate yourself")
    await update_officer(session, officer, active=False)
    await record_audit(session, officer_id=admin.id, action="officer_deactivated", detail={"officer_id": officer.id})
    await session.commit()
