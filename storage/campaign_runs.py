"""Campaign runs and their deliveries: when a run is due, who gets it, claiming, results and progress.

The delivery row is the durable truth of the broadcast: pending → sending (claimed) → sent / gone /
failed / cancelled. A crash leaves some rows in `sending`; the next leader puts them back to pending, so
at most the messages in flight at the crash are sent twice and none is skipped.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audience import audience_clause
from storage.dialect import insert_for
from storage.domain import CampaignState, DeliveryStatus, ScheduleKind, SubscriberState
from storage.models import Campaign, CampaignRun, Delivery, Subscriber

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ONCE_RUN_KEY = "once"
FILL_BATCH = 5000
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
# Bulk UPDATEs on the hot path: no ORM objects to keep in step, so skip that bookkeeping.
NO_SYNC = {"synchronize_session": False}
CANCELLED_ERROR = "campaign cancelled"


# --- when runs are due ------------------------------------------------------------------------


def yearly_fire_at(campaign: Campaign, year: int) -> datetime | None:
    """The moment a yearly campaign is sent in `year` (local send_hour; 29/2 falls on 28/2 in common years)."""
    month, day = campaign.yearly_month, campaign.yearly_day
    if month is None or day is None or not 1 <= month <= 12:
        return None
    day = min(day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, campaign.send_hour, tzinfo=LOCAL_TZ)


@dataclass(frozen=True, slots=True)
class Firing:
    """One run a campaign should have: its key and the moment it is (or was) due."""

    campaign_id: int
    run_key: str
    fire_at: datetime


def firings(campaign: Campaign, *, now: datetime, grace: timedelta) -> list[Firing]:
    """The runs of a scheduled campaign that are due now or later, oldest first (not yet checked against runs)."""
    if campaign.schedule_kind == ScheduleKind.ONCE:
        if campaign.send_at is None:
            return []
        return [Firing(campaign.id, ONCE_RUN_KEY, campaign.send_at)]
    local_year = now.astimezone(LOCAL_TZ).year
    found = []
    for year in (local_year - 1, local_year, local_year + 1):
        fire_at = yearly_fire_at(campaign, year)
        if fire_at is not None and fire_at + grace >= now:
            found.append(Firing(campaign.id, str(year), fire_at))
    return found


@dataclass(frozen=True, slots=True)
class Schedule:
    """What the scheduler should do now: runs to start, the next wake-ups, once-campaigns that missed."""

    due: list[Firing]
    upcoming: list[Firing]
    missed: list[int]


async def compute_schedule(session: AsyncSession, *, now: datetime, grace: timedelta) -> Schedule:
    """Read every scheduled campaign and decide, with `now` injected so tests control the clock."""
    campaigns = list(await session.scalars(select(Campaign).where(Campaign.state == CampaignState.SCHEDULED)))
    if not campaigns:
        return Schedule([], [], [])
    # A run cancelled mid-way does not count: scheduling the campaign again resumes it (see start_run).
    runs = await session.execute(
        select(CampaignRun.campaign_id, CampaignRun.run_key).where(
            CampaignRun.campaign_id.in_([c.id for c in campaigns]), CampaignRun.state != CampaignState.CANCELLED
        )
    )
    existing = {(campaign_id, run_key) for campaign_id, run_key in runs}
    due: list[Firing] = []
    upcoming: list[Firing] = []
    missed: list[int] = []
    for campaign in campaigns:
        pending = [f for f in firings(campaign, now=now, grace=grace) if (f.campaign_id, f.run_key) not in existing]
        if campaign.schedule_kind == ScheduleKind.ONCE and pending and pending[0].fire_at + grace < now:
            missed.append(campaign.id)
            continue
        for firing in pending:
            (due if firing.fire_at <= now else upcoming).append(firing)
            if firing.fire_at > now:
                break  # only the next future firing needs a job
    return Schedule(due, upcoming, missed)


async def return_missed_to_draft(session: AsyncSession, *, campaign_ids: Sequence[int]) -> int:
    """A once-campaign whose moment passed beyond the grace goes back to draft for an officer to reschedule."""
    if not campaign_ids:
        return 0
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id.in_(campaign_ids), Campaign.state == CampaignState.SCHEDULED)
        .values(state=CampaignState.DRAFT)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- creating runs and deliveries --------------------------------------------------------------


async def start_run(session: AsyncSession, *, firing: Firing, now: datetime) -> int | None:
    """Create the run (idempotent) and move the campaign to sending; None if it is no longer scheduled."""
    moved = await session.execute(
        update(Campaign)
        .where(Campaign.id == firing.campaign_id, Campaign.state == CampaignState.SCHEDULED)
        .values(state=CampaignState.SENDING)
    )
    if not getattr(moved, "rowcount", 0):
        return None
    table = CampaignRun.__table__
    stmt = insert_for(session, table).values(
        campaign_id=firing.campaign_id, run_key=firing.run_key, state=CampaignState.SENDING.value, started_at=now
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[table.c.campaign_id, table.c.run_key]))
    run = await session.scalar(
        select(CampaignRun).where(CampaignRun.campaign_id == firing.campaign_id, CampaignRun.run_key == firing.run_key)
    )
    if run is None:
        return None
    if run.state == CampaignState.CANCELLED:
        # Cancelled mid-way, then scheduled again: the rest of the recipients get it, nobody twice.
        run.state, run.finished_at = CampaignState.SENDING, None
        await session.execute(
            update(Delivery)
            .where(
                Delivery.run_id == run.id,
                Delivery.status == DeliveryStatus.CANCELLED,
                Delivery.error == CANCELLED_ERROR,
            )
            .values(status=DeliveryStatus.PENDING, error=None, next_attempt_at=None),
            execution_options=NO_SYNC,
        )
        await session.flush()
    return run.id


async def fill_run(
    session: AsyncSession, *, run_id: int, campaign: Campaign, after_subscriber_id: int = 0, batch: int = FILL_BATCH
) -> int | None:
    """Add one batch of recipients to the run; returns the last subscriber id covered, or None when done.

    INSERT ... SELECT from the audience with ON CONFLICT DO NOTHING: repeating a batch (after a crash)
    adds nothing twice. Batches are keyset ranges of subscriber ids so each transaction stays short.
    """
    audience = and_(audience_clause(campaign), Subscriber.id > after_subscriber_id)
    boundary = await session.scalar(
        select(Subscriber.id).where(audience).order_by(Subscriber.id).offset(batch - 1).limit(1)
    )
    in_batch = audience if boundary is None else and_(audience, Subscriber.id <= boundary)
    rows = select(
        literal(run_id).label("run_id"),
        Subscriber.id,
        literal(DeliveryStatus.PENDING.value).label("status"),
        literal(0).label("attempts"),
    ).where(in_batch)
    table = Delivery.__table__
    stmt = insert_for(session, table).from_select(["run_id", "subscriber_id", "status", "attempts"], rows)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[table.c.run_id, table.c.subscriber_id]))
    return boundary


# --- the sender's side --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActiveRun:
    """A run being sent, with what the sender needs to decide whether it may send now."""

    run_id: int
    campaign_id: int
    urgent: bool
    cancelled: bool


async def active_runs(session: AsyncSession) -> list[ActiveRun]:
    """Runs in state sending, oldest first."""
    rows = await session.execute(
        select(CampaignRun.id, CampaignRun.campaign_id, Campaign.urgent, Campaign.state)
        .join(Campaign, Campaign.id == CampaignRun.campaign_id)
        .where(CampaignRun.state == CampaignState.SENDING)
        .order_by(CampaignRun.id)
    )
    return [ActiveRun(r.id, r.campaign_id, bool(r.urgent), r.state == CampaignState.CANCELLED) for r in rows]


async def requeue_in_flight(session: AsyncSession) -> int:
    """Put deliveries left in `sending` by a dead sender back to pending (only the new lease holder calls this)."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, claimed_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this sender now owns: who to send to (still sealed) and how often it was tried."""

    delivery_id: int
    subscriber_id: int
    chat_enc: bytes
    locale: str
    attempts: int
    subscriber_state: SubscriberState


