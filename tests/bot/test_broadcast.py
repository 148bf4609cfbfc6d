"""The campaign sender through the emulator with Telegram's limits on: exactly once, 403/429 handled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.broadcast import BroadcastConfig, Broadcaster
from bot.context import AppContext
from bot.scheduler import CampaignScheduler
from sandbox.runner import RunningSandbox
from storage.campaign_runs import ActiveRun, active_runs
from storage.domain import CampaignState, DeliveryStatus, SubscriberState
from storage.models import Subscriber
from tests.bot.broadcast_fixtures import (
    campaign_state,
    chat_ids,
    delivery_counts,
    make_campaign,
    register_chats,
    seed_subscribers,
    successful_sends,
    unhonoured_429s,
)


@pytest.fixture
async def sender(app_context: AppContext) -> AsyncIterator[Broadcaster]:
    """A fast campaign sender (1,000 msg/s, window 16) on the test database and sandbox."""
    broadcaster = Broadcaster(
        app_context, config=BroadcastConfig(rate=1000, concurrency=16, quiet_start=0, quiet_end=0)
    )
    try:
        yield broadcaster
    finally:
        await broadcaster.close()


async def _start_due(context: AppContext, sender: Broadcaster) -> list[int]:
    scheduler = CampaignScheduler(context, sender)
    return await scheduler.sync()


async def test_2000_subscribers_50_blocked_delivered_exactly_once(
    app_context: AppContext, sandbox: RunningSandbox, sender: Broadcaster
) -> None:
    token = app_context.settings.bot_token
    chats = chat_ids(2000)
    blocked = chats[::40]  # 50 of them
    world = register_chats(sandbox, token, chats)
    world.behaviour.blocked_chats |= set(blocked)
    world.behaviour.limits_enabled = True
    world.behaviour.global_rate = 1000
    world.limiter.configure(1000, 1, 1)
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    campaign_id = await make_campaign(app_context.sessions)

    assert len(await _start_due(app_context, sender)) == 1
    await sender.run_until_idle(limit_seconds=90)

    sends = successful_sends(world)
    assert len(sends) == 1950 and set(sends.values()) == {1}
    assert not set(sends) & set(blocked)
    counts = await delivery_counts(app_context.sessions, campaign_id)
    assert counts == {DeliveryStatus.SENT: 1950, DeliveryStatus.GONE: 50}
    async with app_context.sessions() as session:
        gone = await session.scalar(
            select(func.count()).select_from(Subscriber).where(Subscriber.state == SubscriberState.GONE)
        )
    assert gone == 50
    assert unhonoured_429s(world) == []
    assert await campaign_state(app_context.sessions, campaign_id) is CampaignState.DONE


async def test_429s_at_30_per_second_are_honoured_and_nothing_is_lost(
    app_context: AppContext, sandbox: RunningSandbox
) -> None:
    token = app_context.settings.bot_token
    chats = chat_ids(100)
    world = register_chats(sandbox, token, chats)
    world.behaviour.limits_enabled = True
    world.behaviour.global_rate = 30
    world.limiter.configure(30, 1, 1)
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    campaign_id = await make_campaign(app_context.sessions)
    # Faster than the emulated Telegram on purpose, so it answers 429 and the sender must wait.
    sender = Broadcaster(app_context, config=BroadcastConfig(rate=200, concurrency=8, quiet_start=0, quiet_end=0))
    try:
        await _start_due(app_context, sender)
        await sender.run_until_idle(limit_seconds=60)
    finally:
        await sender.close()

    assert world.stats.too_many_requests >= 1
    assert sender.stats.retry_after == world.stats.too_many_requests
    assert unhonoured_429s(world) == []
    sends = successful_sends(world)
    assert len(sends) == 100 and set(sends.values()) == {1}
    assert await delivery_counts(app_context.sessions, campaign_id) == {DeliveryStatus.SENT: 100}


async def test_server_errors_retry_then_fail_and_unknown_chats_fail_at_once(
    app_context: AppContext, sandbox: RunningSandbox, sender: Broadcaster
) -> None:
    token = app_context.settings.bot_token
    known = chat_ids(3)
    unknown = chat_ids(1, start=800_000_000)
    world = register_chats(sandbox, token, known)
    await seed_subscribers(app_context.sessions, app_context.keys, known + unknown)
    campaign_id = await make_campaign(app_context.sessions)
    sender.config = BroadcastConfig(rate=1000, concurrency=1, quiet_start=0, quiet_end=0, base_backoff=0.01)
    await sandbox_fail(world, status=502, count=2)
    await _start_due(app_context, sender)
    await sender.run_until_idle(limit_seconds=30)

    assert await delivery_counts(app_context.sessions, campaign_id) == {
        DeliveryStatus.SENT: 3,
        DeliveryStatus.FAILED: 1,
    }
    statuses = [r.status for r in world.request_log if r.method == "sendMessage"]
    assert statuses.count(502) == 2 and statuses.count(400) == 1  # the unknown chat is tried once
    assert set(successful_sends(world).values()) == {1}


async def test_persistent_server_errors_give_up_after_the_attempt_limit(
    app_context: AppContext, sandbox: RunningSandbox, sender: Broadcaster
) -> None:
    token = app_context.settings.bot_token
    chats = chat_ids(1)
    world = register_chats(sandbox, token, chats)
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    campaign_id = await make_campaign(app_context.sessions)
    sender.config = BroadcastConfig(
        rate=1000, concurrency=1, quiet_start=0, quiet_end=0, base_backoff=0.01, max_attempts=3
    )
    await sandbox_fail(world, status=500, count=50)
    await _start_due(app_context, sender)
    await sender.run_until_idle(limit_seconds=30)

    assert await delivery_counts(app_context.sessions, campaign_id) == {DeliveryStatus.FAILED: 1}
    assert [r.status for r in world.request_log if r.method == "sendMessage"] == [500] * 3


async def sandbox_fail(world: object, *, status: int, count: int) -> None:
    """Make the next sendMessage calls fail with `status`."""
    from sandbox.state import FailRule, World

    assert isinstance(world, World)
    world.behaviour.fail_rules.append(FailRule("sendMessage", count, status, None))
    await asyncio.sleep(0)


async def test_unsubscribed_before_their_turn_are_not_sent(
    app_context: AppContext, sandbox: RunningSandbox, sender: Broadcaster
) -> None:
    token = app_context.settings.bot_token
    chats = chat_ids(4)
    world = register_chats(sandbox, token, chats)
    ids = await seed_subscribers(app_context.sessions, app_context.keys, chats)
    campaign_id = await make_campaign(app_context.sessions)
    await _start_due(app_context, sender)
    await sender._ensure_filled((await _active(app_context))[0])
    async with app_context.sessions() as session:
        subscriber = await session.get(Subscriber, ids[0])
        assert subscriber is not None
        subscriber.state = SubscriberState.UNSUBSCRIBED
        subscriber.chat_enc = b""
        await session.commit()
    await sender.run_until_idle(limit_seconds=30)

    assert await delivery_counts(app_context.sessions, campaign_id) == {
        DeliveryStatus.SENT: 3,
        DeliveryStatus.CANCELLED: 1,
    }
    assert chats[0] not in successful_sends(world)


async def _active(context: AppContext) -> list[ActiveRun]:
    async with context.sessions() as session:
        return await active_runs(session)


async def test_replies_to_tipsters_do_not_wait_behind_a_broadcast(
    app_context: AppContext, sandbox: RunningSandbox
) -> None:
    token = app_context.settings.bot_token
    chats = chat_ids(150)
    tipster = 555_000_001
    world = register_chats(sandbox, token, [*chats, tipster])
    world.behaviour.limits_enabled = True
    world.limiter.configure(10, 1, 1)  # a slow Telegram: this broadcast would take 15 s
    await seed_subscribers(app_context.sessions, app_context.keys, chats)
    await make_campaign(app_context.sessions)
    sender = Broadcaster(app_context, config=BroadcastConfig(rate=50, concurrency=8, quiet_start=0, quiet_end=0))
    await _start_due(app_context, sender)
    sender.start()
    try:
        while sender.stats.retry_after == 0:  # the campaign lane is being held back by 429s
            await asyncio.sleep(0.02)
        loop = asyncio.get_running_loop()
        started = loop.time()
        # The outbox's lane: the context's own Bot (its retry middleware waits out a 429 on its own).
        await asyncio.wait_for(app_context.bot.send_message(tipster, "Trả lời của cán bộ"), timeout=5)
        waited = loop.time() - started
        assert sum(successful_sends(world).values()) < 150  # the broadcast was still going
    finally:
        await sender.close()
    assert waited < 3
    assert successful_sends(world)[tipster] == 1
