"""Officers' read side of outreach: subscriber counts, pledge coverage and lists, pledge texts, feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.domain import TOPIC_BITS, SignerKind, SubscriberState, Topic
from storage.errors import NotFound, PermissionDenied, ValidationFailed
from storage.models import Base, Feedback, Officer, Pledge, PledgeText, Province, Subscriber, Ward
from storage.privacy import PrivacyKeys
from storage.scope import Scope

PLEDGE_NAME_PURPOSE = "pledge_name"
PLEDGE_TEXT_MAX_CHARS = 4000


@dataclass(frozen=True, slots=True)
class AreaCount:
    """A count for one province or commune."""

    code: int
    name: str
    count: int
    province_code: int | None = None


async def _by_province(
    session: AsyncSession, model: type[Base], province_col: Any, where: ColumnElement[bool]
) -> list[AreaCount]:
    """Counts per province of the rows of `model` matching `where`."""
    stmt = (
        select(Province.code, Province.name, func.count())
        .select_from(model)
        .join(Province, Province.code == province_col)
        .where(where)
        .group_by(Province.code, Province.name)
        .order_by(func.count().desc(), Province.code)
    )
    return [AreaCount(code, name, int(n)) for code, name, n in (await session.execute(stmt)).all()]


async def _by_commune(
    session: AsyncSession, model: type[Base], ward_col: Any, where: ColumnElement[bool], limit: int = 500
) -> list[AreaCount]:
    """Counts per commune (the busiest first) of the rows of `model` matching `where`."""
    stmt = (
        select(Ward.code, Ward.name, Ward.province_code, func.count())
        .select_from(model)
        .join(Ward, Ward.code == ward_col)
        .where(where)
        .group_by(Ward.code, Ward.name, Ward.province_code)
        .order_by(func.count().desc(), Ward.code)
        .limit(limit)
    )
    return [AreaCount(code, name, int(n), province) for code, name, province, n in (await session.execute(stmt)).all()]


# --- subscribers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    """Counts only: subscribers are never listed one by one, and no chat id leaves storage."""

    total: int
    by_state: dict[SubscriberState, int]
    active: int
    by_topic: dict[Topic, int]
    whole_country: int
    whole_province: int
    by_province: list[AreaCount]
    by_commune: list[AreaCount]


def subscriber_clause(scope: Scope, province_code: int | None = None) -> ColumnElement[bool]:
    """Subscribers inside the scope (whole-country ones only for nationwide officers), optionally one province."""
    clause = scope.area_clause(Subscriber.province_code, Subscriber.ward_code)  # type: ignore[arg-type]
    if province_code is not None:
        clause = and_(clause, Subscriber.province_code == province_code)
    return clause


async def subscriber_stats(session: AsyncSession, *, scope: Scope, province_code: int | None = None) -> SubscriberStats:
    """Counts by state over everyone in scope; topic and area counts over active subscribers."""
    where = subscriber_clause(scope, province_code)
    by_state = {state: 0 for state in SubscriberState}
    for state, n in (
        await session.execute(select(Subscriber.state, func.count()).where(where).group_by(Subscriber.state))
    ).all():
        by_state[SubscriberState(state)] = int(n)
    active = and_(where, Subscriber.state == SubscriberState.ACTIVE)
    topic_counts = [
        func.sum(case((Subscriber.topics_mask.op("&")(bit) != 0, 1), else_=0)) for bit in TOPIC_BITS.values()
    ]
    topic_row = (await session.execute(select(*topic_counts).where(active))).one()
    whole_country = int(
        await session.scalar(select(func.count()).where(active, Subscriber.province_code.is_(None))) or 0
    )
    whole_province = int(
        await session.scalar(
            select(func.count()).where(active, Subscriber.province_code.is_not(None), Subscriber.ward_code.is_(None))
        )
        or 0
    )
    return SubscriberStats(
        total=sum(by_state.values()),
        by_state=by_state,
        active=by_state[SubscriberState.ACTIVE],
        by_topic={topic: int(n or 0) for topic, n in zip(TOPIC_BITS, topic_row, strict=True)},
        whole_country=whole_country,
        whole_province=whole_province,
        by_province=await _by_province(session, Subscriber, Subscriber.province_code, active),
        by_commune=await _by_commune(session, Subscriber, Subscriber.ward_code, active),
    )


# --- pledges --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextCount:
    """Pledges signed on one version of a pledge text."""

    text_id: int
    version: int
    signer_kind: SignerKind
    province_code: int | None
    ward_code: int | None
    count: int


@dataclass(frozen=True, slots=True)
class PledgeCoverage:
    """How far pledges reach in an area and year."""

    year: int
    total: int
    by_kind: dict[SignerKind, int]
    households_by_commune: list[AreaCount]
    by_province: list[AreaCount]
    by_text: list[TextCount]


@dataclass(frozen=True, slots=True)
class PledgeFilter:
    """Filters of the pledge list and coverage; empty fields do not filter."""

    year: int | None = None
    province_code: int | None = None
    ward_code: int | None = None
    signer_kind: SignerKind | None = None


def _pledge_where(scope: Scope, query: PledgeFilter) -> ColumnElement[bool]:
    parts = [scope.area_clause(Pledge.province_code, Pledge.ward_code)]  # type: ignore[arg-type]
    if query.year is not None:
        parts.append(Pledge.year == query.year)
    if query.province_code is not None:
        parts.append(Pledge.province_code == query.province_code)
    if query.ward_code is not None:
        parts.append(Pledge.ward_code == query.ward_code)
    if query.signer_kind is not None:
        parts.append(Pledge.signer_kind == query.signer_kind)
    return and_(*parts)


async def pledge_coverage(session: AsyncSession, *, scope: Scope, query: PledgeFilter) -> PledgeCoverage:
    """Household pledges per commune, all pledges by kind, province and text version."""
    where = _pledge_where(scope, query)
    by_kind = {kind: 0 for kind in SignerKind}
    for kind, n in (
        await session.execute(select(Pledge.signer_kind, func.count()).where(where).group_by(Pledge.signer_kind))
    ).all():
        by_kind[SignerKind(kind)] = int(n)
    households = and_(where, Pledge.signer_kind == SignerKind.HOUSEHOLD)
    text_rows = await session.execute(
        select(
            PledgeText.id,
            PledgeText.version,
            PledgeText.signer_kind,
            PledgeText.province_code,
            PledgeText.ward_code,
            func.count(),
        )
        .join(Pledge, Pledge.text_id == PledgeText.id)
        .where(where)
        .group_by(
            PledgeText.id, PledgeText.version, PledgeText.signer_kind, PledgeText.province_code, PledgeText.ward_code
        )
        .order_by(PledgeText.signer_kind, PledgeText.version, PledgeText.id)
    )
    return PledgeCoverage(
        year=query.year or 0,
        total=sum(by_kind.values()),
        by_kind=by_kind,
        households_by_commune=await _by_commune(session, Pledge, Pledge.ward_code, households, limit=3321),
        by_province=await _by_province(session, Pledge, Pledge.province_code, where),
        by_text=[TextCount(i, v, SignerKind(k), p, w, int(n)) for i, v, k, p, w, n in text_rows.all()],
    )


@dataclass(frozen=True, slots=True)
class PledgeItem:
    """One pledge without the signer's name (names are revealed separately, audited)."""

    id: int
    signer_kind: SignerKind
    province_code: int
    province_name: str
    ward_code: int | None
    ward_name: str | None
    year: int
    text_id: int
    text_version: int
    created_at: datetime
    representative_enc: bytes


