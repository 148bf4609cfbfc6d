"""Creating tips and the tipster's side of a tip's thread."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, selectinload

from storage.areas import get_province, get_ward
from storage.domain import (
    DESCRIPTION_MAX_CHARS,
    MAX_ATTACHMENTS,
    MAX_FOLLOWUP_CHARS,
    PLACE_DETAIL_MAX_CHARS,
    Anonymity,
    AttachmentKind,
    Category,
    MessageAuthor,
    MessageKind,
    Priority,
    WhenKind,
)
from storage.errors import ValidationFailed
from storage.models import Attachment, Tip, TipMessage
from storage.privacy import RECEIPT_ALPHABET, PrivacyKeys
from storage.reporters import set_reporter_chat


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file reference as Telegram gave it."""

    kind: AttachmentKind
    file_id: str
    file_unique_id: str
    size: int | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class NewTip:
    """Everything the citizen entered in the form."""

    category: Category
    urgent: bool
    province_code: int
    ward_code: int | None
    when_kind: WhenKind
    description: str
    anonymity: Anonymity
    locale: str = "vi"
    occurred_on: date | None = None
    place_detail: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    identity_name: str | None = None
    identity_phone: str | None = None
    attachments: Sequence[NewAttachment] = field(default_factory=tuple)


def new_tip_ref() -> str:
    """A random officer-facing reference such as TB-7K3M9Q2 (no order, so it leaks no timing)."""
    return "TB-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(7))


async def check_tip(session: AsyncSession, tip: NewTip) -> None:
    """Check the form against domain rules before anything is written."""
    if not tip.description.strip():
        raise ValidationFailed("description is empty")
    if len(tip.description) > DESCRIPTION_MAX_CHARS:
        raise ValidationFailed("description is too long")
    if tip.place_detail is not None and len(tip.place_detail) > PLACE_DETAIL_MAX_CHARS:
        raise ValidationFailed("place detail is too long")
    if len(tip.attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed("too many attachments")
    if tip.when_kind is WhenKind.DATE and tip.occurred_on is None:
        raise ValidationFailed("date missing")
    if await get_province(session, code=tip.province_code) is None:
        raise ValidationFailed("unknown province")
    if tip.ward_code is not None:
        ward = await get_ward(session, code=tip.ward_code)
        if ward is None or ward[1] != tip.province_code:
            raise ValidationFailed("commune not in province")
    if tip.anonymity is Anonymity.IDENTIFIED and not (tip.identity_name and tip.identity_phone):
        raise ValidationFailed("identified tips need a name and a phone")
    if tip.anonymity is not Anonymity.IDENTIFIED and (tip.identity_name or tip.identity_phone):
        raise ValidationFailed("identity given for an anonymous tip")


async def create_tip(
    session: AsyncSession,
    *,
    tip: NewTip,
    reporter_id: int | None,
    receipt_hash: bytes,
    keys: PrivacyKeys,
) -> Tip:
    """Check and write a tip with its attachments; anonymous tips are stored with no reporter link."""
    await check_tip(session, tip)
    return await session.run_sync(add_tip, tip=tip, reporter_id=reporter_id, receipt_hash=receipt_hash, keys=keys)


def add_tip(
    session: Session,
    *,
    tip: NewTip,
    reporter_id: int | None,
    receipt_hash: bytes,
    keys: PrivacyKeys,
    chat_enc: bytes | None = None,
) -> Tip:
    """Write a tip that passed `check_tip`, with its attachments (synchronous: a group commit's write job).

    Anonymous tips are stored with no reporter link; otherwise `chat_enc` (the sealed chat id) is kept on
    the reporter for follow-up messages, in the same transaction.
    """
    if tip.anonymity is Anonymity.ANONYMOUS:
        reporter_id = None  # the product promise: nothing links this tip to an account
    row = Tip(
        ref=new_tip_ref(),
        receipt_hash=receipt_hash,
        reporter_id=reporter_id,
        anonymity=tip.anonymity,
        locale=tip.locale,
        category=tip.category,
        category_group=tip.category.group,
        urgent=tip.urgent,
        priority=Priority.URGENT if tip.urgent else Priority.NORMAL,
        province_code=tip.province_code,
        ward_code=tip.ward_code,
        place_detail=tip.place_detail or None,
        latitude=tip.latitude,
        longitude=tip.longitude,
        when_kind=tip.when_kind,
        occurred_on=tip.occurred_on,
        description=tip.description,
        identity_name_enc=(
            keys.encrypt_text(tip.identity_name, purpose="identity_name") if tip.identity_name else None
        ),
        identity_phone_enc=(
            keys.encrypt_text(tip.identity_phone, purpose="identity_phone") if tip.identity_phone else None
        ),
    )
    session.add(row)
    session.flush()
    session.add_all([_attachment_row(row.id, None, item) for item in tip.attachments])
    if reporter_id is not None and chat_enc is not None:
        set_reporter_chat(session, reporter_id=reporter_id, chat_enc=chat_enc)
    session.flush()
    return row


def _attachment_row(tip_id: int, message_id: int | None, item: NewAttachment) -> Attachment:
    return Attachment(
        tip_id=tip_id,
        message_id=message_id,
        kind=item.kind,
        file_id=item.file_id,
        file_unique_id=item.file_unique_id,
        size=item.size,
        mime_type=item.mime_type,
    )


async def find_tip_by_receipt(session: AsyncSession, *, receipt_hash: bytes) -> Tip | None:
    """The tip behind a receipt hash, or None."""
    return await session.scalar(select(Tip).where(Tip.receipt_hash == receipt_hash))


async def get_tip(session: AsyncSession, *, tip_id: int) -> Tip | None:
    """A tip by id."""
    return await session.get(Tip, tip_id)


async def add_tipster_message(
    session: AsyncSession, *, tip_id: int, body: str, attachments: Sequence[NewAttachment] = ()
) -> TipMessage:
    """Add information the tipster sent later through /status."""
    if not body.strip() and not attachments:
        raise ValidationFailed("empty message")
    if len(body) > MAX_FOLLOWUP_CHARS:
        raise ValidationFailed("message is too long")
    count = await count_attachments(session, tip_id=tip_id)
    if count + len(attachments) > MAX_ATTACHMENTS * 3:
        raise ValidationFailed("too many attachments")
    message = TipMessage(tip_id=tip_id, author=MessageAuthor.TIPSTER, kind=MessageKind.MESSAGE, body=body)
    session.add(message)
    await session.flush()
    for item in attachments:
        session.add(_attachment_row(tip_id, message.id, item))
    await session.flush()
    return message


async def count_attachments(session: AsyncSession, *, tip_id: int) -> int:
    """How many files a tip carries."""
    return int(await session.scalar(select(func.count()).where(Attachment.tip_id == tip_id)) or 0)


async def tipster_thread(session: AsyncSession, *, tip_id: int) -> Sequence[TipMessage]:
    """Messages the tipster may read: theirs and officers' replies, never internal notes."""
    stmt = (
        select(TipMessage)
        .where(TipMessage.tip_id == tip_id, TipMessage.kind == MessageKind.MESSAGE)
        .order_by(TipMessage.id)
    )
    return (await session.scalars(stmt)).all()


async def load_tip_with_thread(session: AsyncSession, *, tip_id: int) -> Tip | None:
    """A tip with its messages and attachments loaded."""
    stmt = select(Tip).where(Tip.id == tip_id).options(selectinload(Tip.messages), selectinload(Tip.attachments))
    return await session.scalar(stmt)
