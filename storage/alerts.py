"""Urgent-tip alerts: officers' Telegram links (one-time codes) and claiming tips due for an alert."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import Officer, OneTimeCode, Tip, utcnow
from storage.privacy import RECEIPT_ALPHABET, PrivacyKeys, normalize_receipt
from storage.tip_filters import UNACKNOWLEDGED, overdue_clause

LINK_PURPOSE = "telegram_link"
CHAT_PURPOSE = "officer_chat"
LINK_CODE_LENGTH = 8
LINK_CODE_LIFETIME = timedelta(minutes=15)


def _code_hash(keys: PrivacyKeys, code: str) -> bytes:
    """Keyed hash of a normalised code (case, spaces and look-alike letters do not matter)."""
    return bytes.fromhex(keys.state_hash(LINK_PURPOSE, normalize_receipt(code)))


def looks_like_link_code(text: str) -> bool:
    """True if the text could be a link code (eight characters of the receipt alphabet)."""
    cleaned = normalize_receipt(text)
    return len(cleaned) == LINK_CODE_LENGTH and all(c in RECEIPT_ALPHABET for c in cleaned)


async def issue_link_code(
    session: AsyncSession, *, keys: PrivacyKeys, officer_id: int, now: datetime | None = None
) -> tuple[str, datetime]:
    """A fresh single-use code for /link; older unused codes of this officer stop working."""
    now = now or utcnow()
    await session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.officer_id == officer_id,
            OneTimeCode.purpose == LINK_PURPOSE,
            OneTimeCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(LINK_CODE_LENGTH))
    expires_at = now + LINK_CODE_LIFETIME
    session.add(
        OneTimeCode(
            code_hash=_code_hash(keys, code), officer_id=officer_id, purpose=LINK_PURPOSE, expires_at=expires_at
        )
    )
    await session.flush()
    return code, expires_at


async def redeem_link_code(
    session: AsyncSession, *, keys: PrivacyKeys, code: str, chat_id: int, now: datetime | None = None
) -> Officer:
    """Use a code once: the officer's chat is stored sealed. NotFound for wrong, used or expired codes."""
    now = now or utcnow()
    normalized = normalize_receipt(code)
    if len(normalized) != LINK_CODE_LENGTH or any(c not in RECEIPT_ALPHABET for c in normalized):
        raise NotFound("link code")
    row = await session.scalar(
        select(OneTimeCode).where(
            OneTimeCode.code_hash == _code_hash(keys, normalized), OneTimeCode.purpose == LINK_PURPOSE
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotFound("link code")
    officer = await session.get(Officer, row.officer_id)
    if officer is None or not officer.active:
        raise NotFound("link code")
    # Conditional update: of two simultaneous redemptions only one sees a row change.
    used = cast(
        CursorResult[tuple[()]],
        await session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if used.rowcount != 1:
        raise NotFound("link code")
    officer.telegram_chat_enc = keys.encrypt_text(str(chat_id), purpose=CHAT_PURPOSE)
    await session.flush()
    return officer


async def unlink_officer_chat(session: AsyncSession, *, officer_id: int) -> None:
    """Forget an officer's Telegram chat (they asked, or Telegram says the bot is blocked)."""
    await session.execute(
        update(Officer)
        .where(Officer.id == officer_id)
        .values(telegram_chat_enc=None)
        .execution_options(synchronize_session="fetch")
    )
    await session.flush()


def open_officer_chat(keys: PrivacyKeys, sealed: bytes) -> int:
    """An officer's linked chat id, decrypted only to send an alert."""
    return int(keys.decrypt_text(sealed, purpose=CHAT_PURPOSE))


def _due_clause(now: datetime, ack_within: timedelta) -> ColumnElement[bool]:
    """Urgent tips never alerted yet (and not handled), or overdue with the last alert a window ago."""
    unacknowledged = and_(Tip.status.in_(UNACKNOWLEDGED), Tip.first_response_at.is_(None))
    return and_(
        Tip.urgent.is_(True),
        or_(
            and_(Tip.last_alert_at.is_(None), unacknowledged),
            and_(overdue_clause(now, ack_within), Tip.last_alert_at < now - ack_within),
        ),
    )


async def due_alert_tip_ids(
    session: AsyncSession, *, now: datetime, ack_within: timedelta, limit: int = 100
) -> Sequence[int]:
    """Ids of urgent tips that should alert now, oldest first."""
    stmt = select(Tip.id).where(_due_clause(now, ack_within)).order_by(Tip.created_at, Tip.id).limit(limit)
    return (await session.scalars(stmt)).all()


async def claim_alert(
    session: AsyncSession, *, tip_id: int, now: datetime, ack_within: timedelta
) -> tuple[Tip, datetime | None] | None:
    """Mark a due tip as alerted at `now`; None if another process got it first. Returns (tip, previous alert)."""
    previous = await session.scalar(select(Tip.last_alert_at).where(Tip.id == tip_id))
    claimed = cast(
        CursorResult[tuple[()]],
        await session.execute(
            update(Tip)
            .where(Tip.id == tip_id, _due_clause(now, ack_within))
            # updated_at stays: an alert is not a change to the tip.
            .values(last_alert_at=now, updated_at=Tip.updated_at)
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        return None
    tip = await session.scalar(select(Tip).where(Tip.id == tip_id).execution_options(populate_existing=True))
    return (tip, previous) if tip is not None else None


async def release_alert(session: AsyncSession, *, tip_id: int, claimed_at: datetime, previous: datetime | None) -> None:
    """Undo a claim whose alert reached nobody because sending failed, so the next round retries."""
    await session.execute(
        update(Tip)
        .where(Tip.id == tip_id, Tip.last_alert_at == claimed_at)
        .values(last_alert_at=previous, updated_at=Tip.updated_at)
        .execution_options(synchronize_session=False)
    )


async def alert_recipients(session: AsyncSession) -> Sequence[Officer]:
    """Officers who can receive alerts: active, on duty, with a linked chat (jurisdictions loaded)."""
    stmt = select(Officer).where(
        Officer.active.is_(True), Officer.on_duty.is_(True), Officer.telegram_chat_enc.is_not(None)
    )
    return (await session.scalars(stmt.order_by(Officer.id))).all()