async def claim_batch(
    session: AsyncSession,
    *,
    run_id: int,
    now: datetime,
    limit: int,
    fence: ColumnElement[bool] | None = None,
) -> list[Claimed]:
    """Mark up to `limit` due pending deliveries as sending and return them, in subscriber order.

    `fence` (e.g. storage.leases.holds_lease) is checked in the same statement, so a process that lost
    its lease cannot claim anything. PostgreSQL skips rows another transaction has locked.
    """
    due = (
        select(Delivery.id)
        .where(
            Delivery.run_id == run_id,
            Delivery.status == DeliveryStatus.PENDING,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    conditions: list[ColumnElement[bool]] = [Delivery.id.in_(due.scalar_subquery())]
    if fence is not None:
        conditions.append(fence)
    claimed = await session.execute(
        update(Delivery)
        .where(*conditions)
        .values(status=DeliveryStatus.SENDING, claimed_at=now)
        .returning(Delivery.id, Delivery.subscriber_id, Delivery.attempts),
        execution_options=NO_SYNC,
    )
    rows = list(claimed)
    if not rows:
        return []
    people = {
        r.id: r
        for r in await session.execute(
            select(Subscriber.id, Subscriber.chat_enc, Subscriber.locale, Subscriber.state).where(
                Subscriber.id.in_([r.subscriber_id for r in rows])
            )
        )
    }
    found = []
    for row in sorted(rows, key=lambda r: r.id):
        person = people[row.subscriber_id]
        found.append(Claimed(row.id, row.subscriber_id, person.chat_enc, person.locale, row.attempts, person.state))
    return found


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed delivery.

    status SENT/GONE/FAILED/CANCELLED are final; PENDING puts it back (retry_at: when; counted: whether
    the try counts against the attempt limit, which a 429 does not).
    """

    delivery_id: int
    subscriber_id: int
    status: DeliveryStatus
    error: str | None = None
    retry_at: datetime | None = None
    counted: bool = True


async def record_outcomes(session: AsyncSession, *, outcomes: Iterable[Outcome], now: datetime) -> None:
    """Write a batch of results in a few statements (the sender commits them together)."""
    groups: dict[tuple[DeliveryStatus, str | None, datetime | None, bool], list[int]] = defaultdict(list)
    gone_subscribers: list[int] = []
    for outcome in outcomes:
        groups[(outcome.status, outcome.error, outcome.retry_at, outcome.counted)].append(outcome.delivery_id)
        if outcome.status is DeliveryStatus.GONE:
            gone_subscribers.append(outcome.subscriber_id)
    for (status, error, retry_at, counted), ids in groups.items():
        values: dict[str, object] = {"status": status, "error": error}
        if counted:
            values["attempts"] = Delivery.attempts + 1
        if status is DeliveryStatus.SENT:
            values["sent_at"] = now
        if status is DeliveryStatus.PENDING:
            values.update(claimed_at=None, next_attempt_at=retry_at)
        await session.execute(
            update(Delivery).where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING).values(**values),
            execution_options=NO_SYNC,
        )
    if gone_subscribers:
        await mark_subscribers_gone(session, subscriber_ids=gone_subscribers)


async def mark_subscribers_gone(session: AsyncSession, *, subscriber_ids: Sequence[int]) -> None:
    """Telegram said 403: these citizens blocked the bot, so no campaign goes to them any more."""
    await session.execute(
        update(Subscriber)
        .where(Subscriber.id.in_(list(subscriber_ids)), Subscriber.state == SubscriberState.ACTIVE)
        .values(state=SubscriberState.GONE),
        execution_options=NO_SYNC,
    )


async def finish_run_if_done(session: AsyncSession, *, run_id: int, now: datetime) -> bool:
    """Close the run once nothing is pending or in flight; the campaign moves on (once: done, yearly: scheduled)."""
    open_left = await session.scalar(
        select(Delivery.id).where(Delivery.run_id == run_id, Delivery.status.in_(OPEN_STATUSES)).limit(1)
    )
    if open_left is not None:
        return False
    run = await session.get(CampaignRun, run_id)
    if run is None or run.state != CampaignState.SENDING:
        return False
    campaign = await session.get(Campaign, run.campaign_id)
    run.state = CampaignState.DONE
    run.finished_at = now
    if campaign is not None and campaign.state == CampaignState.SENDING:
        yearly = campaign.schedule_kind == ScheduleKind.YEARLY
        campaign.state = CampaignState.SCHEDULED if yearly else CampaignState.DONE
    await session.flush()
    return True


async def cancel_open_deliveries(session: AsyncSession, *, campaign_id: int, now: datetime) -> int:
    """Stop a cancelled campaign: its pending deliveries become cancelled and its open runs end.

    Deliveries in `sending` are in flight; the sender records their result and then closes the run.
    """
    run_ids = select(CampaignRun.id).where(CampaignRun.campaign_id == campaign_id).scalar_subquery()
    result = await session.execute(
        update(Delivery)
        .where(Delivery.run_id.in_(run_ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, error=CANCELLED_ERROR)
    )
    in_flight = await session.scalar(
        select(Delivery.id).where(Delivery.run_id.in_(run_ids), Delivery.status == DeliveryStatus.SENDING).limit(1)
    )
    if in_flight is None:
        await session.execute(
            update(CampaignRun)
            .where(CampaignRun.campaign_id == campaign_id, CampaignRun.state == CampaignState.SENDING)
            .values(state=CampaignState.CANCELLED, finished_at=now)
        )
    return int(getattr(result, "rowcount", 0) or 0)


# --- progress -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunProgress:
    """Recipients of a run by delivery status, with the recent sending rate and an estimate of time left."""

    run_id: int
    counts: dict[DeliveryStatus, int]
    rate_per_second: float
    seconds_left: float | None

    @property
    def total(self) -> int:
        """All recipients of the run."""
        return sum(self.counts.values())

    @property
    def remaining(self) -> int:
        """Recipients still waiting or in flight."""
        return sum(self.counts[s] for s in OPEN_STATUSES)


async def run_progress(
    session: AsyncSession, *, run_id: int, now: datetime, window: timedelta = timedelta(seconds=60)
) -> RunProgress:
    """Counts per status, messages per second over the last `window`, and time left at that rate."""
    rows = await session.execute(
        select(Delivery.status, func.count()).where(Delivery.run_id == run_id).group_by(Delivery.status)
    )
    counts = dict.fromkeys(DeliveryStatus, 0)
    for status, count in rows:
        counts[DeliveryStatus(status)] = int(count)
    recent = await session.scalar(
        select(func.count()).where(
            Delivery.run_id == run_id, Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= now - window
        )
    )
    rate = int(recent or 0) / window.total_seconds()
    remaining = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING]
    left = remaining / rate if rate > 0 else (0.0 if remaining == 0 else None)
    return RunProgress(run_id=run_id, counts=counts, rate_per_second=rate, seconds_left=left)


async def latest_run_id(session: AsyncSession, *, campaign_id: int) -> int | None:
    """The campaign's most recent run, if it ever fired."""
    return await session.scalar(
        select(CampaignRun.id).where(CampaignRun.campaign_id == campaign_id).order_by(CampaignRun.id.desc()).limit(1)
    )


async def campaign_state(session: AsyncSession, *, campaign_id: int) -> CampaignState | None:
    """A campaign's state right now (the sender checks it between batches to stop a cancelled one)."""
    return await session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))


async def cache_photo_file_id(session: AsyncSession, *, campaign_id: int, file_id: str) -> None:
    """Remember Telegram's file_id after the first upload, so the photo is uploaded once per campaign."""
    await session.execute(update(Campaign).where(Campaign.id == campaign_id).values(photo_file_id=file_id))
