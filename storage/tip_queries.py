"""Reading tips for officers: the scoped, keyset-paged list and one tip with its thread, files and trail."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.audit import tip_audit_trail
from storage.domain import (
    Anonymity,
    Category,
    CategoryGroup,
    MessageAuthor,
    Outcome,
    Priority,
    TipStatus,
)
from storage.errors import NotFound, ValidationFailed
from storage.models import Attachment, AuditEvent, Officer, Province, Reporter, Tip, TipMessage, Ward
from storage.scope import Scope
from storage.tip_filters import TipFilter, filter_clauses, overdue_clause

RELATED_WINDOW = timedelta(days=30)
RELATED_LIMIT = 10
# Counting stops here: an exact count(*) over a million rows costs more than the whole page (p95 < 50 ms);
# past this many matches the list says "10,000+" and the statistics endpoint gives exact figures.
TOTAL_CAP = 10_000
# A text search counts to a lower cap: every counted match is a heap visit to recheck the lossy trigram index
# (10,000 of them cost ~40 ms on a million tips, 1,000 about 5 ms); the first page does not depend on it.
TEXT_TOTAL_CAP = 1_000
Assignee = aliased(Officer, name="assignee")
Author = aliased(Officer, name="author")


class TipSort(StrEnum):
    """List orders; a leading minus means descending."""

    CREATED_ASC = "created_at"
    CREATED_DESC = "-created_at"
    PRIORITY = "priority"  # most urgent first, newest first inside a priority
    PRIORITY_REVERSED = "-priority"  # least urgent first, newest first inside a priority
    UPDATED_ASC = "updated_at"
    UPDATED_DESC = "-updated_at"


# urgent < high < normal < low, so "priority" ascending means most urgent first.
PRIORITY_RANK = case(
    (Tip.priority == Priority.URGENT, 0),
    (Tip.priority == Priority.HIGH, 1),
    (Tip.priority == Priority.NORMAL, 2),
    else_=3,
)


@dataclass(frozen=True, slots=True)
class TipRow:
    """One tip as the list shows it (no description, no identity, never a Telegram identifier)."""

    id: int
    ref: str
    category: Category
    group: CategoryGroup
    province_code: int
    province_name: str | None
    ward_code: int | None
    ward_name: str | None
    status: TipStatus
    priority: Priority
    urgent: bool
    outcome: Outcome | None
    assignee_id: int | None
    assignee_username: str | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    unread: int
    overdue: bool
    anonymity: Anonymity
    reporter_alias: str | None

    @property
    def first_response_seconds(self) -> int | None:
        """Seconds from the tip to the first officer action, or None while nobody acted."""
        if self.first_response_at is None:
            return None
        return max(0, int((self.first_response_at - self.created_at).total_seconds()))


@dataclass(frozen=True, slots=True)
class TipPage:
    """One page of the list."""

    items: list[TipRow]
    total: int
    total_capped: bool  # True: more than `total` tips match (counting stopped at TOTAL_CAP or TEXT_TOTAL_CAP)
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """One thread message with the officer who wrote it (officers see each other, tipsters never)."""

    message: TipMessage
    officer_username: str | None
    attachment_indexes: list[int]


@dataclass(frozen=True, slots=True)
class AttachmentEntry:
    """A file of the tip; `index` is its 1-based position by upload order (the download path uses it)."""

    index: int
    attachment: Attachment


@dataclass(frozen=True, slots=True)
class RelatedTip:
    """A tip that may concern the same matter."""

    id: int
    ref: str
    category: Category
    status: TipStatus
    created_at: datetime
    reason: str  # "same_reporter" or "same_place"


@dataclass(frozen=True, slots=True)
class TipDetail:
    """Everything an officer sees about one tip."""

    row: TipRow
    tip: Tip
    thread: list[ThreadEntry]
    attachments: list[AttachmentEntry]
    related: list[RelatedTip]
    trail: Sequence[AuditEvent]


def _unread_count() -> Any:
    """Correlated count of tipster messages no officer has opened (evaluated for the page rows only)."""
    return (
        select(func.count(TipMessage.id))
        .where(
            TipMessage.tip_id == Tip.id,
            TipMessage.author == MessageAuthor.TIPSTER,
            TipMessage.read_by_officer.is_(False),
        )
        .correlate(Tip)
        .scalar_subquery()
    )


def _row_select(now: datetime, ack_within: timedelta) -> Select[*tuple[Any, ...]]:
    """The list columns: the tip, area names, assignee, alias and unread count in one statement."""
    return (
        select(
            Tip.id,
            Tip.ref,
            Tip.category,
            Tip.category_group,
            Tip.province_code,
            Province.name,
            Tip.ward_code,
            Ward.name,
            Tip.status,
            Tip.priority,
            Tip.urgent,
            Tip.outcome,
            Tip.assignee_id,
            Assignee.username,
            Tip.created_at,
            Tip.updated_at,
            Tip.first_response_at,
            Tip.closed_at,
            _unread_count(),
            overdue_clause(now, ack_within),
            Tip.anonymity,
            Reporter.alias,
        )
        .select_from(Tip)
        .outerjoin(Province, Province.code == Tip.province_code)
        .outerjoin(Ward, Ward.code == Tip.ward_code)
        .outerjoin(Assignee, Assignee.id == Tip.assignee_id)
        .outerjoin(Reporter, Reporter.id == Tip.reporter_id)
    )


def _to_row(values: Sequence[Any]) -> TipRow:
    (
        tip_id, ref, category, group, province_code, province_name, ward_code, ward_name, status, priority,
        urgent, outcome, assignee_id, assignee_username, created_at, updated_at, first_response_at, closed_at,
        unread, overdue, anonymity, alias,
    ) = values  # fmt: skip
    return TipRow(
        id=tip_id,
        ref=ref,
        category=category,
        group=group,
        province_code=province_code,
        province_name=province_name,
        ward_code=ward_code,
        ward_name=ward_name,
        status=status,
        priority=priority,
        urgent=bool(urgent),
        outcome=outcome,
        assignee_id=assignee_id,
        assignee_username=assignee_username,
        created_at=created_at,
        updated_at=updated_at,
        first_response_at=first_response_at,
        closed_at=closed_at,
        unread=int(unread or 0),
        overdue=bool(overdue),
        anonymity=anonymity,
        # The alias is the only handle officers get; fully anonymous tips have none.
        reporter_alias=None if anonymity is Anonymity.ANONYMOUS else alias,
    )


# --- keyset pagination ---------------------------------------------------------------------------


def _sort_keys(sort: TipSort) -> list[tuple[Any, bool]]:
    """(expression, descending) pairs; the tip id always breaks ties, so the order is total."""
    if sort in (TipSort.PRIORITY, TipSort.PRIORITY_REVERSED):
        return [(PRIORITY_RANK, sort is TipSort.PRIORITY_REVERSED), (Tip.created_at, True), (Tip.id, True)]
    column = Tip.updated_at if sort in (TipSort.UPDATED_ASC, TipSort.UPDATED_DESC) else Tip.created_at
    descending = sort.value.startswith("-")
    return [(column, descending), (Tip.id, descending)]


def _key_values(sort: TipSort, row: TipRow) -> list[Any]:
    if sort in (TipSort.PRIORITY, TipSort.PRIORITY_REVERSED):
        rank = list(Priority).index(row.priority)
        return [rank, row.created_at, row.id]
    moment = row.updated_at if sort in (TipSort.UPDATED_ASC, TipSort.UPDATED_DESC) else row.created_at
    return [moment, row.id]


def encode_cursor(sort: TipSort, values: Sequence[Any]) -> str:
    """An opaque cursor: the sort and the last row's keys."""
    plain = [sort.value, *(v.isoformat() if isinstance(v, datetime) else v for v in values)]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(sort: TipSort, cursor: str) -> list[Any]:
    """The keys inside a cursor made by `encode_cursor` for the same sort; ValidationFailed otherwise."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or not raw or raw[0] != sort.value:
            raise ValueError("sort")
        keys = _sort_keys(sort)
        values = raw[1:]
        if len(values) != len(keys):
            raise ValueError("length")
        decoded: list[Any] = []
        for (expr, _desc), value in zip(keys, values, strict=True):
            if expr is Tip.created_at or expr is Tip.updated_at:
                moment = datetime.fromisoformat(str(value))
                if moment.tzinfo is None:
                    raise ValueError("naive")
                decoded.append(moment.astimezone(UTC))  # OverflowError for year-1 dates, caught below
            elif isinstance(value, int) and not isinstance(value, bool):
                decoded.append(value)
            else:
                raise ValueError("type")
        return decoded
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("invalid cursor (it belongs to another sort or was altered)") from exc


def _after(keys: list[tuple[Any, bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the given order."""
    if len({desc for _e, desc in keys}) == 1:
        # One direction: a row-value comparison the (key, id) index can seek to directly.
        left = tuple_(*(expr for expr, _d in keys))
        right = tuple_(*values)
        return left < right if keys[0][1] else left > right
    branches: list[ColumnElement[bool]] = []
    for i, (expr, desc) in enumerate(keys):
        equal = [k == v for (k, _d), v in zip(keys[:i], values[:i], strict=True)]
        branches.append(and_(*equal, expr < values[i] if desc else expr > values[i]))
    first, first_desc = keys[0]
    bound = first <= values[0] if first_desc else first >= values[0]
    return and_(bound, or_(*branches))


