"""Campaigns: officers read those inside their jurisdiction; supervisors and admins plan, schedule and cancel."""

from __future__ import annotations

import asyncio
import io
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, UploadFile, status
from fastapi.responses import Response
from PIL import Image

from admin_api.deps import CurrentOfficer, IdPath, ScopeDep, SessionDep, SupervisorOfficer
from admin_api.schemas.base import SafeText
from admin_api.schemas.outreach import (
    CampaignCreate,
    CampaignList,
    CampaignPreview,
    CampaignProgressRead,
    CampaignRead,
    CampaignSchedule,
    CampaignUpdate,
)
from bot.media_clean import CLEANED, clean_media
from storage.audit import record_audit
from storage.campaign_admin import (
    EDITABLE_STATES,
    CampaignRow,
    campaign_messages,
    campaign_photo,
    campaign_progress,
    cancel_campaign,
    check_ready,
    count_recipients,
    create_campaign,
    get_scoped_campaign,
    list_campaigns,
    schedule_campaign,
    set_campaign_photo,
    update_campaign,
)
from storage.domain import AttachmentKind, CampaignState, ScheduleKind, Topic
from storage.errors import ValidationFailed
from storage.models import utcnow

router = APIRouter(tags=["campaigns"])
PHOTO_MAX_BYTES = 5 * 1024 * 1024
# Telegram's sendPhoto rules: width + height at most 10,000 and a side ratio of at most 20.
PHOTO_MAX_SIDES = 10_000
PHOTO_MAX_RATIO = 20
_PHOTO_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "The photo is larger than 5 MB."},
}
_PHOTO_READ: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The campaign photo (metadata stripped)."},
}


async def _row(session: SessionDep, scope: ScopeDep, campaign_id: int) -> CampaignRow:
    return await get_scoped_campaign(session, scope=scope, campaign_id=campaign_id)


async def _audit(session: SessionDep, officer_id: int, action: str, campaign_id: int, **detail: Any) -> None:
    await record_audit(session, officer_id=officer_id, action=action, detail={"campaign_id": campaign_id, **detail})


