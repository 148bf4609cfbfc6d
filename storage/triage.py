"""Officers' changes to a tip: status, priority, assignee, outcome, notes, replies, and the outbox rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import record_audit
from storage.domain import (
    MAX_FOLLOWUP_CHARS,
    TIP_TRANSITIONS,
    Anonymity,
    DeliveryState,
    MessageAuthor,
    MessageKind,
    Outcome,
    Priority,
    TipStatus,
)
from storage.errors import Conflict, NotFound, ValidationFailed
from storage.models import Officer, Reporter, Tip, TipMessage
from storage.privacy import PrivacyKeys
from storage.scope import Scope


class Notice(StrEnum):
    """Content-free notices a status change sends the tipster."""

    NEEDS_INFO = "needs_info"
    CLOSED = "closed"
    CLOSED_VALUABLE = "closed_valuable"


@dataclass(frozen=True, slots=True)
class TipChanges:
    """A PATCH: only the fields named in `given` change (so None in assignee_id means "unassign")."""

    given: frozenset[str]
    status: TipStatus | None = None
    priority: Priority | None = None
    outcome: Outcome | None = None
    assignee_id: int | None = None
    duplicate_of_id: int | None = None


@dataclass(slots=True)
class UpdateResult:
    """What changed (field → (before, after)) and which notice the tipster is owed."""

    changes: dict[str, tuple[object, object]] = field(default_factory=dict)
    notice: Notice | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """What an identified tipster chose to share."""

    name: str
    phone: str


def _plain(value: object) -> object:
    """Audit-friendly value: enums by their string value."""
    return value.value if isinstance(value, StrEnum) else value


async def _check_assignee(session: AsyncSession, tip: Tip, assignee_id: int) -> None:
    """The new assignee must be an active officer whose scope covers the tip."""
    officer = await session.get(Officer, assignee_id)
    if officer is None or not officer.active or not Scope.of(officer).covers_tip(tip):
        raise ValidationFailed("assignee_id: no active officer with this tip in their jurisdiction")


async def _check_duplicate_of(session: AsyncSession, tip: Tip, scope: Scope, other_id: int) -> None:
    """The original must be another tip the caller can see."""
    if other_id == tip.id:
        raise ValidationFailed("duplicate_of_id: a tip cannot duplicate itself")
    found = await session.scalar(select(Tip.id).where(Tip.id == other_id, scope.tip_clause()))
    if found is None:
        raise ValidationFailed("duplicate_of_id: no such tip")


def _closing_outcome(tip: Tip, changes: TipChanges) -> Outcome | None:
    """Check the outcome rules; the outcome the tip closes with, or None when it does not close now."""
    closing = "status" in changes.given and changes.status is TipStatus.CLOSED and tip.status is not TipStatus.CLOSED
    if "outcome" in changes.given and not closing:
        raise ValidationFailed("outcome: only given when closing the tip (status closed)")
    if not closing:
        return None
    duplicate_of = changes.duplicate_of_id if "duplicate_of_id" in changes.given else tip.duplicate_of_id
    outcome = changes.outcome
    if outcome is None and duplicate_of is not None:
        outcome = Outcome.DUPLICATE
    if outcome is None:
        raise ValidationFailed("outcome: required when closing the tip")
    if outcome is Outcome.DUPLICATE and duplicate_of is None:
        raise ValidationFailed("duplicate_of_id: required for the outcome duplicate")
    if "duplicate_of_id" in changes.given and changes.duplicate_of_id is not None and outcome is not Outcome.DUPLICATE:
        raise ValidationFailed("duplicate_of_id: only with the outcome duplicate")
    return outcome


async def _validate(session: AsyncSession, tip: Tip, scope: Scope, changes: TipChanges) -> Outcome | None:
    """Every rule checked before anything is written; returns the closing outcome, if any."""
    for name in ("status", "priority"):
        if name in changes.given and getattr(changes, name) is None:
            raise ValidationFailed(f"{name}: may not be null")
    moving = "status" in changes.given and changes.status is not None and changes.status is not tip.status
    if moving and changes.status not in TIP_TRANSITIONS[tip.status]:
        assert changes.status is not None
        raise Conflict(f"status: a {tip.status.value} tip cannot become {changes.status.value}")
    outcome = _closing_outcome(tip, changes)
    if "assignee_id" in changes.given and changes.assignee_id is not None:
        await _check_assignee(session, tip, changes.assignee_id)
    if "duplicate_of_id" in changes.given and changes.duplicate_of_id is not None:
        await _check_duplicate_of(session, tip, scope, changes.duplicate_of_id)
    return outcome


def _notice_for(status: TipStatus, outcome: Outcome | None) -> Notice | None:
    if status is TipStatus.NEEDS_INFO:
        return Notice.NEEDS_INFO
    if status is TipStatus.CLOSED:
        return Notice.CLOSED_VALUABLE if outcome is Outcome.VALUABLE else Notice.CLOSED
    return None


def _mark_responded(tip: Tip, now: datetime) -> None:
    """The first officer action is the first response."""
    if tip.first_response_at is None:
        tip.first_response_at = now


async def update_tip(
    session: AsyncSession, *, tip: Tip, officer_id: int, scope: Scope, changes: TipChanges, now: datetime
) -> UpdateResult:
    """Apply a PATCH: Conflict for a transition the tip life forbids, ValidationFailed for other rules."""
    outcome = await _validate(session, tip, scope, changes)
    wanted: dict[str, object] = {name: getattr(changes, name) for name in changes.given}
    if outcome is not None:
        wanted["outcome"] = outcome
    result = UpdateResult()
    for name in ("status", "priority", "assignee_id", "duplicate_of_id", "outcome"):
        if name in wanted and getattr(tip, name) != wanted[name]:
            result.changes[name] = (getattr(tip, name), wanted[name])
            setattr(tip, name, wanted[name])
    if not result.changes:
        return result
    if "status" in result.changes:
        if tip.status is TipStatus.CLOSED:
            tip.closed_at = now
        result.notice = _notice_for(tip.status, tip.outcome)
    _mark_responded(tip, now)
    tip.updated_at = now
    for name, (before, after) in result.changes.items():
        detail = {"field": name, "before": _plain(before), "after": _plain(after)}
        await record_audit(session, officer_id=officer_id, action="tip_updated", tip_id=tip.id, detail=detail)
    await session.flush()
    return result


def _checked_body(body: str) -> str:
    if not body.strip():
        raise ValidationFailed("body: empty")
    if len(body) > MAX_FOLLOWUP_CHARS:
        raise ValidationFailed(f"body: at most {MAX_FOLLOWUP_CHARS} characters")
    return body


async def add_note(session: AsyncSession, *, tip: Tip, officer_id: int, body: str, now: datetime) -> TipMessage:
    """An internal note: officers only, never sent or shown to the tipster."""
    note = TipMessage(
        tip_id=tip.id,
        author=MessageAuthor.OFFICER,
        kind=MessageKind.NOTE,
        body=_checked_body(body),
        officer_id=officer_id,
    )
    session.add(note)
    _mark_responded(tip, now)
    await session.flush()
    await record_audit(
        session, officer_id=officer_id, action="note_added", tip_id=tip.id, detail={"message_id": note.id}
    )
    return note


async def can_push(session: AsyncSession, *, tip: Tip) -> bool:
    """Whether the bot may write to this tipster: follow-up or identified, with a sealed chat on file."""
    if tip.anonymity is Anonymity.ANONYMOUS or tip.reporter_id is None:
        return False
    chat_enc = await session.scalar(select(Reporter.chat_enc).where(Reporter.id == tip.reporter_id))
    return chat_enc is not None


async def add_reply(session: AsyncSession, *, tip: Tip, officer_id: int, body: str, now: datetime) -> TipMessage:
    """A message to the tipster: queued for the bot, or readable only with /status for anonymous tips."""
    if tip.status is TipStatus.CLOSED:
        raise Conflict("the tip is closed: replies are no longer possible")
    state = DeliveryState.QUEUED if await can_push(session, tip=tip) else DeliveryState.STATUS_ONLY
    reply = TipMessage(
        tip_id=tip.id,
        author=MessageAuthor.OFFICER,
        kind=MessageKind.MESSAGE,
        body=_checked_body(body),
        officer_id=officer_id,
        delivery_state=state,
    )
    session.add(reply)
    _mark_responded(tip, now)
    await session.flush()
    detail = {"message_id": reply.id, "delivery_state": state.value}
    await record_audit(session, officer_id=officer_id, action="reply_sent", tip_id=tip.id, detail=detail)
    return reply


async def queue_notice(session: AsyncSession, *, tip: Tip, body: str) -> TipMessage | None:
    """A content-free system notice for tipsters who allowed follow-up; anonymous ones read /status instead."""
    if not await can_push(session, tip=tip):
        return None
    notice = TipMessage(
        tip_id=tip.id,
        author=MessageAuthor.SYSTEM,
        kind=MessageKind.MESSAGE,
        body=body,
        delivery_state=DeliveryState.QUEUED,
    )
    session.add(notice)
    await session.flush()
    return notice


async def mark_thread_read(session: AsyncSession, *, tip_id: int) -> None:
    """An officer opened the tip: its tipster messages are read."""
    await session.execute(
        update(TipMessage)
        .where(
            TipMessage.tip_id == tip_id,
            TipMessage.author == MessageAuthor.TIPSTER,
            TipMessage.read_by_officer.is_(False),
        )
        .values(read_by_officer=True)
    )


async def record_tip_view(session: AsyncSession, *, tip_id: int, officer_id: int) -> None:
    """Audit an officer reading a tip and mark its tipster messages read."""
    await mark_thread_read(session, tip_id=tip_id)
    await record_audit(session, officer_id=officer_id, action="tip_viewed", tip_id=tip_id)


async def reveal_identity(session: AsyncSession, *, tip: Tip, keys: PrivacyKeys, officer_id: int) -> Identity | None:
    """Decrypt an identified tipster's name and phone; every call is audited. Callers check the role."""
    if tip.identity_name_enc is None or tip.identity_phone_enc is None:
        return None
    identity = Identity(
        name=keys.decrypt_text(tip.identity_name_enc, purpose="identity_name"),
        phone=keys.decrypt_text(tip.identity_phone_enc, purpose="identity_phone"),
    )
    await record_audit(session, officer_id=officer_id, action="identity_viewed", tip_id=tip.id)
    return identity