async def list_tips(
    session: AsyncSession,
    *,
    tip_filter: TipFilter,
    scope: Scope,
    now: datetime,
    ack_within: timedelta,
    sort: TipSort = TipSort.CREATED_DESC,
    limit: int = 50,
    cursor: str | None = None,
) -> TipPage:
    """One page of tips inside the scope, plus the total matching the filter."""
    clauses = filter_clauses(tip_filter, scope, now=now, ack_within=ack_within)
    searching = bool(tip_filter.text and tip_filter.text.strip())
    custom_plans = searching and session.get_bind().dialect.name == "postgresql"
    if custom_plans:
        # How common the searched text is decides between the trigram index and a scan; a generic plan (what
        # PostgreSQL reuses after five runs of a prepared statement) cannot know it: 20 ms → 31 ms per count.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    keys = _sort_keys(sort)
    order = [expr.desc() if desc else expr.asc() for expr, desc in keys]
    # Pick the page's ids on the tips table alone, then join names and counts for those rows only:
    # a sort the indexes cannot serve then sorts narrow rows instead of joined ones.
    page_ids = select(Tip.id).where(*clauses)
    if cursor:
        page_ids = page_ids.where(_after(keys, decode_cursor(sort, cursor)))
    page = page_ids.order_by(*order).limit(limit + 1).subquery("page")
    stmt = _row_select(now, ack_within).join(page, page.c.id == Tip.id).order_by(*order)
    rows = [_to_row(r) for r in (await session.execute(stmt)).all()]
    cap = TEXT_TOTAL_CAP if searching else TOTAL_CAP
    total = await _capped_count(session, clauses, cap)
    if custom_plans:
        await session.execute(text("SET LOCAL plan_cache_mode = auto"))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(sort, _key_values(sort, rows[-1])) if more and rows else None
    return TipPage(items=rows, total=min(total, cap), total_capped=total > cap, next_cursor=next_cursor)


