"""Officers' side of campaigns: visibility, create, edit, schedule, cancel, photo, preview and progress."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from bot.telegram_html import MAX_CAPTION, MAX_TEXT, PARSE_MODE, CheckedHtml, TelegramHtmlError, check_telegram_html
from storage.audience import count_audience
from storage.campaign_runs import run_progress
from storage.domain import CampaignState, DeliveryStatus, ScheduleKind, Topic
from storage.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from storage.models import Campaign, CampaignRun, Province, utcnow
from storage.officers import ward_provinces
from storage.scope import Scope

TITLE_MAX_CHARS = 200
# Officers may change a campaign until the sender picks it up; a running or finished one is history.
EDITABLE_STATES = (CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.CANCELLED)
# A sending campaign may be cancelled too: the sender checks the state between batches and stops.
CANCELLABLE_STATES = (CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.SENDING)
RATE_WINDOW = timedelta(minutes=1)
_LEAP_YEAR = 2024  # any leap year: checks that a month/day pair exists at all


@dataclass(frozen=True, slots=True)
class CampaignFields:
    """A create or a PATCH: only the names in `given` are applied (None may mean "clear")."""

    given: frozenset[str]
    title: str | None = None
    body_html: str | None = None
    topic: Topic | None = None
    urgent: bool | None = None
    target_nationwide: bool | None = None
    target_province_codes: list[int] | None = None
    target_ward_codes: list[int] | None = None
    schedule_kind: ScheduleKind | None = None
    send_at: datetime | None = None
    yearly_month: int | None = None
    yearly_day: int | None = None
    yearly_end_month: int | None = None
    yearly_end_day: int | None = None
    send_hour: int | None = None

    def values(self) -> dict[str, Any]:
        """The given fields and their values."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "given" and f.name in self.given}


@dataclass(frozen=True, slots=True)
class CampaignMessage:
    """One Bot API request the sender makes for every recipient."""

    method: str  # "sendMessage" or "sendPhoto"
    text: str | None  # the message text, or the photo's caption (None: a photo without caption)
    parse_mode: str
    has_photo: bool
    visible_text: str
    visible_length: int
    limit: int


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """A campaign as lists show it (the photo bytes are not loaded)."""

    campaign: Campaign
    has_photo: bool


@dataclass(frozen=True, slots=True)
class RunProgress:
    """One run's deliveries by status, the send rate over the last minute and the time left."""

    run_id: int
    run_key: str
    state: CampaignState
    started_at: datetime
    finished_at: datetime | None
    total: int
    by_status: dict[DeliveryStatus, int]
    sent_last_minute: int
    rate_per_second: float
    eta_seconds: int | None


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """The campaign's state, its runs' keys and the progress of the chosen (latest by default) run."""

    campaign_id: int
    state: CampaignState
    run_keys: list[str]
    run: RunProgress | None = None
    recipients_now: int = 0


# --- visibility -----------------------------------------------------------------------------------


def target_scope(campaign: Campaign) -> Scope:
    """The campaign's targets as a jurisdiction (to compare with an officer's)."""
    return Scope(
        nationwide=campaign.target_nationwide,
        province_codes=frozenset(int(c) for c in campaign.target_province_codes or ()),
        ward_codes=frozenset(int(c) for c in campaign.target_ward_codes or ()),
        can_view_restricted=False,
    )


def _no_photo() -> Select[Campaign, bool]:
    return select(Campaign, Campaign.photo.is_not(None).label("has_photo")).options(defer(Campaign.photo))


async def _visible(session: AsyncSession, scope: Scope, campaigns: Sequence[Campaign]) -> list[bool]:
    """Per campaign: do all its targets lie inside the scope (nationwide campaigns: nationwide officers)?"""
    wards = await ward_provinces(session, {int(w) for c in campaigns for w in c.target_ward_codes or ()})
    return [scope.contains(target_scope(c), wards) for c in campaigns]


async def list_campaigns(
    session: AsyncSession,
    *,
    scope: Scope,
    state: CampaignState | None = None,
    topic: Topic | None = None,
    schedule_kind: ScheduleKind | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CampaignRow], int]:
    """Campaigns inside the scope, newest first, with the total for paging.

    Targets are JSON lists, so the jurisdiction check runs in Python; a country plans a few hundred
    campaigns a year, which is cheap to filter.
    """
    stmt = _no_photo().order_by(Campaign.id.desc())
    if state is not None:
        stmt = stmt.where(Campaign.state == state)
    if topic is not None:
        stmt = stmt.where(Campaign.topic == topic)
    if schedule_kind is not None:
        stmt = stmt.where(Campaign.schedule_kind == schedule_kind)
    rows = [(c, bool(p)) for c, p in (await session.execute(stmt)).all()]
    visible = await _visible(session, scope, [c for c, _ in rows])
    found = [CampaignRow(c, p) for (c, p), ok in zip(rows, visible, strict=True) if ok]
    return found[offset : offset + limit], len(found)


