"""One leader: the worker lease (acquire, renew, expire), its fencing of claims, and two workers on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.broadcast import BroadcastConfig, Broadcaster
from bot.context import AppContext
from bot.factory import build_context
from bot.roles import LeaderWorker
from sandbox.runner import RunningSandbox
from storage.campaign_runs import Firing, claim_batch, fill_run, start_run
from storage.domain import DeliveryStatus
from storage.leases import WORKER_LEASE, acquire_lease, holds_lease, lease_holder, release_lease
from storage.models import Campaign
from tests.bot.broadcast_fixtures import (
    chat_ids,
    delivery_counts,
    make_campaign,
    register_chats,
    seed_subscribers,
    successful_sends,
    wait_until_sent,
)

TTL = timedelta(seconds=30)
T0 = datetime(2027, 1, 1, tzinfo=UTC)
FAST = BroadcastConfig(rate=1000, concurrency=8, poll_seconds=0.2, quiet_start=0, quiet_end=0)


async def test_lease_is_exclusive_renewable_and_expires(app_context: AppContext) -> None:
    async with app_context.sessions() as session:
        assert await acquire_lease(session, name=WORKER_LEASE, holder="a", now=T0, ttl=TTL)
        await session.commit()
        assert not await acquire_lease(session, name=WORKER_LEASE, holder="b", now=T0 + timedelta(seconds=10), ttl=TTL)
        assert await acquire_lease(session, name=WORKER_LEASE, holder="a", now=T0 + timedelta(seconds=20), ttl=TTL)
        await session.commit()
        # a renewed at +20 s, so the lease runs until +50 s
        assert not await acquire_lease(session, name=WORKER_LEASE, holder="b", now=T0 + timedelta(seconds=45), ttl=TTL)
        assert await lease_holder(session, name=WORKER_LEASE, now=T0 + timedelta(seconds=45)) == "a"
        assert await acquire_lease(session, name=WORKER_LEASE, holder="b", now=T0 + timedelta(seconds=51), ttl=TTL)
        await session.commit()
        assert not await acquire_lease(session, name=WORKER_LEASE, holder="a", now=T0 + timedelta(seconds=52), ttl=TTL)
        await release_lease(session, name=WORKER_LEASE, holder="a")  # not a's to give back
        assert await lease_holder(session, name=WORKER_LEASE, now=T0 + timedelta(seconds=52)) == "b"
        await release_lease(session, name=WORKER_LEASE, holder="b")
        assert await lease_holder(session, name=WORKER_LEASE, now=T0 + timedelta(seconds=52)) is None
        await session.commit()


async def test_a_process_that_lost_the_lease_cannot_claim(app_context: AppContext) -> None:
    await seed_subscribers(app_context.sessions, app_context.keys, chat_ids(5))
    campaign_id = await make_campaign(app_context.sessions)
    now = datetime.now(UTC)
    async with app_context.sessions() as session:
        run_id = await start_run(session, firing=Firing(campaign_id, "once", now), now=now)
        assert run_id is not None
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        await fill_run(session, run_id=run_id, campaign=campaign)
        assert await acquire_lease(session, name=WORKER_LEASE, holder="new", now=now, ttl=TTL)
        await session.commit()
        stale = holds_lease(name=WORKER_LEASE, holder="old", now=now)
        assert await claim_batch(session, run_id=run_id, now=now, limit=10, fence=stale) == []
        live = holds_lease(name=WORKER_LEASE, holder="new", now=now)
        assert len(await claim_batch(session, run_id=run_id, now=now, limit=10, fence=live)) == 5
        await session.commit()


@pytest.fixture
async def second_context(app_context: AppContext, sandbox: RunningSandbox) -> AsyncIterator[AppContext]:
    """Another process's context on the same database and emulator."""
    context = build_context(app_context.settings, api_base=sandbox.base_url)
    try:
        yield context
    finally:
        await context.close()


def _worker(context: AppContext, holder: str) -> LeaderWorker:
    return LeaderWorker(context, holder=holder, lease_seconds=2, broadcaster=Broadcaster(context, config=FAST))


async def _die(worker: LeaderWorker) -> None:
    """Stop a worker the way SIGKILL would, as far as the lease is concerned: no release."""
    await worker._background.stop()
    await worker._step_down()
    await worker.broadcaster.close()


async def test_two_workers_one_leader_deliveries_exactly_once(
    app_context: AppContext, second_context: AppContext, sandbox: RunningSandbox
) -> None:
    chats = chat_ids(300)
    world = register_chats(sandbox, app_context.settings.bot_token, chats)
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    first_campaign = await make_campaign(app_context.sessions)
    a, b = _worker(app_context, "worker-a"), _worker(second_context, "worker-b")
    a.start()
    await asyncio.wait_for(a.became_leader.wait(), timeout=10)
    b.start()
    try:
        await wait_until_sent(app_context.sessions, first_campaign, limit_seconds=30)
        assert a.leading and not b.leading
        assert not await b.tick()  # b stays idle while a renews
        assert len(successful_sends(world)) == 300 and set(successful_sends(world).values()) == {1}

        # a dies without giving the lease back: b takes over once it expires, and sends the next campaign.
        await _die(a)
        second_campaign = await make_campaign(app_context.sessions)
        await asyncio.wait_for(b.became_leader.wait(), timeout=10)
        await wait_until_sent(app_context.sessions, second_campaign, limit_seconds=30)
        assert set(successful_sends(world).values()) == {2}
        assert await delivery_counts(app_context.sessions, second_campaign) == {DeliveryStatus.SENT: 300}
    finally:
        await a.stop()
        await b.stop()


async def test_a_clean_stop_hands_over_at_once(
    app_context: AppContext, second_context: AppContext, sandbox: RunningSandbox
) -> None:
    a, b = _worker(app_context, "worker-a"), _worker(second_context, "worker-b")
    try:
        assert await a.tick()
        assert not await b.tick()
        await a.stop()
        assert await b.tick()
    finally:
        await a.stop()
        await b.stop()
