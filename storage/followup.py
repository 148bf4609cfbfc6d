"""The tipster's side of /status: opening a tip by receipt code (throttled), its public status, additions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import record_audit
from storage.domain import MAX_ATTACHMENTS, Outcome, TipStatus
from storage.errors import NotFound, ValidationFailed
from storage.models import Attachment, ThrottleHit, Tip, TipMessage
from storage.privacy import PrivacyKeys
from storage.throttle import ensure_allowed, record_attempt
from storage.tips import NewAttachment, add_tipster_message, count_attachments, find_tip_by_receipt, get_tip

RECEIPT_BUCKET = "receipt"
# storage.tips lets a tip grow to three form-loads of files through follow-ups.
FOLLOWUP_MAX_FILES = MAX_ATTACHMENTS * 3


class WrongReceipt(NotFound):
    """No tip opens with this code; `tries_left` depends only on the person's own attempts."""

    def __init__(self, tries_left: int) -> None:
        super().__init__("wrong receipt code")
        self.tries_left = tries_left


class TipClosed(ValidationFailed):
    """A closed tip takes no more information."""


class TooManyFiles(ValidationFailed):
    """The tip already carries as many files as it may."""


class PublicStatus(StrEnum):
    """What a tipster may learn about their tip; internal outcomes are folded into CLOSED."""

    RECEIVED = "received"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    FORWARDED = "forwarded"
    CLOSED_VALUABLE = "closed_valuable"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many wrong codes one person may try inside a window."""

    key_hash: str
    limit: int
    window: timedelta


def public_status(tip: Tip) -> PublicStatus:
    """The tip's status in the words a tipster may see (never false_report, spam and the like)."""
    if tip.status is TipStatus.CLOSED:
        return PublicStatus.CLOSED_VALUABLE if tip.outcome is Outcome.VALUABLE else PublicStatus.CLOSED
    return {
        TipStatus.NEW: PublicStatus.RECEIVED,
        TipStatus.IN_REVIEW: PublicStatus.IN_REVIEW,
        TipStatus.NEEDS_INFO: PublicStatus.NEEDS_INFO,
        TipStatus.FORWARDED: PublicStatus.FORWARDED,
    }[tip.status]


async def _attempts_in_window(session: AsyncSession, *, policy: ThrottlePolicy) -> int:
    """Wrong codes this person tried inside the window (ensure_allowed has pruned older ones)."""
    stmt = select(func.count()).where(ThrottleHit.bucket == RECEIPT_BUCKET, ThrottleHit.key_hash == policy.key_hash)
    return int(await session.scalar(stmt) or 0)


async def open_tip_by_receipt(session: AsyncSession, *, keys: PrivacyKeys, code: str, policy: ThrottlePolicy) -> Tip:
    """The tip behind a receipt code; raises TooManyAttempts while blocked, WrongReceipt (counted) otherwise."""
    # Checked before the lookup, so a blocked person learns nothing, not even from a correct code.
    await ensure_allowed(
        session, bucket=RECEIPT_BUCKET, key_hash=policy.key_hash, limit=policy.limit, window=policy.window
    )
    tip = await find_tip_by_receipt(session, receipt_hash=keys.receipt_hash(code))
    if tip is not None:
        return tip
    await record_attempt(session, bucket=RECEIPT_BUCKET, key_hash=policy.key_hash)
    used = await _attempts_in_window(session, policy=policy)
    raise WrongReceipt(tries_left=max(0, policy.limit - used))


async def get_open_tip(session: AsyncSession, *, tip_id: int) -> Tip:
    """The tip a tipster is viewing; raises NotFound if it vanished (e.g. deleted by retention)."""
    tip = await get_tip(session, tip_id=tip_id)
    if tip is None:
        raise NotFound("tip not found")
    return tip


async def add_followup(
    session: AsyncSession, *, tip_id: int, body: str, attachments: Sequence[NewAttachment] = ()
) -> TipMessage:
    """Store one addition (a text, or a file with its caption); closed tips refuse it."""
    tip = await get_open_tip(session, tip_id=tip_id)
    if tip.status is TipStatus.CLOSED:
        raise TipClosed("tip is closed")
    if attachments and await count_attachments(session, tip_id=tip_id) + len(attachments) > FOLLOWUP_MAX_FILES:
        raise TooManyFiles("too many files")
    message = await add_tipster_message(session, tip_id=tip_id, body=body, attachments=attachments)
    if tip.status is TipStatus.NEEDS_INFO:
        # The tipster answered the officers' question: the tip goes back to them for review. Conditional,
        # so the files of one album (handled concurrently) move it and audit it once.
        moved = await session.execute(
            update(Tip)
            .where(Tip.id == tip_id, Tip.status == TipStatus.NEEDS_INFO)
            .values(status=TipStatus.IN_REVIEW)
            .execution_options(synchronize_session="fetch")
        )
        if getattr(moved, "rowcount", 0):
            await record_audit(
                session,
                officer_id=None,
                action="tipster_replied",
                tip_id=tip_id,
                detail={"field": "status", "before": TipStatus.NEEDS_INFO.value, "after": TipStatus.IN_REVIEW.value},
            )
    return message


async def files_per_message(session: AsyncSession, *, tip_id: int) -> dict[int, int]:
    """How many files each thread message carries, so the view can mention them."""
    stmt = (
        select(Attachment.message_id, func.count())
        .where(Attachment.tip_id == tip_id, Attachment.message_id.is_not(None))
        .group_by(Attachment.message_id)
    )
    rows = (await session.execute(stmt)).all()
    return {int(message_id): int(count) for message_id, count in rows if message_id is not None}