async def get_scoped_campaign(session: AsyncSession, *, scope: Scope, campaign_id: int) -> CampaignRow:
    """One campaign inside the scope; NotFound otherwise (out of scope looks exactly like missing)."""
    row = (await session.execute(_no_photo().where(Campaign.id == campaign_id))).first()
    if row is None or not (await _visible(session, scope, [row[0]]))[0]:
        raise NotFound("campaign not found")
    return CampaignRow(row[0], bool(row[1]))


async def campaign_photo(session: AsyncSession, *, campaign_id: int) -> bytes | None:
    """The stored (metadata-free) photo of a campaign the caller already found in scope."""
    photo: bytes | None = await session.scalar(select(Campaign.photo).where(Campaign.id == campaign_id))
    return photo


# --- validation -----------------------------------------------------------------------------------


def render_text(title: str, body_html: str) -> str:
    """The message text: the title in bold, a blank line, then the body (bot/broadcast.py sends exactly this)."""
    head = f"<b>{html.escape(title)}</b>"
    return f"{head}\n\n{body_html}" if body_html.strip() else head


def check_content(title: str, body_html: str, *, has_photo: bool) -> CheckedHtml:
    """Valid Telegram HTML, and title plus text within the message limit (the caption limit with a photo)."""
    try:
        check_telegram_html(body_html, limit=None)
    except TelegramHtmlError as exc:
        raise ValidationFailed(f"body_html: {exc}") from None
    checked = check_telegram_html(render_text(title, body_html), limit=None)
    limit = MAX_CAPTION if has_photo else MAX_TEXT
    if checked.visible_length > limit:
        what = "a photo caption" if has_photo else "a message"
        raise ValidationFailed(
            f"body_html: the title and text are {checked.visible_length} characters; Telegram allows {limit} "
            f"for {what} (the title is sent in bold above the text)"
        )
    return checked


async def check_targets(
    session: AsyncSession, *, scope: Scope, nationwide: bool, province_codes: Iterable[int], ward_codes: Iterable[int]
) -> None:
    """Targets exist, are consistent and lie inside the officer's jurisdiction (PermissionDenied if not)."""
    provinces, wards = set(province_codes), set(ward_codes)
    if nationwide and (provinces or wards):
        raise ValidationFailed("target: choose everyone (target_nationwide) or provinces/communes, not both")
    if not nationwide and not provinces and not wards:
        raise ValidationFailed("target: choose everyone, or at least one province or commune")
    if provinces:
        found = set((await session.scalars(select(Province.code).where(Province.code.in_(provinces)))).all())
        if found != provinces:
            raise ValidationFailed(f"target_province_codes: unknown codes {sorted(provinces - found)}")
    ward_map = await ward_provinces(session, wards)
    if set(ward_map) != wards:
        raise ValidationFailed(f"target_ward_codes: unknown codes {sorted(wards - set(ward_map))}")
    wanted = Scope(nationwide, frozenset(provinces), frozenset(wards), can_view_restricted=False)
    if not scope.contains(wanted, ward_map):
        raise PermissionDenied("the target lies outside your jurisdiction")


def _check_month_day(month: int | None, day: int | None, what: str) -> None:
    if month is None or day is None:
        raise ValidationFailed(f"{what}: give both month and day")
    try:
        date(_LEAP_YEAR, month, day)
    except ValueError:
        raise ValidationFailed(f"{what}: {day}/{month} is not a date") from None
    if (month, day) == (2, 29):
        raise ValidationFailed(f"{what}: 29/2 does not occur every year")


def check_schedule(campaign: Campaign, *, now: datetime) -> None:
    """A complete schedule: a future moment (once), or a yearly date with an optional end date."""
    if not 0 <= campaign.send_hour <= 23:
        raise ValidationFailed("send_hour: 0 to 23 (Asia/Ho_Chi_Minh)")
    if campaign.schedule_kind == ScheduleKind.ONCE:
        if campaign.send_at is None:
            raise ValidationFailed("send_at: a once campaign needs the moment to send")
        if campaign.send_at <= now:
            raise ValidationFailed("send_at: must be in the future")
        return
    _check_month_day(campaign.yearly_month, campaign.yearly_day, "yearly start")
    if campaign.yearly_end_month is None and campaign.yearly_end_day is None:
        return
    # An end date may lie before the start: the range then runs past New Year (e.g. before Tết).
    _check_month_day(campaign.yearly_end_month, campaign.yearly_end_day, "yearly end")