@router.get("/api/v1/campaigns", response_model=CampaignList)
async def list_(
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    state: CampaignState | None = None,
    topic: Topic | None = None,
    schedule_kind: ScheduleKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CampaignList:
    """Campaigns whose targets lie inside your jurisdiction (nationwide ones: nationwide officers), newest first."""
    rows, total = await list_campaigns(
        session, scope=scope, state=state, topic=topic, schedule_kind=schedule_kind, limit=limit, offset=offset
    )
    await record_audit(session, officer_id=officer.id, action="campaigns_listed", detail={"total": total})
    await session.commit()
    return CampaignList(items=[CampaignRead.of(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/api/v1/campaigns", response_model=CampaignRead, status_code=status.HTTP_201_CREATED)
async def create(
    body: CampaignCreate, session: SessionDep, officer: SupervisorOfficer, scope: ScopeDep
) -> CampaignRead:
    """A new draft; targets must lie inside your jurisdiction (403), text must be valid Telegram HTML (422)."""
    campaign = await create_campaign(session, scope=scope, officer_id=officer.id, changes=body.fields())
    await _audit(session, officer.id, "campaign_created", campaign.id)
    await session.commit()
    return CampaignRead.of(CampaignRow(campaign, has_photo=False))


@router.get("/api/v1/campaigns/{campaign_id}", response_model=CampaignRead)
async def read(campaign_id: IdPath, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep) -> CampaignRead:
    """One campaign."""
    row = await _row(session, scope, campaign_id)
    await _audit(session, officer.id, "campaign_viewed", campaign_id)
    await session.commit()
    return CampaignRead.of(row)


@router.patch("/api/v1/campaigns/{campaign_id}", response_model=CampaignRead)
async def change(
    campaign_id: IdPath, body: CampaignUpdate, session: SessionDep, officer: SupervisorOfficer, scope: ScopeDep
) -> CampaignRead:
    """Edit a draft, scheduled or cancelled campaign; 409 once it is sending or done."""
    row = await _row(session, scope, campaign_id)
    changes = body.fields()
    campaign = await update_campaign(session, scope=scope, row=row, changes=changes, now=utcnow())
    await _audit(session, officer.id, "campaign_updated", campaign_id, fields=sorted(changes.given))
    await session.commit()
    return CampaignRead.of(CampaignRow(campaign, row.has_photo))


@router.get("/api/v1/campaigns/{campaign_id}/preview", response_model=CampaignPreview)
async def preview(
    campaign_id: IdPath, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep
) -> CampaignPreview:
    """Exactly what subscribers get (method, text or caption, parse mode, photo) and how many would get it now."""
    row = await _row(session, scope, campaign_id)
    messages = campaign_messages(row.campaign.title, row.campaign.body_html, has_photo=row.has_photo)
    recipients = await count_recipients(session, campaign=row.campaign)
    problem = None
    try:
        if row.campaign.state not in EDITABLE_STATES:
            problem = f"the campaign is {row.campaign.state.value}"
        else:
            check_ready(row.campaign, has_photo=row.has_photo, now=utcnow())
    except ValidationFailed as exc:
        problem = str(exc)
    await _audit(session, officer.id, "campaign_previewed", campaign_id, recipients=recipients)
    await session.commit()
    return CampaignPreview.of(campaign_id, row.has_photo, messages, recipients, problem)


@router.post("/api/v1/campaigns/{campaign_id}/schedule", response_model=CampaignRead)
async def schedule(
    campaign_id: IdPath, body: CampaignSchedule, session: SessionDep, officer: SupervisorOfficer, scope: ScopeDep
) -> CampaignRead:
    """Switch the campaign on (state `scheduled`), optionally setting the schedule; send `{}` to keep it as stored."""
    row = await _row(session, scope, campaign_id)
    changes = body.fields()
    campaign = await schedule_campaign(session, scope=scope, row=row, changes=changes, now=utcnow())
    await _audit(session, officer.id, "campaign_scheduled", campaign_id, fields=sorted(changes.given))
    await session.commit()
    return CampaignRead.of(CampaignRow(campaign, row.has_photo))


@router.post("/api/v1/campaigns/{campaign_id}/cancel", response_model=CampaignRead)
async def cancel(campaign_id: IdPath, session: SessionDep, officer: SupervisorOfficer, scope: ScopeDep) -> CampaignRead:
    """Draft, scheduled or sending → cancelled: it never fires, or the sender stops; 409 once it is done."""
    row = await _row(session, scope, campaign_id)
    if await cancel_campaign(session, row=row):
        await _audit(session, officer.id, "campaign_cancelled", campaign_id)
    await session.commit()
    return CampaignRead.of(row)


@router.get("/api/v1/campaigns/{campaign_id}/progress", response_model=CampaignProgressRead)
async def progress(
    campaign_id: IdPath,
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    run_key: Annotated[
        SafeText | None, Query(max_length=32, description='"once" or a year; default: the latest')
    ] = None,
) -> CampaignProgressRead:
    """Recipients by delivery state, send rate over the last minute and estimated time left."""
    row = await _row(session, scope, campaign_id)
    result = await campaign_progress(session, campaign=row.campaign, run_key=run_key, now=utcnow())
    await _audit(session, officer.id, "campaign_progress_viewed", campaign_id)
    await session.commit()
    return CampaignProgressRead.of(result)


def _clean_photo(data: bytes) -> bytes:
    """A JPEG or PNG Telegram accepts, with EXIF/GPS/XMP and comments removed; ValidationFailed otherwise."""
    if not data.startswith((b"\xff\xd8", b"\x89PNG\r\n\x1a\n")):
        raise ValidationFailed("photo: only JPEG or PNG images")
    mime = "image/jpeg" if data.startswith(b"\xff\xd8") else "image/png"
    result = clean_media(data, kind=AttachmentKind.PHOTO, mime=mime)
    if result.state != CLEANED or result.mime_type != mime:
        raise ValidationFailed("photo: the image is damaged and cannot be read")
    with Image.open(io.BytesIO(result.data)) as image:
        width, height = image.size
    if width + height > PHOTO_MAX_SIDES or max(width, height) > PHOTO_MAX_RATIO * min(width, height):
        raise ValidationFailed("photo: width + height must be at most 10,000 and the side ratio at most 20")
    return result.data


@router.put("/api/v1/campaigns/{campaign_id}/photo", response_model=CampaignRead, responses=_PHOTO_RESPONSES)
async def put_photo(
    campaign_id: IdPath,
    file: Annotated[UploadFile, File(description="JPEG or PNG, at most 5 MB")],
    session: SessionDep,
    officer: SupervisorOfficer,
    scope: ScopeDep,
) -> CampaignRead:
    """Attach or replace the photo (metadata stripped); the text then becomes a caption of at most 1024 characters."""
    row = await _row(session, scope, campaign_id)
    data = await file.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "the photo is larger than 5 MB")
    cleaned = await asyncio.to_thread(_clean_photo, data)
    campaign = await set_campaign_photo(session, row=row, photo=cleaned)
    await _audit(session, officer.id, "campaign_photo_set", campaign_id, bytes=len(cleaned))
    await session.commit()
    return CampaignRead.of(CampaignRow(campaign, has_photo=True))


@router.delete("/api/v1/campaigns/{campaign_id}/photo", response_model=CampaignRead)
async def delete_photo(
    campaign_id: IdPath, session: SessionDep, officer: SupervisorOfficer, scope: ScopeDep
) -> CampaignRead:
    """Remove the photo: the campaign goes out as a text message again."""
    row = await _row(session, scope, campaign_id)
    campaign = await set_campaign_photo(session, row=row, photo=None)
    await _audit(session, officer.id, "campaign_photo_removed", campaign_id)
    await session.commit()
    return CampaignRead.of(CampaignRow(campaign, has_photo=False))


@router.get(
    "/api/v1/campaigns/{campaign_id}/photo",
    response_class=Response,
    responses={**_PHOTO_READ, 404: {"description": "No photo, or the campaign is outside your jurisdiction."}},
)
async def get_photo(campaign_id: IdPath, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep) -> Response:
    """The photo subscribers will get."""
    await _row(session, scope, campaign_id)
    photo = await campaign_photo(session, campaign_id=campaign_id)
    if photo is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this campaign has no photo")
    await _audit(session, officer.id, "campaign_photo_viewed", campaign_id)
    await session.commit()
    mime = "image/jpeg" if photo.startswith(b"\xff\xd8") else "image/png"
    return Response(photo, media_type=mime, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
