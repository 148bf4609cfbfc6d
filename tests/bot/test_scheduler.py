"""When campaigns fire: yearly runs with a controlled clock, misfire grace, cancelled campaigns, quiet hours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.broadcast import BroadcastConfig, Broadcaster, in_quiet_hours
from bot.context import AppContext
from bot.scheduler import CampaignScheduler, Clock, next_quiet_end
from sandbox.runner import RunningSandbox
from storage.campaign_runs import compute_schedule, finish_run_if_done, start_run, yearly_fire_at
from storage.domain import CampaignState, DeliveryStatus, ScheduleKind
from storage.models import Campaign, CampaignRun
from tests.bot.broadcast_fixtures import (
    campaign_state,
    chat_ids,
    delivery_counts,
    make_campaign,
    register_chats,
    seed_subscribers,
    successful_sends,
    wait_until_sent,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
GRACE = timedelta(hours=12)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A moment in Vietnam's local time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=HCM)


async def _yearly(context: AppContext, *, state: CampaignState = CampaignState.SCHEDULED, **fields: Any) -> int:
    return await make_campaign(
        context.sessions,
        title="Ngày toàn dân phòng, chống ma túy",
        schedule_kind=ScheduleKind.YEARLY,
        yearly_month=6,
        yearly_day=26,
        send_hour=8,
        state=state,
        **fields,
    )


async def test_yearly_due_computation_with_an_injected_now(app_context: AppContext) -> None:
    campaign_id = await _yearly(app_context)
    cancelled_id = await _yearly(app_context, state=CampaignState.CANCELLED)
    draft_id = await _yearly(app_context, state=CampaignState.DRAFT)
    async with app_context.sessions() as session:
        before = await compute_schedule(session, now=local(2027, 6, 26, 7, 59), grace=GRACE)
        assert before.due == []
        assert [(f.campaign_id, f.run_key, f.fire_at) for f in before.upcoming] == [
            (campaign_id, "2027", local(2027, 6, 26, 8))
        ]
        at = await compute_schedule(session, now=local(2027, 6, 26, 8, 0, 30), grace=GRACE)
        assert [(f.campaign_id, f.run_key) for f in at.due] == [(campaign_id, "2027")]
        run_id = await start_run(session, firing=at.due[0], now=local(2027, 6, 26, 8, 0, 30))
        assert run_id is not None
        assert await finish_run_if_done(session, run_id=run_id, now=local(2027, 6, 26, 8, 1))
        await session.commit()
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.state is CampaignState.SCHEDULED  # stays on for next year
        after = await compute_schedule(session, now=local(2027, 6, 26, 9), grace=GRACE)
        assert after.due == []
        assert [(f.run_key, f.fire_at) for f in after.upcoming] == [("2028", local(2028, 6, 26, 8))]
    ids = {f.campaign_id for s in (before, at, after) for f in s.due + s.upcoming}
    assert cancelled_id not in ids and draft_id not in ids


async def test_a_start_later_than_the_grace_skips_that_year(app_context: AppContext) -> None:
    await _yearly(app_context)
    async with app_context.sessions() as session:
        late = await compute_schedule(session, now=local(2027, 6, 26, 20), grace=GRACE)
        assert [f.run_key for f in late.due] == ["2027"]  # 12 h late: still sent
        too_late = await compute_schedule(session, now=local(2027, 6, 26, 20, 1), grace=GRACE)
        assert too_late.due == [] and [f.run_key for f in too_late.upcoming] == ["2028"]


def test_yearly_29_february_falls_on_the_28th_in_common_years() -> None:
    campaign = Campaign(yearly_month=2, yearly_day=29, send_hour=8)
    assert yearly_fire_at(campaign, 2027) == local(2027, 2, 28, 8)
    assert yearly_fire_at(campaign, 2028) == local(2028, 2, 29, 8)


def test_quiet_hours_wrap_midnight_and_end_at_seven() -> None:
    assert in_quiet_hours(local(2027, 1, 1, 21), 21, 7)
    assert in_quiet_hours(local(2027, 1, 1, 3), 21, 7)
    assert not in_quiet_hours(local(2027, 1, 1, 7), 21, 7)
    assert not in_quiet_hours(local(2027, 1, 1, 20, 59), 21, 7)
    assert not in_quiet_hours(local(2027, 1, 1, 3), 0, 0)
    assert next_quiet_end(local(2027, 1, 1, 22), 7) == local(2027, 1, 2, 7)


@pytest.fixture
async def sender(app_context: AppContext, sandbox: RunningSandbox) -> AsyncIterator[Broadcaster]:
    """A started sender and three registered subscribers (chats)."""
    chats = chat_ids(3)
    register_chats(sandbox, app_context.settings.bot_token, chats)
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    config = BroadcastConfig(rate=1000, concurrency=4, poll_seconds=0.2, quiet_start=0, quiet_end=0)
    broadcaster = Broadcaster(app_context, config=config)
    try:
        yield broadcaster
    finally:
        await broadcaster.close()


async def test_real_apscheduler_fires_a_yearly_campaign_on_its_day(
    app_context: AppContext, sandbox: RunningSandbox, sender: Broadcaster
) -> None:
    campaign_id = await _yearly(app_context)
    cancelled_id = await _yearly(app_context, state=CampaignState.SCHEDULED)
    clock = Clock.at(local(2027, 6, 26, 7, 59, 59))  # one second before 08:00 on 26 June
    sender.now = clock.now
    scheduler = CampaignScheduler(app_context, sender, clock=clock, grace_seconds=GRACE.total_seconds())
    sender.start()
    await scheduler.start()
    try:
        assert f"campaign:{campaign_id}:2027" in scheduler.job_times()
        async with app_context.sessions() as session:  # an officer cancels the second one before its day
            cancelled = await session.get(Campaign, cancelled_id)
            assert cancelled is not None
            cancelled.state = CampaignState.CANCELLED
            await session.commit()
        counts = await wait_until_sent(app_context.sessions, campaign_id, limit_seconds=15)
        # The last delivery is recorded a moment before the run is closed and the campaign goes back to
        # "scheduled" for next year: wait for that too, or the re-sync may still see it "sending".
        deadline = asyncio.get_running_loop().time() + 15
        while await campaign_state(app_context.sessions, campaign_id) is not CampaignState.SCHEDULED:
            assert asyncio.get_running_loop().time() < deadline, "the run was never closed"
            await asyncio.sleep(0.05)
        await scheduler.sync()
        assert f"campaign:{campaign_id}:2028" in scheduler.job_times()
        assert f"campaign:{cancelled_id}:2027" not in scheduler.job_times()
    finally:
        await scheduler.stop()
    assert counts == {DeliveryStatus.SENT: 3}
    async with app_context.sessions() as session:
        runs = list(await session.scalars(select(CampaignRun)))
    assert [(r.campaign_id, r.run_key, r.state) for r in runs] == [(campaign_id, "2027", CampaignState.DONE)]
    assert await campaign_state(app_context.sessions, campaign_id) is CampaignState.SCHEDULED
    assert await delivery_counts(app_context.sessions, cancelled_id) == {}


async def test_late_start_within_the_grace_still_sends(app_context: AppContext, sender: Broadcaster) -> None:
    campaign_id = await _yearly(app_context)
    clock = Clock.at(local(2027, 6, 26, 10, 30))  # the worker was down at 08:00
    sender.now = clock.now
    scheduler = CampaignScheduler(app_context, sender, clock=clock, grace_seconds=GRACE.total_seconds())
    started = await scheduler.sync()
    assert len(started) == 1
    await sender.run_until_idle(limit_seconds=15)
    assert await delivery_counts(app_context.sessions, campaign_id) == {DeliveryStatus.SENT: 3}


async def test_a_once_campaign_missed_beyond_the_grace_goes_back_to_draft(
    app_context: AppContext, sender: Broadcaster
) -> None:
    campaign_id = await make_campaign(app_context.sessions, send_at=datetime.now(UTC) - timedelta(days=2))
    scheduler = CampaignScheduler(app_context, sender, grace_seconds=GRACE.total_seconds())
    assert await scheduler.sync() == []
    assert await campaign_state(app_context.sessions, campaign_id) is CampaignState.DRAFT
    assert await delivery_counts(app_context.sessions, campaign_id) == {}


async def test_a_once_campaign_goes_scheduled_sending_done(app_context: AppContext, sender: Broadcaster) -> None:
    campaign_id = await make_campaign(app_context.sessions)
    scheduler = CampaignScheduler(app_context, sender, grace_seconds=GRACE.total_seconds())
    assert len(await scheduler.sync()) == 1
    assert await campaign_state(app_context.sessions, campaign_id) is CampaignState.SENDING
    assert await scheduler.sync() == []  # idempotent: the run exists
    await sender.run_until_idle(limit_seconds=15)
    assert await campaign_state(app_context.sessions, campaign_id) is CampaignState.DONE
    assert await scheduler.sync() == []


async def test_quiet_hours_hold_non_urgent_campaigns_until_seven(
    app_context: AppContext, sandbox: RunningSandbox, sender: Broadcaster
) -> None:
    world = sandbox.state.world(app_context.settings.bot_token)
    clock = Clock.at(local(2027, 3, 1, 22, 15))
    sender.now = clock.now
    sender.config = BroadcastConfig(rate=1000, concurrency=4, quiet_start=21, quiet_end=7)
    quiet_id = await make_campaign(app_context.sessions, send_at=clock.now() - timedelta(seconds=5))
    urgent_id = await make_campaign(app_context.sessions, send_at=clock.now() - timedelta(seconds=5), urgent=True)
    scheduler = CampaignScheduler(app_context, sender, clock=clock)
    assert len(await scheduler.sync()) == 2
    await sender.run_once()
    await sender.run_once()
    assert await delivery_counts(app_context.sessions, urgent_id) == {DeliveryStatus.SENT: 3}
    assert await delivery_counts(app_context.sessions, quiet_id) == {DeliveryStatus.PENDING: 3}
    assert sum(successful_sends(world).values()) == 3

    clock.offset += local(2027, 3, 2, 7, 0, 5) - clock.now()  # the next morning
    await sender.run_until_idle(limit_seconds=15)
    assert await delivery_counts(app_context.sessions, quiet_id) == {DeliveryStatus.SENT: 3}
    assert set(successful_sends(world).values()) == {2}


async def test_cancelling_mid_run_stops_the_remaining_and_scheduling_again_resumes(
    app_context: AppContext, sandbox: RunningSandbox
) -> None:
    chats = chat_ids(400)
    world = register_chats(sandbox, app_context.settings.bot_token, chats)
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    campaign_id = await make_campaign(app_context.sessions)
    sender = Broadcaster(app_context, config=BroadcastConfig(rate=80, concurrency=4, quiet_start=0, quiet_end=0))
    await CampaignScheduler(app_context, sender).sync()
    sender.start()
    try:
        while sum(successful_sends(world).values()) < 40:
            await asyncio.sleep(0.02)
        async with app_context.sessions() as session:  # what the officer API's cancel does first
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            campaign.state = CampaignState.CANCELLED
            await session.commit()
        cancelled_at = sum(successful_sends(world).values())
        for _ in range(200):
            counts = await delivery_counts(app_context.sessions, campaign_id)
            if not counts[DeliveryStatus.PENDING] and not counts[DeliveryStatus.SENDING]:
                break
            await asyncio.sleep(0.05)
    finally:
        await sender.close()
    sent = sum(successful_sends(world).values())
    assert counts[DeliveryStatus.SENT] == sent
    assert counts[DeliveryStatus.CANCELLED] == 400 - sent
    assert sent - cancelled_at <= 80  # at most about a second of sending after the cancel
    async with app_context.sessions() as session:
        run = await session.scalar(select(CampaignRun).where(CampaignRun.campaign_id == campaign_id))
        assert run is not None and run.state is CampaignState.CANCELLED

    # The officer schedules it again: the rest get it, nobody twice.
    async with app_context.sessions() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.state, campaign.send_at = CampaignState.SCHEDULED, datetime.now(UTC)
        await session.commit()
    sender = Broadcaster(app_context, config=BroadcastConfig(rate=1000, concurrency=8, quiet_start=0, quiet_end=0))
    try:
        assert len(await CampaignScheduler(app_context, sender).sync()) == 1
        await sender.run_until_idle(limit_seconds=30)
    finally:
        await sender.close()
    assert len(successful_sends(world)) == 400 and set(successful_sends(world).values()) == {1}
    assert await delivery_counts(app_context.sessions, campaign_id) == {DeliveryStatus.SENT: 400}
    assert await campaign_state(app_context.sessions, campaign_id) is CampaignState.DONE