async def list_pledges(
    session: AsyncSession, *, scope: Scope, query: PledgeFilter, limit: int, offset: int
) -> tuple[list[PledgeItem], int]:
    """Pledges in scope, newest first, with the total for paging."""
    where = _pledge_where(scope, query)
    total = int(await session.scalar(select(func.count()).select_from(Pledge).where(where)) or 0)
    stmt = (
        select(Pledge, Province.name, Ward.name, PledgeText.version)
        .join(Province, Province.code == Pledge.province_code)
        .outerjoin(Ward, Ward.code == Pledge.ward_code)
        .join(PledgeText, PledgeText.id == Pledge.text_id)
        .where(where)
        .order_by(Pledge.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [
        PledgeItem(
            p.id,
            p.signer_kind,
            p.province_code,
            province,
            p.ward_code,
            ward,
            p.year,
            p.text_id,
            version,
            p.created_at,
            p.representative_enc,
        )
        for p, province, ward, version in (await session.execute(stmt)).all()
    ]
    return items, total


def reveal_representative(item: PledgeItem, keys: PrivacyKeys) -> str:
    """The signer's name as they chose to sign (callers check the role and audit the view)."""
    return keys.decrypt_text(item.representative_enc, purpose=PLEDGE_NAME_PURPOSE)


def _text_area_visible(scope: Scope, text: PledgeText) -> bool:
    """National texts apply everywhere, so every officer may read them; area texts follow the scope."""
    if text.province_code is None:
        return True
    return scope.covers_area(text.province_code, text.ward_code)


async def list_pledge_texts(
    session: AsyncSession, *, scope: Scope, signer_kind: SignerKind | None = None, active: bool | None = None
) -> list[PledgeText]:
    """Pledge texts officers may read (national ones and those of areas inside the scope)."""
    stmt = select(PledgeText).order_by(PledgeText.signer_kind, PledgeText.version.desc(), PledgeText.id.desc())
    if signer_kind is not None:
        stmt = stmt.where(PledgeText.signer_kind == signer_kind)
    if active is not None:
        stmt = stmt.where(PledgeText.active.is_(active))
    return [t for t in (await session.scalars(stmt)).all() if _text_area_visible(scope, t)]


async def create_pledge_text(
    session: AsyncSession,
    *,
    scope: Scope,
    signer_kind: SignerKind,
    body: str,
    province_code: int | None,
    ward_code: int | None,
) -> PledgeText:
    """A new version for an area (the country, a province or a commune); older ones there are retired."""
    text = body.strip()
    if not text:
        raise ValidationFailed("body: required")
    if len(text) > PLEDGE_TEXT_MAX_CHARS:
        raise ValidationFailed(f"body: at most {PLEDGE_TEXT_MAX_CHARS} characters")
    if ward_code is not None:
        ward_province = await session.scalar(select(Ward.province_code).where(Ward.code == ward_code))
        if ward_province is None:
            raise ValidationFailed("ward_code: unknown commune")
        if province_code is not None and province_code != ward_province:
            raise ValidationFailed("ward_code: the commune is not in the province")
        province_code = ward_province
    elif province_code is not None and await session.get(Province, province_code) is None:
        raise ValidationFailed("province_code: unknown province")
    if province_code is None and not scope.nationwide:
        raise PermissionDenied("only nationwide admins may change the national pledge text")
    if province_code is not None and not scope.covers_area(province_code, ward_code):
        raise PermissionDenied("the area lies outside your jurisdiction")
    latest = await session.scalar(select(func.max(PledgeText.version)).where(PledgeText.signer_kind == signer_kind))
    same_area = and_(
        PledgeText.signer_kind == signer_kind,
        PledgeText.province_code.is_(None) if province_code is None else PledgeText.province_code == province_code,
        PledgeText.ward_code.is_(None) if ward_code is None else PledgeText.ward_code == ward_code,
    )
    await session.execute(update(PledgeText).where(same_area, PledgeText.active.is_(True)).values(active=False))
    row = PledgeText(
        version=int(latest or 0) + 1,
        signer_kind=signer_kind,
        province_code=province_code,
        ward_code=ward_code,
        body=text,
        active=True,
    )
    session.add(row)
    await session.flush()
    return row


# --- feedback -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedbackFilter:
    """Filters of the feedback list; empty fields do not filter."""

    handled: bool | None = None
    province_code: int | None = None
    ward_code: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One opinion with the names an officer needs to read it."""

    feedback: Feedback
    province_name: str
    ward_name: str | None
    handled_by_username: str | None


def _feedback_where(scope: Scope, query: FeedbackFilter) -> ColumnElement[bool]:
    parts = [scope.area_clause(Feedback.province_code, Feedback.ward_code)]  # type: ignore[arg-type]
    if query.handled is not None:
        parts.append(Feedback.handled_at.is_not(None) if query.handled else Feedback.handled_at.is_(None))
    if query.province_code is not None:
        parts.append(Feedback.province_code == query.province_code)
    if query.ward_code is not None:
        parts.append(Feedback.ward_code == query.ward_code)
    if query.since is not None:
        parts.append(Feedback.created_at >= query.since)
    if query.until is not None:
        parts.append(Feedback.created_at < query.until)
    return and_(*parts)


def _feedback_select() -> Select[Feedback, str, str | None, str | None]:
    return (
        select(Feedback, Province.name, Ward.name, Officer.username)
        .join(Province, Province.code == Feedback.province_code)
        .outerjoin(Ward, Ward.code == Feedback.ward_code)
        .outerjoin(Officer, Officer.id == Feedback.handled_by_id)
    )


async def list_feedback(
    session: AsyncSession, *, scope: Scope, query: FeedbackFilter, limit: int, offset: int
) -> tuple[list[FeedbackItem], int]:
    """Feedback in scope, newest first, with the total for paging."""
    where = _feedback_where(scope, query)
    total = int(await session.scalar(select(func.count()).select_from(Feedback).where(where)) or 0)
    stmt = _feedback_select().where(where).order_by(Feedback.id.desc()).limit(limit).offset(offset)
    return [FeedbackItem(f, p, w, u) for f, p, w, u in (await session.execute(stmt)).all()], total


async def get_feedback(session: AsyncSession, *, scope: Scope, feedback_id: int) -> FeedbackItem:
    """One opinion inside the scope; NotFound otherwise."""
    where = and_(Feedback.id == feedback_id, _feedback_where(scope, FeedbackFilter()))
    row = (await session.execute(_feedback_select().where(where))).first()
    if row is None:
        raise NotFound("feedback not found")
    return FeedbackItem(row[0], row[1], row[2], row[3])


async def mark_feedback(
    session: AsyncSession, *, item: FeedbackItem, handled: bool, officer_id: int, now: datetime
) -> bool:
    """Mark handled (or open again); False when it already was in that state."""
    feedback = item.feedback
    if (feedback.handled_at is not None) == handled:
        return False
    feedback.handled_at = now if handled else None
    feedback.handled_by_id = officer_id if handled else None
    await session.flush()
    return True


@dataclass(frozen=True, slots=True)
class FeedbackStats:
    """Feedback counts in scope."""

    total: int
    handled: int
    open: int
    by_province: list[AreaCount]
    by_commune: list[AreaCount]


async def feedback_stats(session: AsyncSession, *, scope: Scope, query: FeedbackFilter) -> FeedbackStats:
    """Totals, handled and open, by province and commune."""
    where = _feedback_where(scope, query)
    total = int(await session.scalar(select(func.count()).select_from(Feedback).where(where)) or 0)
    handled = int(
        await session.scalar(select(func.count()).select_from(Feedback).where(where, Feedback.handled_at.is_not(None)))
        or 0
    )
    return FeedbackStats(
        total=total,
        handled=handled,
        open=total - handled,
        by_province=await _by_province(session, Feedback, Feedback.province_code, where),
        by_commune=await _by_commune(session, Feedback, Feedback.ward_code, where),
    )