def _check_partial_schedule(campaign: Campaign) -> None:
    """What a draft may hold: each given yearly date must exist; completeness is checked on scheduling."""
    for month, day, what in (
        (campaign.yearly_month, campaign.yearly_day, "yearly start"),
        (campaign.yearly_end_month, campaign.yearly_end_day, "yearly end"),
    ):
        if month is not None or day is not None:
            _check_month_day(month, day, what)


def check_ready(campaign: Campaign, *, has_photo: bool, now: datetime) -> None:
    """Everything a campaign needs before the sender may pick it up."""
    if not campaign.title.strip():
        raise ValidationFailed("title: required")
    check_content(campaign.title, campaign.body_html, has_photo=has_photo)
    check_schedule(campaign, now=now)


# --- changes --------------------------------------------------------------------------------------


def _apply(campaign: Campaign, changes: CampaignFields) -> None:
    values = changes.values()
    if "title" in values and not (values["title"] or "").strip():
        raise ValidationFailed("title: required")
    for name, value in values.items():
        if (
            name in {"title", "body_html", "urgent", "target_nationwide", "schedule_kind", "send_hour"}
            and value is None
        ):
            raise ValidationFailed(f"{name}: cannot be null")
        if name in {"target_province_codes", "target_ward_codes"}:
            value = sorted(set(value or []))
        setattr(campaign, name, value)


async def _validate(session: AsyncSession, *, scope: Scope, campaign: Campaign, has_photo: bool) -> None:
    await check_targets(
        session,
        scope=scope,
        nationwide=campaign.target_nationwide,
        province_codes=campaign.target_province_codes or [],
        ward_codes=campaign.target_ward_codes or [],
    )
    check_content(campaign.title, campaign.body_html, has_photo=has_photo)
    _check_partial_schedule(campaign)


async def create_campaign(session: AsyncSession, *, scope: Scope, officer_id: int, changes: CampaignFields) -> Campaign:
    """A new draft campaign; targets inside the officer's jurisdiction, valid Telegram HTML."""
    campaign = Campaign(
        title="",
        body_html="",
        topic=None,
        urgent=False,
        target_nationwide=False,
        target_province_codes=[],
        target_ward_codes=[],
        schedule_kind=ScheduleKind.ONCE,
        send_hour=8,
        state=CampaignState.DRAFT,
        created_by_id=officer_id,
    )
    _apply(campaign, changes)
    await _validate(session, scope=scope, campaign=campaign, has_photo=False)
    session.add(campaign)
    await session.flush()
    return campaign


# Columns a change may touch (everything but the photo bytes, which are never loaded by accident).
_COLUMNS = (
    "id", "slug", "title", "body_html", "photo_file_id", "topic", "urgent", "target_nationwide",
    "target_province_codes", "target_ward_codes", "schedule_kind", "send_at", "yearly_month", "yearly_day",
    "yearly_end_month", "yearly_end_day", "send_hour", "state", "created_by_id", "created_at", "updated_at",
)  # fmt: skip


def _scratch(campaign: Campaign) -> Campaign:
    """A detached copy to apply and validate changes on before anything is written."""
    return Campaign(**{name: getattr(campaign, name) for name in _COLUMNS})


async def _guarded_update(
    session: AsyncSession, campaign: Campaign, allowed: Sequence[CampaignState], values: dict[str, Any]
) -> None:
    """UPDATE ... WHERE state IN allowed: a campaign the sender just picked up is never changed (409)."""
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state.in_(allowed))
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        await session.refresh(campaign, ["state"])
        raise Conflict(f"the campaign is {campaign.state.value} and cannot be changed")
    await session.refresh(campaign, list(_COLUMNS))


async def _editable(session: AsyncSession, campaign: Campaign) -> None:
    await session.refresh(campaign, ["state"])
    if campaign.state not in EDITABLE_STATES:
        raise Conflict(f"the campaign is {campaign.state.value}; a sending or sent campaign cannot be edited")


async def _changed(session: AsyncSession, *, scope: Scope, row: CampaignRow, changes: CampaignFields) -> Campaign:
    """The campaign with the changes applied (a scratch copy) after the checks every saved campaign passes."""
    await _editable(session, row.campaign)
    scratch = _scratch(row.campaign)
    _apply(scratch, changes)
    await _validate(session, scope=scope, campaign=scratch, has_photo=row.has_photo)
    return scratch


async def update_campaign(
    session: AsyncSession, *, scope: Scope, row: CampaignRow, changes: CampaignFields, now: datetime
) -> Campaign:
    """Edit a draft, scheduled or cancelled campaign; a scheduled one must stay complete."""
    scratch = await _changed(session, scope=scope, row=row, changes=changes)
    if scratch.state == CampaignState.SCHEDULED:
        check_ready(scratch, has_photo=row.has_photo, now=now)
    values = {name: getattr(scratch, name) for name in changes.values()}
    if values:
        await _guarded_update(session, row.campaign, (scratch.state,), values)
    return row.campaign


