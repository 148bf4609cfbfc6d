"""Safety pledges: the text in force for an area, the yearly one-per-kind rule, and signing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import get_province, get_ward
from storage.domain import NAME_MAX_CHARS, SignerKind
from storage.errors import Conflict, ValidationFailed
from storage.models import Pledge, PledgeText, utcnow
from storage.privacy import PrivacyKeys

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NAME_PURPOSE = "pledge_name"


class AlreadySigned(Conflict):
    """This signer already signed a pledge of this kind this year."""

    def __init__(self, signed_on: date) -> None:
        super().__init__("already signed this year")
        self.signed_on = signed_on


class TextChanged(Conflict):
    """The pledge text in force changed while the citizen was reading it."""


def pledge_year(now: datetime | None = None) -> int:
    """The pledge year: the calendar year in Asia/Ho_Chi_Minh."""
    return (now or utcnow()).astimezone(LOCAL_TZ).year


def local_date(moment: datetime) -> date:
    """A moment's date in Asia/Ho_Chi_Minh."""
    return moment.astimezone(LOCAL_TZ).date()


def clean_representative(name: str) -> str:
    """The name as it will be signed: trimmed, single-spaced, not empty, not only digits, within the limit."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed("empty")
    if len(cleaned) > NAME_MAX_CHARS:
        raise ValidationFailed("too long")
    if not any(ch.isalpha() for ch in cleaned):
        raise ValidationFailed("no letters")
    return cleaned


async def signed_this_year(
    session: AsyncSession, *, reporter_id: int, signer_kind: SignerKind, now: datetime | None = None
) -> Pledge | None:
    """The citizen's pledge of this kind in the current year, or None."""
    return await session.scalar(
        select(Pledge).where(
            Pledge.reporter_id == reporter_id, Pledge.signer_kind == signer_kind, Pledge.year == pledge_year(now)
        )
    )


async def text_in_force(
    session: AsyncSession, *, signer_kind: SignerKind, province_code: int | None, ward_code: int | None
) -> PledgeText | None:
    """The newest active text for the commune, else for the province, else the national one."""
    scopes: list[ColumnElement[bool]] = [(PledgeText.province_code.is_(None)) & (PledgeText.ward_code.is_(None))]
    if province_code is not None:
        scopes.append((PledgeText.province_code == province_code) & (PledgeText.ward_code.is_(None)))
    if ward_code is not None:
        scopes.append(PledgeText.ward_code == ward_code)
    rows = await session.scalars(
        select(PledgeText).where(PledgeText.signer_kind == signer_kind, PledgeText.active.is_(True), or_(*scopes))
    )

    def rank(text: PledgeText) -> tuple[int, int, int]:
        scope = 2 if text.ward_code is not None else 1 if text.province_code is not None else 0
        return (scope, text.version, text.id)

    return max(rows, key=rank, default=None)


async def sign_pledge(
    session: AsyncSession,
    *,
    keys: PrivacyKeys,
    reporter_id: int,
    signer_kind: SignerKind,
    province_code: int,
    ward_code: int | None,
    representative: str,
    text_id: int,
    now: datetime | None = None,
) -> Pledge:
    """Record a signed pledge with the name sealed; refuses a second one of the kind this year."""
    now = now or utcnow()
    name = clean_representative(representative)
    if await get_province(session, code=province_code) is None:
        raise ValidationFailed("unknown province")
    if ward_code is not None:
        found = await get_ward(session, code=ward_code)
        if found is None or found[1] != province_code:
            raise ValidationFailed("the commune is not in the province")
    elif signer_kind == SignerKind.HOUSEHOLD:
        raise ValidationFailed("a household pledge needs its commune")
    current = await text_in_force(session, signer_kind=signer_kind, province_code=province_code, ward_code=ward_code)
    if current is None or current.id != text_id:
        raise TextChanged("the pledge text in force changed")
    existing = await signed_this_year(session, reporter_id=reporter_id, signer_kind=signer_kind, now=now)
    if existing is not None:
        raise AlreadySigned(local_date(existing.created_at))
    pledge = Pledge(
        reporter_id=reporter_id,
        signer_kind=signer_kind,
        province_code=province_code,
        ward_code=ward_code,
        representative_enc=keys.encrypt_text(name, purpose=NAME_PURPOSE),
        text_id=text_id,
        year=pledge_year(now),
        created_at=now,
    )
    try:
        # A double press races past the check above; the unique constraint decides.
        async with session.begin_nested():
            session.add(pledge)
            await session.flush()
    except IntegrityError:
        raise AlreadySigned(local_date(now)) from None
    return pledge