async def _capped_count(session: AsyncSession, clauses: list[ColumnElement[bool]], cap: int) -> int:
    """Matching tips, counted up to cap + 1 (so the caller knows whether the cap was reached)."""
    matching = select(Tip.id).where(*clauses).limit(cap + 1).subquery()
    return int(await session.scalar(select(func.count()).select_from(matching)) or 0)


# --- one tip -------------------------------------------------------------------------------------


async def get_scoped_tip(session: AsyncSession, *, scope: Scope, tip_id: int) -> Tip:
    """A tip inside the scope; NotFound for a tip that does not exist or lies outside it (never 403)."""
    tip = await session.scalar(select(Tip).where(Tip.id == tip_id, scope.tip_clause()))
    if tip is None:
        raise NotFound("tip not found")
    return tip


async def get_tip_row(
    session: AsyncSession, *, scope: Scope, tip_id: int, now: datetime, ack_within: timedelta
) -> TipRow:
    """One tip in the list's shape; NotFound outside the scope."""
    stmt = _row_select(now, ack_within).where(scope.tip_clause(), Tip.id == tip_id)
    found = (await session.execute(stmt)).first()
    if found is None:
        raise NotFound("tip not found")
    return _to_row(found)


async def _thread(session: AsyncSession, tip_id: int, files: list[AttachmentEntry]) -> list[ThreadEntry]:
    """Every thread message, oldest first, with authors' usernames and the files each carried."""
    by_message: dict[int, list[int]] = {}
    for entry in files:
        if entry.attachment.message_id is not None:
            by_message.setdefault(entry.attachment.message_id, []).append(entry.index)
    stmt = (
        select(TipMessage, Author.username)
        .outerjoin(Author, Author.id == TipMessage.officer_id)
        .where(TipMessage.tip_id == tip_id)
        .order_by(TipMessage.id)
    )
    return [
        ThreadEntry(message=m, officer_username=name, attachment_indexes=by_message.get(m.id, []))
        for m, name in (await session.execute(stmt)).all()
    ]


