"""Link or unlink the caller's Telegram account for content-free urgent-tip alerts."""

from __future__ import annotations

from fastapi import APIRouter, status

from admin_api.deps import ContextDep, CurrentOfficer, SessionDep
from admin_api.schemas.officers import LinkCodeRead
from storage.alerts import issue_link_code, unlink_officer_chat
from storage.audit import record_audit

router = APIRouter(tags=["auth"])


@router.post("/api/v1/auth/telegram-link", response_model=LinkCodeRead)
async def create_link_code(context: ContextDep, session: SessionDep, officer: CurrentOfficer) -> LinkCodeRead:
    """A one-time code (15 minutes) to send to the bot as `/link CODE`; earlier unused codes stop working."""
    code, expires_at = await issue_link_code(session, keys=context.keys, officer_id=officer.id)
    await record_audit(session, officer_id=officer.id, action="telegram_link_code_issued")
    await session.commit()
    return LinkCodeRead(code=code, expires_at=expires_at)


@router.delete("/api/v1/auth/telegram-link", status_code=status.HTTP_204_NO_CONTENT)
async def delete_link(session: SessionDep, officer: CurrentOfficer) -> None:
    """Stop alerts to the caller's Telegram account."""
    await unlink_officer_chat(session, officer_id=officer.id)
    await record_audit(session, officer_id=officer.id, action="telegram_unlinked")
    await session.commit()