async def schedule_campaign(
    session: AsyncSession, *, scope: Scope, row: CampaignRow, changes: CampaignFields, now: datetime
) -> Campaign:
    """Set (optionally) and switch on the schedule: draft, scheduled or cancelled → scheduled."""
    scratch = await _changed(session, scope=scope, row=row, changes=changes)
    check_ready(scratch, has_photo=row.has_photo, now=now)
    values = {name: getattr(scratch, name) for name in changes.values()} | {"state": CampaignState.SCHEDULED}
    await _guarded_update(session, row.campaign, (scratch.state,), values)
    return row.campaign


async def cancel_campaign(session: AsyncSession, *, row: CampaignRow) -> bool:
    """Draft, scheduled or sending → cancelled (True; the sender stops); already cancelled → False; done → 409."""
    campaign = row.campaign
    await session.refresh(campaign, ["state"])
    if campaign.state == CampaignState.CANCELLED:
        return False
    if campaign.state not in CANCELLABLE_STATES:
        raise Conflict(f"the campaign is {campaign.state.value} and can no longer be cancelled")
    await _guarded_update(session, campaign, CANCELLABLE_STATES, {"state": CampaignState.CANCELLED})
    return True


async def set_campaign_photo(session: AsyncSession, *, row: CampaignRow, photo: bytes | None) -> Campaign:
    """Attach a cleaned photo (or remove it): the body must then fit a caption; the cached file id is reset."""
    campaign = row.campaign
    await _editable(session, campaign)
    check_content(campaign.title, campaign.body_html, has_photo=photo is not None)
    await _guarded_update(session, campaign, (campaign.state,), {"photo": photo, "photo_file_id": None})
    return campaign


# --- preview and progress -------------------------------------------------------------------------


def _message(method: str, text: str | None, *, has_photo: bool, limit: int) -> CampaignMessage:
    checked = check_telegram_html(text or "", limit=None)
    return CampaignMessage(method, text, PARSE_MODE, has_photo, checked.visible_text, checked.visible_length, limit)


def campaign_messages(title: str, body_html: str, *, has_photo: bool) -> list[CampaignMessage]:
    """The Bot API requests every recipient gets, as bot/broadcast.py makes them.

    Text alone; or the photo with the text as its caption; or, for a stored campaign whose text outgrew
    a caption (the API refuses that, but rows may come from elsewhere), the photo and then the text.
    """
    text = render_text(title, body_html)
    if not has_photo:
        return [_message("sendMessage", text, has_photo=False, limit=MAX_TEXT)]
    if check_telegram_html(text, limit=None).visible_length <= MAX_CAPTION:
        return [_message("sendPhoto", text, has_photo=True, limit=MAX_CAPTION)]
    return [
        _message("sendPhoto", None, has_photo=True, limit=MAX_CAPTION),
        _message("sendMessage", text, has_photo=False, limit=MAX_TEXT),
    ]


async def count_recipients(session: AsyncSession, *, campaign: Campaign) -> int:
    """Active subscribers the campaign would reach now (storage.audience's rule)."""
    return await count_audience(session, campaign=campaign)


async def _run_progress(session: AsyncSession, run: CampaignRun, now: datetime) -> RunProgress:
    progress = await run_progress(session, run_id=run.id, now=now, window=RATE_WINDOW)
    left = progress.seconds_left
    return RunProgress(
        run_id=run.id,
        run_key=run.run_key,
        state=run.state,
        started_at=run.started_at,
        finished_at=run.finished_at,
        total=progress.total,
        by_status=dict(progress.counts),
        sent_last_minute=round(progress.rate_per_second * RATE_WINDOW.total_seconds()),
        rate_per_second=round(progress.rate_per_second, 3),
        eta_seconds=None if left is None else round(left),
    )


async def campaign_progress(
    session: AsyncSession, *, campaign: Campaign, run_key: str | None, now: datetime
) -> CampaignProgress:
    """Progress of one run (the latest unless `run_key` names another); NotFound for an unknown run key."""
    runs = list(
        (
            await session.scalars(
                select(CampaignRun).where(CampaignRun.campaign_id == campaign.id).order_by(CampaignRun.id.desc())
            )
        ).all()
    )
    recipients = await count_recipients(session, campaign=campaign)
    keys = [r.run_key for r in runs]
    chosen = runs[0] if runs and run_key is None else next((r for r in runs if r.run_key == run_key), None)
    if run_key is not None and chosen is None:
        raise NotFound("no such run of this campaign")
    run = await _run_progress(session, chosen, now) if chosen is not None else None
    return CampaignProgress(
        campaign_id=campaign.id, state=campaign.state, run_keys=keys, run=run, recipients_now=recipients
    )