async def tip_attachments(session: AsyncSession, *, tip_id: int) -> list[AttachmentEntry]:
    """A tip's files numbered 1, 2, … in upload order."""
    stmt = select(Attachment).where(Attachment.tip_id == tip_id).order_by(Attachment.id)
    return [AttachmentEntry(index=i, attachment=a) for i, a in enumerate((await session.scalars(stmt)).all(), 1)]


async def related_tips(session: AsyncSession, *, scope: Scope, tip: Tip) -> list[RelatedTip]:
    """Tips from the same reporter alias, or of the same category in the same commune within 30 days."""
    same_reporter = Tip.reporter_id == tip.reporter_id if tip.reporter_id is not None else false()
    same_place: ColumnElement[bool] = false()
    if tip.ward_code is not None:
        same_place = and_(
            Tip.ward_code == tip.ward_code,
            Tip.category == tip.category,
            Tip.created_at >= tip.created_at - RELATED_WINDOW,
            Tip.created_at <= tip.created_at + RELATED_WINDOW,
        )
    stmt = (
        select(Tip.id, Tip.ref, Tip.category, Tip.status, Tip.created_at, Tip.reporter_id)
        .where(scope.tip_clause(), Tip.id != tip.id, or_(same_reporter, same_place))
        .order_by(Tip.created_at.desc(), Tip.id.desc())
        .limit(RELATED_LIMIT)
    )
    return [
        RelatedTip(
            id=r.id,
            ref=r.ref,
            category=r.category,
            status=r.status,
            created_at=r.created_at,
            reason="same_reporter"
            if tip.reporter_id is not None and r.reporter_id == tip.reporter_id
            else "same_place",
        )
        for r in (await session.execute(stmt)).all()
    ]


async def tip_detail(
    session: AsyncSession, *, scope: Scope, tip_id: int, now: datetime, ack_within: timedelta
) -> TipDetail:
    """Everything about one tip in scope; NotFound outside it."""
    row = await get_tip_row(session, scope=scope, tip_id=tip_id, now=now, ack_within=ack_within)
    tip = await get_scoped_tip(session, scope=scope, tip_id=tip_id)
    files = await tip_attachments(session, tip_id=tip_id)
    return TipDetail(
        row=row,
        tip=tip,
        thread=await _thread(session, tip_id, files),
        attachments=files,
        related=await related_tips(session, scope=scope, tip=tip),
        trail=await tip_audit_trail(session, tip_id=tip_id),
    )


def filter_summary(tip_filter: TipFilter, *, sort: TipSort, limit: int, paged: bool) -> dict[str, Any]:
    """The non-empty filter fields as plain JSON values, for the audit trail."""
    summary: dict[str, Any] = {"sort": sort.value, "limit": limit, "paged": paged}
    for name in TipFilter.__slots__:
        value = getattr(tip_filter, name)
        if value is None or value == ():
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple | list):
            value = [str(v) if isinstance(v, StrEnum) else v for v in value]
        summary[name] = value
    return summary