# --- the outbox's rows ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """A queued message claimed for sending: what to send, where (sealed), in which language."""

    message: TipMessage
    tip_id: int
    locale: str
    chat_enc: bytes | None


async def queued_message_ids(session: AsyncSession, *, limit: int = 100) -> Sequence[int]:
    """Messages waiting for the bot, oldest first."""
    stmt = (
        select(TipMessage.id)
        .where(TipMessage.delivery_state == DeliveryState.QUEUED)
        .order_by(TipMessage.id)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def claim_delivery(session: AsyncSession, *, message_id: int) -> Delivery | None:
    """Lock one queued message (PostgreSQL: skipped if another process holds it); None if gone or taken."""
    stmt = (
        select(TipMessage, Tip.locale, Tip.anonymity, Reporter.chat_enc)
        .join(Tip, Tip.id == TipMessage.tip_id)
        .outerjoin(Reporter, Reporter.id == Tip.reporter_id)
        .where(TipMessage.id == message_id, TipMessage.delivery_state == DeliveryState.QUEUED)
        .with_for_update(skip_locked=True, of=TipMessage)
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        return None
    message, locale, anonymity, chat_enc = found
    # A tip made fully anonymous never has a chat to write to, whatever the reporter row holds.
    return Delivery(
        message=message,
        tip_id=message.tip_id,
        locale=locale,
        chat_enc=None if anonymity is Anonymity.ANONYMOUS else chat_enc,
    )


async def set_delivery_state(session: AsyncSession, *, message: TipMessage, state: DeliveryState) -> None:
    """Record how a delivery went."""
    message.delivery_state = state
    await session.flush()


async def get_message(session: AsyncSession, *, tip_id: int, message_id: int) -> TipMessage:
    """A thread message of a tip."""
    message = await session.get(TipMessage, message_id)
    if message is None or message.tip_id != tip_id:
        raise NotFound("message not found")
    return message
