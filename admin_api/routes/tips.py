"""Tip triage: list, read, change, internal notes and replies to the tipster (through the outbox)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from admin_api.deps import ContextDep, CurrentOfficer, IdPath, ScopeDep, SessionDep
from admin_api.filters import TipFilterDep
from admin_api.schemas.tips import MessageCreate, MessageRead, TipDetailRead, TipItem, TipList, TipUpdate
from bot.config import Settings
from bot.outbox import Outbox, queue_status_notice
from storage.audit import record_audit
from storage.domain import OfficerRole
from storage.models import utcnow
from storage.tip_queries import (
    ThreadEntry,
    TipSort,
    filter_summary,
    get_scoped_tip,
    get_tip_row,
    list_tips,
    tip_detail,
)
from storage.triage import TipChanges, add_note, add_reply, record_tip_view, reveal_identity, update_tip

logger = logging.getLogger(__name__)
router = APIRouter(tags=["tips"])
IDENTITY_ROLES = frozenset({OfficerRole.SUPERVISOR, OfficerRole.ADMIN})


def _ack_within(settings: Settings) -> timedelta:
    return timedelta(hours=settings.urgent_ack_hours)


def _wake_outbox(request: Request) -> None:
    """Nudge this process's outbox worker, if it runs here (otherwise its poll picks the message up)."""
    outbox: Outbox | None = getattr(request.app.state, "outbox", None)
    if outbox is not None:
        outbox.wake()


@router.get("/api/v1/tips", response_model=TipList)
async def list_(
    tip_filter: TipFilterDep,
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    context: ContextDep,
    sort: TipSort = TipSort.CREATED_DESC,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")] = None,
) -> TipList:
    """Tips inside your jurisdiction, filtered, sorted and keyset-paged."""
    page = await list_tips(
        session,
        tip_filter=tip_filter,
        scope=scope,
        now=utcnow(),
        ack_within=_ack_within(context.settings),
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    summary = filter_summary(tip_filter, sort=sort, limit=limit, paged=cursor is not None)
    await record_audit(session, officer_id=officer.id, action="tips_listed", detail=summary | {"total": page.total})
    await session.commit()
    return TipList(
        items=[TipItem.of(r) for r in page.items],
        total=page.total,
        total_capped=page.total_capped,
        next_cursor=page.next_cursor,
    )


@router.get("/api/v1/tips/{tip_id}", response_model=TipDetailRead)
async def read(
    tip_id: IdPath, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep, context: ContextDep
) -> TipDetailRead:
    """One tip with its thread, files, related tips and audit trail (the read itself is audited)."""
    detail = await tip_detail(
        session, scope=scope, tip_id=tip_id, now=utcnow(), ack_within=_ack_within(context.settings)
    )
    # Unread counts in this answer are as the officer found them; from now on the messages count as read.
    await record_tip_view(session, tip_id=tip_id, officer_id=officer.id)
    identity = None
    if officer.role in IDENTITY_ROLES:
        identity = await reveal_identity(session, tip=detail.tip, keys=context.keys, officer_id=officer.id)
    await session.commit()
    return TipDetailRead.build(detail, identity)


@router.patch("/api/v1/tips/{tip_id}", response_model=TipItem)
async def change(
    tip_id: IdPath,
    body: TipUpdate,
    request: Request,
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
    context: ContextDep,
) -> TipItem:
    """Change status, priority, assignee, outcome (when closing) or duplicate-of; 409 for a forbidden transition."""
    tip = await get_scoped_tip(session, scope=scope, tip_id=tip_id)
    changes = TipChanges(given=frozenset(body.model_fields_set), **body.model_dump())
    now = utcnow()
    result = await update_tip(session, tip=tip, officer_id=officer.id, scope=scope, changes=changes, now=now)
    queued = result.notice is not None and await queue_status_notice(session, tip=tip, notice=result.notice)
    await session.commit()
    if queued:
        _wake_outbox(request)
    return TipItem.of(
        await get_tip_row(session, scope=scope, tip_id=tip_id, now=now, ack_within=_ack_within(context.settings))
    )


@router.post("/api/v1/tips/{tip_id}/notes", response_model=MessageRead, status_code=status.HTTP_201_CREATED)
async def note(
    tip_id: IdPath, body: MessageCreate, session: SessionDep, officer: CurrentOfficer, scope: ScopeDep
) -> MessageRead:
    """An internal note: officers only, never shown or sent to the tipster."""
    tip = await get_scoped_tip(session, scope=scope, tip_id=tip_id)
    stored = await add_note(session, tip=tip, officer_id=officer.id, body=body.body, now=utcnow())
    await session.commit()
    return MessageRead.of(ThreadEntry(message=stored, officer_username=officer.username, attachment_indexes=[]))


@router.post("/api/v1/tips/{tip_id}/replies", response_model=MessageRead, status_code=status.HTTP_201_CREATED)
async def reply(
    tip_id: IdPath,
    body: MessageCreate,
    request: Request,
    session: SessionDep,
    officer: CurrentOfficer,
    scope: ScopeDep,
) -> MessageRead:
    """A message to the tipster: stored first, then sent by the bot (queued) or left for /status (status_only)."""
    tip = await get_scoped_tip(session, scope=scope, tip_id=tip_id)
    stored = await add_reply(session, tip=tip, officer_id=officer.id, body=body.body, now=utcnow())
    await session.commit()
    logger.info("reply %d to tip %d: %s", stored.id, tip_id, stored.delivery_state)
    _wake_outbox(request)
    return MessageRead.of(ThreadEntry(message=stored, officer_username=officer.username, attachment_indexes=[]))
